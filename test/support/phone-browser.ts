import type { InjectOptions, LightMyRequestResponse } from 'fastify';

/** One HTTP exchange, as the checkout page's tests need it: the status, where a redirect points, the cookies set, the body. */
export type Transport = (req: {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{
  status: number;
  location: string | undefined;
  setCookie: string[];
  body: string;
}>;

/** Over loopback HTTP to a running payment server (end-to-end tests); redirects are the browser's to follow. */
export const overHttp: Transport = async ({ method, url, headers, body }) => {
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  return {
    status: res.status,
    location: res.headers.get('location') ?? undefined,
    setCookie: res.headers.getSetCookie(),
    body: await res.text(),
  };
};

/** Through `app.inject` to an in-process payment server (service tests). */
export const overInject =
  (app: { inject(o: InjectOptions): Promise<LightMyRequestResponse> }): Transport =>
  async ({ method, url, headers, body }) => {
    const res = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
    const set = res.headers['set-cookie'];
    return {
      status: res.statusCode,
      location: res.headers.location as string | undefined,
      setCookie: set === undefined ? [] : Array.isArray(set) ? set : [String(set)],
      body: res.body,
    };
  };

/** What a form post left for the page to say: the checkout page's notice cookie, decoded. */
export interface Notice {
  code: string;
  triesLeft?: number;
  retryAfterSeconds?: number;
}

const parseSetCookie = (header: string) => {
  const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const gone = attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a));
  return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), gone };
};

const noticeOf = (setCookie: string[]): Notice | undefined => {
  const c = setCookie.map(parseSetCookie).find((x) => x.name === 'tvpay_pay_notice' && !x.gone);
  return c ? (JSON.parse(Buffer.from(c.value, 'base64url').toString('utf8')) as Notice) : undefined;
};

/** Posts a checkout form with the given cookies, as one tab of a browser would, without following the redirect. */
export async function postPageForm(
  transport: Transport,
  url: string,
  fields: Record<string, string>,
  cookies: Record<string, string> = {},
) {
  const res = await transport({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(Object.keys(cookies).length
        ? {
            cookie: Object.entries(cookies)
              .map(([k, v]) => `${k}=${v}`)
              .join('; '),
          }
        : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { ...res, notice: noticeOf(res.setCookie), cookies: res.setCookie.map(parseSetCookie) };
}

/**
 * A phone's browser without JavaScript on the checkout page: it keeps the page's cookies, posts
 * forms and follows the 303 back to the page as a browser does. `post` answers the page it lands
 * on, the post's own status and the notice the post left.
 */
export function phoneBrowser(transport: Transport) {
  const jar = new Map<string, string>();
  const keep = (setCookie: string[]) => {
    for (const c of setCookie.map(parseSetCookie)) {
      if (c.gone || c.value === '') jar.delete(c.name);
      else jar.set(c.name, c.value);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const open = async (url: string) => {
    const res = await transport({ method: 'GET', url, headers: jar.size ? { cookie: cookie() } : {} });
    keep(res.setCookie);
    return { status: res.status, html: res.body };
  };
  return {
    jar,
    open,
    async post(url: string, fields: Record<string, string> = {}) {
      const res = await postPageForm(transport, url, fields, Object.fromEntries(jar));
      keep(res.setCookie);
      if (res.status !== 303 || !res.location)
        return { status: res.status, postStatus: res.status, html: res.body, notice: res.notice };
      const page = await open(url.startsWith('/') ? res.location : new URL(res.location, url).toString());
      return { ...page, postStatus: res.status, notice: res.notice };
    },
  };
}
