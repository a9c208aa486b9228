import type { Signal } from '../evidence/signal.js';
import { redact } from '../security/redact.js';
import type { ProbeResult } from './probe.js';
import { formatSeconds, TYPICAL_TIMEOUTS } from './timing.js';

/**
 * Signals that no single probe can see, derived from several probes' results together:
 *
 * - the proxy answers an error itself while the backend, asked directly, answers fine
 *   (`proxy.generated_status`);
 * - the backend, asked directly, takes longer to answer than the proxy waits for it
 *   (`proxy.upstream_error=read_timeout`, `proxy.upstream_phase=reading_response_header`): what the
 *   proxy's own error log would say, here measured. Direct evidence of a slow upstream, which
 *   outranks guesses from the 504 alone.
 */
/** Everything a probe run says: each probe's signals, then those derived from them together. */
export function runSignals(results: readonly ProbeResult[]): Signal[] {
  return [...results.flatMap((p) => p.signals), ...deriveSignals(results)];
}

export function deriveSignals(results: readonly ProbeResult[]): Signal[] {
  const out: Signal[] = [];
  const status = (probe: string) => results.find((r) => r.probe === probe)?.signals.find((s) => s.name === 'http.status')?.value;
  const viaProxy = status('http');
  const direct = status('upstream');
  const slower = slowerThanProxy(results);
  // A backend that answers fine but after the proxy gave up did not leave the proxy to err by itself.
  if (viaProxy && direct && /^[45]\d\d$/.test(viaProxy) && /^[23]\d\d$/.test(direct) && slower.length === 0) {
    out.push({
      name: 'proxy.generated_status',
      value: viaProxy,
      excerpt: redact(
        `the proxy answers ${viaProxy} while the backend, asked directly, answers ${direct}: the proxy produced the error itself`,
      ),
      source: 'derive',
    });
  }
  out.push(...slower);
  return out;
}

/** The proxy's read timeout in seconds: the one its 504 measured, else its product's usual one. */
export function proxyReadTimeout(results: readonly ProbeResult[]): { seconds: number; how: string } | undefined {
  const http = results.find((r) => r.probe === 'http');
  const value = (name: string) => http?.signals.find((s) => s.name === name)?.value;
  const gateway = value('http.status') === '504';
  const measured = gateway ? Number(value('timing.duration_s')) : NaN;
  if (Number.isFinite(measured) && measured > 0)
    return { seconds: measured, how: `its 504 came after ${formatSeconds(measured)}, when it stopped waiting` };
  const server = value('http.server');
  const mark = server ? TYPICAL_TIMEOUTS.find((m) => m.servers?.includes(server)) : undefined;
  return mark ? { seconds: mark.seconds, how: `${mark.label}, the default` } : undefined;
}

/** How long the backend, asked directly, took to answer (or had not answered after), in seconds. */
function directAnswerSeconds(results: readonly ProbeResult[]): { seconds: number; answered: boolean } | undefined {
  const up = results.find((r) => r.probe === 'upstream');
  if (!up || up.status === 'refused' || up.status === 'skipped') return undefined;
  const firstByte = up.details.firstByteMs;
  if (typeof firstByte === 'number' && up.signals.some((s) => s.name === 'http.status'))
    return { seconds: firstByte / 1000, answered: true };
  const waited = up.signals.find((s) => s.name === 'timing.duration_s' && up.signals.some((x) => x.value === 'read_timeout'));
  const seconds = Number(waited?.value);
  return Number.isFinite(seconds) && seconds > 0 ? { seconds, answered: false } : undefined;
}

function slowerThanProxy(results: readonly ProbeResult[]): Signal[] {
  const main = results.find((r) => r.probe === 'http')?.signals.find((s) => s.name === 'http.status')?.value;
  if (main !== undefined && /^[23]\d\d$/.test(main)) return [];
  const timeout = proxyReadTimeout(results);
  const direct = directAnswerSeconds(results);
  if (!timeout || !direct || direct.seconds < timeout.seconds) return [];
  const took = direct.answered
    ? `answered only after ${formatSeconds(direct.seconds)}`
    : `had not answered after ${formatSeconds(direct.seconds)}`;
  const excerpt = redact(
    `the backend, asked directly, ${took}; the proxy waits ${formatSeconds(timeout.seconds)} (${timeout.how}): the backend is slower than the proxy's read timeout`,
  );
  return [
    { name: 'proxy.upstream_error', value: 'read_timeout', excerpt, source: 'derive' },
    { name: 'proxy.upstream_phase', value: 'reading_response_header', excerpt, source: 'derive' },
  ];
}
