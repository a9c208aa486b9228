import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { recordProbeTimingsIn } from './probes/run.js';
import { redact } from './security/redact.js';

/**
 * The process's Prometheus metrics. One registry per process, served at GET /metrics (bot and API)
 * and on the worker's metrics port. Label values are program-made (entry points, cause ids, probe
 * and phase names, Web API method names): never user text, so cardinality stays bounded. They are
 * masked all the same ({@link maskLabels}), like every other output.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'triage_process_' });

/** Diagnoses answered, by entry point (slack_command, slack_message, slack_alert, api, alertmanager, cli) and top cause ("none" when no known cause). */
export const diagnoses = new Counter({
  name: 'triage_diagnoses_total',
  help: 'Diagnoses answered, by entry point and top cause',
  labelNames: ['entry', 'top_cause'] as const,
  registers: [registry],
});

/**
 * Probe wall time per probe and per phase, in seconds: `total` for every probe that ran, and the
 * phases it timed (dns, connect, tls, tunnel, ttfb, transfer; see PROBE_PHASES in probes/run.ts).
 */
export const probeDuration = new Histogram({
  name: 'triage_probe_duration_seconds',
  help: 'Probe duration per probe and phase',
  labelNames: ['probe', 'phase'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});
// Every process that serves metrics records probe timings; the CLI, which does not load this module, does not.
recordProbeTimingsIn(probeDuration);

let queueDepthCollector: (() => Promise<void>) | undefined;

/**
 * Probe jobs waiting or running per pool, sampled from Redis when /metrics is scraped (see
 * registerQueueDepth in queue/depth.ts); no series while Redis does not answer.
 */
export const queueDepth = new Gauge({
  name: 'triage_queue_jobs',
  help: 'Probe jobs in the queue per pool and state (waiting, active, delayed, failed)',
  labelNames: ['pool', 'state'] as const,
  registers: [registry],
  async collect() {
    await queueDepthCollector?.();
  },
});

/** What refreshes {@link queueDepth} on each scrape; it must not throw. Set by queue/depth.ts. */
export function setQueueDepthCollector(collector: (() => Promise<void>) | undefined): void {
  queueDepthCollector = collector;
}

/**
 * Probe job outcomes per pool. Workers count completed, failed (for good), retried (a failed
 * attempt that will be tried again) and stalled (a dead worker's job taken back); producers
 * count no_worker, timeout and failed (the failure they were told of).
 */
export const queueJobs = new Counter({
  name: 'triage_queue_job_outcomes_total',
  help: 'Probe job outcomes per pool',
  labelNames: ['pool', 'outcome'] as const,
  registers: [registry],
});

/** Slack Web API calls made, one per call, by method and outcome (ok, error, rate_limited); `refused`: a post dropped before any call (full lane, bad channel). */
export const slackCalls = new Counter({
  name: 'triage_slack_api_calls_total',
  help: 'Slack Web API calls by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  registers: [registry],
});

/** Feedback from the answer's buttons: fixed or wrong. */
export const feedback = new Counter({
  name: 'triage_feedback_total',
  help: 'Feedback on answers (fixed, wrong)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

/** HTTP API requests by route template and status code. */
export const apiRequests = new Counter({
  name: 'triage_api_requests_total',
  help: 'HTTP API requests by route and status',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});

type Labels = Record<string, string | number>;
type Labelled = { inc?: unknown; dec?: unknown; observe?: unknown; set?: unknown; labels?: unknown };

function maskValues(labels: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) out[k] = typeof v === 'string' ? redact(v) : v;
  return out;
}

/**
 * The metric, with every label value passed through redact() before prom-client sees it (`inc`,
 * `dec`, `observe`, `set` with a labels object first, and `labels(...)`).
 */
export function maskLabels<T extends Labelled>(metric: T): T {
  const m = metric as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['inc', 'dec', 'observe', 'set'] as const) {
    const original = m[name];
    if (typeof original !== 'function') continue;
    m[name] = function (this: unknown, ...args: unknown[]) {
      const [first, ...rest] = args;
      return original.call(this, ...(first !== null && typeof first === 'object' ? [maskValues(first as Labels), ...rest] : args));
    };
  }
  const labels = m.labels;
  if (typeof labels === 'function')
    m.labels = function (this: unknown, ...args: unknown[]) {
      const [first] = args;
      if (first !== null && typeof first === 'object') return labels.call(this, maskValues(first as Labels));
      return labels.call(this, ...args.map((a) => (typeof a === 'string' ? redact(a) : a)));
    };
  return metric;
}

for (const metric of [diagnoses, probeDuration, queueDepth, queueJobs, slackCalls, feedback, apiRequests]) maskLabels(metric);

/** The cause label for the diagnoses counter: the top cause id or "none". */
export function topCauseLabel(causes: readonly { id: string }[]): string {
  return causes[0]?.id ?? 'none';
}
