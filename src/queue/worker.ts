import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { queueJobs } from '../metrics.js';
import type { Probe } from '../probes/probe.js';
import { runProbes } from '../probes/run.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { decodeTarget, QUEUE_DEFAULTS, queueName, type ProbeJobData, type ProbeJobProgress, type ProbeJobResult } from './jobs.js';
import { createRedis } from './redis.js';
import type { Sealer } from './seal.js';

export interface ProbeWorkerOptions {
  readonly redisUrl: string;
  /** The pool this worker serves. */
  readonly pool: string;
  readonly probes: readonly Probe[];
  readonly policy: SsrfPolicy;
  readonly sealer?: Sealer;
  /** @defaultValue QUEUE_DEFAULTS.concurrency */
  readonly concurrency?: number;
  readonly prefix?: string;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  /** Shown in results and in Redis CLIENT LIST. @defaultValue host:pid */
  readonly name?: string;
}

export interface ProbeWorker {
  readonly worker: Worker<ProbeJobData, ProbeJobResult>;
  /** Whether it is taking jobs: running, not closing, and its Redis connection ready (for /healthz). */
  ready(): boolean;
  /**
   * Stop taking jobs, wait up to `graceMs` for running ones to finish, then hand the rest back
   * (they are retried by another worker once their lock expires).
   */
  close(graceMs?: number): Promise<void>;
}

/** A BullMQ worker that runs probe jobs for one pool. */
export function createProbeWorker(opts: ProbeWorkerOptions): ProbeWorker {
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const processor = async (job: Job<ProbeJobData, ProbeJobResult>, _token?: string, signal?: AbortSignal): Promise<ProbeJobResult> => {
    const remaining = job.data.deadline - Date.now();
    if (remaining <= 0) throw new UnrecoverableError('the caller gave up on this job before a worker could run it');
    const target = decodeTarget(job.data, opts.sealer);
    const deadline = AbortSignal.timeout(remaining);
    const results = await runProbes(opts.probes, target, {
      policy: opts.policy,
      limits: job.data.limits,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      ...(job.data.alwaysRepeat ? { alwaysRepeat: true } : {}),
      ...(job.data.only ? { only: job.data.only } : {}),
      // Each finished probe goes back at once, so the caller can answer before the slow ones end.
      onProgress: (done, pending) => {
        const progress: ProbeJobProgress = { results: done, pending };
        job.updateProgress(progress as unknown as object).catch(() => {});
      },
    });
    return { pool: opts.pool, worker: name, results };
  };
  const connection = createRedis(opts.redisUrl, 'blocking');
  const worker = new Worker<ProbeJobData, ProbeJobResult>(queueName(opts.pool), processor, {
    connection,
    prefix: opts.prefix ?? QUEUE_DEFAULTS.prefix,
    concurrency: opts.concurrency ?? QUEUE_DEFAULTS.concurrency,
    lockDuration: opts.lockDurationMs ?? QUEUE_DEFAULTS.lockDurationMs,
    stalledInterval: opts.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledIntervalMs,
    name,
  });
  worker.on('error', () => {});
  worker.on('completed', () => queueJobs.inc({ pool: opts.pool, outcome: 'completed' }));
  // A failed attempt that BullMQ will try again has no finishedOn yet.
  worker.on('failed', (job) => queueJobs.inc({ pool: opts.pool, outcome: job?.finishedOn ? 'failed' : 'retried' }));
  worker.on('stalled', () => queueJobs.inc({ pool: opts.pool, outcome: 'stalled' }));
  let closing = false;
  return {
    worker,
    ready: () => !closing && worker.isRunning() && connection.status === 'ready',
    async close(graceMs = QUEUE_DEFAULTS.shutdownGraceMs) {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close().then(() => 'done' as const);
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const outcome = await Promise.race([graceful, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') await worker.close(true);
    },
  };
}
