import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { HttpAgents } from '../../lib/http/http-client.ts';

/**
 * Where a webhook may not go (API.md "Hardening"): whoever may register a webhook must not make tvpay a
 * proxy into the deployment's own networks (the cloud's metadata service and its credentials, the
 * database, the peer services), nor use a delivery's status code as a port scanner.
 */
export type AddressKind = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'metadata';

/** The kinds TVPAY_WEBHOOK_ALLOW_PRIVATE lets through; link-local, metadata and unspecified never are. */
const PRIVATE_KINDS: ReadonlySet<AddressKind> = new Set(['loopback', 'private']);

/** The clouds' instance metadata services, by address: AWS/GCP/Azure/Oracle, AWS over IPv6, Alibaba Cloud. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
/** And by name (an exact name or any name under it). */
const METADATA_NAMES = [
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
];

const RANGES: ReadonlyArray<[AddressKind, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
];
const blockLists = new Map<AddressKind, BlockList>();
for (const [kind, network, prefix, family] of RANGES) {
  const list = blockLists.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family);
  blockLists.set(kind, list);
}

/** The normal (compressed, lower-case) text of an IPv6 address, as the WHATWG URL parser writes it. */
const normalIpv6 = (address: string) => new URL(`http://[${address}]/`).hostname.slice(1, -1);

/**
 * The IPv4 address an IPv6 one carries, for the forms that reach it: IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`).
 */
function embeddedIpv4(ipv6: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(normalIpv6(ipv6));
  if (!m) return undefined;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** What an IP address is, when it is one webhooks may not reach without the operator's say; else undefined. */
export function addressKind(address: string): AddressKind | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return addressKind(v4);
    if (METADATA_ADDRESSES.has(normalIpv6(address))) return 'metadata';
  } else if (METADATA_ADDRESSES.has(address)) return 'metadata';
  for (const [kind, list] of blockLists) if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return kind;
  return undefined;
}

/**
 * What a URL's host is by its text alone: an address (however written: the URL parser turns `2130706433`,
 * `0x7f.1` and `0177.0.0.1` into `127.0.0.1`, and `[::ffff:127.0.0.1]` into `[::ffff:7f00:1]`), a
 * metadata name, or `localhost`. A name that must be resolved to know is undefined here.
 */
export function hostKind(hostname: string): AddressKind | undefined {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
  if (isIP(host)) return addressKind(host);
  if (METADATA_NAMES.some((n) => host === n || host.endsWith(`.${n}`))) return 'metadata';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  return undefined;
}

/** Whether an address of this kind is refused, given TVPAY_WEBHOOK_ALLOW_PRIVATE. */
export const isForbidden = (kind: AddressKind | undefined, allowPrivate: boolean): boolean =>
  kind !== undefined && !(allowPrivate && PRIVATE_KINDS.has(kind));

/** A delivery was not sent: its host is, or resolved to, an address webhooks may not reach. */
export class AddressForbiddenError extends Error {
  readonly code = 'WEBHOOK_ADDRESS_FORBIDDEN';
  constructor(readonly kind: AddressKind) {
    super(`the webhook's host is or resolves to a ${kind} address, which webhooks may not reach`);
  }
}

/** How long registration waits for DNS; a name that does not resolve by then is checked at delivery. */
const LOOKUP_LIMIT_MS = 2000;

/**
 * The kind of forbidden address a URL's host is or resolves to now, or undefined when it may be used.
 * A name that does not resolve (yet) is accepted: each delivery checks the address it connects to.
 */
export async function forbiddenKindOf(url: URL, allowPrivate: boolean): Promise<AddressKind | undefined> {
  const literal = hostKind(url.hostname);
  if (isForbidden(literal, allowPrivate)) return literal;
  if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const addresses = await Promise.race([
    dns.promises.lookup(url.hostname, { all: true, verbatim: true }).catch(() => []),
    new Promise<dns.LookupAddress[]>((r) => (timer = setTimeout(() => r([]), LOOKUP_LIMIT_MS))),
  ]).finally(() => clearTimeout(timer));
  return addresses.map((a) => addressKind(a.address)).find((kind) => isForbidden(kind, allowPrivate));
}

/**
 * A DNS lookup that fails when any address of the name is forbidden: it runs when a delivery connects,
 * so the address checked is the one connected to, and a name that resolved to a public address at
 * registration and to 127.0.0.1 now (DNS rebinding) is refused.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const kind = addresses.map((a) => addressKind(a.address)).find((k) => isForbidden(k, allowPrivate));
      if (kind) return callback(new AddressForbiddenError(kind), '', 0);
      if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** The agents webhook deliveries go out through: kept-alive connections, each made through guardedLookup. */
export function guardedAgents(allowPrivate: boolean): HttpAgents {
  const lookup = guardedLookup(allowPrivate);
  return {
    'http:': new http.Agent({ keepAlive: true, timeout: 4000, lookup }),
    'https:': new https.Agent({ keepAlive: true, timeout: 4000, lookup }),
  };
}
