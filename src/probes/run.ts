import type { SsrfPolicy } from '../security/ssrf.js';
import { redact } from '../security/redact.js';
import { answerSettled, repeatReason } from './plan.js';
import { createSharedRequests } from './support/shared.js';
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

/** Where probe timings are recorded: `observe({ probe, phase }, seconds)`, as a prom-client histogram takes them. */
export interface ProbeTimingSink {
  observe(labels: { probe: string; phase: string }, seconds: number): void;
}

let timingSink: ProbeTimingSink | undefined;

/**
 * Record every probe's timings in `sink` from now on. src/metrics.ts registers its
 * triage_probe_duration_seconds histogram here when it loads (the bot, the API and the workers
 * load it); the CLI never does, and so never loads the metrics library. @defaultValue none
 */
export function recordProbeTimingsIn(sink: ProbeTimingSink | undefined): void {
  timingSink = sink;
}

/** Probes that run only when the first round asks for them (src/probes/plan.ts) or the caller does. */
const FOLLOW_UP = new Set(['repeat']);

/** Probes whose last phase is an open-ended observation (the upstream's idle keep-alive watch): the follow-ups do not wait for them. */
const OPEN_ENDED = new Set(['upstream']);

/** What the run has so far: every finished result, and the probes still running. */
export type ProbeProgress = (done: readonly ProbeResult[], pending: readonly string[]) => void;

export interface RunProbesOptions {
  readonly policy: SsrfPolicy;
  readonly limits?: Partial<ProbeLimits>;
  /** Caller's abort. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Run the follow-up probes (repeat) even when the first round agrees with itself. @defaultValue false */
  readonly alwaysRepeat?: boolean;
  /** Only these probes (by name). @defaultValue every applicable probe */
  readonly only?: readonly string[];
  /**
   * Called each time a probe finishes, with every result so far (in registry order) and the names
   * of the probes still running. Not called for the last one: `runProbes` resolves with it.
   * @defaultValue none
   */
  readonly onProgress?: ProbeProgress;
}

/**
 * Run every applicable probe against a target: a first round in parallel, then the follow-up
 * probes (repeat) only when the first round's observations disagree ({@link repeatReason}) or the
 * caller asks (`alwaysRepeat`). Open-ended observations stop as soon as the answer no longer
 * depends on them ({@link answerSettled}). Requests the probes share are sent once. Never throws:
 * a probe that throws despite its contract becomes a failed result.
 */
export async function runProbes(probes: readonly Probe[], target: ProbeTarget, opts: RunProbesOptions): Promise<ProbeResult[]> {
  const limits: ProbeLimits = { ...DEFAULT_PROBE_LIMITS, ...opts.limits };
  const deadline = AbortSignal.timeout(limits.timeoutMs + 2_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const settled = new AbortController();
  const ctx: ProbeContext = {
    target,
    limits,
    signal,
    policy: opts.policy,
    now: opts.now ?? (() => new Date()),
    settled: settled.signal,
    shared: createSharedRequests(),
  };
  const chosen = probes.filter((p) => (opts.only ? opts.only.includes(p.name) : true) && p.applies(target));
  const started: Probe[] = [];
  const done = new Map<string, ProbeResult>();
  const inOrder = () => chosen.flatMap((p) => done.get(p.name) ?? []);
  const pending = () => started.filter((p) => !done.has(p.name)).map((p) => p.name);
  const running: Promise<void>[] = [];
  let followUpsDecided = false;

  const start = (round: readonly Probe[]) => {
    started.push(...round);
    for (const p of round)
      running.push(
        runOne(p, ctx).then((result) => {
          done.set(p.name, result);
          // The follow-ups need the first round's answers, not the open-ended observations still going.
          if (!followUpsDecided && pending().every((n) => OPEN_ENDED.has(n))) startFollowUps();
          const left = pending();
          if (!settled.signal.aborted && answerSettled(inOrder(), left)) settled.abort();
          if (left.length > 0) opts.onProgress?.(inOrder(), left);
        }),
      );
  };
  const startFollowUps = () => {
    followUpsDecided = true;
    const wanted = opts.alwaysRepeat === true || repeatReason(inOrder()) !== undefined;
    const followUps = chosen.filter((p) => FOLLOW_UP.has(p.name) && (wanted || opts.only?.includes(p.name)));
    if (followUps.length > 0) start(followUps);
  };

  const firstRound = chosen.filter((p) => !FOLLOW_UP.has(p.name));
  start(firstRound);
  if (firstRound.every((p) => OPEN_ENDED.has(p.name))) startFollowUps();
  // Wait for every probe, those a finished one started included.
  for (let i = 0; i < running.length; i++) await running[i];
  settled.abort();
  return inOrder();
}

async function runOne(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const result = await runGuarded(probe, ctx);
  observe(probe.name, result);
  return result;
}

/** Record a probe's phases and total in the duration histogram; a skipped probe did not run. */
function observe(name: string, result: ProbeResult): void {
  const probeDuration = timingSink;
  if (result.status === 'skipped' || !probeDuration) return;
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
