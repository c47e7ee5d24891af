/**
 * What one tvpay checkout costs on the wire and on disk, read from the
 * services' own `/metrics` before and after a load run: requests served per
 * route, their mean sizes, the durable units of work each service committed,
 * the SMS sent and the delivery reports received. `limit-checkout` replays
 * exactly this on bare `node:http` (bare-chain-server.ts).
 */
export interface ChainShape {
  /** back-end, payment server, carrier. */
  ports: number[];
  /** Mean body sizes by `<service> <METHOD> <route>`. */
  sizes: Record<string, { requestBytes: number; responseBytes: number }>;
  /** Durable units each served request commits: the service's units per checkout shared over its requests. */
  unitsPerRequest: Record<string, number>;
  /** Delivery reports per SMS sent (Kannel reports each SMS more than once). */
  dlrPerSms: number;
  /** Requests served per checkout by route, and commits per checkout by service, as measured (for the report). */
  perCheckout: {
    requests: Record<string, number>;
    commits: Record<string, number>;
    units: Record<string, number>;
    sms: number;
  };
}

type Samples = Map<string, number>;
interface Snapshot {
  backend: Samples;
  payserver: Samples;
}

const SERVICES = ['backend', 'payserver'] as const;

/** Prometheus text to `name{labels}` → value (the labels kept as written). */
function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export async function snapshot(t: { urls: { backend: string; payserver: string }; admin: string }): Promise<Snapshot> {
  const read = async (url: string) =>
    parse(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${t.admin}` } })).text());
  return { backend: await read(t.urls.backend), payserver: await read(t.urls.payserver) };
}

const label = (key: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(key)?.[1];

/** The checkout's shape from two snapshots around `checkouts` completed checkouts (and nothing else). */
export function shapeOf(before: Snapshot, after: Snapshot, checkouts: number): Omit<ChainShape, 'ports'> {
  const delta = (s: (typeof SERVICES)[number], key: string) => (after[s].get(key) ?? 0) - (before[s].get(key) ?? 0);
  const shape: Omit<ChainShape, 'ports'> = {
    sizes: {},
    unitsPerRequest: {},
    dlrPerSms: 0,
    perCheckout: { requests: {}, commits: {}, units: {}, sms: 0 },
  };
  for (const s of SERVICES) {
    const requests: Record<string, number> = {};
    for (const key of after[s].keys()) {
      if (!key.startsWith('http_request_duration_seconds_count{')) continue;
      const route = `${label(key, 'method')} ${label(key, 'route')}`;
      if (route.endsWith(' /metrics')) continue;
      const n = delta(s, key) / checkouts;
      // Fewer than one in ten checkouts is housekeeping (the reconciliation sweep), not the checkout's chain.
      if (n >= 0.1) requests[route] = (requests[route] ?? 0) + n;
    }
    for (const [route, n] of Object.entries(requests)) {
      const [method, path] = route.split(' ');
      const sizeKey = (name: string, suffix: string) =>
        `${name}_${suffix}{service="${s}",method="${method}",route="${path}"}`;
      const mean = (name: string) => {
        const count = delta(s, sizeKey(name, 'count'));
        return count > 0 ? Math.round(delta(s, sizeKey(name, 'sum')) / count) : 0;
      };
      shape.sizes[`${s} ${route}`] = {
        requestBytes: mean('http_request_size_bytes'),
        responseBytes: mean('http_response_size_bytes'),
      };
      shape.perCheckout.requests[`${s} ${route}`] = round2(n);
    }
    const units = delta(s, `tvpay_group_commit_units_sum{service="${s}"}`) / checkouts;
    shape.perCheckout.units[s] = round2(units);
    shape.perCheckout.commits[s] = round2(delta(s, `tvpay_group_commit_units_count{service="${s}"}`) / checkouts);
    // The event stream commits nothing; every other request shares the service's units.
    const committing = Object.entries(requests).filter(([route]) => !route.endsWith('/events'));
    const total = committing.reduce((a, [, n]) => a + n, 0);
    for (const [route] of committing) shape.unitsPerRequest[`${s} ${route}`] = total > 0 ? units / total : 0;
  }
  let sms = 0;
  for (const key of after.payserver.keys()) if (key.startsWith('tvpay_sms{')) sms += delta('payserver', key);
  shape.perCheckout.sms = round2(sms / checkouts);
  const dlr = shape.perCheckout.requests['payserver GET /v1/sms/dlr'] ?? 0;
  shape.dlrPerSms = sms > 0 ? dlr / (sms / checkouts) : 0;
  return shape;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
