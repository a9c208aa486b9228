import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Extractor } from '../evidence/extractor.js';
import { EXTRACTORS } from '../evidence/index.js';
import type { Signal } from '../evidence/signal.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import {
  authorityOf,
  bodyExcerpt,
  dedupeSignals,
  describeFailure,
  exchange,
  failureSignals,
  header,
  keepAliveAgent,
  refusedResult,
  responseEvidence,
  shownHeaders,
  statusSignals,
  statusText,
  type HttpFailure,
} from './support/http.js';
import { formatMs, guardedRun, stopwatch, type Deadline } from './support/socket.js';
import { formatSeconds, longerIdleTimeouts, nearTimeoutSignal } from './timing.js';

/** Options of {@link createUpstreamProbe}. */
export interface UpstreamProbeOptions {
  /** Text extractors run over the backend's response. @defaultValue EXTRACTORS (the registry) */
  readonly extractors?: readonly Extractor[];
  /**
   * Longest wait for the backend to close an idle keep-alive connection, in ms (also bounded by
   * the probe's budget). Above the usual proxy idle timeouts (60 s), so a backend that outlasts
   * them is reported as such. @defaultValue 75000
   */
  readonly maxIdleWaitMs?: number;
  /** A time to first byte from this on is reported as slow (timing.duration_s). @defaultValue 1000 */
  readonly slowMs?: number;
}

/** The backend is asked straight, past every proxy: that is the point of this probe. */
const BACKEND_ROUTE = trusted('direct to the backend (no proxy)');

/** Defaults of {@link UpstreamProbeOptions}. */
export const UPSTREAM_DEFAULTS = { maxIdleWaitMs: 75_000, slowMs: 1_000 } as const;

/** What the backend did, as the proxy in front of it would name it (proxy.upstream_error). */
function upstreamError(f: HttpFailure): { error?: string; phase?: string } {
  if (f.aborted) return {};
  const phase =
    f.phase === 'connect'
      ? 'connecting'
      : f.phase === 'response_body'
        ? 'reading_response_body'
        : f.phase === 'request'
          ? 'sending_request'
          : 'reading_response_header';
  if (f.code === 'HPE_HEADER_OVERFLOW') return { error: 'too_big_header', phase };
  if (f.code?.startsWith('HPE_') || f.tls === 'http_to_https_port') return { error: 'invalid_header', phase };
  switch (f.net) {
    case 'connection_refused':
      return { error: 'connection_refused', phase };
    case 'connect_timeout':
      return { error: 'connect_timeout', phase };
    case 'host_unreachable':
      return { error: 'host_unreachable', phase };
    case 'network_unreachable':
      return { error: 'network_unreachable', phase };
    case 'read_timeout':
      return { error: 'read_timeout', phase };
    case 'empty_reply':
    case 'connection_reset':
    case 'unexpected_eof':
    case 'socket_hang_up':
      return { error: 'prematurely_closed', phase };
    default:
      return { phase };
  }
}

/**
 * The upstream probe: the same request sent straight to the backend behind the reverse proxy
 * (`--upstream HOST:PORT`, same path, the URL's Host), to explain the proxy's 502/504 by what the
 * backend does: refuse, close early, answer slowly, send invalid headers. Then it measures the
 * backend's keep-alive idle timeout and compares it with the usual proxy / LB idle timeouts.
 */
export function createUpstreamProbe(opts: UpstreamProbeOptions = {}): Probe {
  const extractors = opts.extractors ?? EXTRACTORS;
  const maxIdleWaitMs = opts.maxIdleWaitMs ?? UPSTREAM_DEFAULTS.maxIdleWaitMs;
  const slowMs = opts.slowMs ?? UPSTREAM_DEFAULTS.slowMs;
  return {
    name: 'upstream',
    describes: 'send the request straight to the backend (--upstream) and measure its answer and its keep-alive idle timeout',
    applies: (target) => target.upstream !== undefined,
    run: async (ctx) => ({
      ...(await guardedRun('upstream', ctx, (deadline) => runUpstream(ctx, deadline, { extractors, maxIdleWaitMs, slowMs }))),
      route: BACKEND_ROUTE,
    }),
  };
}

/** The registered upstream probe. */
export const upstreamProbe: Probe = createUpstreamProbe();

interface Settings {
  readonly extractors: readonly Extractor[];
  readonly maxIdleWaitMs: number;
  readonly slowMs: number;
}

async function runUpstream(ctx: ProbeContext, deadline: Deadline, settings: Settings): Promise<ProbeResult> {
  const clock = stopwatch();
  const { target, limits } = ctx;
  const up = target.upstream;
  if (!up) {
    return {
      probe: 'upstream',
      status: 'skipped',
      durationMs: 0,
      phases: {},
      summary: trusted('no upstream given (--upstream HOST:PORT)'),
      details: {},
      signals: [],
    };
  }
  const authority = authorityOf(up.host, up.port);
  const resolveClock = stopwatch();
  const check = await ctx.policy.checkConnectTarget(authority, { signal: deadline.signal });
  const resolveMs = resolveClock();
  if (!check.ok) return refusedResult('upstream', check, clock(), { resolve: resolveMs });

  const what = `GET ${authority}${target.url.pathname}${target.url.search} (Host: ${target.url.host})`;
  const agent = keepAliveAgent(false);
  const signals: Signal[] = [];
  const details: Record<string, Masked | number | boolean | readonly Masked[]> = {
    upstream: redact(authority),
    address: trusted(check.pinnedAuthority),
  };
  try {
    const ex = await exchange({
      url: target.url,
      tls: false,
      connect: { host: check.host, port: check.port },
      headers: target.headers,
      lookup: check.lookup,
      agent,
      signal: deadline.signal,
      timedOut: deadline.expired,
      maxBodyBytes: limits.maxBodyBytes,
    });
    const phases = { resolve: resolveMs, ...ex.phases };
    const failure = ex.ok ? ex.response.bodyFailure : ex.failure;
    if (ex.firstByteMs !== undefined) details.firstByteMs = ex.firstByteMs;

    if (failure) {
      const excerpt = describeFailure(failure, what, authority, ex.ms);
      signals.push(...failureSignals(failure, 'upstream', excerpt));
      const { error, phase } = upstreamError(failure);
      if (error) signals.push({ name: 'proxy.upstream_error', value: error, excerpt, source: 'upstream' });
      if (phase && !failure.aborted) signals.push({ name: 'proxy.upstream_phase', value: phase, excerpt, source: 'upstream' });
      if (failure.net === 'read_timeout') {
        signals.push({
          name: 'timing.duration_s',
          value: String(Math.round(ex.ms) / 1000),
          excerpt: redact(`the backend had not answered after ${formatMs(Math.round(ex.ms))}`),
          source: 'upstream',
        });
      } else if (!failure.timedOut && !failure.aborted && ex.ms >= 1000) {
        const near = nearTimeoutSignal(ex.ms, 'upstream', { what: `the backend's ${failure.net?.replace(/_/g, ' ') ?? 'failure'}` });
        if (near) signals.push(near);
      }
      if (failure.code) details.code = redact(failure.code);
      details.phase = trusted(failure.phase);
    }

    if (!ex.ok) {
      return {
        probe: 'upstream',
        status: 'failed',
        durationMs: clock(),
        phases,
        summary: describeFailure(ex.failure, what, authority, ex.ms),
        details,
        signals: dedupeSignals(signals),
      };
    }

    const res = ex.response;
    const ttfb = ex.firstByteMs ?? ex.ms;
    signals.unshift(...statusSignals(res, what, 'upstream', ctx.now(), ttfb));
    signals.push(...responseEvidence(res, settings.extractors, 'upstream', ctx.now()));
    if (ttfb >= settings.slowMs) {
      signals.push({
        name: 'timing.duration_s',
        value: String(Math.round(ttfb) / 1000),
        excerpt: redact(`the backend took ${formatMs(Math.round(ttfb))} to the first byte of its answer (${statusText(res)})`),
        source: 'upstream',
      });
    }
    details.status = res.status;
    details.reason = redact(res.reason);
    const shown = shownHeaders(res);
    if (shown.length > 0) details.headers = shown;
    const body = bodyExcerpt(res);
    if (body !== undefined) details.body = body;
    details.bodyBytes = res.body.length;
    details.truncated = res.truncated;

    // The backend's keep-alive idle timeout, measured on the connection just used.
    const keepAliveHeader = header(res, 'keep-alive');
    if (keepAliveHeader) details.keepAliveHeader = redact(keepAliveHeader.slice(0, 100));
    const socket = ex.socket;
    const closing = /\bclose\b/i.test(header(res, 'connection') ?? '') || res.httpVersion === '1.0';
    const idleBound = Math.min(settings.maxIdleWaitMs, deadline.remaining() - 150);
    let summaryIdle = '';
    // A slow or failing answer is the finding: the idle timeout cannot explain it, so do not wait for it.
    const worthWatching = !failure && !res.truncated && ttfb < settings.slowMs && res.status < 500;
    if (worthWatching && socket && !closing && idleBound >= 100) {
      const stop = ctx.settled ? AbortSignal.any([deadline.signal, ctx.settled]) : deadline.signal;
      const idle = await waitForClose(socket, idleBound, stop);
      if (idle.closedAfterMs === undefined && ctx.settled?.aborted && !deadline.signal.aborted) {
        details.idleTimeoutMs = trusted(
          `not measured: the answer did not depend on it (watched ${formatSeconds((idle.waitedMs ?? 0) / 1000)})`,
        );
      } else if (idle.closedAfterMs !== undefined) {
        const ms = Math.round(idle.closedAfterMs);
        details.idleTimeoutMs = ms;
        summaryIdle = `; closes idle keep-alive connections after ${formatSeconds(ms / 1000)}`;
        const hint = keepAliveHeader ? ` (Keep-Alive: ${keepAliveHeader.slice(0, 60)})` : '';
        signals.push({
          name: 'probe.upstream_idle_timeout_ms',
          value: String(ms),
          excerpt: redact(`${authority} closed an idle keep-alive connection after ${formatSeconds(ms / 1000)}${hint}`),
          source: 'upstream',
        });
        const longer = longerIdleTimeouts(ms);
        if (longer.length > 0) {
          signals.push({
            name: 'net.intermittent',
            excerpt: redact(
              `the backend's idle timeout (${formatSeconds(ms / 1000)}) is shorter than ${longer
                .slice(0, 3)
                .map((m) => m.label)
                .join(', ')}: a proxy that reuses an idle connection can send a request just as the backend closes it`,
            ),
            source: 'upstream',
          });
        }
      } else if (idle.waitedMs !== undefined) {
        details.idleTimeoutMs = trusted(`> ${formatSeconds(idle.waitedMs / 1000)}`);
        summaryIdle = `; kept an idle connection open for ${formatSeconds(idle.waitedMs / 1000)}`;
      }
    } else if (closing) {
      details.keepAlive = false;
    }

    const bad = failure !== undefined || res.status >= 500;
    return {
      probe: 'upstream',
      status: bad ? 'failed' : 'ok',
      durationMs: clock(),
      phases,
      summary: redact(
        `${what} → ${statusText(res)} after ${formatMs(Math.round(ttfb))}${failure ? `, then ${failure.net?.replace(/_/g, ' ') ?? 'a failure'}` : ''}${summaryIdle}`,
      ),
      details,
      signals: dedupeSignals(signals),
    };
  } finally {
    agent.destroy();
  }
}

/**
 * Wait for the peer to close an idle socket (FIN or RST), up to `boundMs`.
 * Returns how long it stayed open, or how long we waited when it did not close.
 */
function waitForClose(socket: Socket, boundMs: number, signal: AbortSignal): Promise<{ closedAfterMs?: number; waitedMs?: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve({ closedAfterMs: 0 });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeListener('end', onClose);
      socket.removeListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      const ms = performance.now() - start;
      resolve(closed ? { closedAfterMs: ms } : { waitedMs: ms });
    };
    const onClose = () => finish(true);
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), signal.aborted ? 0 : boundMs);
    socket.once('end', onClose);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
