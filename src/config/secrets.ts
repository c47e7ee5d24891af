import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cryptoRandom } from '../lib/ids.ts';
import type { Config } from './config.ts';

export interface Secrets {
  adminToken: string;
  smsInboundToken: string;
  /** HMAC key shared by the back-end and the payment server. */
  serviceSecret: string;
  /**
   * Password of the sendsms user tvpay sends as: Kannel's (`TVPAY_KANNEL_PASSWORD`), or, in `dev`
   * mode, the development carrier's, generated (kept as `carrierPassword` in secrets.json).
   */
  sendsmsPassword: string;
  /**
   * The payment server's own key for the hashes of one-time codes: never
   * shared with the back-end, so whoever holds the service secret still
   * cannot test codes against a copy of the payment server's database.
   */
  codeKey: string;
  /**
   * The key that seals secrets tvpay must keep usable (webhook signing
   * secrets: to sign, the secret itself is needed, so it cannot be hashed).
   * It never goes into a database, so a copy of one reveals no secret.
   */
  encryptionKey: string;
}

/** Owner-only: the data dir holds the databases and these secrets. */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** Creates the data dir owner-only (and makes an existing one so), whatever the umask. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
}

/**
 * Reads a secret kept in a file of the data dir, creating it on first use
 * exclusively (so services started side by side agree on one value).
 */
function keptSecret(file: string, make: () => string): { value: string; created: boolean } {
  try {
    return { value: readFileSync(file, 'utf8').trim(), created: false };
  } catch {
    try {
      const value = make();
      writeFileSync(file, `${value}\n`, { flag: 'wx', mode: PRIVATE_FILE });
      chmodSync(file, PRIVATE_FILE);
      return { value, created: true };
    } catch {
      return { value: readFileSync(file, 'utf8').trim(), created: false };
    }
  }
}

type StoredSecrets = Omit<Secrets, 'codeKey' | 'sendsmsPassword' | 'encryptionKey'> & { carrierPassword: string };

/**
 * Secrets come from the environment when set, else from `secrets.json` (and
 * the payment server's `code-key`) in the data dir, created on first start
 * owner-only. `created` tells the caller to print them once.
 */
export function loadSecrets(config: Config): { secrets: Secrets; created: boolean } {
  ensurePrivateDir(config.dataDir);
  const file = join(config.dataDir, 'secrets.json');
  const kept = keptSecret(file, () =>
    JSON.stringify(
      {
        adminToken: cryptoRandom.token('tva_'),
        smsInboundToken: cryptoRandom.token('tvi_'),
        serviceSecret: cryptoRandom.token(),
        carrierPassword: cryptoRandom.token(),
      } satisfies StoredSecrets,
      null,
      2,
    ),
  );
  chmodSync(file, PRIVATE_FILE);
  const stored = JSON.parse(kept.value) as StoredSecrets;
  const codeKey =
    config.secrets.codeKey ?? keptSecret(join(config.dataDir, 'code-key'), () => cryptoRandom.token()).value;
  const encryptionKey =
    config.secrets.encryptionKey ??
    keptSecret(join(config.dataDir, 'encryption-key'), () => cryptoRandom.token()).value;
  return {
    created: kept.created,
    secrets: {
      adminToken: config.secrets.adminToken ?? stored.adminToken,
      smsInboundToken: config.secrets.smsInboundToken ?? stored.smsInboundToken,
      serviceSecret: config.secrets.serviceSecret ?? stored.serviceSecret,
      sendsmsPassword: config.sms.kannel.password ?? stored.carrierPassword,
      codeKey,
      encryptionKey,
    },
  };
}
