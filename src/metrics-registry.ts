import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { collectQueueDepth, installMetrics } from './metrics.js';
import { recordProbeTimingsIn } from './probes/run.js';
import { redact } from './security/redact.js';

/**
 * The process's Prometheus metrics: one registry, served at GET /metrics (bot and API) and on the
 * worker's metrics port. Only the modules that serve it import this one, so prom-client loads only
 * in those processes; loading it makes the names of metrics.ts record here. Label values are
 * program-made, and masked all the same ({@link maskLabels}), like every other output.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'triage_process_' });

export const diagnoses = new Counter({
  name: 'triage_diagnoses_total',
  help: 'Diagnoses answered, by entry point and top cause',
  labelNames: ['entry', 'top_cause'] as const,
  registers: [registry],
});

export const probeDuration = new Histogram({
  name: 'triage_probe_duration_seconds',
  help: 'Probe duration per probe and phase',
  labelNames: ['probe', 'phase'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'triage_queue_jobs',
  help: 'Probe jobs in the queue per pool and state (waiting, active, delayed, failed)',
  labelNames: ['pool', 'state'] as const,
  registers: [registry],
  async collect() {
    await collectQueueDepth();
  },
});

export const queueJobs = new Counter({
  name: 'triage_queue_job_outcomes_total',
  help: 'Probe job outcomes per pool',
  labelNames: ['pool', 'outcome'] as const,
  registers: [registry],
});

export const slackCalls = new Counter({
  name: 'triage_slack_api_calls_total',
  help: 'Slack Web API calls by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  registers: [registry],
});

export const feedback = new Counter({
  name: 'triage_feedback_total',
  help: 'Feedback on answers (fixed, wrong)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

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
installMetrics({ diagnoses, probeDuration, queueDepth, queueJobs, slackCalls, feedback, apiRequests });
// Every process that serves metrics records probe timings; the CLI, which does not load this module, does not.
recordProbeTimingsIn(probeDuration);
