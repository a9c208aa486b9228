import { probeDuration } from '../metrics.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { redact } from '../security/redact.js';
import {
  DEFAULT_PROBE_LIMITS,
  type PhaseTimings,
  type Probe,
  type ProbeContext,
  type ProbeLimits,
  type ProbeResult,
  type ProbeTarget,
} from './probe.js';

/** The `phase` label of triage_probe_duration_seconds for each timed phase; `total` is the whole probe. */
export const PROBE_PHASES: Readonly<Record<keyof PhaseTimings, string>> = {
  resolve: 'dns',
  connect: 'connect',
  tls: 'tls',
  tunnel: 'tunnel',
  processing: 'ttfb',
  transfer: 'transfer',
};

/** Probes that run only when the first round saw a failure that repetition can explain. */
const FOLLOW_UP = new Set(['repeat']);

export interface RunProbesOptions {
  readonly policy: SsrfPolicy;
  readonly limits?: Partial<ProbeLimits>;
  /** Caller's abort. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Run the follow-up probes (repeat) even when the first round looked healthy. @defaultValue false */
  readonly alwaysRepeat?: boolean;
  /** Only these probes (by name). @defaultValue every applicable probe */
  readonly only?: readonly string[];
}

/**
 * Run every applicable probe against a target: a first round in parallel, then the follow-up probes
 * (repeat) when the first round saw a 5xx, a reset or a timeout. Never throws: a probe that throws
 * despite its contract becomes a failed result.
 */
export async function runProbes(probes: readonly Probe[], target: ProbeTarget, opts: RunProbesOptions): Promise<ProbeResult[]> {
  const limits: ProbeLimits = { ...DEFAULT_PROBE_LIMITS, ...opts.limits };
  const deadline = AbortSignal.timeout(limits.timeoutMs + 2_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const ctx: ProbeContext = { target, limits, signal, policy: opts.policy, now: opts.now ?? (() => new Date()) };
  const chosen = probes.filter((p) => (opts.only ? opts.only.includes(p.name) : true) && p.applies(target));
  const first = await Promise.all(chosen.filter((p) => !FOLLOW_UP.has(p.name)).map((p) => runOne(p, ctx)));
  const troubled = first.some((r) =>
    r.signals.some((s) => s.name === 'net.error' || (s.name === 'http.status' && /^5\d\d$/.test(s.value ?? ''))),
  );
  const followUps = chosen.filter((p) => FOLLOW_UP.has(p.name) && (troubled || opts.alwaysRepeat || opts.only?.includes(p.name)));
  const second = await Promise.all(followUps.map((p) => runOne(p, ctx)));
  return [...first, ...second];
}

async function runOne(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const result = await runGuarded(probe, ctx);
  observe(probe.name, result);
  return result;
}

/** Record a probe's phases and total in the duration histogram; a skipped probe did not run. */
function observe(name: string, result: ProbeResult): void {
  if (result.status === 'skipped') return;
  for (const [phase, ms] of Object.entries(result.phases) as [keyof PhaseTimings, number | undefined][]) {
    const label = PROBE_PHASES[phase];
    if (label && typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) probeDuration.observe({ probe: name, phase: label }, ms / 1000);
  }
  probeDuration.observe({ probe: name, phase: 'total' }, Math.max(0, result.durationMs) / 1000);
}

async function runGuarded(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const started = performance.now();
  try {
    return await probe.run(ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      probe: probe.name,
      status: 'failed',
      durationMs: Math.round(performance.now() - started),
      phases: {},
      summary: redact(`the ${probe.name} probe failed unexpectedly: ${message.slice(0, 300)}`),
      details: {},
      signals: [],
    };
  }
}
