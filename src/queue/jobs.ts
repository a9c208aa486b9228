import type { JobsOptions } from 'bullmq';
import type { ProbeLimits, ProbeResult, ProbeTarget } from '../probes/probe.js';
import type { Sealer } from './seal.js';

/** Queue settings. */
export const QUEUE_DEFAULTS = {
  /** Key prefix in Redis, so tests and deployments can share a server. @defaultValue 'triage' */
  prefix: 'triage',
  /** The pool (network zone) a job goes to when none is named. @defaultValue 'default' */
  pool: 'default',
  /** Tries per job (a crash or a lost worker counts). @defaultValue 2 */
  attempts: 2,
  /** Exponential backoff between tries, first delay in ms. @defaultValue 500 */
  backoffMs: 500,
  /** Completed jobs kept (count / seconds), so a slow caller still finds its result. */
  removeOnComplete: { count: 1000, age: 3600 },
  /** Failed jobs kept for inspection. */
  removeOnFail: { count: 1000, age: 24 * 3600 },
  /** Probe jobs running at once in one worker. @defaultValue 4 */
  concurrency: 4,
  /** A worker's lock on a job; a worker that dies loses it after this long. @defaultValue 30000 */
  lockDurationMs: 30_000,
  /** How often workers look for jobs whose worker died (stalled jobs). @defaultValue 30000 */
  stalledIntervalMs: 30_000,
  /** How long SIGTERM waits for running jobs before handing them back. @defaultValue 25000 */
  shutdownGraceMs: 25_000,
} as const;

/** The queue name of a pool. Pools are named after network zones (`eu-west`, `dmz` …). */
export function queueName(pool: string): string {
  return `probes-${pool}`;
}

export const POOL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** What a probe job carries. Secrets (headers, proxy credentials) only ever travel sealed. */
export interface ProbeJobData {
  readonly url: string;
  /** The proxy URL without credentials. */
  readonly proxy?: string;
  readonly upstream?: { host: string; port: number };
  readonly origin?: string;
  /** Sealed {@link SealedPart}, present when there are headers or proxy credentials. */
  readonly sealed?: string;
  readonly limits: ProbeLimits;
  /** Epoch ms after which the result is of no use: the worker aborts the probes then. */
  readonly deadline: number;
  readonly alwaysRepeat?: boolean;
  readonly only?: readonly string[];
}

interface SealedPart {
  headers: [string, string][];
  proxy?: string;
}

/** What a worker reports while a job runs (BullMQ job progress): every result so far and the probes still running. */
export interface ProbeJobProgress {
  readonly results: readonly ProbeResult[];
  readonly pending: readonly string[];
}

/** A progress report read back from Redis, checked (a worker wrote it, but it crossed the network). */
export function readProgress(data: unknown): ProbeJobProgress | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const { results, pending } = data as { results?: unknown; pending?: unknown };
  if (!Array.isArray(results) || !Array.isArray(pending) || !pending.every((p) => typeof p === 'string')) return undefined;
  const wellFormed = results.every(
    (r) => r !== null && typeof r === 'object' && typeof (r as ProbeResult).probe === 'string' && Array.isArray((r as ProbeResult).signals),
  );
  return wellFormed ? { results: results as ProbeResult[], pending: pending as string[] } : undefined;
}

/** What a probe job returns. */
export interface ProbeJobResult {
  readonly pool: string;
  readonly worker: string;
  readonly results: readonly ProbeResult[];
}

export function jobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: QUEUE_DEFAULTS.attempts,
    backoff: { type: 'exponential', delay: QUEUE_DEFAULTS.backoffMs },
    removeOnComplete: QUEUE_DEFAULTS.removeOnComplete,
    removeOnFail: QUEUE_DEFAULTS.removeOnFail,
  };
}

/** Whether the target holds something that must be sealed. */
export function hasSecrets(target: ProbeTarget): boolean {
  return target.headers.length > 0 || Boolean(target.proxy && (target.proxy.username || target.proxy.password));
}

export function encodeTarget(
  target: ProbeTarget,
  sealer: Sealer | undefined,
  rest: Omit<ProbeJobData, 'url' | 'proxy' | 'upstream' | 'origin' | 'sealed'>,
): ProbeJobData {
  let proxy: string | undefined;
  let sealed: string | undefined;
  if (target.proxy) {
    const bare = new URL(target.proxy.href);
    bare.username = '';
    bare.password = '';
    proxy = bare.href;
  }
  if (hasSecrets(target)) {
    if (!sealer) throw new Error('headers or proxy credentials cannot go through the queue without QUEUE_SECRET');
    const part: SealedPart = { headers: target.headers.map(([k, v]) => [k, v]), ...(target.proxy ? { proxy: target.proxy.href } : {}) };
    sealed = sealer.seal(part);
  }
  return {
    url: target.url.href,
    ...(proxy ? { proxy } : {}),
    ...(target.upstream ? { upstream: target.upstream } : {}),
    ...(target.origin ? { origin: target.origin } : {}),
    ...(sealed ? { sealed } : {}),
    ...rest,
  };
}

export function decodeTarget(data: ProbeJobData, sealer: Sealer | undefined): ProbeTarget {
  let headers: [string, string][] = [];
  let proxy = data.proxy;
  if (data.sealed) {
    if (!sealer) throw new Error('this job carries sealed headers: start the worker with the same QUEUE_SECRET as the bot');
    const part = sealer.unseal<SealedPart>(data.sealed);
    headers = part.headers;
    proxy = part.proxy ?? proxy;
  }
  return {
    url: new URL(data.url),
    headers,
    ...(proxy ? { proxy: new URL(proxy) } : {}),
    ...(data.upstream ? { upstream: data.upstream } : {}),
    ...(data.origin ? { origin: data.origin } : {}),
  };
}
