import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { queueJobs } from '../metrics.js';
import type { Probe } from '../probes/probe.js';
import { runProbes } from '../probes/run.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import type { ProbeLimits } from '../probes/probe.js';
import {
  clampLimits,
  decodeTarget,
  jobBudgetMs,
  JobRefused,
  QUEUE_DEFAULTS,
  queueName,
  WORKER_LIMIT_MAXIMA,
  type ProbeJobData,
  type ProbeJobProgress,
  type ProbeJobResult,
} from './jobs.js';
import { createRedis } from './redis.js';
import type { Sealer } from './seal.js';

export interface ProbeWorkerOptions {
  readonly redisUrl: string;
  /** The pool this worker serves. */
  readonly pool: string;
  readonly probes: readonly Probe[];
  readonly policy: SsrfPolicy;
  /** QUEUE_SECRET: jobs not signed and sealed with it are refused. */
  readonly sealer: Sealer;
  /** The most any job may ask for; each of a job's limits is clamped to these. @defaultValue WORKER_LIMIT_MAXIMA */
  readonly maxLimits?: ProbeLimits;
  /** Refused jobs are reported here (program-made text). */
  readonly onRefused?: (reason: string) => void;
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
  const maxima = opts.maxLimits ?? WORKER_LIMIT_MAXIMA;
  const processor = async (job: Job<ProbeJobData, ProbeJobResult>, _token?: string, signal?: AbortSignal): Promise<ProbeJobResult> => {
    let target;
    try {
      target = decodeTarget(job.data, opts.sealer);
    } catch (err) {
      if (!(err instanceof JobRefused)) throw err;
      queueJobs.inc({ pool: opts.pool, outcome: 'refused' });
      opts.onRefused?.(`job ${String(job.id).slice(0, 64)} on pool ${opts.pool}: ${err.message}`);
      throw new UnrecoverableError(err.message);
    }
    const limits = clampLimits(job.data.limits, maxima);
    // The job's deadline, but never more time than its (clamped) limits need.
    const remaining = Math.min(Number(job.data.deadline) - Date.now(), jobBudgetMs(limits));
    if (!(remaining > 0)) throw new UnrecoverableError('the caller gave up on this job before a worker could run it');
    const deadline = AbortSignal.timeout(remaining);
    const only = Array.isArray(job.data.only) ? job.data.only.filter((n): n is string => typeof n === 'string') : undefined;
    const results = await runProbes(opts.probes, target, {
      policy: opts.policy,
      limits,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      ...(job.data.alwaysRepeat === true ? { alwaysRepeat: true } : {}),
      ...(only ? { only } : {}),
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
  worker.on('failed', (job) => {
    if (job?.failedReason?.startsWith('refused:')) return; // counted as refused
    queueJobs.inc({ pool: opts.pool, outcome: job?.finishedOn ? 'failed' : 'retried' });
  });
  worker.on('stalled', () => queueJobs.inc({ pool: opts.pool, outcome: 'stalled' }));
  let closing = false;
  return {
    worker,
    ready: () => !closing && worker.isRunning() && connection.status === 'ready',
    async close(graceMs = QUEUE_DEFAULTS.shutdownGraceMs) {
      closing = true;
      const timers: NodeJS.Timeout[] = [];
      const after = (ms: number) => new Promise<'timeout'>((resolve) => timers.push(setTimeout(() => resolve('timeout'), ms)));
      // Running jobs may finish until a second before the grace period ends; then they are handed
      // back (their locks expire and another worker retries them). With Redis unreachable even a
      // forced close waits on the connection: it is cut, so the whole close fits in `graceMs`.
      const forceMs = Math.min(1_000, graceMs);
      const outcome = await Promise.race([worker.close().then(() => 'done' as const), after(graceMs - forceMs)]);
      if (outcome === 'timeout') {
        await Promise.race([worker.close(true).catch(() => {}), after(forceMs)]);
        connection.disconnect();
      }
      for (const t of timers) clearTimeout(t);
    },
  };
}
