/**
 * Low-level helpers shared by the probes: a deadline per run, a guard that keeps `run` from
 * throwing, a timed TCP connect to a pinned address, bounded reads, and errno classification.
 *
 * Nothing here throws for an expected failure: a refused connect, a timeout, a reset are returned
 * as values ({@link SocketFailure}) for the probe to turn into signals.
 *
 * @example
 * const run = guardedRun('tcp', ctx, async (d) => {
 *   const c = await timedConnect({ host: '127.0.0.1', port: 8080, lookup: pinned.lookup, signal: d.signal });
 *   if (!c.ok) return failed(c.failure);
 *   c.socket.destroy();
 *   return ok(c.ms);
 * });
 */

import { connect as netConnect, type LookupFunction, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Signal } from '../../evidence/signal.js';
import type { ProbeContext, ProbeResult } from '../probe.js';
import { redact, trusted, type Masked } from '../../security/redact.js';
import type { SsrfRefusal } from '../../security/ssrf.js';

// ---------------------------------------------------------------------------------------------
// Timing

/** Milliseconds since `start` (a `performance.now()` value), rounded to 0.1 ms. */
export function msSince(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** A stopwatch started now; each call returns the ms elapsed since, rounded to 0.1 ms. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => msSince(start);
}

/** `12.3 ms` / `1.24 s`, for excerpts and summaries. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

// ---------------------------------------------------------------------------------------------
// Deadline

/**
 * The caller's signal combined with the probe's own budget (`ctx.limits.timeoutMs`).
 * `signal` aborts on whichever comes first; {@link Deadline.expired} tells a timeout from an abort.
 */
export interface Deadline {
  /** Aborts when the caller aborts or the budget runs out. Pass it to every wait. */
  readonly signal: AbortSignal;
  /** Whether the probe's own budget ran out (as opposed to the caller aborting). */
  expired(): boolean;
  /** Whether the caller aborted (`ctx.signal`). */
  aborted(): boolean;
  /** Milliseconds left in the budget (0 when spent). */
  remaining(): number;
  /** Clear the timer; call when the run ends. */
  dispose(): void;
}

/** A deadline of `timeoutMs` from now, also aborted by `parent`. */
export function createDeadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const end = performance.now() + timeoutMs;
  let expired = false;
  const timer = setTimeout(
    () => {
      expired = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    },
    Math.min(Math.max(0, timeoutMs), 2_147_483_647),
  );
  timer.unref?.();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => expired && !parent.aborted,
    aborted: () => parent.aborted,
    remaining: () => Math.max(0, Math.round(end - performance.now())),
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Run a probe body with a {@link Deadline}, and turn anything it throws into a `failed` result,
 * so `run` never throws. A body that is still running when the caller aborts is abandoned: the
 * result is returned at once (the body must destroy its sockets on `deadline.signal`).
 */
export async function guardedRun(
  probe: string,
  ctx: ProbeContext,
  body: (deadline: Deadline) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  const clock = stopwatch();
  const deadline = createDeadline(ctx.signal, ctx.limits.timeoutMs);
  const abandoned = new Promise<ProbeResult>((resolve) => {
    const settle = () => {
      // Give the body a moment to report its own timeout with the phase it was in.
      const grace = setTimeout(() => resolve(stoppedResult(probe, deadline, clock())), deadline.aborted() ? 0 : 250);
      grace.unref?.();
    };
    if (deadline.signal.aborted) settle();
    else deadline.signal.addEventListener('abort', settle, { once: true });
  });
  try {
    const outcome = body(deadline).catch((err: unknown): ProbeResult =>
      deadline.signal.aborted ? stoppedResult(probe, deadline, clock()) : crashedResult(probe, err, clock()),
    );
    return await Promise.race([outcome, abandoned]);
  } catch (err) {
    return crashedResult(probe, err, clock());
  } finally {
    deadline.dispose();
  }
}

/** The result of a run stopped by an abort (no signals: an abort is not evidence) or by the budget. */
export function stoppedResult(probe: string, deadline: Deadline, durationMs: number): ProbeResult {
  const timedOut = !deadline.aborted();
  return {
    probe,
    status: 'failed',
    durationMs,
    phases: {},
    summary: trusted(
      timedOut ? `${probe}: no answer within the ${formatMs(durationMs)} budget` : `${probe}: aborted after ${formatMs(durationMs)}`,
    ),
    details: { aborted: !timedOut, timedOut },
    signals: timedOut
      ? [{ name: 'net.error', value: 'timeout', excerpt: trusted(`${probe} probe gave up after ${formatMs(durationMs)}`), source: probe }]
      : [],
  };
}

function crashedResult(probe: string, err: unknown, durationMs: number): ProbeResult {
  const message = err instanceof Error ? err.message : String(err);
  return {
    probe,
    status: 'failed',
    durationMs,
    phases: {},
    summary: redact(`${probe}: internal error: ${message.slice(0, 300)}`),
    details: { internalError: true },
    signals: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Results

/** A signal from `probe`. `excerpt` says what was measured; mask anything from the network first. */
export function probeSignal(probe: string, name: string, value: string | undefined, excerpt: Masked): Signal {
  return value === undefined ? { name, excerpt, source: probe } : { name, value, excerpt, source: probe };
}

/** A `skipped` result: the probe has nothing to do for this target. */
export function skippedResult(probe: string, why: string): ProbeResult {
  return { probe, status: 'skipped', durationMs: 0, phases: {}, summary: redact(`${probe}: skipped: ${why}`), details: {}, signals: [] };
}

/**
 * The result for a policy refusal: `refused`, summary = reason + hint, no signals. A name that
 * does not resolve (`DNS_FAILED`) is evidence rather than a refusal: `failed` with
 * `net.error=dns_not_found` (or `dns_temporary` for EAI_AGAIN / SERVFAIL / timeouts) and `net.phase=dns`.
 */
export function refusalResult(probe: string, refusal: SsrfRefusal, durationMs: number): ProbeResult {
  if (refusal.code !== 'DNS_FAILED') {
    return {
      probe,
      status: 'refused',
      durationMs,
      phases: {},
      summary: redact(`${refusal.reason}; ${refusal.hint}`),
      details: { refusal: trusted(refusal.code) },
      signals: [],
    };
  }
  const temporary = /EAI_AGAIN|ESERVFAIL|ETIMEOUT|ETIMEDOUT|ECONNREFUSED|aborted/.test(refusal.reason);
  const excerpt = redact(`${refusal.reason} (after ${formatMs(durationMs)})`);
  return {
    probe,
    status: 'failed',
    durationMs,
    phases: { resolve: durationMs },
    summary: redact(`${refusal.reason}; ${refusal.hint}`),
    details: { refusal: trusted(refusal.code) },
    signals: [
      probeSignal(probe, 'net.error', temporary ? 'dns_temporary' : 'dns_not_found', excerpt),
      probeSignal(probe, 'net.phase', 'dns', excerpt),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A `net.error` catalogue value. */
export type NetError =
  | 'connection_refused'
  | 'connection_reset'
  | 'connect_timeout'
  | 'read_timeout'
  | 'timeout'
  | 'host_unreachable'
  | 'network_unreachable'
  | 'dns_not_found'
  | 'dns_temporary'
  | 'socket_hang_up'
  | 'empty_reply'
  | 'unexpected_eof'
  | 'broken_pipe'
  | 'permission_denied'
  | 'no_such_file'
  | 'proto_error'
  | 'too_many_open_files';

/** A failed socket operation, as a value. */
export interface SocketFailure {
  /** The `net.error` value, or `aborted` when the caller aborted (not evidence). */
  readonly kind: NetError | 'aborted';
  /** The errno / Node code when there was one. @example 'ECONNREFUSED' */
  readonly code?: string;
  /** The error message, masked. */
  readonly message: Masked;
}

const ERRNO_TO_NET: Readonly<Record<string, NetError>> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  ECONNABORTED: 'connection_reset',
  ETIMEDOUT: 'connect_timeout',
  EHOSTUNREACH: 'host_unreachable',
  EHOSTDOWN: 'host_unreachable',
  ENETUNREACH: 'network_unreachable',
  ENETDOWN: 'network_unreachable',
  ENOTFOUND: 'dns_not_found',
  ENODATA: 'dns_not_found',
  EAI_AGAIN: 'dns_temporary',
  ESERVFAIL: 'dns_temporary',
  ETIMEOUT: 'dns_temporary',
  EPIPE: 'broken_pipe',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  ENOENT: 'no_such_file',
  EPROTO: 'proto_error',
  EMFILE: 'too_many_open_files',
  ENFILE: 'too_many_open_files',
};

/** The errno / Node code of an error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Classify a socket error into a `net.error` value (`connection_reset` for an unknown code). */
export function classifySocketError(err: unknown): SocketFailure {
  const code = errorCode(err);
  const message = redact(err instanceof Error ? err.message : String(err));
  if (code === 'ABORT_ERR' || (err instanceof Error && err.name === 'AbortError'))
    return { kind: 'aborted', code: code ?? 'ABORT_ERR', message };
  const kind = (code && ERRNO_TO_NET[code]) || (/socket hang up/i.test(message) ? 'socket_hang_up' : 'connection_reset');
  return code ? { kind, code, message } : { kind, message };
}

// ---------------------------------------------------------------------------------------------
// Connect

/** What {@link timedConnect} connects to. */
export interface ConnectOptions {
  /** Host name or IP. With a name, pass the policy's pinned `lookup`. */
  readonly host: string;
  readonly port: number;
  /** The SSRF policy's pinned lookup (`SsrfTarget.lookup`). @defaultValue undefined (host must be an IP) */
  readonly lookup?: LookupFunction;
  /** Aborts the connect and destroys the socket (pass `deadline.signal`). */
  readonly signal: AbortSignal;
  /** Connect timeout in ms; on expiry the outcome is `connect_timeout`. @defaultValue none (the signal bounds it) */
  readonly timeoutMs?: number;
}

/** A connected socket (the caller owns it and must destroy it) and the connect time. */
export interface Connected {
  readonly ok: true;
  readonly socket: Socket;
  /** SYN to established, in ms. */
  readonly ms: number;
  /** The peer address actually connected to. */
  readonly remoteAddress: string;
}

/** A connect that failed, with its classification and the time until it failed. */
export interface ConnectFailed {
  readonly ok: false;
  readonly failure: SocketFailure;
  readonly ms: number;
}

/**
 * Open a TCP connection and time it. Refused, reset, unreachable and timeouts are returned
 * (`connect_timeout` when `timeoutMs` or the signal's own deadline expires mid-connect; `aborted`
 * when the signal aborts for another reason — callers tell them apart with their {@link Deadline}).
 */
export function timedConnect(opts: ConnectOptions): Promise<Connected | ConnectFailed> {
  const clock = stopwatch();
  return new Promise((resolve) => {
    if (opts.signal.aborted) {
      resolve({ ok: false, failure: { kind: 'aborted', message: trusted('aborted before connecting') }, ms: 0 });
      return;
    }
    let settled = false;
    const socket = netConnect({ host: opts.host, port: opts.port, ...(opts.lookup ? { lookup: opts.lookup } : {}) });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              fail({
                kind: 'connect_timeout',
                code: 'ETIMEDOUT',
                message: trusted(`no answer to the connect within ${formatMs(opts.timeoutMs ?? 0)}`),
              }),
            opts.timeoutMs,
          );
    const cleanup = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
    };
    const fail = (failure: SocketFailure) => {
      if (settled) return;
      cleanup();
      socket.on('error', () => {});
      socket.destroy();
      resolve({ ok: false, failure, ms: clock() });
    };
    const onAbort = () =>
      fail({ kind: 'aborted', code: 'ABORT_ERR', message: trusted(`stopped while connecting, after ${formatMs(clock())}`) });
    const onError = (err: Error) => fail(classifySocketError(err));
    const onConnect = () => {
      if (settled) return;
      cleanup();
      resolve({ ok: true, socket, ms: clock(), remoteAddress: socket.remoteAddress ?? opts.host });
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

// ---------------------------------------------------------------------------------------------
// Bounded reads

/** How {@link readBounded} stopped. */
export type ReadEnd =
  /** `until` found what it wanted. */
  | 'complete'
  /** The peer closed cleanly (FIN). */
  | 'eof'
  /** `maxBytes` were read. */
  | 'limit'
  /** The socket failed (see `failure`). */
  | 'error'
  /** The signal aborted (caller or deadline). */
  | 'aborted'
  /** `idleMs` passed without data. */
  | 'idle';

/** Options of {@link readBounded}. */
export interface ReadOptions {
  /** Most bytes kept; reading stops there. @example ctx.limits.maxBodyBytes */
  readonly maxBytes: number;
  readonly signal: AbortSignal;
  /**
   * Called with everything read so far; return the length of the wanted prefix to stop (the rest
   * is pushed back into the socket), or -1 to go on. @defaultValue read until EOF or the limit
   */
  readonly until?: (data: Buffer) => number;
  /** Stop when no data arrives for this long, in ms. @defaultValue none */
  readonly idleMs?: number;
}

/** What {@link readBounded} read. */
export interface ReadOutcome {
  /** At most `maxBytes` bytes (the prefix `until` chose, when it chose one). */
  readonly data: Buffer;
  readonly end: ReadEnd;
  /** When `end` is `error`. */
  readonly failure?: SocketFailure;
  /** ms from the call to the first byte, when one came. */
  readonly firstByteMs?: number;
  /** ms from the call to the end of the read. */
  readonly ms: number;
}

/**
 * Read from a socket, keeping at most `maxBytes`. Never throws and never leaves listeners behind;
 * the socket is left paused and open (destroy it yourself) except after `error`/`eof`.
 */
export function readBounded(socket: Socket, opts: ReadOptions): Promise<ReadOutcome> {
  const clock = stopwatch();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let firstByteMs: number | undefined;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (opts.idleMs === undefined) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => finish('idle'), opts.idleMs);
    };
    const finish = (end: ReadEnd, failure?: SocketFailure, keep?: number) => {
      if (settled) return;
      settled = true;
      if (idle) clearTimeout(idle);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      opts.signal.removeEventListener('abort', onAbort);
      socket.on('error', () => {});
      let data = Buffer.concat(chunks, size);
      if (keep !== undefined && keep < data.length) {
        const rest = data.subarray(keep);
        data = data.subarray(0, keep);
        socket.pause();
        if (!socket.destroyed) socket.unshift(rest);
      } else if (!socket.destroyed) socket.pause();
      if (data.length > opts.maxBytes) data = data.subarray(0, opts.maxBytes);
      resolve({ data, end, ...(failure ? { failure } : {}), ...(firstByteMs !== undefined ? { firstByteMs } : {}), ms: clock() });
    };
    const onData = (chunk: Buffer) => {
      firstByteMs ??= clock();
      chunks.push(chunk);
      size += chunk.length;
      if (opts.until) {
        const want = opts.until(Buffer.concat(chunks, size));
        if (want >= 0) return finish('complete', undefined, want);
      }
      if (size >= opts.maxBytes) return finish('limit', undefined, opts.maxBytes);
      armIdle();
    };
    const onEnd = () => finish('eof');
    const onClose = (hadError: boolean) =>
      finish(
        hadError ? 'error' : 'eof',
        hadError ? { kind: 'connection_reset', message: trusted('connection closed with an error') } : undefined,
      );
    const onError = (err: Error) => finish('error', classifySocketError(err));
    const onAbort = () => finish('aborted');
    if (opts.signal.aborted) return finish('aborted');
    if (socket.destroyed) return finish('eof');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.once('error', onError);
    armIdle();
    socket.resume();
  });
}

/** An HTTP/1.x response head: status line and headers (names lower-cased, in order). */
export interface HttpHead {
  /** @example 'HTTP/1.1' */
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly (readonly [string, string])[];
  /** Bytes of the head including the blank line. */
  readonly length: number;
}

/** Where the head ends in `data` (index after `\r\n\r\n` or `\n\n`), or -1. */
export function headEnd(data: Buffer): number {
  const crlf = data.indexOf('\r\n\r\n');
  if (crlf >= 0) return crlf + 4;
  const lf = data.indexOf('\n\n');
  return lf >= 0 ? lf + 2 : -1;
}

/** Parse a response head (`data` from the status line on). Undefined when it is not HTTP. */
export function parseHttpHead(data: Buffer): HttpHead | undefined {
  const end = headEnd(data);
  const text = data.subarray(0, end < 0 ? data.length : end).toString('latin1');
  const [statusLine = '', ...lines] = text.split(/\r?\n/);
  const m = /^(HTTP\/\d(?:\.\d)?)\s+(\d{3})(?:\s+(.*))?$/.exec(statusLine.trim());
  if (!m) return undefined;
  const headers: [string, string][] = [];
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return { version: m[1]!, status: Number(m[2]), reason: m[3] ?? '', headers, length: end < 0 ? data.length : end };
}

/** The first value of header `name` (lower case) in `head`, if any. */
export function headerValue(head: HttpHead, name: string): string | undefined {
  return head.headers.find(([n]) => n === name)?.[1];
}
