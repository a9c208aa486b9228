import type { Signal } from '../evidence/signal.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import { dedupeSignals, exchange, keepAliveAgent, refusedResult, type HttpFailure } from './support/http.js';
import { planHop } from './support/route.js';
import { formatMs, guardedRun, stopwatch, type Deadline } from './support/socket.js';
import { tunnelAgent } from './support/tunnel.js';
import { nearTimeoutSignal } from './timing.js';

/** Options of {@link createRepeatProbe}. */
export interface RepeatProbeOptions {
  /** CA certificates (PEM) to trust instead of the system's. @defaultValue the system's */
  readonly ca?: string | readonly string[];
}

/** Thresholds of the repeat probe's verdicts. */
export const REPEAT_THRESHOLDS = {
  /** p95/p50 from which the spread is reported (net.latency_spread). @defaultValue 3 */
  spreadRatio: 3,
  /** …and only when p95 exceeds p50 by at least this many ms (sub-ms jitter on a LAN is no finding). @defaultValue 100 */
  spreadMinMs: 100,
  /** Share of the budget the spread may take at most; the rest is for the requests. @defaultValue 0.5 */
  spreadShare: 0.5,
  /**
   * After this many identical answers of a kind that does not come and go (a refusal, a DNS or
   * certificate failure, a 4xx other than 408/429), the rest of the requests cannot change the
   * verdict: the probe stops there. @defaultValue 3
   */
  settleAfter: 3,
} as const;

/** Failures that repeat identically until someone changes something. */
const DETERMINISTIC_NET = new Set(['connection_refused', 'dns_not_found', 'host_unreachable', 'network_unreachable', 'permission_denied']);

/**
 * Whether the outcomes so far settle the run: the first `settleAfter` are the same deterministic
 * answer (identical refusals, the same 401 …). Intermittence shows as a difference, and there is
 * none to wait for.
 */
export function settledSeries(outcomes: readonly { status?: number; failure?: HttpFailure }[], settleAfter: number): boolean {
  if (outcomes.length < settleAfter) return false;
  const kind = (o: { status?: number; failure?: HttpFailure }): string | undefined => {
    if (o.status !== undefined)
      return o.status >= 400 && o.status < 500 && o.status !== 408 && o.status !== 429 ? `s${o.status}` : undefined;
    const f = o.failure;
    if (!f || f.timedOut || f.aborted) return undefined;
    if (f.net && DETERMINISTIC_NET.has(f.net)) return `n${f.net}`;
    if (f.tls && f.tls !== 'reset_during_handshake') return `t${f.tls}`;
    return undefined;
  };
  const first = kind(outcomes[0]!);
  return first !== undefined && outcomes.every((o) => kind(o) === first);
}

/**
 * The pauses before requests 2…n, in ms, summing to `spreadMs`: back-to-back pairs alternating
 * with pauses that double, so a reused connection is tried both right away and after growing
 * idle times (an idle-timeout mismatch shows as a reset after a pause).
 *
 * @example schedule(8, 4000) // [0, 571, 0, 1143, 0, 2286, 0]
 */
export function schedule(count: number, spreadMs: number): number[] {
  const n = Math.max(0, count - 1);
  if (n === 0) return [];
  let weights = Array.from({ length: n }, (_, i) => (i % 2 === 1 ? 2 ** ((i - 1) / 2) : 0));
  if (weights.every((w) => w === 0)) weights = weights.map(() => 1);
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => Math.round((spreadMs * w) / sum));
}

/** The value at quantile `q` (0…1) of sorted `values`, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** One request of the run. */
interface Outcome {
  readonly n: number;
  readonly status?: number;
  readonly failure?: HttpFailure;
  readonly ms: number;
  readonly reused: boolean;
  /** Idle time before it, in ms. */
  readonly pause: number;
}

const RACE = new Set(['connection_reset', 'empty_reply', 'socket_hang_up', 'unexpected_eof']);

/** A failed request on a kept-alive socket that the server had closed or reset: the keep-alive race. */
const isRace = (o: Outcome) => o.reused && o.failure?.net !== undefined && RACE.has(o.failure.net) && o.failure.bytesReceived === 0;
const isBad = (o: Outcome) => o.failure !== undefined || (o.status !== undefined && (o.status >= 500 || o.status === 429));
const label = (o: Outcome) =>
  o.status !== undefined
    ? String(o.status)
    : o.failure?.timedOut
      ? 'timeout'
      : (o.failure?.net ?? o.failure?.tls ?? 'error').replace(/_/g, ' ');

/**
 * The repeat probe: the same request N times (`limits.repeatCount`) over `limits.repeatSpreadMs`
 * on one keep-alive connection pool, with pauses between some requests, to catch what one request
 * does not show: intermittent 5xx, resets of reused connections (idle-timeout mismatch), rate
 * limits, and latency spread.
 */
export function createRepeatProbe(opts: RepeatProbeOptions = {}): Probe {
  return {
    name: 'repeat',
    describes:
      'repeat the request on one keep-alive connection, with pauses: intermittent errors, resets of reused connections, latency spread',
    applies: () => true,
    run: (ctx) => guardedRun('repeat', ctx, (deadline) => runRepeat(ctx, deadline, opts)),
  };
}

/** The registered repeat probe. */
export const repeatProbe: Probe = createRepeatProbe();

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function runRepeat(ctx: ProbeContext, deadline: Deadline, opts: RepeatProbeOptions): Promise<ProbeResult> {
  const clock = stopwatch();
  const { target, limits } = ctx;
  const resolveClock = stopwatch();
  const plan = await planHop(ctx, target.url, deadline.signal);
  const resolveMs = resolveClock();
  if (!plan.ok) return refusedResult('repeat', plan.refusal, clock(), { resolve: resolveMs });
  const hop = plan.hop;

  const url = hop.url;
  const tls = url.protocol === 'https:';
  const count = Math.max(1, Math.floor(limits.repeatCount));
  const spread = Math.max(0, Math.min(limits.repeatSpreadMs, limits.timeoutMs * REPEAT_THRESHOLDS.spreadShare));
  const pauses = [0, ...schedule(count, spread)];
  const perRequestMs = Math.max(200, Math.floor((limits.timeoutMs - spread) / 2));
  // One keep-alive pool, as a client's: tunnels through the proxy for https://, connections to the proxy for http://.
  const agent =
    hop.via && tls
      ? tunnelAgent({
          route: hop.via,
          host: url.hostname.replace(/^\[|\]$/g, ''),
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          signal: deadline.signal,
          timedOut: deadline.expired,
          maxBodyBytes: limits.maxBodyBytes,
          keepAlive: true,
        })
      : keepAliveAgent(hop.via ? hop.via.tls : tls, opts.ca);
  const outcomes: Outcome[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const pause = pauses[i] ?? 0;
      await sleep(pause, deadline.signal);
      const left = deadline.remaining() - 100;
      if (deadline.signal.aborted || left < 100) break;
      const ex = await exchange({
        url,
        headers: target.headers,
        lookup: hop.lookup,
        ...(hop.via ? { via: hop.via } : {}),
        agent,
        signal: deadline.signal,
        timedOut: deadline.expired,
        timeoutMs: Math.min(perRequestMs, left),
        maxBodyBytes: limits.maxBodyBytes,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      });
      if (!ex.ok && ex.failure.aborted) break;
      const failure = ex.ok ? ex.response.bodyFailure : ex.failure;
      outcomes.push({
        n: i + 1,
        ...(ex.ok ? { status: ex.response.status } : {}),
        ...(failure ? { failure } : {}),
        ms: ex.ms,
        reused: ex.reusedSocket,
        pause: i === 0 ? 0 : pause,
      });
      if (settledSeries(outcomes, REPEAT_THRESHOLDS.settleAfter)) break;
    }
  } finally {
    agent.destroy();
  }
  if (deadline.aborted()) {
    return {
      probe: 'repeat',
      status: 'failed',
      durationMs: clock(),
      phases: { resolve: resolveMs },
      summary: trusted(`repeat: aborted after ${outcomes.length} of ${count} requests`),
      details: { aborted: true, sent: outcomes.length },
      signals: [],
    };
  }
  return { ...verdict(url, hop.address, outcomes, count, clock(), resolveMs), route: hop.route };
}

function verdict(
  url: URL,
  pinnedAuthority: string,
  outcomes: readonly Outcome[],
  count: number,
  durationMs: number,
  resolveMs: number,
): ProbeResult {
  const what = `${outcomes.length} × GET ${url.href}`;
  const settled = outcomes.length < count && settledSeries(outcomes, REPEAT_THRESHOLDS.settleAfter);
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(label(o), (counts.get(label(o)) ?? 0) + 1);
  const mix = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}×${k}`)
    .join(', ');
  const latencies = outcomes
    .filter((o) => o.status !== undefined)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  const p50 = quantile(latencies, 0.5);
  const p95 = quantile(latencies, 0.95);
  const max = latencies[latencies.length - 1] ?? 0;
  const bad = outcomes.filter(isBad);
  const good = outcomes.filter((o) => !isBad(o));
  const races = outcomes.filter(isRace);
  const summaryLine = `${what}: ${mix || 'no request completed'}`;
  const signals: Signal[] = [];
  const add = (name: string, value: string | undefined, excerpt: string) =>
    signals.push(
      value === undefined
        ? { name, excerpt: redact(excerpt), source: 'repeat' }
        : { name, value, excerpt: redact(excerpt), source: 'repeat' },
    );

  if (bad.length > 0 && good.length > 0)
    add('net.intermittent', undefined, `${summaryLine}: ${bad.length} of ${outcomes.length} failed, the others succeeded`);
  if (races.length > 0) {
    const r = races[0]!;
    const detail = `request ${r.n} went out on a reused keep-alive connection after ${formatMs(r.pause)} idle and got ${label(r)} (${races.length} of ${outcomes.length} such)`;
    add('net.keepalive_race', undefined, detail);
    add('net.intermittent', undefined, detail);
    for (const value of new Set(races.map((x) => x.failure?.net ?? ''))) if (value) add('net.error', value, detail);
  }
  for (const o of bad) {
    if (!o.failure || isRace(o)) continue;
    const f = o.failure;
    const excerpt = `request ${o.n}: ${f.timedOut ? `no answer within ${formatMs(o.ms)}` : label(o)} (${f.phase.replace(/_/g, ' ')}${o.reused ? ', reused connection' : ''})`;
    if (f.net) add('net.error', f.net, excerpt);
    if (f.tls) add('tls.error', f.tls, excerpt);
  }
  for (const status of [...new Set(outcomes.map((o) => o.status).filter((s): s is number => s !== undefined && s >= 400))].sort()) {
    add('http.status', String(status), `${summaryLine} (${counts.get(String(status)) ?? 0}×${status})`);
  }
  if (outcomes.some((o) => o.status === 429)) add('limit.rate', undefined, `${summaryLine}: rate limited (429)`);
  if (outcomes.some((o) => o.status === 503)) add('limit.overload', undefined, `${summaryLine}: service unavailable (503)`);
  if (latencies.length >= 2 && p50 > 0 && p95 / p50 >= REPEAT_THRESHOLDS.spreadRatio && p95 - p50 >= REPEAT_THRESHOLDS.spreadMinMs) {
    add(
      'net.latency_spread',
      String(Math.round(p95 / p50)),
      `${what}: latency p50 ${formatMs(p50)}, p95 ${formatMs(p95)}, max ${formatMs(max)}`,
    );
  }
  // Slow failures (504s, closes, resets after a while) that all land near one configured timeout.
  const slow = outcomes.filter((o) => (o.status === 504 || (o.failure && !o.failure.timedOut)) && o.ms >= 1000).map((o) => o.ms);
  if (slow.length > 0) {
    const median = quantile(
      [...slow].sort((a, b) => a - b),
      0.5,
    );
    const near = nearTimeoutSignal(median, 'repeat', { what: `${slow.length} failure${slow.length === 1 ? '' : 's'} (median)` });
    if (near) signals.push(near);
  }

  const outcomeLines: Masked[] = outcomes.map((o) =>
    trusted(
      `#${o.n} ${label(o)} in ${formatMs(o.ms)}${o.reused ? ` (reused connection${o.pause > 0 ? `, after ${formatMs(o.pause)} idle` : ''})` : ' (new connection)'}`,
    ),
  );
  return {
    probe: 'repeat',
    status: bad.length > 0 ? 'failed' : 'ok',
    durationMs,
    phases: { resolve: resolveMs },
    summary: redact(
      `${summaryLine}${latencies.length > 0 ? `; latency p50 ${formatMs(p50)}, p95 ${formatMs(p95)}, max ${formatMs(max)}` : ''}${settled ? `; stopped after ${outcomes.length} identical answers` : ''}`,
    ),
    details: {
      url: redact(url.href),
      address: trusted(pinnedAuthority),
      planned: count,
      ...(settled ? { stoppedEarly: true } : {}),
      sent: outcomes.length,
      mix: trusted(mix),
      ...(latencies.length > 0 ? { p50Ms: p50, p95Ms: p95, maxMs: max } : {}),
      timeouts: outcomes.filter((o) => o.failure?.timedOut).length,
      reusedResets: races.length,
      requests: outcomeLines,
    },
    signals: dedupeSignals(signals),
  };
}
