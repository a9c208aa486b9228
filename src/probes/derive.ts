import type { Signal } from '../evidence/signal.js';
import { redact } from '../security/redact.js';
import type { ProbeResult } from './probe.js';

/**
 * Signals that no single probe can see, derived from several probes' results: today, a proxy that
 * answers an error itself while the backend, asked directly, answers fine.
 */
export function deriveSignals(results: readonly ProbeResult[]): Signal[] {
  const out: Signal[] = [];
  const status = (probe: string) => results.find((r) => r.probe === probe)?.signals.find((s) => s.name === 'http.status')?.value;
  const viaProxy = status('http');
  const direct = status('upstream');
  if (viaProxy && direct && /^[45]\d\d$/.test(viaProxy) && /^[23]\d\d$/.test(direct)) {
    out.push({
      name: 'proxy.generated_status',
      value: viaProxy,
      excerpt: redact(
        `the proxy answers ${viaProxy} while the backend, asked directly, answers ${direct}: the proxy produced the error itself`,
      ),
      source: 'derive',
    });
  }
  return out;
}
