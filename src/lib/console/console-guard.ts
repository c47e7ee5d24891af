import type { FastifyRequest } from 'fastify';

/**
 * The origins a console's own pages are served from: its configured public URL, and the origin the
 * browser addressed (scheme per `X-Forwarded-Proto` and host per `X-Forwarded-Host` only behind a
 * trusted proxy, `TVPAY_TRUST_PROXY`).
 */
export function ownOrigins(request: FastifyRequest, publicUrl: string): Set<string> {
  const own = new Set([new URL(publicUrl).origin]);
  try {
    own.add(new URL(`${request.protocol}://${request.host}`).origin);
  } catch {
    // A Host that is no host names no origin of ours.
  }
  return own;
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/**
 * Why a state-changing console request does not come from the console's own page, or undefined when
 * it does. `SameSite=Strict` does not tell apart a page of the same site (another port of the host, a
 * sibling sub-domain), so the browser's own word is asked: `Origin`; without it, or when it is `null`
 * (what Chromium sends from a page whose `Referrer-Policy` is `no-referrer`, as the consoles' are),
 * `Sec-Fetch-Site`, which a page cannot set; without that `Referer`. A request that shows none of them
 * is refused: every browser that runs the console sends at least one on a form post.
 */
export function foreignOrigin(request: FastifyRequest, publicUrl: string): string | undefined {
  const own = ownOrigins(request, publicUrl);
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null')
    return own.has(origin) ? undefined : `its Origin ${origin.slice(0, 100)} is not the console's own`;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string')
    return site === 'same-origin' ? undefined : `it came from a page that is ${site.slice(0, 20)}, not the console`;
  if (origin === 'null') return "its Origin is null (an opaque page), not the console's own";
  const referer = request.headers.referer;
  if (typeof referer === 'string') {
    const from = originOf(referer);
    return from && own.has(from) ? undefined : "its Referer is not a page of the console's own origin";
  }
  return 'it carries no Origin, Sec-Fetch-Site or Referer to show where it came from';
}
