/**
 * The connect probe: the path through a forward proxy (`target.proxy`), phase by phase.
 *
 * 1. TCP to the proxy (the address `policy.checkProxy` pinned); TLS to it for an https:// proxy.
 * 2. For https:// targets, `CONNECT host:port HTTP/1.1` with `Host: host:port` (and
 *    `Proxy-Authorization: Basic …` from the proxy URL's user info, never printed), timed to the
 *    status line: connect.status, proxy.auth_required on 407, squid.error from X-Squid-Error,
 *    http.server from Server, connect.unsupported / connect.port_denied from the answer, and
 *    connect.reset_after when the proxy hangs up instead of answering.
 * 3. Through an established tunnel, the TLS handshake with the origin and the same certificate
 *    verdict as the tls probe (tls.error values).
 *
 * http:// targets through a proxy need no tunnel: the http probe asks the proxy in absolute form
 * (src/probes/support/route.ts), so this probe applies to https:// targets only.
 *
 * The CONNECT target goes through `policy.checkConnectTarget`. The restrictive policy sends the
 * pinned address (`CONNECT 93.184.216.34:443`) so the proxy cannot be steered elsewhere by DNS;
 * the allow-all policy (CLI) sends the name, since the proxy's name-based rules are part of what
 * is diagnosed, and lets a name that only the proxy can resolve through.
 */

import type { Socket } from 'node:net';
import type { Signal } from '../evidence/signal.js';
import type { Probe, ProbeContext, ProbeResult, PhaseTimings } from './probe.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import { planHop, proxyAuthorization } from './support/route.js';
import {
  formatMs,
  guardedRun,
  probeSignal,
  refusalResult,
  stopwatch,
  stoppedResult,
  timedConnect,
  type Deadline,
} from './support/socket.js';
import {
  BODY_EXCERPT_CHARS,
  connectAnswerSignals,
  connectAnswerText,
  connectRequestLine,
  sendConnect,
  shownHeadHeaders,
} from './support/tunnel.js';
import { createTlsTrust, tlsDetails, tlsHandshake, tlsSignals, tlsSummary, type TlsTrustOptions } from './tls.js';

export { MAX_HEAD_BYTES } from './support/tunnel.js';

const NAME = 'connect';

/** Options of {@link createConnectProbe}: the trust store for the origin's certificate. */
export interface ConnectProbeOptions extends TlsTrustOptions {
  /** Longest wait for a post-handshake alert from the origin (TLS 1.3 client certificates). @defaultValue 500 */
  readonly alertWaitMs?: number;
}

const bare = (h: string) => h.replace(/^\[|\]$/g, '');

/** A connect probe with its own trust store for the origin certificate. */
export function createConnectProbe(options: ConnectProbeOptions = {}): Probe {
  const trust = createTlsTrust(options);
  const maxAlertWait = options.alertWaitMs ?? 500;

  async function runConnect(ctx: ProbeContext, deadline: Deadline): Promise<ProbeResult> {
    const clock = stopwatch();
    const url = ctx.target.url;
    const plan = await planHop(ctx, url, deadline.signal, 'CONNECT');
    if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
    if (!plan.ok) return refusalResult(NAME, plan.refusal, clock());
    const via = plan.hop.via!;
    const host = bare(url.hostname);
    const port = url.port === '' ? 443 : Number(url.port);
    const notes = plan.hop.note ? [plan.hop.note] : [];

    const phases: PhaseTimings = {};
    const signals: Signal[] = [];
    const details: Record<string, Masked | number | boolean | readonly Masked[]> = {
      proxy: redact(via.label),
      proxyAddress: trusted(via.proxy.address.address),
      target: redact(`${host.includes(':') ? `[${host}]` : host}:${port}`),
    };
    const result = (status: ProbeResult['status'], summary: string): ProbeResult => ({
      probe: NAME,
      status,
      durationMs: clock(),
      phases,
      summary: redact(notes.length > 0 ? `${summary} (${notes.join('; ')})` : summary),
      details,
      signals,
      route: plan.hop.route,
    });

    // 1. TCP (and TLS) to the proxy.
    const connected = await timedConnect({ host: via.proxy.host, port: via.proxy.port, lookup: via.proxy.lookup, signal: deadline.signal });
    phases.connect = connected.ms;
    details.connectMs = connected.ms;
    if (!connected.ok) {
      let kind = connected.failure.kind;
      if (kind === 'aborted') {
        if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
        kind = 'connect_timeout';
      }
      const excerpt = redact(
        `connect to ${via.where} failed after ${formatMs(connected.ms)}: ${kind}${connected.failure.code ? ` (${connected.failure.code})` : ''}`,
      );
      signals.push(probeSignal(NAME, 'net.error', kind, excerpt), probeSignal(NAME, 'net.phase', 'connect', excerpt));
      return result('failed', excerpt);
    }
    let socket: Socket = connected.socket;
    const onAbort = () => socket.destroy();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (via.tls) {
        const hs = await tlsHandshake({ socket, host: via.proxy.host, trust, signal: deadline.signal, now: ctx.now(), keepOpen: true });
        details.proxyTlsMs = hs.ms;
        if (!hs.ok || !hs.socket) {
          if (!hs.ok && hs.error === 'aborted')
            return stalled(deadline, clock, 'the TLS handshake with the proxy', via.where, signals, result, 'tls');
          signals.push(...tlsSignals(NAME, hs, via.where));
          Object.assign(details, tlsDetails(hs, 'proxyTls.'));
          return result('failed', tlsSummary(hs, via.where));
        }
        Object.assign(details, tlsDetails(hs, 'proxyTls.'));
        socket = hs.socket;
      }

      // 2. CONNECT.
      const auth = proxyAuthorization(ctx);
      details.authSent = auth !== undefined;
      const shownLine = redact(connectRequestLine(via.authority));
      details.request = shownLine;
      const sentWith = auth ? ` (with Proxy-Authorization from the ${auth.from === 'url' ? 'proxy URL' : '--header'})` : '';
      signals.push(probeSignal(NAME, 'connect.sent', undefined, redact(`${shownLine} sent to ${via.where}${sentWith}`)));
      if (port !== 443)
        signals.push(probeSignal(NAME, 'connect.nonstandard_port', undefined, redact(`CONNECT target port ${port} is not 443`)));
      const answer = await sendConnect(socket, {
        authority: via.authority,
        ...(via.authorization ? { authorization: via.authorization } : {}),
        signal: deadline.signal,
        timedOut: deadline.expired,
        maxBodyBytes: ctx.limits.maxBodyBytes,
        bodyIdleMs: Math.min(1000, deadline.remaining()),
      });
      if (answer.kind === 'aborted') return stoppedResult(NAME, deadline, clock());
      phases.tunnel = answer.waitMs;
      const c = { where: via.where, authority: via.authority, source: NAME };
      signals.push(...connectAnswerSignals(answer, c));
      if ('head' in answer) {
        details.status = answer.head.status;
        details.statusLine = redact(`${answer.head.version} ${answer.head.status} ${answer.head.reason}`.trim());
        details.headers = shownHeadHeaders(answer.head);
      }
      if ('body' in answer && answer.body) details.body = redact(answer.body.slice(0, BODY_EXCERPT_CHARS));
      if (answer.kind === 'hangup') details.closedBy = trusted(answer.how);
      if (answer.kind === 'garbled') details.received = trusted(answer.printable);
      if (answer.kind !== 'tunnel') return result('failed', connectAnswerText(answer, c));

      // 3. TLS with the origin through the tunnel.
      details.tunnel = true;
      const originWhere = `origin ${details.target as string} through the tunnel`;
      const hs = await tlsHandshake({
        socket,
        host,
        trust,
        signal: deadline.signal,
        now: ctx.now(),
        alertWaitMs: Math.min(maxAlertWait, Math.max(50, 2 * (phases.tunnel ?? 0)), deadline.remaining()),
      });
      if (!hs.ok && hs.error === 'aborted')
        return stalled(deadline, clock, 'the TLS handshake with the origin', originWhere, signals, result, 'tls', hs.ms, phases);
      phases.tls = hs.ms;
      signals.push(...tlsSignals(NAME, hs, originWhere));
      Object.assign(details, tlsDetails(hs, 'tls.'));
      const bad = !hs.ok || (hs.cert?.problems.length ?? 0) > 0;
      return result(bad ? 'failed' : 'ok', `${connectAnswerText(answer, c)}; ${tlsSummary(hs, originWhere)}`);
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      connected.socket.destroy();
    }
  }

  return {
    name: NAME,
    describes:
      'Through the forward proxy to an https:// URL: TCP, the CONNECT request and its answer (status, auth, Squid errors), then TLS with the origin in the tunnel',
    applies: (target) => target.proxy !== undefined && target.url.protocol === 'https:',
    run: (ctx) => guardedRun(NAME, ctx, (deadline) => runConnect(ctx, deadline)),
  };
}

/** The connect probe trusting Node's bundled roots for the origin certificate. */
export const connectProbe: Probe = createConnectProbe();

/** The result when the deadline passed in a phase (or the caller aborted). */
function stalled(
  deadline: Deadline,
  clock: () => number,
  what: string,
  where: string,
  signals: Signal[],
  result: (status: ProbeResult['status'], summary: string) => ProbeResult,
  phase: 'tls',
  ms?: number,
  phases?: PhaseTimings,
): ProbeResult {
  if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
  if (phases && ms !== undefined) phases.tls = ms;
  const excerpt = redact(`${what} (${where}) did not complete before the deadline`);
  signals.push(probeSignal(NAME, 'net.tls_handshake_timeout', undefined, excerpt), probeSignal(NAME, 'net.phase', phase, excerpt));
  return result('failed', excerpt);
}
