/**
 * The tcp probe: one TCP connect to the URL's host and port, to the address the SSRF policy
 * pinned, timed. Refused, no answer, reset and unreachable are told apart (net.error) and placed
 * in the connect phase (net.phase=connect). With a forward proxy the connect probe covers the
 * path instead, so this probe does not apply.
 */

import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import { redact, trusted } from '../security/redact.js';
import {
  formatMs,
  guardedRun,
  probeSignal,
  refusalResult,
  stopwatch,
  stoppedResult,
  timedConnect,
  type Deadline,
  type SocketFailure,
} from './support/socket.js';

const NAME = 'tcp';

/** This probe never goes through a proxy (it does not apply with one). */
const DIRECT = trusted('direct');

const FAILURE_WORDS: Readonly<Record<string, string>> = {
  connection_refused: 'refused',
  connect_timeout: 'got no answer',
  connection_reset: 'was reset',
  host_unreachable: 'failed: host unreachable',
  network_unreachable: 'failed: network unreachable',
  permission_denied: 'was not permitted',
};

export const tcpProbe: Probe = {
  name: NAME,
  describes: "TCP connect to the URL's host and port: connect time; refused, no answer, reset, unreachable",
  applies: (target) => target.proxy === undefined,
  run: async (ctx) => ({ ...(await guardedRun(NAME, ctx, (deadline) => runTcp(ctx, deadline))), route: DIRECT }),
};

async function runTcp(ctx: ProbeContext, deadline: Deadline): Promise<ProbeResult> {
  const clock = stopwatch();
  const checked = await ctx.policy.check(ctx.target.url, { signal: deadline.signal });
  const resolveMs = clock();
  if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
  if (!checked.ok) return refusalResult(NAME, checked, resolveMs);

  const { host, port, address } = checked;
  const where = host === address.address ? `${checked.authority}` : `${checked.authority} (${address.address})`;
  const connected = await timedConnect({ host, port, lookup: checked.lookup, signal: deadline.signal });
  const phases = host === address.address ? {} : { resolve: resolveMs };
  const details = { host: redact(host), port, address: trusted(address.address), family: address.family };

  if (!connected.ok) {
    let failure: SocketFailure = connected.failure;
    if (failure.kind === 'aborted') {
      if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
      failure = { kind: 'connect_timeout', code: 'ETIMEDOUT', message: trusted('no answer before the deadline') };
    }
    const verb = FAILURE_WORDS[failure.kind] ?? `failed (${failure.kind})`;
    const excerpt = redact(`connect to ${where} ${verb} after ${formatMs(connected.ms)}${failure.code ? ` (${failure.code})` : ''}`);
    return {
      probe: NAME,
      status: 'failed',
      durationMs: clock(),
      phases: { ...phases, connect: connected.ms },
      summary: excerpt,
      details: {
        ...details,
        connectMs: connected.ms,
        error: trusted(failure.kind),
        ...(failure.code ? { code: trusted(failure.code) } : {}),
      },
      signals: [probeSignal(NAME, 'net.error', failure.kind, excerpt), probeSignal(NAME, 'net.phase', 'connect', excerpt)],
    };
  }

  const socket = connected.socket;
  const dropped = await dropAlreadySeen(socket);
  socket.destroy();
  const base = { ...details, connectMs: connected.ms, remoteAddress: trusted(connected.remoteAddress) };
  if (dropped === 'reset') {
    const excerpt = trusted(`connect to ${where} succeeded in ${formatMs(connected.ms)}, then the peer reset the connection at once`);
    return {
      probe: NAME,
      status: 'failed',
      durationMs: clock(),
      phases: { ...phases, connect: connected.ms },
      summary: redact(excerpt),
      details: { ...base, resetAfterAccept: true },
      signals: [
        probeSignal(NAME, 'net.error', 'connection_reset', redact(excerpt)),
        probeSignal(NAME, 'net.phase', 'connect', redact(excerpt)),
      ],
    };
  }
  const closed = dropped === 'closed' ? ', then the peer closed it at once' : '';
  return {
    probe: NAME,
    status: 'ok',
    durationMs: clock(),
    phases: { ...phases, connect: connected.ms },
    summary: redact(`connected to ${where} in ${formatMs(connected.ms)}${closed}`),
    details: { ...base, ...(dropped === 'closed' ? { closedAfterAccept: true } : {}) },
    signals: [],
  };
}

/**
 * Whether the peer had already reset or closed the fresh connection by the time it was reported
 * connected: the reset or FIN is read in the event loop's next poll, so look after one, never on a
 * timer. A listener that drops later is the http and tls probes' evidence (they send their bytes
 * and see the reset); waiting here would only add an idle wait to every run.
 */
function dropAlreadySeen(socket: import('node:net').Socket): Promise<'reset' | 'closed' | 'open'> {
  return new Promise((resolve) => {
    let seen: 'reset' | 'closed' | 'open' = 'open';
    const onError = () => (seen = 'reset');
    const onEnd = () => (seen = seen === 'open' ? 'closed' : seen);
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.resume();
    // check phase → next loop iteration (timers, poll: the kernel's pending RST/FIN) → check phase.
    setImmediate(() =>
      setImmediate(() => {
        socket.removeListener('error', onError);
        socket.removeListener('end', onEnd);
        socket.on('error', () => {});
        resolve(seen);
      }),
    );
  });
}
