import { generateKeyPairSync, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The development Alipay's keys and the merchant app's, as a live merchant would hold them (public-key mode). */
export interface DevAlipayKeys {
  /** The dev merchant's app id (16 digits, `2021…`, random per data dir). */
  appId: string;
  appPrivateKeyPem: string;
  appPublicKeyPem: string;
  alipayPrivateKeyPem: string;
  alipayPublicKeyPem: string;
}

const FILES = {
  appId: 'app_id',
  appPrivateKeyPem: 'app_private_key.pem',
  appPublicKeyPem: 'app_public_key.pem',
  alipayPrivateKeyPem: 'alipay_private_key.pem',
  alipayPublicKeyPem: 'alipay_public_key.pem',
} as const;

/**
 * Reads `<dataDir>/dev-alipay/`, making it on first use: Alipay's RSA-2048 key pair, the merchant app's
 * (PKCS#8 and SPKI PEM) and an app id. Private keys are owner-only (0600), written whole or not at all.
 * The payment server under `TVPAY_ALIPAY=dev` reads `app_id`, `app_private_key.pem` and
 * `alipay_public_key.pem` from here.
 */
export function ensureDevAlipayKeys(dataDir: string): DevAlipayKeys {
  const dir = join(dataDir, 'dev-alipay');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, FILES.appId))) {
    const pair = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    const app = pair();
    const alipay = pair();
    write(dir, FILES.appPrivateKeyPem, app.privateKey, 0o600);
    write(dir, FILES.appPublicKeyPem, app.publicKey, 0o644);
    write(dir, FILES.alipayPrivateKeyPem, alipay.privateKey, 0o600);
    write(dir, FILES.alipayPublicKeyPem, alipay.publicKey, 0o644);
    // The app id last: its presence says the folder is whole.
    write(dir, FILES.appId, `2021${String(randomInt(0, 1e12)).padStart(12, '0')}\n`, 0o644);
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    appId: read(FILES.appId).trim(),
    appPrivateKeyPem: read(FILES.appPrivateKeyPem),
    appPublicKeyPem: read(FILES.appPublicKeyPem),
    alipayPrivateKeyPem: read(FILES.alipayPrivateKeyPem),
    alipayPublicKeyPem: read(FILES.alipayPublicKeyPem),
  };
}

function write(dir: string, name: string, text: string, mode: number): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, join(dir, name));
}
