import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/evidence/signal.js';
import { deriveSignals, proxyReadTimeout } from '../../src/probes/derive.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { trusted } from '../../src/security/redact.js';

function result(probe: string, keys: string[], details: ProbeResult['details'] = {}): ProbeResult {
  const signals: Signal[] = keys.map((k) => {
    const [name, value] = k.split('=') as [string, string | undefined];
    return value === undefined ? { name, excerpt: trusted(k), source: probe } : { name, value, excerpt: trusted(k), source: probe };
  });
  return { probe, status: 'failed', durationMs: 1, phases: {}, summary: trusted(probe), details, signals };
}
const keys = (signals: readonly Signal[]) => signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));

describe('deriveSignals', () => {
  it('a proxy error while the backend answers fine: proxy.generated_status', () => {
    expect(keys(deriveSignals([result('http', ['http.status=403']), result('upstream', ['http.status=200'], { firstByteMs: 3 })]))).toEqual(
      ['proxy.generated_status=403'],
    );
  });

  it('the backend, asked directly, answers after the 504 came: a measured read timeout', () => {
    const d = deriveSignals([
      result('http', ['http.status=504', 'timing.duration_s=1.002', 'http.server=nginx']),
      result('upstream', ['http.status=200', 'timing.duration_s=3.004'], { firstByteMs: 3004 }),
    ]);
    expect(keys(d)).toEqual(['proxy.upstream_error=read_timeout', 'proxy.upstream_phase=reading_response_header']);
    expect(d[0]!.excerpt).toBe(
      "the backend, asked directly, answered only after 3 s; the proxy waits 1 s (its 504 came after 1 s, when it stopped waiting): the backend is slower than the proxy's read timeout",
    );
  });

  it('a backend that had not answered when the probe gave up counts as at least that slow', () => {
    const d = deriveSignals([
      result('http', ['http.status=504', 'timing.duration_s=1']),
      result('upstream', ['net.error=read_timeout', 'proxy.upstream_error=read_timeout', 'timing.duration_s=10']),
    ]);
    expect(d[0]!.excerpt).toMatch(/had not answered after 10 s; the proxy waits 1 s/);
  });

  it('the default read timeout of the product when no 504 measured it', () => {
    expect(proxyReadTimeout([result('http', ['http.status=502', 'http.server=haproxy'])])).toEqual({
      seconds: 30,
      how: 'a common HAProxy `timeout server`, the default',
    });
    expect(proxyReadTimeout([result('http', ['http.status=502'])])).toBeUndefined();
  });

  it('nothing when the backend is faster than the proxy waits, or the proxy answered fine', () => {
    const fastBackend = result('upstream', ['http.status=200'], { firstByteMs: 400 });
    expect(keys(deriveSignals([result('http', ['http.status=504', 'timing.duration_s=1']), fastBackend]))).toEqual([
      'proxy.generated_status=504',
    ]);
    const slowBackend = result('upstream', ['http.status=200'], { firstByteMs: 3000 });
    expect(deriveSignals([result('http', ['http.status=200', 'http.server=nginx']), slowBackend])).toEqual([]);
  });
});
