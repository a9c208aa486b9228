import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { TriageError } from '../errors.js';
import { queueJobs } from '../metrics.js';
import { DEFAULT_PROBE_LIMITS, type ProbeLimits, type ProbeTarget } from '../probes/probe.js';
import { countJobs, type QueueCounts } from './depth.js';
import {
  encodeTarget,
  hasSecrets,
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
  /** Seals headers and proxy credentials; without it, targets with secrets are refused (QUEUE_SECRET). */
  readonly sealer?: Sealer;
  readonly prefix?: string;
  /** Extra time to wait beyond the probes' own budget for a worker to pick the job up. @defaultValue 15000 */
  readonly pickupMs?: number;
}

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

  /** Whether a target can go through the queue as configured. */
  canCarry(target: ProbeTarget): boolean {
    return !hasSecrets(target) || this.opts.sealer !== undefined;
  }

  async run(target: ProbeTarget, request: RunRequest = {}): Promise<RunOutcome> {
    const poolName = request.pool ?? QUEUE_DEFAULTS.pool;
    if (!this.canCarry(target)) {
      throw new TriageError(
        'CONFIG_INVALID',
        'this diagnosis carries headers or proxy credentials, which go through the queue only sealed: set QUEUE_SECRET on the bot and its workers',
      );
    }
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
    const budget = limits.timeoutMs * 2 + limits.repeatSpreadMs + 5_000;
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
    let result: ProbeJobResult;
    try {
      result = (await job.waitUntilFinished(events, ttl)) as ProbeJobResult;
    } catch (err) {
      const msg = (err as Error).message;
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
    }
    return { pool: poolName, worker: result.worker, via: 'queue', results: result.results };
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
