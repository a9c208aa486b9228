import { isIPv4, isIPv6 } from 'node:net';

/**
 * The proxy environment variables, read the way curl reads them (lib/url.c detect_proxy and
 * lib/noproxy.c): `<scheme>_proxy` in lower case first, then upper case — except `HTTP_PROXY`,
 * which curl never reads (a CGI program gets it from a request's `Proxy:` header, "httpoxy") —
 * then `all_proxy` / `ALL_PROXY`. A variable that is set but empty means "no proxy" and stops the
 * search. `no_proxy` / `NO_PROXY` (lower case first) lists hosts that go direct: `*` alone for
 * every host; a name matches itself and every name below it (`example.com`, `.example.com`:
 * `api.example.com` yes, `notexample.com` no; case and a trailing dot ignored); an IP address
 * matches an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`), never a name.
 */
export interface ProxyEnv {
  readonly http_proxy?: string;
  readonly https_proxy?: string;
  readonly HTTPS_PROXY?: string;
  readonly all_proxy?: string;
  readonly ALL_PROXY?: string;
  readonly no_proxy?: string;
  readonly NO_PROXY?: string;
  /** Read only to say that it is ignored, as curl ignores it. */
  readonly HTTP_PROXY?: string;
}

/** The names of {@link ProxyEnv}, for the config reader. */
export const PROXY_ENV_NAMES: readonly (keyof ProxyEnv)[] = [
  'http_proxy',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
  'HTTP_PROXY',
];

/** The proxy the environment gives a URL, and why. */
export interface EnvProxy {
  /** The proxy URL (as written, maybe with credentials: a secret), when one applies. */
  readonly proxy?: string;
  /** The variable it came from, or the one that sent the URL direct. @example 'https_proxy', 'NO_PROXY' */
  readonly from?: string;
  /** Why the URL goes direct although a proxy is set. @example 'no_proxy matches 127.0.0.1' */
  readonly bypass?: string;
  /** A remark, e.g. that HTTP_PROXY is ignored. */
  readonly note?: string;
}

/**
 * The proxy curl would use for `url` with this environment.
 *
 * @example proxyFromEnv(new URL('https://api.example.com/'), { HTTPS_PROXY: 'http://proxy:3128' }) // { proxy: 'http://proxy:3128', from: 'HTTPS_PROXY' }
 * @example proxyFromEnv(new URL('https://api.example.com/'), { https_proxy: 'http://proxy:3128', no_proxy: '.example.com' }) // { from: 'no_proxy', bypass: 'no_proxy matches api.example.com' }
 */
export function proxyFromEnv(url: URL, env: ProxyEnv): EnvProxy {
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const order: (keyof ProxyEnv)[] = scheme === 'https' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy'];
  order.push('all_proxy', 'ALL_PROXY');
  const from = order.find((name) => env[name] !== undefined);
  const note =
    scheme === 'http' && env.HTTP_PROXY !== undefined && env.http_proxy === undefined
      ? 'HTTP_PROXY is ignored, as curl ignores it (set http_proxy)'
      : undefined;
  const withNote = <T extends object>(o: T): T & { note?: string } => (note ? { ...o, note } : o);
  const value = from ? env[from]!.trim() : '';
  if (!from || value === '') return withNote({});
  const listName = env.no_proxy !== undefined ? 'no_proxy' : env.NO_PROXY !== undefined ? 'NO_PROXY' : undefined;
  const list = listName ? env[listName]! : '';
  if (listName && noProxyMatches(url.hostname, list))
    return withNote({ from: listName, bypass: `${listName} matches ${bareHost(url.hostname)}` });
  return withNote({ proxy: value, from });
}

const bareHost = (h: string) => h.replace(/^\[|\]$/g, '');

/** Whether `host` (a URL's hostname, IPv6 in brackets or not) is in a no_proxy list, by curl's rules. */
export function noProxyMatches(host: string, list: string): boolean {
  const name = bareHost(host).toLowerCase().replace(/\.$/, '');
  if (name === '') return false;
  const trimmed = list.trim();
  if (trimmed === '') return false;
  if (trimmed === '*') return true;
  const ip = isIPv4(name) ? 4 : isIPv6(name) ? 6 : 0;
  for (const raw of trimmed.split(/[\s,]+/)) {
    const token = raw.toLowerCase();
    if (token === '') continue;
    if (ip === 0) {
      const pattern = token.replace(/\.$/, '').replace(/^\./, '');
      if (pattern === '') continue;
      if (name === pattern || name.endsWith(`.${pattern}`)) return true;
    } else if (ipMatches(name, ip, bareHost(token))) return true;
  }
  return false;
}

/** An address against `address` or `address/bits` of the same family. */
function ipMatches(address: string, family: 4 | 6, token: string): boolean {
  const [network = '', bitsText] = token.split('/');
  const net = bareHost(network);
  if ((family === 4 && !isIPv4(net)) || (family === 6 && !isIPv6(net))) return false;
  const width = family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return false;
  const a = toBigInt(address, family);
  const b = toBigInt(net, family);
  const shift = BigInt(width - bits);
  return a >> shift === b >> shift;
}

function toBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head = '', tail = ''] = address.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  let groups = [...parse(head), ...parse(tail)];
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    const v4 = toBigInt(last, 4);
    groups = [...groups.slice(0, -1), ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
  }
  const missing = 8 - groups.length;
  const full = address.includes('::') ? [...parse(head), ...Array<string>(missing).fill('0'), ...groups.slice(parse(head).length)] : groups;
  return full.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}
