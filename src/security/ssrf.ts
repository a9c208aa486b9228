/**
 * SSRF policy: what a probe may connect to. Every probe a chat or API user can trigger asks the
 * policy first, for the URL, for every redirect hop, for the proxy and for the CONNECT target, and
 * then connects to exactly the address that was checked.
 *
 * The rules, in order:
 *
 * 1. Only `http:` and `https:` URLs (and proxies). Any other scheme is refused, in every mode.
 * 2. The host is normalised the way WHATWG URL and inet_aton read it: `0x7f.1`, `2130706433`,
 *    `017700000001`, `127.1`, a trailing dot, upper case, IDN, `[::ffff:7f00:1]`, a zone id in
 *    `[fe80::1%25eth0]` — and IPv4 carried inside IPv6 (IPv4-mapped, IPv4-compatible, NAT64
 *    `64:ff9b::/96`, 6to4 `2002::/16`, Teredo) is unwrapped and checked as IPv4.
 * 3. Cloud metadata names and addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200,
 *    metadata.google.internal, …) and link-local addresses (169.254.0.0/16, fe80::/10) are always
 *    refused: in allow-all mode too, whatever PROBE_ALLOW says. Their responses are instance
 *    credentials, and a public URL can redirect there without the user choosing it.
 * 4. A name is resolved once. Every address it resolves to is checked, and one forbidden address
 *    refuses the name: mixed public and private answers are a DNS rebinding sign, and dropping the
 *    bad ones would still let a metadata answer through on the next lookup.
 * 5. Loopback, private, CGNAT, "this network", multicast, broadcast, reserved, benchmarking,
 *    documentation and other non-global addresses are refused unless PROBE_ALLOW allows them: a
 *    CIDR containing the address, or a host pattern matching the name (which lets that name
 *    resolve to any address but those of rule 3). In allow-all mode (the CLI, run by a local user
 *    who can reach those addresses anyway) they are allowed.
 * 6. The result pins the checked address: pass its `lookup` to `net.connect`, `tls.connect` or
 *    `http.request`, and the socket goes to that address, never to a second DNS answer.
 *
 * Through a forward proxy the proxy resolves the target itself; send it `pinnedAuthority`
 * (`CONNECT 93.184.216.34:443`, with SNI and Host still naming the host) to keep the pin, or
 * `authority` when the proxy's own name-based rules are what is being diagnosed.
 */

import { promises as dns, type LookupAddress } from 'node:dns';
import { isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { domainToASCII } from 'node:url';
import { TriageError } from '../errors.js';
import { redact } from './redact.js';

/** Why a target was refused. */
export type SsrfCode = 'SSRF_REFUSED' | 'BAD_URL' | 'DNS_FAILED';

/**
 * A refusal. An expected outcome, returned, never thrown.
 *
 * @example
 * { ok: false, code: 'SSRF_REFUSED', reason: '10.0.0.5 is a private address (10.0.0.0/8): refused',
 *   hint: 'if the bot should reach it, an admin can add 10.0.0.5 or 10.0.0.0/8 to PROBE_ALLOW' }
 */
export interface SsrfRefusal {
  readonly ok: false;
  readonly code: SsrfCode;
  /** Which rule refused it, naming the host or address and the range. */
  readonly reason: string;
  /** What to do instead: for an address PROBE_ALLOW can allow, the entry an admin would add. */
  readonly hint: string;
}

/** An address that passed the check, in the form `net.connect` takes. */
export interface PinnedAddress {
  /** Canonical text: dotted quad, or compressed lower-case IPv6 without brackets or zone. */
  readonly address: string;
  readonly family: 4 | 6;
}

/** A target that passed the check, with the address to connect to. */
export interface SsrfTarget {
  readonly ok: true;
  /** The normalised host: a lower-case ASCII name without trailing dot, or a canonical IP. */
  readonly host: string;
  /** The port (a URL's default port when it has none). */
  readonly port: number;
  /** Every address the host resolved to (the IP itself for a literal); all passed the check. */
  readonly addresses: readonly PinnedAddress[];
  /** The address to connect to: `addresses[0]`. */
  readonly address: PinnedAddress;
  /**
   * A `lookup` for `net.connect` / `tls.connect` / `http.request` that answers only with
   * {@link address}, without asking DNS again, and fails for any other host name.
   *
   * @example http.request(target.url, { lookup: target.lookup, signal })
   */
  readonly lookup: LookupFunction;
  /** `host:port`, IPv6 in brackets. @example 'example.com:443' */
  readonly authority: string;
  /** `address:port`, IPv6 in brackets: the CONNECT target that keeps the pin. @example '93.184.216.34:443' */
  readonly pinnedAuthority: string;
  /** The parsed URL, for URL, redirect and proxy checks. */
  readonly url?: URL;
}

export type SsrfResult = SsrfTarget | SsrfRefusal;

/** The result of checking a bare address: no host, port or lookup, only the address to trust. */
export type SsrfAddressResult = { readonly ok: true; readonly address: PinnedAddress } | SsrfRefusal;

/**
 * Resolves a name to all its addresses, like `dns.promises.lookup(name, { all: true })`.
 * Inject a fake in tests; rejections and empty answers become `DNS_FAILED`.
 */
export type Resolve = (hostname: string) => Promise<readonly LookupAddress[]>;

/** Options of one check. */
export interface CheckOptions {
  /**
   * Abandons the DNS lookup; the check then returns `DNS_FAILED`.
   * @defaultValue undefined
   * @example { signal: AbortSignal.timeout(2000) }
   */
  readonly signal?: AbortSignal;
}

/** The policy. Every method returns a refusal as a value; none throws. */
export interface SsrfPolicy {
  /** Whether this is the allow-all policy (see {@link SsrfPolicyOptions.allowAll}). */
  readonly allowAll: boolean;
  /** Check an http(s) URL to probe. @example await policy.check('https://shop.example.com/api') */
  check(url: string | URL, options?: CheckOptions): Promise<SsrfResult>;
  /**
   * Check one redirect hop: `location` (a Location header, maybe relative) resolved against the
   * URL that answered. Call it for every hop. @example await policy.checkRedirect('/login', hopUrl)
   */
  checkRedirect(location: string, from: string | URL, options?: CheckOptions): Promise<SsrfResult>;
  /** Check a forward proxy URL (http or https). @example await policy.checkProxy('http://proxy.corp:3128') */
  checkProxy(url: string | URL, options?: CheckOptions): Promise<SsrfResult>;
  /**
   * Check a CONNECT target in authority form, `host:port` or `[v6]:port`; the port is required.
   * @example await policy.checkConnectTarget('api.example.com:443')
   */
  checkConnectTarget(authority: string, options?: CheckOptions): Promise<SsrfResult>;
  /**
   * Check one IP address without DNS, for example a connected socket's `remoteAddress`.
   * @example policy.checkAddress(socket.remoteAddress ?? '')
   */
  checkAddress(address: string): SsrfAddressResult;
}

/** How to build a policy. */
export interface SsrfPolicyOptions {
  /**
   * Allow every address except cloud metadata and link-local ones (which stay refused), and
   * ignore {@link allow}. For the CLI, run by a local user; chat and the API use the restrictive
   * policy. Schemes are still checked and addresses still pinned.
   * @defaultValue false
   * @example true // in the CLI
   */
  readonly allowAll: boolean;
  /**
   * PROBE_ALLOW: CIDRs, single addresses and host patterns, separated by commas or white space.
   * `internal.example.com` matches that name only; `*.corp.example.com` matches every name below
   * corp.example.com (at any depth) but not corp.example.com itself. A matching name may resolve
   * to any address except a metadata or link-local one. Metadata and link-local entries are errors.
   * @defaultValue '' (only public addresses)
   * @example '10.0.0.0/8, fd00::/8, 192.168.1.10, internal.example.com, *.corp.example.com'
   */
  readonly allow: string;
  /**
   * The resolver. @defaultValue `dns.promises.lookup(name, { all: true })`
   * @example async () => [{ address: '93.184.216.34', family: 4 }]
   */
  readonly lookup: Resolve;
}

/** The defaults: the restrictive policy, nothing allowed beyond public addresses, the system resolver. */
export const SSRF_DEFAULTS: Readonly<SsrfPolicyOptions> = {
  allowAll: false,
  allow: '',
  lookup: (hostname) => dns.lookup(hostname, { all: true }),
};

/** Host names of cloud metadata services, always refused. */
export const METADATA_HOSTS: readonly string[] = [
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
];

// ---------------------------------------------------------------------------------------------
// Addresses

interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

function contains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.ip.family !== ip.family) return false;
  const shift = BigInt(bits(ip.family) - cidr.prefix);
  return cidr.ip.value >> shift === ip.value >> shift;
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(text: string): bigint {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Strict: a canonical dotted quad or an IPv6 address (no brackets, no zone). */
function parseIp(text: string): Ip | undefined {
  // Only text with a colon can be IPv6: the IPv6 check compiles a large pattern on first use.
  if (!text.includes(':')) return isIPv4(text) ? { family: 4, value: parseV4(text) } : undefined;
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: parseV6(text) };
  return undefined;
}

function formatIp(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const h = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = Math.max(j, i + 1);
  }
  const hex = h.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function formatCidr(c: Cidr): string {
  return c.prefix === bits(c.ip.family) ? formatIp(c.ip) : `${formatIp(c.ip)}/${c.prefix}`;
}

const BUILT_IN: string[] = [];

/** Reads a range written right in this file, without the validating parsers: they compile large patterns on first use. */
function readCidr(text: string): Cidr {
  const [addr = '', len = ''] = text.split('/');
  const ip: Ip = addr.includes(':') ? { family: 6, value: parseV6(addr) } : { family: 4, value: parseV4(addr) };
  return { ip, prefix: len === '' ? bits(ip.family) : Number(len) };
}

/** A built-in range (builtInRangeProblems checks each one with the strict parser). */
function cidr(text: string): Cidr {
  BUILT_IN.push(text);
  return readCidr(text);
}

/** The built-in ranges that the strict parser rejects or reads differently (a test wants none). */
export function builtInRangeProblems(): string[] {
  return BUILT_IN.filter((text) => {
    const ip = parseIp(text.split('/')[0] ?? '');
    const { ip: read, prefix } = readCidr(text);
    return (
      !ip || ip.family !== read.family || ip.value !== read.value || !Number.isInteger(prefix) || prefix < 0 || prefix > bits(ip.family)
    );
  });
}

const v4 = (value: bigint): Ip => ({ family: 4, value: value & 0xffffffffn });

interface Category {
  /** Completes "X is …". */
  readonly label: string;
  /** Refused in every mode, whatever PROBE_ALLOW says. */
  readonly always: boolean;
}

const CATEGORY = {
  metadata: { label: 'a cloud metadata address', always: true },
  linkLocal: { label: 'a link-local address', always: true },
  loopback: { label: 'a loopback address', always: false },
  private: { label: 'a private address', always: false },
  cgnat: { label: 'a carrier-grade NAT (shared) address', always: false },
  thisNetwork: { label: 'a "this network" address', always: false },
  unspecified: { label: 'the unspecified address', always: false },
  multicast: { label: 'a multicast address', always: false },
  broadcast: { label: 'the broadcast address', always: false },
  reserved: { label: 'a reserved address', always: false },
  benchmarking: { label: 'a benchmarking address', always: false },
  documentation: { label: 'a documentation address', always: false },
} as const satisfies Record<string, Category>;

interface Range {
  readonly cidr: Cidr;
  readonly category: Category;
  /** Overrides the category's label. */
  readonly label?: string;
}

const range = (text: string, category: Category, label?: string): Range => ({ cidr: cidr(text), category, ...(label ? { label } : {}) });

/** Refused in every mode, checked before anything else. */
const ALWAYS_V4: readonly Range[] = [
  range('169.254.169.254', CATEGORY.metadata),
  range('169.254.170.2', CATEGORY.metadata, 'a cloud metadata address (AWS ECS task metadata)'),
  range('169.254.170.23', CATEGORY.metadata, 'a cloud metadata address (EKS Pod Identity)'),
  range('100.100.100.200', CATEGORY.metadata, 'a cloud metadata address (Alibaba Cloud)'),
  range('168.63.129.16', CATEGORY.metadata, 'a cloud platform address (Azure WireServer)'),
  range('169.254.0.0/16', CATEGORY.linkLocal),
];

const ALWAYS_V6: readonly Range[] = [
  range('fd00:ec2::254', CATEGORY.metadata, 'a cloud metadata address (AWS)'),
  range('fd00:ec2::23', CATEGORY.metadata, 'a cloud metadata address (EKS Pod Identity)'),
  range('fe80::/10', CATEGORY.linkLocal),
];

const SPECIAL_V4: readonly Range[] = [
  range('0.0.0.0/8', CATEGORY.thisNetwork),
  range('10.0.0.0/8', CATEGORY.private),
  range('100.64.0.0/10', CATEGORY.cgnat),
  range('127.0.0.0/8', CATEGORY.loopback),
  range('172.16.0.0/12', CATEGORY.private),
  range('192.0.0.0/24', CATEGORY.reserved, 'a reserved address (IETF protocol assignments)'),
  range('192.0.2.0/24', CATEGORY.documentation),
  range('192.88.99.0/24', CATEGORY.reserved, 'a reserved address (deprecated 6to4 relay anycast)'),
  range('192.168.0.0/16', CATEGORY.private),
  range('198.18.0.0/15', CATEGORY.benchmarking),
  range('198.51.100.0/24', CATEGORY.documentation),
  range('203.0.113.0/24', CATEGORY.documentation),
  range('224.0.0.0/4', CATEGORY.multicast),
  range('255.255.255.255', CATEGORY.broadcast),
  range('240.0.0.0/4', CATEGORY.reserved),
];

const SPECIAL_V6: readonly Range[] = [
  range('64:ff9b:1::/48', CATEGORY.private, 'a private address (local-use NAT64)'),
  range('100::/64', CATEGORY.reserved, 'a reserved address (discard-only)'),
  range('2001:2::/48', CATEGORY.benchmarking),
  range('2001:10::/28', CATEGORY.reserved, 'a reserved address (ORCHID)'),
  range('2001:db8::/32', CATEGORY.documentation),
  range('3fff::/20', CATEGORY.documentation),
  range('fc00::/7', CATEGORY.private),
  range('fec0::/10', CATEGORY.private, 'a private address (deprecated site-local)'),
  range('ff00::/8', CATEGORY.multicast),
];

const UNSPECIFIED_V6 = range('::', CATEGORY.unspecified);
const LOOPBACK_V6 = range('::1', CATEGORY.loopback);
const MAPPED = cidr('::ffff:0:0/96');
const COMPATIBLE = range('::/96', CATEGORY.reserved, 'a reserved address (deprecated IPv4-compatible)');
const NAT64 = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');
const TEREDO = cidr('2001::/32');
const GLOBAL_UNICAST = cidr('2000::/3');

/** Why an address is not public: the range it fell in, and the IPv4 inside it if it carried one. */
interface Finding {
  readonly range: Range;
  /** The address the range matched: the embedded IPv4 for mapped, NAT64, 6to4 and Teredo. */
  readonly matched: Ip;
  /** How the IPv4 was carried. @example 'NAT64' */
  readonly via?: string;
}

const find = (ranges: readonly Range[], ip: Ip): Finding | undefined => {
  const r = ranges.find((x) => contains(x.cidr, ip));
  return r && { range: r, matched: ip };
};

const carried = (via: string, inner: Ip): Finding | undefined => {
  const f = classify(inner);
  return f && { ...f, via };
};

/** The rule an address breaks, or undefined for a public address. Always-refused ranges come first. */
function classify(ip: Ip): Finding | undefined {
  if (ip.family === 4) return find(ALWAYS_V4, ip) ?? find(SPECIAL_V4, ip);
  const always = find(ALWAYS_V6, ip);
  if (always) return always;
  if (contains(UNSPECIFIED_V6.cidr, ip)) return { range: UNSPECIFIED_V6, matched: ip };
  if (contains(LOOPBACK_V6.cidr, ip)) return { range: LOOPBACK_V6, matched: ip };
  if (contains(MAPPED, ip)) return carried('IPv4-mapped', v4(ip.value));
  if (contains(COMPATIBLE.cidr, ip)) return carried('IPv4-compatible', v4(ip.value)) ?? { range: COMPATIBLE, matched: ip };
  if (contains(NAT64, ip)) return carried('NAT64', v4(ip.value));
  if (contains(SIX_TO_FOUR, ip)) return carried('6to4', v4(ip.value >> 80n));
  if (contains(TEREDO, ip)) return carried('Teredo', v4(~ip.value));
  const special = find(SPECIAL_V6, ip);
  if (special) return special;
  if (!contains(GLOBAL_UNICAST, ip)) {
    return {
      range: { cidr: { ip, prefix: 128 }, category: CATEGORY.reserved, label: 'a reserved address (not global unicast 2000::/3)' },
      matched: ip,
    };
  }
  return undefined;
}

/** The form to connect to: an IPv4-mapped address is connected to as the IPv4 it carries. */
function pinForm(ip: Ip): PinnedAddress {
  const target = ip.family === 6 && contains(MAPPED, ip) ? v4(ip.value) : ip;
  return { address: formatIp(target), family: target.family };
}

// ---------------------------------------------------------------------------------------------
// Hosts

type Host = { kind: 'ip'; ip: Ip; zone?: string } | { kind: 'name'; name: string };

const NAME_RE = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A WHATWG host (already lower-cased, IDN-encoded and IPv4-normalised by URL) to a {@link Host}. */
function fromUrlHostname(hostname: string): Host | string {
  if (hostname.startsWith('[')) {
    const ip = parseIp(hostname.slice(1, -1));
    return ip ? { kind: 'ip', ip } : `"${hostname}" is not a valid IPv6 address`;
  }
  const ip = parseIp(hostname);
  if (ip) return { kind: 'ip', ip };
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (!NAME_RE.test(name)) return `"${clip(hostname)}" is not a valid host name`;
  return { kind: 'name', name };
}

/**
 * A host outside a URL (CONNECT target, socket address): brackets and zone ids are stripped, and
 * anything else goes through the WHATWG host parser, which reads every inet_aton form of IPv4.
 */
function parseBareHost(text: string): Host | string {
  if (text.startsWith('[') || (text.includes(':') && isIPv6(text))) {
    const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    const pct = inner.indexOf('%');
    const addr = pct < 0 ? inner : inner.slice(0, pct);
    const zone = pct < 0 ? undefined : inner.slice(pct + 1).replace(/^25/, '');
    const ip = isIPv6(addr) ? parseIp(addr) : undefined;
    if (!ip) return `"${clip(text)}" is not a valid IPv6 address`;
    return zone === undefined ? { kind: 'ip', ip } : { kind: 'ip', ip, zone };
  }
  if (!/^[\p{L}\p{N}\p{M}._-]+$/u.test(text)) return `"${clip(text)}" is not a host name or IP address`;
  try {
    return fromUrlHostname(new URL(`http://${text}/`).hostname);
  } catch {
    return `"${clip(text)}" is not a valid host name or IPv4 address`;
  }
}

const clip = (text: string) => redact(text.length > 100 ? `${text.slice(0, 100)}…` : text);

// ---------------------------------------------------------------------------------------------
// PROBE_ALLOW

type AllowRule = { kind: 'cidr'; cidr: Cidr } | { kind: 'host'; name: string; wildcard: boolean };

function parseAllowItem(item: string): AllowRule | string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item)) {
    let host = '';
    try {
      host = new URL(item).hostname.replace(/^\[|\]$/g, '');
    } catch {
      /* no host to suggest */
    }
    return host ? `is a URL: write only the host, ${host}` : 'is a URL: write only the host';
  }
  if (item.includes('%'))
    return 'has a zone id: remove it from "%" on (zone ids only make sense for link-local addresses, which are always refused)';
  if (item.startsWith('[')) return `has brackets: write ${item.replace(/^\[|\](?::\d+)?$/g, '')}`;
  if (item.includes('/')) return parseAllowCidr(item);
  const ip = parseIp(item);
  if (ip) return alwaysProblem({ ip, prefix: bits(ip.family) }) ?? { kind: 'cidr', cidr: { ip, prefix: bits(ip.family) } };
  if (item.includes(':')) {
    const host = item.slice(0, item.lastIndexOf(':'));
    return /^\d+$/.test(item.slice(item.lastIndexOf(':') + 1)) && host && !host.includes(':')
      ? `has a port: write only the host, ${host}`
      : 'is not an IP address, CIDR or host name: write e.g. fd00::/8 or internal.example.com';
  }
  return parseAllowHost(item);
}

function parseAllowCidr(item: string): AllowRule | string {
  const [addr = '', len = '', ...rest] = item.split('/');
  const ip = parseIp(addr);
  if (!ip || rest.length > 0) return 'is not a CIDR: write an address and a prefix length, e.g. 10.0.0.0/8 or fd00::/8';
  const max = bits(ip.family);
  const prefix = /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max))
    return `has a bad prefix length: an IPv${ip.family} prefix is 0 to ${max}, e.g. ${formatIp(ip)}/${ip.family === 4 ? 8 : 64}`;
  const shift = BigInt(max - prefix);
  const network: Cidr = { ip: { family: ip.family, value: (ip.value >> shift) << shift }, prefix };
  if (network.ip.value !== ip.value) return `has host bits set: write ${formatIp(network.ip)}/${prefix}`;
  return alwaysProblem(network) ?? { kind: 'cidr', cidr: network };
}

/** A CIDR that lies wholly inside an always-refused range can allow nothing: reject it. */
function alwaysProblem(c: Cidr): string | undefined {
  const r = [...ALWAYS_V4, ...ALWAYS_V6].find((x) => c.prefix >= x.cidr.prefix && contains(x.cidr, c.ip));
  return r && `is ${r.label ?? r.category.label}, which is always refused: remove it`;
}

function parseAllowHost(item: string): AllowRule | string {
  const wildcard = item.startsWith('*.');
  const rest = (wildcard ? item.slice(2) : item).replace(/\.$/, '');
  if (rest.includes('*')) return 'has a "*" that is not a leading "*." label: write e.g. *.corp.example.com';
  const lastLabel = rest.slice(rest.lastIndexOf('.') + 1);
  if (/^(?:0x[0-9a-f]*|\d+)$/i.test(lastLabel)) {
    let host = '';
    try {
      host = new URL(`http://${rest}/`).hostname;
    } catch {
      /* not an address */
    }
    if (!isIPv4(host)) return 'is not a valid IPv4 address or host name';
    return (
      alwaysProblem({ ip: { family: 4, value: parseV4(host) }, prefix: 32 }) ?? `is an unusual form of an IPv4 address: write it as ${host}`
    );
  }
  const name = /^[\x21-\x7e]*$/.test(rest) ? rest.toLowerCase() : domainToASCII(rest);
  if (!NAME_RE.test(name)) return 'is not a valid host name: use letters, digits, "-" and "." (e.g. internal.example.com)';
  if (wildcard && !name.includes('.')) return `is too broad: a wildcard needs at least two labels after "*.", e.g. *.corp.${name}`;
  if (!wildcard && METADATA_HOSTS.includes(name)) return 'is a cloud metadata name, which is always refused: remove it';
  return { kind: 'host', name, wildcard };
}

function hostAllowed(rules: readonly AllowRule[], name: string): boolean {
  return rules.some((r) => r.kind === 'host' && (r.wildcard ? name.endsWith(`.${r.name}`) : name === r.name));
}

function addressAllowed(rules: readonly AllowRule[], f: Finding, ip: Ip): boolean {
  return rules.some((r) => r.kind === 'cidr' && (contains(r.cidr, f.matched) || contains(r.cidr, ip)));
}

/**
 * Build a policy from PROBE_ALLOW text. Every bad item is reported, each with its fix; an empty
 * text gives the restrictive policy that allows public addresses only.
 *
 * @example
 * const r = parseProbeAllow(process.env.PROBE_ALLOW ?? '');
 * if ('problems' in r) throw new TriageError('CONFIG_INVALID', 'PROBE_ALLOW is invalid', r.problems);
 */
export function parseProbeAllow(
  text: string,
  options: Partial<Omit<SsrfPolicyOptions, 'allow'>> = {},
): { policy: SsrfPolicy } | { problems: string[] } {
  const problems: string[] = [];
  const rules: AllowRule[] = [];
  for (const item of text.split(/[\s,]+/).filter((s) => s !== '')) {
    const rule = parseAllowItem(item);
    if (typeof rule === 'string') problems.push(`PROBE_ALLOW: "${clip(item)}" ${rule}`);
    else rules.push(rule);
  }
  if (problems.length > 0) return { problems };
  return { policy: makePolicy({ ...SSRF_DEFAULTS, ...options, allow: text }, rules) };
}

/**
 * Build a policy from options (defaults: {@link SSRF_DEFAULTS}). Throws a `CONFIG_INVALID`
 * {@link TriageError} listing every problem when `allow` is invalid.
 *
 * @example createSsrfPolicy({ allowAll: true })          // the CLI
 * @example createSsrfPolicy({ allow: '10.0.0.0/8' })     // chat and the API
 */
export function createSsrfPolicy(options: Partial<SsrfPolicyOptions> = {}): SsrfPolicy {
  const { allow, ...rest } = { ...SSRF_DEFAULTS, ...options };
  const r = parseProbeAllow(allow, rest);
  if ('problems' in r) throw new TriageError('CONFIG_INVALID', `PROBE_ALLOW has ${r.problems.length} problem(s)`, r.problems);
  return r.policy;
}

// ---------------------------------------------------------------------------------------------
// Checks

type Role = 'url' | 'redirect' | 'proxy' | 'connect';

const SUBJECT: Record<Role, string> = { url: '', redirect: 'redirect target ', proxy: 'proxy ', connect: 'CONNECT target ' };

const refuse = (code: SsrfCode, reason: string, hint: string): SsrfRefusal => ({ ok: false, code, reason, hint });

const badUrl = (reason: string, role: Role): SsrfRefusal =>
  refuse(
    'BAD_URL',
    `${SUBJECT[role]}${reason}`,
    role === 'connect'
      ? 'write the target as host:port, e.g. api.example.com:443 or [2001:db8::1]:443'
      : 'write a full URL, e.g. https://shop.example.com/api',
  );

const ALWAYS_HINT: Record<string, string> = {
  [CATEGORY.metadata.label]:
    'cloud metadata endpoints hand out instance credentials and cannot be allowed: probe the service by its own name or address',
  [CATEGORY.linkLocal.label]: 'link-local addresses cannot be allowed: probe the service at a routable address or name',
};

function describe(ip: Ip, f: Finding): string {
  const inner = formatIp(f.matched);
  const range = f.range.cidr.prefix < bits(f.range.cidr.ip.family) ? ` (${formatCidr(f.range.cidr)})` : '';
  const subject = f.via ? `${formatIp(ip)} (${f.via} ${inner})` : inner;
  return `${subject} is ${f.range.label ?? f.range.category.label}${range}`;
}

function addressHint(f: Finding, name?: string): string {
  if (f.range.category.always) return ALWAYS_HINT[f.range.category.label] ?? 'this address cannot be allowed';
  const range = formatCidr(f.range.cidr);
  const single = formatIp(f.matched);
  const entries = [name ?? single, ...(range !== single ? [range] : [])];
  return `if the bot should reach ${name ?? 'it'}, an admin can add ${entries.join(' or ')} to PROBE_ALLOW`;
}

function makePolicy(options: SsrfPolicyOptions, rules: readonly AllowRule[]): SsrfPolicy {
  const allowAll = options.allowAll;
  const resolve = options.lookup;

  /** The finding that forbids this address here, if any. */
  const forbids = (ip: Ip, nameAllowed: boolean): Finding | undefined => {
    const f = classify(ip);
    if (!f || f.range.category.always) return f;
    return allowAll || nameAllowed || addressAllowed(rules, f, ip) ? undefined : f;
  };

  const pinned = (host: Host, port: number, ips: readonly Ip[], url?: URL): SsrfTarget => {
    const addresses = dedupe(ips.map(pinForm));
    const address = addresses[0]!;
    const hostText = host.kind === 'name' ? host.name : formatIp(host.ip);
    const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
    return {
      ok: true,
      host: hostText,
      port,
      addresses,
      address,
      lookup: pinnedLookup(hostText, address),
      authority: `${bracket(hostText)}:${port}`,
      pinnedAuthority: `${bracket(address.address)}:${port}`,
      ...(url ? { url } : {}),
    };
  };

  async function checkHost(host: Host, port: number, role: Role, options: CheckOptions, url?: URL): Promise<SsrfResult> {
    const subject = SUBJECT[role];
    if (host.kind === 'ip') {
      const f = forbids(host.ip, false);
      if (f)
        return refuse(
          'SSRF_REFUSED',
          `${subject}${describe(host.ip, f)}: ${f.range.category.always ? 'always refused' : 'refused'}`,
          addressHint(f),
        );
      if (host.zone !== undefined) {
        return badUrl(
          `${formatIp(host.ip)}%${clip(host.zone)} has a zone id, which only link-local addresses use (and they are always refused)`,
          role,
        );
      }
      return pinned(host, port, [host.ip], url);
    }
    if (METADATA_HOSTS.includes(host.name)) {
      return refuse(
        'SSRF_REFUSED',
        `${subject}${host.name} is a cloud metadata name: always refused`,
        ALWAYS_HINT[CATEGORY.metadata.label]!,
      );
    }
    const answer = await resolveAll(resolve, host.name, options.signal);
    if (typeof answer === 'string') {
      return refuse(
        'DNS_FAILED',
        `${subject}${host.name} ${answer}`,
        `check the spelling, and that ${host.name} resolves where the bot runs (dig ${host.name})`,
      );
    }
    const nameAllowed = hostAllowed(rules, host.name);
    const bad = answer.map((ip) => ({ ip, f: forbids(ip, nameAllowed) })).filter((x): x is { ip: Ip; f: Finding } => x.f !== undefined);
    const worst = bad.find((x) => x.f.range.category.always) ?? bad[0];
    if (worst) {
      const list = answer.map(formatIp).join(', ');
      const verdict = worst.f.range.category.always ? 'always refused' : 'refused';
      const reason =
        answer.length === 1
          ? `${subject}${host.name} resolves to ${describe(worst.ip, worst.f)}: ${verdict}`
          : `${subject}${host.name} resolves to ${list}, and ${describe(worst.ip, worst.f)}: ${verdict} (one forbidden answer refuses the name: mixed answers are a DNS rebinding sign)`;
      return refuse('SSRF_REFUSED', reason, addressHint(worst.f, host.name));
    }
    return pinned(host, port, answer, url);
  }

  async function checkUrl(input: string | URL, role: Role, options: CheckOptions): Promise<SsrfResult> {
    const parsed = parseUrl(input);
    if (typeof parsed === 'string') return badUrl(parsed, role);
    const { url, zone } = parsed;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      const what = role === 'proxy' ? 'proxies' : 'URLs';
      return refuse(
        'SSRF_REFUSED',
        `${SUBJECT[role]}scheme ${clip(url.protocol)} is refused: only http: and https: ${what} can be probed`,
        `use an http:// or https:// ${role === 'proxy' ? 'proxy' : 'URL'}; no setting allows other schemes`,
      );
    }
    const host = fromUrlHostname(url.hostname);
    if (typeof host === 'string') return badUrl(host, role);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    if (port === 0) return badUrl('port 0 cannot be connected to', role);
    return checkHost(zone !== undefined && host.kind === 'ip' ? { ...host, zone } : host, port, role, options, url);
  }

  return {
    allowAll,
    check: (url, options = {}) => checkUrl(url, 'url', options),
    checkProxy: (url, options = {}) => checkUrl(url, 'proxy', options),
    async checkRedirect(location, from, options = {}) {
      let url: URL;
      try {
        url = new URL(location, from);
      } catch {
        return badUrl(`Location "${clip(location)}" is not a valid URL`, 'redirect');
      }
      return checkUrl(url, 'redirect', options);
    },
    async checkConnectTarget(authority, options = {}) {
      const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(authority);
      if (!m) return badUrl(`"${clip(authority)}" is not host:port (IPv6 goes in brackets)`, 'connect');
      const port = Number(m[2]);
      if (port < 1 || port > 65535) return badUrl(`port ${m[2]} is not 1 to 65535`, 'connect');
      const host = parseBareHost(m[1]!);
      if (typeof host === 'string') return badUrl(host, 'connect');
      return checkHost(host, port, 'connect', options);
    },
    checkAddress(address) {
      const host = parseBareHost(address);
      if (typeof host === 'string' || host.kind !== 'ip')
        return refuse('BAD_URL', `"${clip(address)}" is not an IP address`, 'pass an IPv4 or IPv6 address, e.g. 93.184.216.34');
      const f = forbids(host.ip, false);
      if (f)
        return refuse('SSRF_REFUSED', `${describe(host.ip, f)}: ${f.range.category.always ? 'always refused' : 'refused'}`, addressHint(f));
      return { ok: true, address: pinForm(host.ip) };
    },
  };
}

/** Parse a URL; a zone id in a bracketed IPv6 host, which WHATWG URL rejects, is split off. */
function parseUrl(input: string | URL): { url: URL; zone?: string } | string {
  if (input instanceof URL) return { url: input };
  try {
    return { url: new URL(input) };
  } catch {
    const m = /^([a-z][a-z0-9+.-]*:\/\/(?:[^@/?#[]*@)?\[[0-9a-f:.]+)%(?:25)?([a-z0-9_.~-]+)\]/i.exec(input);
    if (m) {
      try {
        return { url: new URL(`${m[1]}]${input.slice(m[0].length)}`), zone: m[2]! };
      } catch {
        /* fall through */
      }
    }
    return `"${clip(input)}" is not a valid URL`;
  }
}

function dedupe(addresses: readonly PinnedAddress[]): PinnedAddress[] {
  const seen = new Set<string>();
  return addresses.filter((a) => !seen.has(a.address) && seen.add(a.address) !== undefined);
}

/** Resolve a name to parsed addresses, or say why not (completing "NAME …"). */
async function resolveAll(resolve: Resolve, name: string, signal: AbortSignal | undefined): Promise<Ip[] | string> {
  let answer: readonly LookupAddress[];
  try {
    answer = await abortable(resolve(name), signal);
  } catch (err) {
    if (signal?.aborted) return 'was not resolved: the lookup was aborted';
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    return `does not resolve${code ? ` (${code})` : ''}`;
  }
  if (answer.length === 0) return 'does not resolve (no addresses)';
  const ips: Ip[] = [];
  for (const a of answer) {
    const text = String(a.address);
    const ip = parseIp(text.includes('%') ? text.slice(0, text.indexOf('%')) : text);
    if (!ip) return `resolved to "${clip(text)}", which is not an IP address`;
    ips.push(ip);
  }
  return ips;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const normaliseAsked = (hostname: string) => {
  const h = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const ip = parseIp(h);
  return ip ? formatIp(ip) : /^[\x21-\x7e]*$/.test(h) ? h : domainToASCII(h);
};

/** A node `lookup` that answers with `address` for `host` (or the address itself) and fails otherwise. */
function pinnedLookup(host: string, address: PinnedAddress): LookupFunction {
  return (hostname, options, callback) => {
    const asked = normaliseAsked(hostname);
    process.nextTick(() => {
      if (asked !== host && asked !== address.address) {
        const err: NodeJS.ErrnoException = new Error(
          `lookup of ${clip(hostname)} refused: this lookup is pinned to ${host} (${address.address})`,
        );
        err.code = 'ERR_SSRF_UNPINNED';
        callback(err, '');
      } else if (typeof options === 'object' && options?.all) {
        callback(null, [{ address: address.address, family: address.family }]);
      } else {
        callback(null, address.address, address.family);
      }
    });
  };
}
