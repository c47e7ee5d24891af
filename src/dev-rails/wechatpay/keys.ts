/**
 * The development WeChat Pay's identities, made once per data directory: WeChat Pay's own key pair (its
 * "platform public key", named by a `PUB_KEY_ID_…` id), the merchant's API key pair (named by a 40-hex
 * certificate serial), the 32-byte API v3 key and the merchant's `mchid`, `appid` and papay `plan_id`.
 * In live these come from the merchant platform; here both sides read them from the same directory.
 */
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevWechatpayKeys {
  mchId: string;
  appId: string;
  planId: string;
  /** The merchant API certificate's serial number (40 hex). */
  mchSerial: string;
  merchantPrivateKeyPem: string;
  merchantPublicKeyPem: string;
  /** WeChat Pay's public key id (`PUB_KEY_ID_0114…`). */
  publicKeyId: string;
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
  /** 32 characters, as the merchant platform lets a merchant set it. */
  apiV3Key: string;
}

interface Ids {
  mchid: string;
  appid: string;
  plan_id: string;
  serial_no: string;
  public_key_id: string;
}

const API_V3_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function rsaPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function digits(n: number): string {
  return Array.from({ length: n }, () => String(randomInt(0, 10))).join('');
}

/** Writes a file whole or not at all (a crash mid-write leaves no half key), private ones 0600. */
function writeOnce(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Generates the keys into `<dataDir>/dev-wechatpay/` on first use, and reads them back ever after. */
export function ensureDevWechatpayKeys(dataDir: string): DevWechatpayKeys {
  const dir = join(dataDir, 'dev-wechatpay');
  const idsPath = join(dir, 'ids.json');
  if (!existsSync(idsPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const platform = rsaPair();
    const merchant = rsaPair();
    const apiV3Key = Array.from(randomBytes(32), (b) => API_V3_ALPHABET[b % API_V3_ALPHABET.length]).join('');
    writeOnce(join(dir, 'platform_private_key.pem'), platform.privateKey, 0o600);
    writeOnce(join(dir, 'platform_public_key.pem'), platform.publicKey, 0o644);
    writeOnce(join(dir, 'apiclient_key.pem'), merchant.privateKey, 0o600);
    writeOnce(join(dir, 'apiclient_public_key.pem'), merchant.publicKey, 0o644);
    writeOnce(join(dir, 'apiv3.key'), apiV3Key, 0o600);
    const ids: Ids = {
      mchid: `19${digits(8)}`,
      appid: `wx${randomBytes(8).toString('hex')}`,
      plan_id: String(randomInt(10_000, 100_000)),
      serial_no: randomBytes(20).toString('hex').toUpperCase(),
      public_key_id: `PUB_KEY_ID_0114${digits(8)}${digits(8)}${digits(8)}${digits(4)}`,
    };
    // ids.json last: its presence says every key before it is whole.
    writeOnce(idsPath, `${JSON.stringify(ids, null, 2)}\n`, 0o644);
  }
  const ids = JSON.parse(readFileSync(idsPath, 'utf8')) as Ids;
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    mchId: ids.mchid,
    appId: ids.appid,
    planId: ids.plan_id,
    mchSerial: ids.serial_no,
    merchantPrivateKeyPem: read('apiclient_key.pem'),
    merchantPublicKeyPem: read('apiclient_public_key.pem'),
    publicKeyId: ids.public_key_id,
    platformPrivateKeyPem: read('platform_private_key.pem'),
    platformPublicKeyPem: read('platform_public_key.pem'),
    apiV3Key: read('apiv3.key'),
  };
}
