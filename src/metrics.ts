/**
 * What the code records about itself, by name; the Prometheus metrics behind these names (their
 * help, buckets and registry) are in metrics-registry.ts. That module, and prom-client with it, is
 * loaded only by the processes that serve /metrics (the bot and API, and a worker with
 * METRICS_PORT): it installs itself here when it loads. Until then, and in the CLI, every call
 * below does nothing. Label values are program-made (entry points, cause ids, probe and phase
 * names, Web API method names): never user text, so cardinality stays bounded.
 */

/** Label values of one sample. */
export type Labels<L extends string> = Partial<Record<L, string | number>>;

export interface CounterSink<L extends string> {
  inc(labels: Labels<L>, value?: number): void;
}
export interface HistogramSink<L extends string> {
  observe(labels: Labels<L>, value: number): void;
}
export interface GaugeSink<L extends string> {
  set(labels: Labels<L>, value: number): void;
  reset(): void;
}

/** The metrics a process records; see metrics-registry.ts for what each one means. */
export interface MetricsSink {
  readonly diagnoses: CounterSink<'entry' | 'top_cause'>;
  readonly probeDuration: HistogramSink<'probe' | 'phase'>;
  readonly queueDepth: GaugeSink<'pool' | 'state'>;
  readonly queueJobs: CounterSink<'pool' | 'outcome'>;
  readonly slackCalls: CounterSink<'method' | 'outcome'>;
  readonly feedback: CounterSink<'kind'>;
  readonly apiRequests: CounterSink<'route' | 'status'>;
}

let sink: MetricsSink | undefined;

/** Make the names below record into `metrics` (called once, by metrics-registry.ts). */
export function installMetrics(metrics: MetricsSink): void {
  sink = metrics;
}

/** Diagnoses answered, by entry point (slack_command, slack_message, slack_alert, api, alertmanager, cli) and top cause ("none" when no known cause). */
export const diagnoses: CounterSink<'entry' | 'top_cause'> = { inc: (labels, value) => sink?.diagnoses.inc(labels, value) };

/**
 * Probe wall time per probe and per phase, in seconds: `total` for every probe that ran, and the
 * phases it timed (dns, connect, tls, tunnel, ttfb, transfer; see PROBE_PHASES in probes/run.ts).
 */
export const probeDuration: HistogramSink<'probe' | 'phase'> = { observe: (labels, value) => sink?.probeDuration.observe(labels, value) };

/**
 * Probe jobs waiting or running per pool, sampled from Redis when /metrics is scraped (see
 * registerQueueDepth in queue/depth.ts); no series while Redis does not answer.
 */
export const queueDepth: GaugeSink<'pool' | 'state'> = {
  set: (labels, value) => sink?.queueDepth.set(labels, value),
  reset: () => sink?.queueDepth.reset(),
};

/**
 * Probe job outcomes per pool. Workers count completed, failed (for good), retried (a failed
 * attempt that will be tried again) and stalled (a dead worker's job taken back); producers
 * count no_worker, timeout and failed (the failure they were told of).
 */
export const queueJobs: CounterSink<'pool' | 'outcome'> = { inc: (labels, value) => sink?.queueJobs.inc(labels, value) };

/** Slack Web API calls made, one per call, by method and outcome (ok, error, rate_limited); `refused`: a post dropped before any call (full lane, bad channel). */
export const slackCalls: CounterSink<'method' | 'outcome'> = { inc: (labels, value) => sink?.slackCalls.inc(labels, value) };

/** Feedback from the answer's buttons: fixed or wrong. */
export const feedback: CounterSink<'kind'> = { inc: (labels, value) => sink?.feedback.inc(labels, value) };

/** HTTP API requests by route template and status code. */
export const apiRequests: CounterSink<'route' | 'status'> = { inc: (labels, value) => sink?.apiRequests.inc(labels, value) };

let queueDepthCollector: (() => Promise<void>) | undefined;

/** What refreshes {@link queueDepth} on each scrape; it must not throw. Set by queue/depth.ts. */
export function setQueueDepthCollector(collector: (() => Promise<void>) | undefined): void {
  queueDepthCollector = collector;
}

/** Refresh {@link queueDepth} (the registry calls this on each scrape). */
export async function collectQueueDepth(): Promise<void> {
  await queueDepthCollector?.();
}

/** The cause label for the diagnoses counter: the top cause id or "none". */
export function topCauseLabel(causes: readonly { id: string }[]): string {
  return causes[0]?.id ?? 'none';
}
