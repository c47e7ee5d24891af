import { generateKeyPairSync, randomInt } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
 * (PKCS#8 and SPKI PEM) and an app id. Private keys are owner-only (0600), and the folder appears whole
 * or not at all.
 * The payment server under `TVPAY_ALIPAY=dev` reads `app_id`, `app_private_key.pem` and
 * `alipay_public_key.pem` from here.
 */
export function ensureDevAlipayKeys(dataDir: string): DevAlipayKeys {
  const dir = join(dataDir, 'dev-alipay');
  if (!existsSync(join(dir, FILES.appId))) generate(dataDir, dir);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    appId: read(FILES.appId).trim(),
    appPrivateKeyPem: read(FILES.appPrivateKeyPem),
    appPublicKeyPem: read(FILES.appPublicKeyPem),
    alipayPrivateKeyPem: read(FILES.alipayPrivateKeyPem),
    alipayPublicKeyPem: read(FILES.alipayPublicKeyPem),
  };
}

/**
 * Makes the folder whole in a private temporary one and renames it into place, so that two processes
 * starting together (the carrier and the payment server) end up with one set of keys: the loser's
 * rename fails and it reads the winner's.
 */
function generate(dataDir: string, dir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(dataDir, '.dev-alipay-'));
  const pair = () =>
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
  const app = pair();
  const alipay = pair();
  write(tmp, FILES.appPrivateKeyPem, app.privateKey, 0o600);
  write(tmp, FILES.appPublicKeyPem, app.publicKey, 0o644);
  write(tmp, FILES.alipayPrivateKeyPem, alipay.privateKey, 0o600);
  write(tmp, FILES.alipayPublicKeyPem, alipay.publicKey, 0o644);
  write(tmp, FILES.appId, `2021${String(randomInt(0, 1e12)).padStart(12, '0')}\n`, 0o644);
  chmodSync(tmp, 0o700);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

function write(dir: string, name: string, text: string, mode: number): void {
  writeFileSync(join(dir, name), text, { mode });
  chmodSync(join(dir, name), mode);
}
