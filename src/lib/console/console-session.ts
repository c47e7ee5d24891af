import { createHmac } from 'node:crypto';
import { secretEquals } from '../ids.ts';

/** How long a console sign-in lasts. */
export const SESSION_SECONDS = 8 * 3600;

/**
 * A console session is a signed expiry, not a stored row: `<expires>.<random>.<mac>` under a key
 * derived from the admin token. Nothing secret is at rest, a cookie cannot be made without the
 * token, and rotating the admin token ends every session at once.
 */
export function consoleSessions(adminToken: string, random: () => string) {
  const key = createHmac('sha256', adminToken).update('tvpay console session').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  return {
    issue(now: Date): string {
      const body = `${Math.floor(now.getTime() / 1000) + SESSION_SECONDS}.${random()}`;
      return `${body}.${mac(body)}`;
    },
    valid(cookie: string | undefined, now: Date): boolean {
      if (!cookie) return false;
      const at = cookie.lastIndexOf('.');
      if (at < 0) return false;
      const body = cookie.slice(0, at);
      const expires = Number(body.split('.')[0]);
      return (
        Number.isSafeInteger(expires) && expires * 1000 > now.getTime() && secretEquals(cookie.slice(at + 1), mac(body))
      );
    },
  };
}
