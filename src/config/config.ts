import { resolve } from 'node:path';
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
  /** Fault injection for the crash tests (TVPAY_CRASH_AT); empty in real use. */
  crashAt: readonly string[];
  /** Set from the environment when given; otherwise generated into the data dir. */
  secrets: { adminToken?: string; smsInboundToken?: string; serviceSecret?: string; codeKey?: string; encryptionKey?: string; metricsToken?: string };
  /** Provisioning in the operator's own system (API "Provisioning"); without `url`, tvpay's entitlements are the provisioning. */
  fulfilment: { url: string | undefined; secret: string | undefined; deadlineSeconds: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; throws ConfigError listing every bad value. */
export function loadConfig(env: Env): Readonly<Config> {
  const problems: string[] = [];
  const str = (name: string, fallback: string) => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name}="${raw}" must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, fallback: string) => {
    const v = str(name, fallback);
    try {
      const u = new URL(v);
      if (!/^https?:$/.test(u.protocol)) throw new Error();
    } catch {
      problems.push(`${name}="${v}" must be an http(s) URL.`);
    }
    return v.replace(/\/+$/, '');
  };
  const smsNumber = (name: string, fallback: string) => {
    const v = str(name, fallback);
    if (!/^\+?\d{3,20}$/.test(v)) problems.push(`${name}="${v}" must be a short code or phone number (digits).`);
    return v;
  };

  const flag = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '' || v === '0') return false;
    if (v !== '1') problems.push(`${name}="${v}" must be 1 (on) or 0 (off).`);
    return v === '1';
  };
  const timeZone = (v: string) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: v });
    } catch {
      problems.push(`TVPAY_BUSINESS_TIMEZONE="${v}" is not an IANA time zone (e.g. Asia/Shanghai).`);
      return 'Asia/Shanghai';
    }
    return v;
  };

  const host = str('TVPAY_HOST', '127.0.0.1');
  const ports = {
    backend: int('TVPAY_BACKEND_PORT', 8080, 0, 65535),
    payserver: int('TVPAY_PAYSERVER_PORT', 8081, 0, 65535),
    carrier: int('TVPAY_CARRIER_PORT', 8082, 0, 65535),
  };
  const dataDir = resolve(str('TVPAY_DATA_DIR', './data'));
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const local = (port: number) => `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  const internalUrls = {
    backend: url('TVPAY_BACKEND_URL', local(ports.backend)),
    payserver: url('TVPAY_PAYSERVER_URL', local(ports.payserver)),
    carrier: url('TVPAY_CARRIER_URL', local(ports.carrier)),
  };
  const publicUrls = {
    backend: url('TVPAY_BACKEND_PUBLIC_URL', internalUrls.backend),
    payserver: url('TVPAY_PAYSERVER_PUBLIC_URL', internalUrls.payserver),
    carrier: url('TVPAY_CARRIER_PUBLIC_URL', internalUrls.carrier),
  };

  const database = (name: string, file: string) => {
    const v = env[name];
    if (v === undefined || v === '') return resolve(dataDir, file);
    if (!/^postgres(ql)?:\/\//.test(v)) problems.push(`${name} must be a postgres:// URL (leave it unset for SQLite in the data dir).`);
    return v;
  };

  const mode = str('TVPAY_SMS', 'dev');
  if (!['dev', 'kannel', 'smpp'].includes(mode)) problems.push(`TVPAY_SMS="${mode}" must be one of dev, kannel, smpp.`);
  const locale = str('TVPAY_SMS_LOCALE', 'zh-CN');
  if (!['zh-CN', 'en'].includes(locale)) problems.push(`TVPAY_SMS_LOCALE="${locale}" must be zh-CN or en.`);
  const kannelUrl = mode === 'dev' ? `${internalUrls.carrier}/cgi-bin/sendsms` : str('TVPAY_KANNEL_URL', '');
  if (mode === 'kannel' && !kannelUrl) problems.push('TVPAY_KANNEL_URL is required when TVPAY_SMS=kannel.');
  if (mode === 'kannel' && !env.TVPAY_KANNEL_PASSWORD) problems.push('TVPAY_KANNEL_PASSWORD is required when TVPAY_SMS=kannel.');
  const smppUrl = env.TVPAY_SMPP_URL || undefined;
  if (mode === 'smpp' && !/^smpp:\/\/[^:@/]+:[^@/]*@[^:/]+(:\d+)?\/?$/.test(smppUrl ?? '')) problems.push('TVPAY_SMPP_URL must be smpp://system_id:password@host:port when TVPAY_SMS=smpp.');

  const regions = str('TVPAY_PHONE_REGIONS', 'CN')
    .split(',')
    .map((r) => r.trim().toUpperCase())
    .filter(Boolean);
  if (regions.length === 0 || regions.some((r) => !/^[A-Z]{2}$/.test(r))) {
    problems.push('TVPAY_PHONE_REGIONS must be a comma-separated list of ISO 3166 region codes, e.g. "CN" or "CN,HK".');
  }
  const secret = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (v.length < 16) problems.push(`${name} must be at least 16 characters.`);
    return v;
  };

  const crashAt = str('TVPAY_CRASH_AT', '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const point of crashAt) {
    if (!(ALL_CRASH_POINTS as readonly string[]).includes(point)) problems.push(`TVPAY_CRASH_AT names an unknown crash point "${point}"; known: ${ALL_CRASH_POINTS.join(', ')}.`);
  }

  const config: Config = {
    host,
    ports,
    dataDir,
    logLevel: str('TVPAY_LOG_LEVEL', 'info'),
    backendDatabase: database('TVPAY_BACKEND_DATABASE_URL', 'backend.db'),
    payserverDatabase: database('TVPAY_PAYSERVER_DATABASE_URL', 'payserver.db'),
    carrierDatabase: resolve(dataDir, 'carrier.db'),
    dbPoolSize: int('TVPAY_DB_POOL_SIZE', 10, 1, 1000),
    sms: {
      mode: mode as Config['sms']['mode'],
      backendFrom: smsNumber('TVPAY_BACKEND_SMS_FROM', '10690001'),
      payserverFrom: smsNumber('TVPAY_PAYSERVER_SMS_FROM', '10690000'),
      locale: locale as Config['sms']['locale'],
      kannel: { url: kannelUrl, user: str('TVPAY_KANNEL_USER', 'tvpay'), password: env.TVPAY_KANNEL_PASSWORD || undefined },
      smppUrl,
    },
    internalUrls,
    publicUrls,
    phoneRegions: regions,
    orderTtlSeconds: int('TVPAY_ORDER_TTL_SECONDS', 900, 1, 7 * 24 * 3600),
    codeTtlSeconds: int('TVPAY_CODE_TTL_SECONDS', 600, 1, 24 * 3600),
    maxWrongCodes: int('TVPAY_MAX_WRONG_CODES', 5, 1, 100),
    merchantName: str('TVPAY_MERCHANT_NAME', 'tvpay'),
    limits: {
      payerPerPhone: int('TVPAY_LIMIT_PAYER_PER_PHONE', 10, 1, 1_000_000),
      payerPerDevice: int('TVPAY_LIMIT_PAYER_PER_DEVICE', 30, 1, 1_000_000),
      codeSendsPerPhone: int('TVPAY_LIMIT_CODES_PER_PHONE', 10, 1, 1_000_000),
      codeSendsPerDevice: int('TVPAY_LIMIT_CODES_PER_DEVICE', 30, 1, 1_000_000),
      windowSeconds: int('TVPAY_LIMIT_WINDOW_SECONDS', 600, 1, 24 * 3600),
      payerPerAccount: int('TVPAY_LIMIT_PAYER_PER_ACCOUNT', 30, 1, 1_000_000),
      payerPerPrefix: int('TVPAY_LIMIT_PAYER_PER_PREFIX', 200, 1, 1_000_000),
      smsDailyBudget: int('TVPAY_SMS_DAILY_BUDGET', 100_000, 1, 1_000_000_000),
      codeChecksPerPhone: int('TVPAY_LIMIT_CODE_CHECKS_PER_PHONE', 10, 1, 1_000_000),
      ordersPerDevice: int('TVPAY_LIMIT_ORDERS_PER_DEVICE', 30, 1, 1_000_000),
      streamsPerDevice: int('TVPAY_LIMIT_STREAMS_PER_DEVICE', 4, 1, 10_000),
      streamsPerOrder: int('TVPAY_LIMIT_STREAMS_PER_ORDER', 2, 1, 10_000),
    },
    retention: {
      recordsDays: int('TVPAY_RETENTION_DAYS', 30, 1, 3650),
      idempotencyHours: int('TVPAY_IDEMPOTENCY_RETENTION_HOURS', 24, 1, 24 * 365),
      idempotencyRunningSeconds: int('TVPAY_IDEMPOTENCY_RUNNING_SECONDS', 60, 1, 3600),
    },
    shutdownSeconds: int('TVPAY_SHUTDOWN_SECONDS', 10, 1, 600),
    renewalNoticeDays: int('TVPAY_RENEWAL_NOTICE_DAYS', 5, 0, 60),
    businessTimeZone: timeZone(str('TVPAY_BUSINESS_TIMEZONE', 'Asia/Shanghai')),
    testClock: flag('TVPAY_TEST_CLOCK'),
    crashAt,
    secrets: {
      adminToken: secret('TVPAY_ADMIN_TOKEN'),
      smsInboundToken: secret('TVPAY_SMS_INBOUND_TOKEN'),
      serviceSecret: secret('TVPAY_SERVICE_SECRET'),
      codeKey: secret('TVPAY_CODE_KEY'),
      encryptionKey: secret('TVPAY_ENCRYPTION_KEY'),
      metricsToken: secret('TVPAY_METRICS_TOKEN'),
    },
    fulfilment: {
      url: env.TVPAY_FULFILMENT_URL ? url('TVPAY_FULFILMENT_URL', '') : undefined,
      secret: secret('TVPAY_FULFILMENT_SECRET'),
      deadlineSeconds: int('TVPAY_FULFILMENT_DEADLINE_SECONDS', 86_400, 1, 30 * 86_400),
    },
  };
  if (config.fulfilment.url && !config.fulfilment.secret) problems.push('TVPAY_FULFILMENT_SECRET (16 characters or more) is required with TVPAY_FULFILMENT_URL: it keys the signature of every order.paid sent there.');
  if (merchantNameInvalid(config.merchantName)) problems.push('TVPAY_MERCHANT_NAME must be 1 to 12 characters (it is part of a one-segment SMS).');
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** A payee name must fit a one-segment SMS beside the amount and the code. */
const merchantNameInvalid = (name: string) => name.length < 1 || name.length > 12;

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
