/**
 * `diagnose` against the lab: real nginx, HAProxy, Squid, tinyproxy and TLS servers, each broken in
 * one documented way. Every scenario asserts the top-ranked cause.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { diagnose, type DiagnoseResult } from '../../src/triage/diagnose.js';
import { createEngine } from '../../src/triage/engine.js';
import { parseTarget } from '../../src/triage/target.js';
import { scenarios } from './scenarios.js';
import { startLab, type Lab, type ScenarioName } from './servers.js';

const engine = createEngine();
const policy = createSsrfPolicy({ allowAll: true });
const limits = { timeoutMs: 3_000, repeatCount: 4, repeatSpreadMs: 1_000 };
const labs: Lab[] = [];

afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
});

/** Intermittent failures are diagnosed with --repeat, as an SRE would for "503s under load". */
const REPEATED = new Set<ScenarioName>(['nginx-limit-req']);

async function run(name: ScenarioName, opts: { withUpstream?: boolean } = {}): Promise<{ lab: Lab; d: DiagnoseResult }> {
  const lab = await startLab(name);
  labs.push(lab);
  const parsed = parseTarget({
    url: lab.url,
    ...(lab.proxyUrl ? { proxy: lab.proxyUrl } : {}),
    ...(opts.withUpstream !== false && lab.upstream ? { upstream: `${lab.upstream.host}:${lab.upstream.port}` } : {}),
    headers: lab.headers,
  });
  if (!parsed.target) throw new Error(parsed.problems.join('; '));
  const runner = new InlineRunner(createProbes({ extraCaPems: lab.ca ? [lab.ca] : [] }), policy);
  const d = await diagnose(
    engine,
    runner,
    parsed.target,
    REPEATED.has(name) ? { limits: { ...limits, repeatCount: 8 }, alwaysRepeat: true } : { limits },
  );
  await lab.stop();
  return { lab, d };
}

function why(d: DiagnoseResult): string {
  const causes = d.causes
    .slice(0, 4)
    .map((c) => `${c.id}:${c.score}`)
    .join(' ');
  const probes = d.probes.map((p) => `${p.probe}[${p.status}] ${p.summary}`).join('\n  ');
  return `causes: ${causes || '(none)'}\nsignals: ${d.signals.map((s) => s.signal).join(', ')}\nprobes:\n  ${probes}`;
}

const withCause = (Object.entries(scenarios) as [ScenarioName, { cause: string | null }][]).filter(([, s]) => s.cause !== null);

describe('diagnose ranks the documented cause first, against real broken servers', () => {
  for (const [name, scenario] of withCause) {
    it(`${name} → ${scenario.cause}`, async () => {
      const { d } = await run(name);
      expect(d.causes[0]?.id, why(d)).toBe(scenario.cause);
    });
  }

  it('nginx-upstream-refused without --upstream still → upstream-refused', async () => {
    const { d } = await run('nginx-upstream-refused', { withUpstream: false });
    expect(d.causes[0]?.id, why(d)).toBe('upstream-refused');
  });

  it('the working contrasts show no failure cause with high confidence', async () => {
    for (const name of ['tls-valid', 'tinyproxy-connect-ok'] as ScenarioName[]) {
      const { d } = await run(name);
      expect(
        d.causes.filter((c) => c.confidence === 'high').map((c) => c.id),
        why(d),
      ).toEqual([]);
    }
  });
});
