import type { Queue } from 'bullmq';
import { queueDepth, setQueueDepthCollector } from '../metrics.js';

/** The job states the queue depth gauge reports. */
export const DEPTH_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type DepthState = (typeof DEPTH_STATES)[number];

/** Job counts by pool and state. @example { default: { waiting: 3, active: 1, delayed: 0, failed: 0 } } */
export type QueueCounts = Readonly<Record<string, Readonly<Partial<Record<DepthState, number>>>>>;

export interface QueueDepthOptions {
  /** A scrape waits at most this long for the counts, then reports none (Redis down must not hang /metrics). @defaultValue 2000 */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2_000;

interface Source {
  readonly getCounts: () => Promise<QueueCounts>;
  readonly timeoutMs: number;
}

const sources = new Set<Source>();

/**
 * Make `triage_queue_jobs{pool,state}` ask `getCounts` on every scrape of the process's registry.
 * Both the bot (its QueueRunner's pools) and the worker (its own pools) register one. A source that
 * fails or is slower than `timeoutMs` contributes no series to that scrape. Returns the unregister function.
 */
export function registerQueueDepth(getCounts: () => Promise<QueueCounts>, opts: QueueDepthOptions = {}): () => void {
  const source: Source = { getCounts, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  sources.add(source);
  setQueueDepthCollector(collect);
  return () => {
    sources.delete(source);
    if (sources.size === 0) {
      setQueueDepthCollector(undefined);
      queueDepth.reset();
    }
  };
}

async function collect(): Promise<void> {
  const answers = await Promise.all([...sources].map((s) => within(s.getCounts, s.timeoutMs)));
  queueDepth.reset();
  for (const counts of answers) {
    if (!counts) continue;
    for (const [pool, byState] of Object.entries(counts))
      for (const state of DEPTH_STATES) {
        const n = byState[state];
        if (typeof n === 'number' && Number.isFinite(n)) queueDepth.set({ pool, state }, n);
      }
  }
}

/** The counts, or undefined when they fail or take longer than `ms`. Never throws. */
async function within(getCounts: () => Promise<QueueCounts>, ms: number): Promise<QueueCounts | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(getCounts), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The counts of BullMQ queues by pool, for {@link registerQueueDepth}. Rejects when Redis does not answer. */
export async function countJobs(queues: ReadonlyMap<string, Queue>): Promise<QueueCounts> {
  const entries = await Promise.all([...queues].map(async ([pool, queue]) => [pool, await queue.getJobCounts(...DEPTH_STATES)] as const));
  return Object.fromEntries(entries);
}
