import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { TriageError } from '../errors.js';
import { queueJobs } from '../metrics.js';
import { DEFAULT_PROBE_LIMITS, type ProbeLimits, type ProbeTarget } from '../probes/probe.js';
import { countJobs, type QueueCounts } from './depth.js';
import {
  encodeTarget,
  jobBudgetMs,
  jobOptions,
  POOL_NAME,
  QUEUE_DEFAULTS,
  queueName,
  readProgress,
  type ProbeJobData,
  type ProbeJobResult,
} from './jobs.js';
import { createRedis } from './redis.js';
import type { ProbeRunner, RunOutcome, RunRequest } from './runner.js';
import type { Sealer } from './seal.js';

export interface QueueRunnerOptions {
  readonly redisUrl: string;
  /** Seals every job's target and signs the job (QUEUE_SECRET): workers run no other jobs. */
  readonly sealer: Sealer;
  readonly prefix?: string;
  /** Extra time to wait beyond the probes' own budget for a worker to pick the job up. @defaultValue 15000 */
  readonly pickupMs?: number;
  /**
   * How often the job is looked up while waiting: a job that is gone (Redis restarted or flushed)
   * fails at once ("the queue lost this job") instead of after the whole wait; a result whose
   * event was missed (the events connection was down) is read from the job. @defaultValue 1000
   */
  readonly watchMs?: number;
}

/** A job that Redis no longer holds: "failed: the queue lost this job". */
export const QUEUE_LOST = 'the queue lost this job';

/** Sends probe jobs to worker pools through BullMQ and waits for their results. */
export class QueueRunner implements ProbeRunner {
  private readonly queues = new Map<string, Queue>();
  private readonly events = new Map<string, QueueEvents>();
  /** The QueueEvents' own blocking connections: BullMQ leaves a connection it was given open, so close() does. */
  private readonly blocking: Redis[] = [];
  private readonly producer: Redis;
  private readonly prefix: string;

  constructor(private readonly opts: QueueRunnerOptions) {
    this.prefix = opts.prefix ?? QUEUE_DEFAULTS.prefix;
    this.producer = createRedis(opts.redisUrl, 'producer');
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(queueName(name), { connection: this.producer, prefix: this.prefix });
      queue.on('error', () => {});
      queue.setMaxListeners(0);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private pool(name: string): { queue: Queue; events: QueueEvents } {
    let events = this.events.get(name);
    if (!events) {
      const connection = createRedis(this.opts.redisUrl, 'blocking');
      this.blocking.push(connection);
      events = new QueueEvents(queueName(name), { connection, prefix: this.prefix });
      events.on('error', () => {});
      events.setMaxListeners(0);
      this.events.set(name, events);
    }
    return { queue: this.queue(name), events };
  }

  /**
   * Job counts of the default pool, the pools this runner has sent jobs to and `pools`, for
   * `registerQueueDepth(() => runner.jobCounts())`. Rejects when Redis does not answer.
   */
  async jobCounts(pools: readonly string[] = []): Promise<QueueCounts> {
    for (const p of [QUEUE_DEFAULTS.pool, ...pools]) if (POOL_NAME.test(p)) this.queue(p);
    return countJobs(this.queues);
  }

  async run(target: ProbeTarget, request: RunRequest = {}): Promise<RunOutcome> {
    const poolName = request.pool ?? QUEUE_DEFAULTS.pool;
    const { queue, events } = this.pool(poolName);
    await events.waitUntilReady();
    if (!(await this.hasWorkers(queue))) {
      queueJobs.inc({ pool: poolName, outcome: 'no_worker' });
      throw new TriageError(
        'INTERNAL',
        `no worker is listening on pool "${poolName}": start one with WORKER_POOLS=${poolName} npm run worker`,
      );
    }
    const limits: ProbeLimits = { ...DEFAULT_PROBE_LIMITS, ...request.limits };
    const budget = jobBudgetMs(limits);
    const data: ProbeJobData = encodeTarget(target, this.opts.sealer, {
      limits,
      deadline: Date.now() + budget,
      ...(request.alwaysRepeat ? { alwaysRepeat: true } : {}),
      ...(request.only ? { only: request.only } : {}),
    });
    const jobId = randomUUID();
    // Listen before the job exists: a worker may report its first probes at once.
    const onProgress = request.onProgress;
    const listener = ({ jobId: id, data: progress }: { jobId: string; data: unknown }) => {
      const p = id === jobId ? readProgress(progress) : undefined;
      if (p && onProgress) onProgress(p.results, p.pending);
    };
    if (onProgress) events.on('progress', listener);
    const job = await queue.add('probe', data, jobOptions(jobId));
    const ttl = budget + (this.opts.pickupMs ?? 15_000);
    const watch = new AbortController();
    let result: ProbeJobResult;
    try {
      result = await Promise.race([
        job.waitUntilFinished(events, ttl) as Promise<ProbeJobResult>,
        this.watchJob(queue, job.id!, watch.signal),
      ]);
    } catch (err) {
      const msg = (err as Error).message;
      if (msg === QUEUE_LOST) {
        queueJobs.inc({ pool: poolName, outcome: 'lost' });
        throw new TriageError('INTERNAL', `${QUEUE_LOST} (pool "${poolName}"): Redis restarted or was flushed; start the diagnosis again`);
      }
      const timedOut = /timed out/i.test(msg);
      queueJobs.inc({ pool: poolName, outcome: timedOut ? 'timeout' : 'failed' });
      if (timedOut)
        throw new TriageError(
          'INTERNAL',
          `no result from pool "${poolName}" within ${Math.round(ttl / 1000)} s: are its workers overloaded?`,
        );
      throw new TriageError('INTERNAL', `the probe job failed on pool "${poolName}": ${msg.slice(0, 200)}`);
    } finally {
      if (onProgress) events.off('progress', listener);
      watch.abort();
    }
    return { pool: poolName, worker: result.worker, via: 'queue', results: result.results };
  }

  /**
   * Look the job up every `watchMs` until `signal`: reject with {@link QUEUE_LOST} when Redis no
   * longer has it (twice in a row, so a job between two states is not taken for lost), resolve
   * with its result when it completed (an event missed while the events connection was down), and
   * reject with its reason when it failed for good. A Redis that does not answer is asked again.
   */
  private async watchJob(queue: Queue, id: string, signal: AbortSignal): Promise<ProbeJobResult> {
    const every = this.opts.watchMs ?? 1_000;
    let missing = 0;
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, every).unref());
      if (signal.aborted) break;
      let state: string;
      try {
        state = await queue.getJobState(id);
      } catch {
        continue;
      }
      if (state === 'unknown') {
        if (++missing >= 2) throw new Error(QUEUE_LOST);
        continue;
      }
      missing = 0;
      if (state === 'completed' || state === 'failed') {
        const job = await Job.fromId<ProbeJobData, ProbeJobResult>(queue, id).catch(() => undefined);
        if (state === 'completed' && job?.returnvalue) return job.returnvalue;
        if (state === 'failed' && job?.finishedOn) throw new Error(job.failedReason || 'the job failed');
      }
    }
    return new Promise<never>(() => {});
  }

  /**
   * Whether a worker listens on the pool (Redis CLIENT LIST). A worker that has just started may
   * take a moment to appear, so look a few times; where CLIENT LIST is not allowed, assume yes.
   */
  private async hasWorkers(queue: Queue): Promise<boolean> {
    for (let i = 0; i < 5; i++) {
      try {
        if ((await queue.getWorkersCount()) > 0) return true;
      } catch {
        return true;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** Close every queue, event stream and Redis connection this runner opened: nothing is left to keep a process alive. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values(), ...this.events.values()].map((q) => q.close()));
    for (const connection of this.blocking.splice(0)) connection.disconnect();
    this.producer.disconnect();
  }
}
