import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cryptoRandom } from '../lib/ids.ts';
import type { Config } from './config.ts';

export interface Secrets {
  adminToken: string;
  smsInboundToken: string;
  /** HMAC key shared by the back-end and the payment server. */
  serviceSecret: string;
  /** Password of the development carrier's sendsms user. */
  carrierPassword: string;
}

/**
 * Secrets come from the environment when set, else from `secrets.json` in the
 * data dir, created on first start (exclusively, so services started side by
 * side agree). `created` tells the caller to print them once.
 */
export function loadSecrets(config: Config): { secrets: Secrets; created: boolean } {
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'secrets.json');
  let stored: Secrets;
  let created = false;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  } catch {
    const fresh: Secrets = {
      adminToken: cryptoRandom.token('tva_'),
      smsInboundToken: cryptoRandom.token('tvi_'),
      serviceSecret: cryptoRandom.token(),
      carrierPassword: cryptoRandom.token(),
    };
    try {
      writeFileSync(file, JSON.stringify(fresh, null, 2), { flag: 'wx', mode: 0o600 });
      stored = fresh;
      created = true;
    } catch {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
    }
  }
  return {
    created,
    secrets: {
      adminToken: config.secrets.adminToken ?? stored.adminToken,
      smsInboundToken: config.secrets.smsInboundToken ?? stored.smsInboundToken,
      serviceSecret: config.secrets.serviceSecret ?? stored.serviceSecret,
      carrierPassword: config.sms.kannel.password ?? stored.carrierPassword,
    },
  };
}
