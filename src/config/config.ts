import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { Format } from 'typebox/format';
import { Value } from 'typebox/value';
import { ALL_CRASH_POINTS } from '../lib/crash-points.ts';

/** Everything tvpay reads from the environment, validated once at start and frozen. */
export interface Config {
  host: string;
  ports: { backend: number; payserver: number; carrier: number };
  dataDir: string;
  logLevel: string;
  backendDatabase: string;
  payserverDatabase: string;
  carrierDatabase: string;
  dbPoolSize: number;
  /** PostgreSQL statements kept prepared per connection (off behind a pooler that cannot pass them). */
  dbPreparedStatements: boolean;
  sms: {
    mode: 'dev' | 'kannel' | 'smpp';
    backendFrom: string;
    payserverFrom: string;
    locale: 'zh-CN' | 'en';
    kannel: { url: string; user: string; password: string | undefined };
    smppUrl: string | undefined;
  };
  /** Where each service is reached by its peers (service-to-service). */
  internalUrls: { backend: string; payserver: string; carrier: string };
  /** Where phones reach the services (links in SMS, QR codes). */
  publicUrls: { backend: string; payserver: string; carrier: string };
  phoneRegions: readonly string[];
  orderTtlSeconds: number;
  codeTtlSeconds: number;
  maxWrongCodes: number;
  merchantName: string;
  limits: {
    payerPerPhone: number;
    payerPerDevice: number;
    codeSendsPerPhone: number;
    codeSendsPerDevice: number;
    windowSeconds: number;
    payerPerAccount: number;
    payerPerPrefix: number;
    smsDailyBudget: number;
    /** Code checks per phone per window: an SMS reply checks every pending code of the phone. */
    codeChecksPerPhone: number;
    /** Orders a TV may create per window. */
    ordersPerDevice: number;
    /** Event streams open at once per TV and per order. */
    streamsPerDevice: number;
    streamsPerOrder: number;
  };
  /** Failed deliveries after which an outbox message is a dead letter, never retried (TVPAY_OUTBOX_MAX_ATTEMPTS). */
  outboxMaxAttempts: number;
  /** How long finished records are kept before the sweeper prunes them. */
  retention: {
    /** Done outbox messages, the inbox, page sessions, the SMS log. */
    recordsDays: number;
    /** Idempotency keys (their stored answers). */
    idempotencyHours: number;
    /** A key left `running` by a crash is released after this long. */
    idempotencyRunningSeconds: number;
  };
  /** Days before a renewal that its notice SMS goes out (PRC rules ask for one before every renewal). */
  renewalNoticeDays: number;
  /** The time zone of business days: notices' dates, statements. */
  businessTimeZone: string;
  /** TVPAY_TEST_CLOCK=1: one clock for the process that operators move forward (development and tests only). */
  testClock: boolean;
  /** How long a graceful shutdown may take before the process exits anyway. */
  shutdownSeconds: number;
  /**
   * Fastify's `trustProxy` (TVPAY_TRUST_PROXY): false, true (whatever is in front), or the proxies'
   * addresses. Only then do `X-Forwarded-Proto`/`-For`/`-Host` count, which a client could otherwise forge.
   */
  trustProxy: boolean | string;
  /** Fault injection for the crash tests (TVPAY_CRASH_AT); empty in real use. */
  crashAt: readonly string[];
  /** Set from the environment when given; otherwise generated into the data dir. */
  secrets: {
    adminToken?: string;
    smsInboundToken?: string;
    serviceSecret?: string;
    codeKey?: string;
    encryptionKey?: string;
    metricsToken?: string;
  };
  /**
   * TVPAY_WEBHOOK_ALLOW_PRIVATE=1: webhooks may reach loopback and private addresses (never link-local or metadata).
   */
  webhookAllowPrivate: boolean;
  /**
   * Provisioning in the operator's own system (API "Provisioning"); without `url`, tvpay's entitlements are the
   * provisioning.
   */
  fulfilment: { url: string | undefined; secret: string | undefined; deadlineSeconds: number };
  /** The money rails (API "Real money rails"): each `off`, `dev` (the embedded development gateway) or `live`. */
  rails: { alipay: AlipaySettings; wechatpay: WechatpaySettings };
}

/** How a rail runs: not at all, against the embedded development gateway (no real money), or at the provider. */
export type RailMode = 'off' | 'dev' | 'live';

/** Alipay's settings; the key files are read (and their absence refused) when the payment server starts. */
export interface AlipaySettings {
  mode: RailMode;
  gateway: string;
  appId: string | undefined;
  privateKeyFile: string | undefined;
  publicKeyFile: string | undefined;
}

/** WeChat Pay's settings (API v3, public-key mode); the key files are read when the payment server starts. */
export interface WechatpaySettings {
  mode: RailMode;
  baseUrl: string;
  mchId: string | undefined;
  appId: string | undefined;
  mchSerial: string | undefined;
  privateKeyFile: string | undefined;
  publicKeyId: string | undefined;
  publicKeyFile: string | undefined;
  apiV3KeyFile: string | undefined;
  planId: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

/**
 * A variable's rule in words, for the message that names a bad value. TypeBox's own messages
 * ("must be integer") speak of JSON, not of what an operator typed.
 */
interface Rule {
  must: string;
}
const int = (fallback: number, minimum: number, maximum: number) =>
  Type.Integer({ default: fallback, minimum, maximum, must: `be a whole number from ${minimum} to ${maximum}` });
const text = (fallback: string) => Type.String({ default: fallback, must: 'be text' });
const optionalText = () => Type.Optional(Type.String({ must: 'be text' }));
const httpUrl = (fallback?: string) =>
  fallback === undefined
    ? Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+', must: 'be an http(s) URL' }))
    : Type.String({ default: fallback, pattern: '^https?://[^\\s/?#]+', must: 'be an http(s) URL' });
const oneOf = <T extends string>(values: readonly T[], fallback: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { default: fallback, must: `be one of ${values.join(', ')}` },
  );
const smsNumber = (fallback: string) =>
  Type.String({ default: fallback, pattern: '^\\+?\\d{3,20}$', must: 'be a short code or phone number (digits)' });
const postgresUrl = () =>
  Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      must: 'be a postgres:// URL (leave it unset for SQLite in the data dir)',
    }),
  );
const secret = () => Type.Optional(Type.String({ minLength: 16, must: 'be at least 16 characters' }));
const flag = () => Type.Boolean({ default: false, must: 'be 1 (on) or 0 (off)' });

/**
 * Every variable tvpay reads, its type, range and default: the one list that `loadConfig`
 * validates and docs/configuration.md is held to (config.test.ts).
 */
export const EnvSchema = Type.Object({
  TVPAY_HOST: text('127.0.0.1'),
  TVPAY_BACKEND_PORT: int(8080, 0, 65535),
  TVPAY_PAYSERVER_PORT: int(8081, 0, 65535),
  TVPAY_CARRIER_PORT: int(8082, 0, 65535),
  TVPAY_DATA_DIR: text('./data'),
  TVPAY_LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  TVPAY_BACKEND_URL: httpUrl(),
  TVPAY_PAYSERVER_URL: httpUrl(),
  TVPAY_CARRIER_URL: httpUrl(),
  TVPAY_BACKEND_PUBLIC_URL: httpUrl(),
  TVPAY_PAYSERVER_PUBLIC_URL: httpUrl(),
  TVPAY_CARRIER_PUBLIC_URL: httpUrl(),
  TVPAY_BACKEND_DATABASE_URL: postgresUrl(),
  TVPAY_PAYSERVER_DATABASE_URL: postgresUrl(),
  TVPAY_DB_POOL_SIZE: int(10, 1, 1000),
  TVPAY_DB_PREPARED_STATEMENTS: oneOf(['on', 'off'], 'on'),
  TVPAY_SMS: oneOf(['dev', 'kannel', 'smpp'], 'dev'),
  TVPAY_BACKEND_SMS_FROM: smsNumber('10690001'),
  TVPAY_PAYSERVER_SMS_FROM: smsNumber('10690000'),
  TVPAY_SMS_LOCALE: oneOf(['zh-CN', 'en'], 'zh-CN'),
  TVPAY_KANNEL_URL: httpUrl(),
  TVPAY_KANNEL_USER: text('tvpay'),
  TVPAY_KANNEL_PASSWORD: optionalText(),
  TVPAY_SMPP_URL: Type.Optional(
    Type.String({
      pattern: '^smpp://[^:@/]+:[^@/]*@[^:/]+(:\\d+)?/?$',
      must: 'be smpp://system_id:password@host:port',
    }),
  ),
  TVPAY_PHONE_REGIONS: Type.String({
    default: 'CN',
    pattern: '^\\s*[A-Za-z]{2}\\s*(,\\s*[A-Za-z]{2}\\s*)*$',
    must: 'be a comma-separated list of ISO 3166 region codes, e.g. "CN" or "CN,HK"',
  }),
  TVPAY_ORDER_TTL_SECONDS: int(900, 1, 7 * 24 * 3600),
  TVPAY_CODE_TTL_SECONDS: int(600, 1, 24 * 3600),
  TVPAY_MAX_WRONG_CODES: int(5, 1, 100),
  TVPAY_MERCHANT_NAME: Type.String({
    default: 'tvpay',
    minLength: 1,
    maxLength: 12,
    must: 'be 1 to 12 characters (it is part of a one-segment SMS)',
  }),
  TVPAY_LIMIT_PAYER_PER_PHONE: int(10, 1, 1_000_000),
  TVPAY_LIMIT_PAYER_PER_DEVICE: int(30, 1, 1_000_000),
  TVPAY_LIMIT_CODES_PER_PHONE: int(10, 1, 1_000_000),
  TVPAY_LIMIT_CODES_PER_DEVICE: int(30, 1, 1_000_000),
  TVPAY_LIMIT_WINDOW_SECONDS: int(600, 1, 24 * 3600),
  TVPAY_LIMIT_PAYER_PER_ACCOUNT: int(30, 1, 1_000_000),
  TVPAY_LIMIT_PAYER_PER_PREFIX: int(200, 1, 1_000_000),
  TVPAY_SMS_DAILY_BUDGET: int(100_000, 1, 1_000_000_000),
  TVPAY_LIMIT_CODE_CHECKS_PER_PHONE: int(10, 1, 1_000_000),
  TVPAY_LIMIT_ORDERS_PER_DEVICE: int(30, 1, 1_000_000),
  TVPAY_LIMIT_STREAMS_PER_DEVICE: int(4, 1, 10_000),
  TVPAY_LIMIT_STREAMS_PER_ORDER: int(2, 1, 10_000),
  TVPAY_OUTBOX_MAX_ATTEMPTS: int(1440, 1, 1_000_000),
  TVPAY_RETENTION_DAYS: int(30, 1, 3650),
  TVPAY_IDEMPOTENCY_RETENTION_HOURS: int(24, 1, 24 * 365),
  TVPAY_IDEMPOTENCY_RUNNING_SECONDS: int(60, 1, 3600),
  TVPAY_SHUTDOWN_SECONDS: int(10, 1, 600),
  TVPAY_TRUST_PROXY: Type.String({
    default: '0',
    pattern: '^(0|1|[0-9A-Fa-f.:/]+(\\s*,\\s*[0-9A-Fa-f.:/]+)*)$',
    must: "be 0 (no proxy), 1 (trust the proxy in front) or the proxies' addresses or CIDRs, comma-separated",
  }),
  TVPAY_RENEWAL_NOTICE_DAYS: int(5, 0, 60),
  TVPAY_BUSINESS_TIMEZONE: Type.String({
    default: 'Asia/Shanghai',
    format: 'time-zone',
    must: 'be an IANA time zone (e.g. Asia/Shanghai)',
  }),
  TVPAY_TEST_CLOCK: flag(),
  TVPAY_CRASH_AT: Type.String({
    default: '',
    format: 'crash-points',
    must: `name known crash points, comma-separated: ${ALL_CRASH_POINTS.join(', ')}`,
  }),
  TVPAY_ADMIN_TOKEN: secret(),
  TVPAY_SMS_INBOUND_TOKEN: secret(),
  TVPAY_SERVICE_SECRET: secret(),
  TVPAY_CODE_KEY: secret(),
  TVPAY_ENCRYPTION_KEY: secret(),
  TVPAY_METRICS_TOKEN: secret(),
  TVPAY_WEBHOOK_ALLOW_PRIVATE: flag(),
  TVPAY_FULFILMENT_URL: httpUrl(),
  TVPAY_FULFILMENT_SECRET: secret(),
  TVPAY_FULFILMENT_DEADLINE_SECONDS: int(86_400, 1, 30 * 86_400),
  TVPAY_ALIPAY: oneOf(['off', 'dev', 'live'], 'dev'),
  TVPAY_ALIPAY_GATEWAY: httpUrl('https://openapi.alipay.com/gateway.do'),
  TVPAY_ALIPAY_APP_ID: optionalText(),
  TVPAY_ALIPAY_PRIVATE_KEY_FILE: optionalText(),
  TVPAY_ALIPAY_PUBLIC_KEY_FILE: optionalText(),
  TVPAY_WECHATPAY: oneOf(['off', 'dev', 'live'], 'dev'),
  TVPAY_WECHATPAY_BASE_URL: httpUrl('https://api.mch.weixin.qq.com/'),
  TVPAY_WECHATPAY_MCH_ID: optionalText(),
  TVPAY_WECHATPAY_APP_ID: optionalText(),
  TVPAY_WECHATPAY_MCH_SERIAL: optionalText(),
  TVPAY_WECHATPAY_PRIVATE_KEY_FILE: optionalText(),
  TVPAY_WECHATPAY_PUBLIC_KEY_ID: optionalText(),
  TVPAY_WECHATPAY_PUBLIC_KEY_FILE: optionalText(),
  TVPAY_WECHATPAY_APIV3_KEY_FILE: optionalText(),
  TVPAY_WECHATPAY_PLAN_ID: optionalText(),
});
type Settings = Static<typeof EnvSchema>;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

Format.Set('time-zone', (v) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return true;
  } catch {
    return false;
  }
});
Format.Set('crash-points', (v) => list(v).every((p) => (ALL_CRASH_POINTS as readonly string[]).includes(p)));

/**
 * Reads the variables of EnvSchema (an empty one counts as unset), fills the defaults, turns
 * numbers and flags from text, and returns every bad value at once, each named with its rule.
 */
function readSettings(env: Env): { settings: Settings; problems: string[] } {
  const given: Record<string, string> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const v = env[name];
    if (v !== undefined && v !== '') given[name] = v.trim();
  }
  const settings = Value.Convert(EnvSchema, Value.Default(EnvSchema, { ...given })) as Settings;
  const bad = new Set<string>();
  for (const error of Value.Errors(EnvSchema, settings)) bad.add(error.instancePath.split('/')[1]!);
  const problems = [...bad].map((name) => {
    const rule = (EnvSchema.properties as Record<string, TSchema & Partial<Rule>>)[name]!;
    return `${name}="${given[name]}" must ${rule.must ?? 'be valid'}.`;
  });
  return { settings, problems };
}

/** Reads and validates the configuration; throws ConfigError listing every bad value. */
export function loadConfig(env: Env): Readonly<Config> {
  const { settings: s, problems } = readSettings(env);
  const dataDir = resolve(s.TVPAY_DATA_DIR);
  const ports = { backend: s.TVPAY_BACKEND_PORT, payserver: s.TVPAY_PAYSERVER_PORT, carrier: s.TVPAY_CARRIER_PORT };
  const { internalUrls, publicUrls } = urlsOf(s, ports);
  const kannelUrl = s.TVPAY_SMS === 'dev' ? `${internalUrls.carrier}/cgi-bin/sendsms` : (s.TVPAY_KANNEL_URL ?? '');
  problems.push(...crossChecks(s, kannelUrl));
  if (problems.length) throw new ConfigError(problems);
  const config: Config = {
    host: s.TVPAY_HOST,
    ports,
    dataDir,
    logLevel: s.TVPAY_LOG_LEVEL,
    backendDatabase: s.TVPAY_BACKEND_DATABASE_URL ?? resolve(dataDir, 'backend.db'),
    payserverDatabase: s.TVPAY_PAYSERVER_DATABASE_URL ?? resolve(dataDir, 'payserver.db'),
    carrierDatabase: resolve(dataDir, 'carrier.db'),
    dbPoolSize: s.TVPAY_DB_POOL_SIZE,
    dbPreparedStatements: s.TVPAY_DB_PREPARED_STATEMENTS === 'on',
    sms: {
      mode: s.TVPAY_SMS,
      backendFrom: s.TVPAY_BACKEND_SMS_FROM,
      payserverFrom: s.TVPAY_PAYSERVER_SMS_FROM,
      locale: s.TVPAY_SMS_LOCALE,
      kannel: { url: kannelUrl, user: s.TVPAY_KANNEL_USER, password: s.TVPAY_KANNEL_PASSWORD },
      smppUrl: s.TVPAY_SMPP_URL,
    },
    internalUrls,
    publicUrls,
    phoneRegions: list(s.TVPAY_PHONE_REGIONS).map((r) => r.toUpperCase()),
    orderTtlSeconds: s.TVPAY_ORDER_TTL_SECONDS,
    codeTtlSeconds: s.TVPAY_CODE_TTL_SECONDS,
    maxWrongCodes: s.TVPAY_MAX_WRONG_CODES,
    merchantName: s.TVPAY_MERCHANT_NAME,
    limits: limitsOf(s),
    outboxMaxAttempts: s.TVPAY_OUTBOX_MAX_ATTEMPTS,
    retention: {
      recordsDays: s.TVPAY_RETENTION_DAYS,
      idempotencyHours: s.TVPAY_IDEMPOTENCY_RETENTION_HOURS,
      idempotencyRunningSeconds: s.TVPAY_IDEMPOTENCY_RUNNING_SECONDS,
    },
    shutdownSeconds: s.TVPAY_SHUTDOWN_SECONDS,
    trustProxy: s.TVPAY_TRUST_PROXY === '1' ? true : s.TVPAY_TRUST_PROXY === '0' ? false : s.TVPAY_TRUST_PROXY,
    renewalNoticeDays: s.TVPAY_RENEWAL_NOTICE_DAYS,
    businessTimeZone: s.TVPAY_BUSINESS_TIMEZONE,
    testClock: s.TVPAY_TEST_CLOCK,
    crashAt: list(s.TVPAY_CRASH_AT),
    secrets: {
      adminToken: s.TVPAY_ADMIN_TOKEN,
      smsInboundToken: s.TVPAY_SMS_INBOUND_TOKEN,
      serviceSecret: s.TVPAY_SERVICE_SECRET,
      codeKey: s.TVPAY_CODE_KEY,
      encryptionKey: s.TVPAY_ENCRYPTION_KEY,
      metricsToken: s.TVPAY_METRICS_TOKEN,
    },
    webhookAllowPrivate: s.TVPAY_WEBHOOK_ALLOW_PRIVATE,
    fulfilment: {
      url: s.TVPAY_FULFILMENT_URL && trimmed(s.TVPAY_FULFILMENT_URL),
      secret: s.TVPAY_FULFILMENT_SECRET,
      deadlineSeconds: s.TVPAY_FULFILMENT_DEADLINE_SECONDS,
    },
    rails: railsOf(s),
  };
  return deepFreeze(config);
}

const trimmed = (url: string) => url.replace(/\/+$/, '');

/**
 * Where each service is reached by the others (internal) and by people (public): on this host by default, so
 * `npm start` needs no URL; a service that listens on every address is reached over loopback.
 */
function urlsOf(s: Settings, ports: Config['ports']): Pick<Config, 'internalUrls' | 'publicUrls'> {
  const host = s.TVPAY_HOST;
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const local = (port: number) => `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  const internalUrls = {
    backend: trimmed(s.TVPAY_BACKEND_URL ?? local(ports.backend)),
    payserver: trimmed(s.TVPAY_PAYSERVER_URL ?? local(ports.payserver)),
    carrier: trimmed(s.TVPAY_CARRIER_URL ?? local(ports.carrier)),
  };
  const publicUrls = {
    backend: trimmed(s.TVPAY_BACKEND_PUBLIC_URL ?? internalUrls.backend),
    payserver: trimmed(s.TVPAY_PAYSERVER_PUBLIC_URL ?? internalUrls.payserver),
    carrier: trimmed(s.TVPAY_CARRIER_PUBLIC_URL ?? internalUrls.carrier),
  };
  return { internalUrls, publicUrls };
}

/** The checks that join several settings (one alone is checked by its own rule): each broken one, in words. */
function crossChecks(s: Settings, kannelUrl: string): string[] {
  const problems: string[] = [];
  const mode = s.TVPAY_SMS;
  if (mode === 'kannel' && !kannelUrl) problems.push('TVPAY_KANNEL_URL is required when TVPAY_SMS=kannel.');
  if (mode === 'kannel' && !s.TVPAY_KANNEL_PASSWORD)
    problems.push('TVPAY_KANNEL_PASSWORD is required when TVPAY_SMS=kannel.');
  if (mode === 'smpp' && !s.TVPAY_SMPP_URL)
    problems.push('TVPAY_SMPP_URL (smpp://system_id:password@host:port) is required when TVPAY_SMS=smpp.');
  if (s.TVPAY_FULFILMENT_URL && !s.TVPAY_FULFILMENT_SECRET)
    problems.push(
      'TVPAY_FULFILMENT_SECRET (16 characters or more) is required with TVPAY_FULFILMENT_URL: ' +
        'it keys the signature of every order.paid sent there.',
    );
  return problems;
}

function limitsOf(s: Settings): Config['limits'] {
  return {
    payerPerPhone: s.TVPAY_LIMIT_PAYER_PER_PHONE,
    payerPerDevice: s.TVPAY_LIMIT_PAYER_PER_DEVICE,
    codeSendsPerPhone: s.TVPAY_LIMIT_CODES_PER_PHONE,
    codeSendsPerDevice: s.TVPAY_LIMIT_CODES_PER_DEVICE,
    windowSeconds: s.TVPAY_LIMIT_WINDOW_SECONDS,
    payerPerAccount: s.TVPAY_LIMIT_PAYER_PER_ACCOUNT,
    payerPerPrefix: s.TVPAY_LIMIT_PAYER_PER_PREFIX,
    smsDailyBudget: s.TVPAY_SMS_DAILY_BUDGET,
    codeChecksPerPhone: s.TVPAY_LIMIT_CODE_CHECKS_PER_PHONE,
    ordersPerDevice: s.TVPAY_LIMIT_ORDERS_PER_DEVICE,
    streamsPerDevice: s.TVPAY_LIMIT_STREAMS_PER_DEVICE,
    streamsPerOrder: s.TVPAY_LIMIT_STREAMS_PER_ORDER,
  };
}

function railsOf(s: Settings): Config['rails'] {
  return {
    alipay: {
      mode: s.TVPAY_ALIPAY,
      gateway: s.TVPAY_ALIPAY_GATEWAY,
      appId: s.TVPAY_ALIPAY_APP_ID,
      privateKeyFile: s.TVPAY_ALIPAY_PRIVATE_KEY_FILE,
      publicKeyFile: s.TVPAY_ALIPAY_PUBLIC_KEY_FILE,
    },
    wechatpay: {
      mode: s.TVPAY_WECHATPAY,
      baseUrl: s.TVPAY_WECHATPAY_BASE_URL,
      mchId: s.TVPAY_WECHATPAY_MCH_ID,
      appId: s.TVPAY_WECHATPAY_APP_ID,
      mchSerial: s.TVPAY_WECHATPAY_MCH_SERIAL,
      privateKeyFile: s.TVPAY_WECHATPAY_PRIVATE_KEY_FILE,
      publicKeyId: s.TVPAY_WECHATPAY_PUBLIC_KEY_ID,
      publicKeyFile: s.TVPAY_WECHATPAY_PUBLIC_KEY_FILE,
      apiV3KeyFile: s.TVPAY_WECHATPAY_APIV3_KEY_FILE,
      planId: s.TVPAY_WECHATPAY_PLAN_ID,
    },
  };
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
