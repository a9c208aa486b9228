/**
 * When a run of probes has its answer: whether the follow-up round (repeat) is worth its seconds,
 * and when the open-ended observations still going (the upstream probe's wait for an idle
 * keep-alive close) can no longer change the ranking. Pure functions over the results so far, so
 * the runner stops at the speed of the failure: identical refusals, an NXDOMAIN, a certificate
 * that fails, a 401 with its challenge, a 504 are answered as soon as they are seen.
 */

import type { ProbeResult } from './probe.js';

const valueOf = (r: ProbeResult | undefined, name: string) => r?.signals.find((s) => s.name === name)?.value;
const has = (r: ProbeResult | undefined, name: string) => r?.signals.some((s) => s.name === name) ?? false;

/** The probe whose request is the user's own: http (routed through the proxy when there is one). */
function mainRequest(results: readonly ProbeResult[]): ProbeResult | undefined {
  return results.find((r) => r.probe === 'http');
}

/** How far one probe got on the path: whether its TCP connect and its TLS handshake completed; undefined where it did not look. */
interface Reach {
  readonly connect?: 'ok' | 'failed';
  readonly tls?: 'ok' | 'failed';
}

/**
 * Certificate verdicts: the handshake completed and the certificate was judged. The tls probe
 * reports them with a finished handshake, the http probe as a failed one (Node verifies): the same.
 */
const CERT_VERDICTS = new Set([
  'cert_expired',
  'cert_not_yet_valid',
  'self_signed',
  'unknown_issuer',
  'missing_intermediate',
  'hostname_mismatch',
  'revoked',
]);

function reach(r: ProbeResult): Reach {
  if (r.status === 'refused' || r.status === 'skipped' || r.details.aborted === true) return {};
  const phase = valueOf(r, 'net.phase');
  const net = valueOf(r, 'net.error');
  const tlsError = valueOf(r, 'tls.error');
  if (phase === 'dns' || net?.startsWith('dns_')) return {};
  if (phase === 'connect' && !r.details.resetAfterAccept) return { connect: 'failed' };
  if (r.probe === 'tcp') return { connect: 'ok' };
  const failedHandshake = phase === 'tls' || has(r, 'net.tls_handshake_timeout');
  const handshake: Reach['tls'] = failedHandshake ? (tlsError && CERT_VERDICTS.has(tlsError) ? 'ok' : 'failed') : 'ok';
  if (r.probe === 'tls') return { connect: 'ok', tls: handshake };
  if (r.probe === 'http' || r.probe === 'auth' || r.probe === 'cors') {
    // Through a proxy the connect and the handshake are the proxy's and the tunnel's: not comparable with tcp and tls.
    if (r.route !== undefined && !r.route.startsWith('direct')) return {};
    return failedHandshake || typeof r.phases.tls === 'number' ? { connect: 'ok', tls: handshake } : { connect: 'ok' };
  }
  return {};
}

/**
 * Why the first round is worth repeating, or undefined when it is not. It is when its observations
 * of the same path disagree — a connect or TLS handshake that worked for one probe and failed for
 * another moments later — because only more requests tell an intermittent path from a broken one.
 * One failure seen the same way by every probe (refused, NXDOMAIN, a bad certificate, a 401, a 502
 * with its page, a 504) is not: repeating it costs seconds and cannot change the ranking.
 *
 * @example repeatReason([tcp ok, http refused at connect]) // 'the tcp probe connected, the http probe did not'
 */
export function repeatReason(results: readonly ProbeResult[]): string | undefined {
  const seen = results.filter((r) => r.probe !== 'upstream' && r.probe !== 'dns').map((r) => ({ probe: r.probe, reach: reach(r) }));
  for (const phase of ['connect', 'tls'] as const) {
    const ok = seen.find((s) => s.reach[phase] === 'ok');
    const failed = seen.find((s) => s.reach[phase] === 'failed');
    if (ok && failed) {
      const what = phase === 'connect' ? 'connected' : 'completed the TLS handshake';
      return `the ${ok.probe} probe ${what}, the ${failed.probe} probe did not`;
    }
  }
  const tunnels = [...new Set(results.map((r) => valueOf(r, 'connect.status')).filter((v) => v !== undefined))];
  if (tunnels.length > 1) return `the proxy answered CONNECT with ${tunnels.join(' and ')}`;
  if (results.some((r) => has(r, 'net.keepalive_race'))) return 'a reused connection failed';
  return undefined;
}

/** Failures of the main request that a keep-alive race between a proxy and its backend produces. */
const RACE_SYMPTOMS = new Set(['connection_reset', 'empty_reply', 'socket_hang_up', 'unexpected_eof']);

/**
 * Whether the answer no longer depends on the open-ended observations still running: the upstream
 * probe's wait for the backend to close an idle keep-alive connection only matters while the main
 * request looks like an idle-timeout mismatch can explain it — a 502, a reset or empty reply, or a
 * success (the failure is intermittent). A 401, 403, 404, 503, 504, a redirect loop, a TLS, DNS or
 * CONNECT failure is explained without it.
 */
export function answerSettled(done: readonly ProbeResult[], pending: readonly string[]): boolean {
  if (pending.some((p) => p !== 'upstream')) return false;
  const main = mainRequest(done);
  if (!main) return false;
  if (main.status === 'refused') return true;
  const status = Number(valueOf(main, 'http.status') ?? NaN);
  const net = valueOf(main, 'net.error');
  if (has(main, 'http.redirect_loop')) return true;
  if (Number.isInteger(status)) return !(status === 502 || (status >= 200 && status < 400));
  if (net !== undefined) return !RACE_SYMPTOMS.has(net);
  return has(main, 'tls.error') || has(main, 'connect.status') || has(main, 'connect.reset_after');
}
