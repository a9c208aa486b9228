import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Helpers shared by the proxy and gateway extractors (nginx, haproxy, envoy, squid, cloud, ingress,
 * http): a signal sink that de-duplicates, a bounded match loop, errno normalisation and the
 * "this duration is a configured timeout" check. Not an extractor itself.
 */

/** Limits for one extractor run over one text. */
export const SINK_LIMITS = {
  /** Most signals kept per `name=value`. @defaultValue 20 */
  maxPerKey: 20,
  /** Most matches examined per regex (bounds the work on huge logs). @defaultValue 5000 */
  maxMatches: 5000,
} as const;

/**
 * Collects one extractor's signals: at most one per `name=value` per line, at most
 * {@link SINK_LIMITS.maxPerKey} per `name=value` in the text.
 */
export class SignalSink {
  readonly signals: Signal[] = [];
  /** Start offset of each kept signal, in the order of {@link signals}. */
  readonly starts: number[] = [];
  private readonly seen = new Set<string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly doc: TextDoc,
    private readonly source: string,
  ) {}

  /** Emit a signal for the text at [start, end). */
  add(name: string, value: string | undefined, start: number, end: number): void {
    const key = value === undefined ? name : `${name}=${value}`;
    const n = this.counts.get(key) ?? 0;
    if (n >= SINK_LIMITS.maxPerKey) return;
    const lineKey = `${key}@${this.doc.lineOf(start)}`;
    if (this.seen.has(lineKey)) return;
    this.seen.add(lineKey);
    this.counts.set(key, n + 1);
    this.signals.push(this.doc.signal(name, value, start, end, this.source));
    this.starts.push(start);
  }

  /** Emit a signal only if no signal with the same `name=value` was emitted yet (e.g. http.server). */
  once(name: string, value: string | undefined, start: number, end: number): void {
    const key = value === undefined ? name : `${name}=${value}`;
    if (this.counts.has(key)) return;
    this.add(name, value, start, end);
  }

  /** Whether a signal `name` (with `value`, when given) was emitted. */
  has(name: string, value?: string): boolean {
    return this.counts.has(value === undefined ? name : `${name}=${value}`);
  }

  /** Number of signals emitted so far. */
  get size(): number {
    return this.signals.length;
  }
}

/** Run a global regex over the document, calling `fn` per match (at most {@link SINK_LIMITS.maxMatches}). */
export function eachMatch(re: RegExp, doc: TextDoc, fn: (m: RegExpExecArray) => void): void {
  let n = 0;
  for (const m of doc.matches(re)) {
    if (m[0].length === 0) continue;
    if (++n > SINK_LIMITS.maxMatches) return;
    fn(m);
  }
}

/** Whether any of the lower-case keys occurs in the lower-cased text. */
export function hasAny(doc: TextDoc, keys: readonly string[]): boolean {
  return keys.some((k) => doc.mayContain(k));
}

/**
 * The [start, end) offsets of the line that holds `index`, looking at most `radius` characters either
 * way (so that calling it per match stays linear on a huge single-line input).
 */
export function lineBounds(text: string, index: number, radius = 1000): [number, number] {
  const lo = Math.max(0, index - radius);
  let start = index;
  while (start > lo && text.charCodeAt(start - 1) !== 10) start--;
  const hi = Math.min(text.length, index + radius);
  let end = index;
  while (end < hi && text.charCodeAt(end) !== 10) end++;
  return [start, end];
}

/**
 * Whether only characters from `allowed` (at most `max` of them) stand between the start of the line
 * and `index`: a cheap replacement for a `^[…]{0,n}` multiline anchor, which V8 scans slowly.
 */
export function atLineStart(text: string, index: number, allowed = ' \t', max = 8): boolean {
  for (let i = index - 1, n = 0; i >= 0; i--, n++) {
    const c = text[i]!;
    if (c === '\n') return true;
    if (n >= max || !allowed.includes(c)) return false;
  }
  return true;
}

/** Whether only characters from `allowed` (at most `max`) follow `end` up to the end of the line. */
export function atLineEnd(text: string, end: number, allowed = ' \t', max = 8): boolean {
  for (let i = end, n = 0; i < text.length; i++, n++) {
    const c = text[i]!;
    if (c === '\n') return true;
    if (n >= max || !allowed.includes(c)) return false;
  }
  return true;
}

/**
 * What a socket errno means, normalised: by its message first (codes differ between Linux, BSD
 * and Windows), then by the Linux code. `timeout` is left to the caller to place in a phase.
 */
export type ErrnoKind =
  | 'connection_refused'
  | 'reset'
  | 'timeout'
  | 'host_unreachable'
  | 'network_unreachable'
  | 'permission_denied'
  | 'no_such_file'
  | 'too_many_open_files'
  | 'address_unavailable';

const ERRNO_TEXT: readonly [string, ErrnoKind][] = [
  ['refused', 'connection_refused'],
  ['reset by peer', 'reset'],
  ['broken pipe', 'reset'],
  ['timed out', 'timeout'],
  ['no route to host', 'host_unreachable'],
  ['host is down', 'host_unreachable'],
  ['host is unreachable', 'host_unreachable'],
  ['network is unreachable', 'network_unreachable'],
  ['permission denied', 'permission_denied'],
  ['no such file', 'no_such_file'],
  ['too many open files', 'too_many_open_files'],
  ['file descriptors', 'too_many_open_files'],
  ['cannot assign requested address', 'address_unavailable'],
];

const ERRNO_CODE: Readonly<Record<number, ErrnoKind>> = {
  2: 'no_such_file',
  13: 'permission_denied',
  23: 'too_many_open_files',
  24: 'too_many_open_files',
  32: 'reset',
  99: 'address_unavailable',
  101: 'network_unreachable',
  104: 'reset',
  110: 'timeout',
  111: 'connection_refused',
  112: 'host_unreachable',
  113: 'host_unreachable',
};

export function errnoKind(code: number | undefined, message: string): ErrnoKind | undefined {
  const lower = message.toLowerCase();
  for (const [needle, kind] of ERRNO_TEXT) if (lower.includes(needle)) return kind;
  return code === undefined ? undefined : ERRNO_CODE[code];
}

/** A typical configured timeout, and the `timing.near_timeout` value naming it. */
export interface TimeoutMark {
  readonly seconds: number;
  readonly name: string;
}

/** Product-neutral marks; product tables are checked first. */
export const COMMON_TIMEOUTS: readonly TimeoutMark[] = [
  { seconds: 10, name: 'timeout_10s' },
  { seconds: 15, name: 'timeout_15s' },
  { seconds: 20, name: 'timeout_20s' },
  { seconds: 30, name: 'timeout_30s' },
  { seconds: 60, name: 'timeout_60s' },
  { seconds: 90, name: 'timeout_90s' },
  { seconds: 100, name: 'cloudflare_100s' },
  { seconds: 120, name: 'timeout_120s' },
  { seconds: 180, name: 'timeout_180s' },
  { seconds: 300, name: 'timeout_300s' },
  { seconds: 600, name: 'timeout_600s' },
  { seconds: 900, name: 'timeout_900s' },
  { seconds: 1800, name: 'timeout_1800s' },
  { seconds: 3600, name: 'timeout_3600s' },
];

/** How close a duration must be to a mark, as a fraction of the mark. @defaultValue 0.03 */
export const NEAR_TIMEOUT_TOLERANCE = 0.03;

/**
 * The configured timeout a duration (in seconds) lands on, within ±3 %: the first match in
 * `product`, else in {@link COMMON_TIMEOUTS}.
 *
 * @example nearTimeout(60.002, [{ seconds: 60, name: 'nginx_proxy_read_60s' }]) === 'nginx_proxy_read_60s'
 */
export function nearTimeout(seconds: number, product: readonly TimeoutMark[] = []): string | undefined {
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  const near = (m: TimeoutMark) => Math.abs(seconds - m.seconds) <= m.seconds * NEAR_TIMEOUT_TOLERANCE;
  return (product.find(near) ?? COMMON_TIMEOUTS.find(near))?.name;
}

/** A duration in seconds as a short decimal string ("60.002", "15"). */
export function formatSeconds(seconds: number): string {
  return String(Math.round(seconds * 1000) / 1000);
}

/** What a status implies beyond itself, as [signal, value?] (see the catalogue's descriptions of these signals). */
export const STATUS_IMPLIES: Readonly<Record<string, readonly [string, string?]>> = {
  '407': ['proxy.auth_required'],
  '413': ['limit.body'],
  '429': ['limit.rate'],
  '431': ['limit.header'],
  '494': ['limit.header'],
  '499': ['client.closed'],
  // Only Cloudflare sends 520-526: the status is its error code.
  '520': ['cloudflare.error', '520'],
  '521': ['cloudflare.error', '521'],
  '522': ['cloudflare.error', '522'],
  '523': ['cloudflare.error', '523'],
  '524': ['cloudflare.error', '524'],
  '525': ['cloudflare.error', '525'],
  '526': ['cloudflare.error', '526'],
};

/** Emit http.status for a known status code, and what it implies ({@link STATUS_IMPLIES}). */
export function addStatus(sink: SignalSink, code: string | undefined, start: number, end: number): void {
  if (code === undefined || !/^\d{3}$/.test(code) || !isKnownStatus(Number(code))) return;
  sink.add('http.status', code, start, end);
  const implied = STATUS_IMPLIES[code];
  if (implied) sink.add(implied[0], implied[1], start, end);
}

/** HTTP status codes that real servers and proxies send (standard plus nginx/ALB/Cloudflare specials). */
export function isKnownStatus(code: number): boolean {
  return (
    (code >= 100 && code <= 103) ||
    (code >= 200 && code <= 208) ||
    code === 226 ||
    (code >= 300 && code <= 308) ||
    (code >= 400 && code <= 431) ||
    code === 444 ||
    code === 451 ||
    code === 460 ||
    code === 463 ||
    code === 464 ||
    (code >= 494 && code <= 499) ||
    (code >= 500 && code <= 511) ||
    (code >= 520 && code <= 527) ||
    code === 530 ||
    code === 561
  );
}
