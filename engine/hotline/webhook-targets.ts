/**
 * Which addresses a webhook may reach. A subscription is an agency's URL that
 * this server then connects to, and the deliveries list reports each
 * attempt's error: a URL on the internal network (this machine's own API,
 * the database, a cloud metadata service) would let an agency probe and
 * poke it. So unless the operator named the host in PAKN_WEBHOOK_TARGETS,
 * a receiver must be on a public address: checked when the subscription is
 * made (literal address, or what the name resolves to then) and again at
 * every delivery, which connects only to the addresses it checked (a name
 * that resolves elsewhere later — DNS rebinding — gains nothing).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** A host name's addresses (all of them, as the system resolver gives them); a test may pass its own. */
export type ResolveHost = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

const ranges = (family: 'ipv4' | 'ipv6', label: string, ...subnets: Array<[string, number]>) => {
  const list = new BlockList();
  for (const [net, prefix] of subnets) list.addSubnet(net, prefix, family);
  return { family, label, list };
};

/** Addresses that are not on the public internet, with what to call them in an answer. */
const NOT_PUBLIC = [
  // 0.0.0.0 (and "this network") reaches this machine on most systems.
  ranges('ipv4', 'an unspecified address', ['0.0.0.0', 8]),
  ranges('ipv4', 'a loopback address', ['127.0.0.0', 8]),
  ranges('ipv4', 'a private address', ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]),
  ranges('ipv4', 'a shared (carrier-grade NAT) address', ['100.64.0.0', 10]),
  // 169.254.169.254 is the cloud providers' metadata service.
  ranges('ipv4', 'a link-local address', ['169.254.0.0', 16]),
  ranges('ipv4', 'a multicast address', ['224.0.0.0', 4]),
  ranges('ipv4', 'a reserved address', ['240.0.0.0', 4]),
  ranges('ipv6', 'an unspecified address', ['::', 128]),
  ranges('ipv6', 'a loopback address', ['::1', 128]),
  // fec0::/10: the deprecated site-local range, private in practice.
  ranges('ipv6', 'a private address', ['fc00::', 7], ['fec0::', 10]),
  ranges('ipv6', 'a link-local address', ['fe80::', 10]),
  ranges('ipv6', 'a multicast address', ['ff00::', 8]),
];

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail, as in ::ffff:10.0.0.1, included). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const first = head ? head.split(':') : [];
  const last = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - first.length - last.length;
  return [...first, ...Array<string>(zeros).fill('0'), ...last].map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address an IPv6 one carries and reaches: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
 * NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). ::ffff:127.0.0.1 is 127.0.0.1 to the socket.
 */
function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:a.b.c.d, and ::a.b.c.d but not :: or ::1 (their own kinds below).
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && g[6] !== 0))) return v4(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6], g[7]);
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  return null;
}

/** What kind of non-public address this is ("a loopback address"), or null for a public one. */
export function notPublic(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an address';
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return notPublic(inner);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return NOT_PUBLIC.find((r) => r.family === type && r.list.check(address, type))?.label ?? null;
}

/** Names that mean this machine whatever DNS says (RFC 6761: localhost and every name under it). */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain' || name === 'ip6-localhost' || name === 'ip6-loopback';
}

/** The host a URL (or a target prefix) names, without IPv6 brackets; null when it does not parse. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return null;
  }
}

/**
 * Whether the operator named this URL's host in a target prefix it matches (e.g. http://127.0.0.1: or
 * https://dms.snnmt.dongnai.gov.vn/, an agency's system on the province's network): then it may be anywhere. A
 * prefix that names no host or only part of one (https://, https://10.) allows public addresses only.
 */
export function operatorNamedHost(url: string, targets: readonly string[]): boolean {
  const host = hostOf(url);
  if (host === null) return false;
  return targets.some((t) => {
    if (!url.startsWith(t)) return false;
    const authority = /^https?:\/\/([^/?#]*)/.exec(t)?.[1] ?? '';
    const named = authority.slice(authority.lastIndexOf('@') + 1);
    return named !== '' && hostOf(`${t.slice(0, t.indexOf('//'))}//${named}`) === host;
  });
}

export type TargetCheck =
  /** The operator named the host: connect as the URL says. */
  | { verdict: 'named' }
  /** Public: connect to these addresses only (the ones checked). */
  | { verdict: 'public'; addresses: Array<{ address: string; family: number }> }
  /** Not public; `why` says what the host is, for the subscriber's answer (never for the deliveries list). */
  | { verdict: 'refused'; why: string };

/**
 * Check a receiver URL (already among the targets): the operator's own hosts pass; a localhost name or a
 * non-public literal address is refused; any other name is resolved and refused when any of its addresses is not
 * public. A name that does not resolve throws (the resolver's error).
 */
export async function checkTarget(url: string, targets: readonly string[], resolve: ResolveHost): Promise<TargetCheck> {
  if (operatorNamedHost(url, targets)) return { verdict: 'named' };
  const host = hostOf(url);
  if (host === null) return { verdict: 'refused', why: 'is not a URL' };
  if (isLocalhostName(host)) return { verdict: 'refused', why: `${host} names this server` };
  const family = isIP(host);
  if (family) {
    const kind = notPublic(host);
    return kind ? { verdict: 'refused', why: `${host} is ${kind}` } : { verdict: 'public', addresses: [{ address: host, family }] };
  }
  const addresses = await resolve(host);
  if (!addresses.length) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  for (const a of addresses) {
    const kind = notPublic(a.address);
    if (kind) return { verdict: 'refused', why: `${host} resolves to ${kind}` };
  }
  return { verdict: 'public', addresses };
}

/**
 * A socket lookup that answers only the checked addresses: the connection goes where the check looked, whatever
 * the name resolves to by then. (A literal address is not looked up: the socket connects to it as checked.)
 */
export function pinnedLookup(addresses: Array<{ address: string; family: number }>): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as (err: null, all: Array<{ address: string; family: number }>) => void)(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}

/** How long a subscription waits for its URL's name to resolve before leaving the check to the deliveries. */
const SUBSCRIBE_LOOKUP_MS = 5_000;

/**
 * At subscription: why the URL is refused (its host is not public), or null. A name that does not resolve now,
 * or not soon, is accepted: every delivery checks it again before connecting.
 */
export async function refusedAtSubscription(url: string, targets: readonly string[], resolve: ResolveHost): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((done) => {
    timer = setTimeout(() => done(null), SUBSCRIBE_LOOKUP_MS);
    timer.unref();
  });
  try {
    const check = await Promise.race([checkTarget(url, targets, resolve).catch(() => null), late]);
    return check?.verdict === 'refused' ? check.why : null;
  } finally {
    clearTimeout(timer);
  }
}
