import type { JobsOptions } from 'bullmq';
import { DEFAULT_PROBE_LIMITS, type ProbeLimits, type ProbeResult, type ProbeTarget } from '../probes/probe.js';
import { redact } from '../security/redact.js';
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

export { POOL_NAME, WORKER_LIMIT_MAXIMA } from './limits.js';

/** The queue name of a pool. Pools are named after network zones (`eu-west`, `dmz` …). */
export function queueName(pool: string): string {
  return `probes-${pool}`;
}

/**
 * What a probe job carries in Redis. The target travels sealed, whole (URL with its userinfo and
 * query, proxy with its credentials, headers, upstream, origin); `url` is only its masked form, for
 * people looking at the queue. `mac` signs everything else, so a worker runs only jobs made with
 * QUEUE_SECRET and with the limits they were made with (and clamps those to its own maxima).
 */
export interface ProbeJobData {
  /** The job format. @defaultValue 2 */
  readonly v: typeof JOB_FORMAT;
  /** The target URL, masked (redact()): for display only. */
  readonly url: string;
  /** The sealed {@link SealedTarget}. */
  readonly sealed: string;
  readonly limits: ProbeLimits;
  /** Epoch ms after which the result is of no use: the worker aborts the probes then. */
  readonly deadline: number;
  readonly alwaysRepeat?: boolean;
  readonly only?: readonly string[];
  /** Sealer.sign() of every other field. */
  readonly mac: string;
}

export const JOB_FORMAT = 2 as const;

interface SealedTarget {
  url: string;
  proxy?: string;
  upstream?: { host: string; port: number };
  origin?: string;
  headers: [string, string][];
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

/**
 * The job for a target: sealed and signed with the queue's secret. Nothing of the target is in
 * clear but its masked URL.
 */
export function encodeTarget(
  target: ProbeTarget,
  sealer: Sealer,
  rest: Pick<ProbeJobData, 'limits' | 'deadline' | 'alwaysRepeat' | 'only'>,
): ProbeJobData {
  const part: SealedTarget = {
    url: target.url.href,
    headers: target.headers.map(([k, v]) => [k, v]),
    ...(target.proxy ? { proxy: target.proxy.href } : {}),
    ...(target.upstream ? { upstream: { host: target.upstream.host, port: target.upstream.port } } : {}),
    ...(target.origin ? { origin: target.origin } : {}),
  };
  const unsigned = {
    v: JOB_FORMAT,
    url: redact(target.url.href) as string,
    sealed: sealer.seal(part),
    limits: rest.limits,
    deadline: rest.deadline,
    ...(rest.alwaysRepeat ? { alwaysRepeat: true } : {}),
    ...(rest.only ? { only: [...rest.only] } : {}),
  };
  return { ...unsigned, mac: sealer.sign(unsigned) };
}

/** Why a worker refuses a job: it did not come from a holder of QUEUE_SECRET, or is malformed. */
export class JobRefused extends Error {
  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = 'JobRefused';
  }
}

/**
 * The target of a job, after checking its signature and unsealing it. Throws {@link JobRefused}
 * for a job that is not signed with this secret (unsealed, forged, altered, an old format).
 */
export function decodeTarget(data: unknown, sealer: Sealer): ProbeTarget {
  if (data === null || typeof data !== 'object') throw new JobRefused('the job carries no data');
  const { mac, ...unsigned } = data as Partial<ProbeJobData>;
  if (unsigned.v !== JOB_FORMAT)
    throw new JobRefused('the job is not in the sealed format: its producer runs an older version, or is not one of ours');
  if (!sealer.verify(unsigned, mac))
    throw new JobRefused("the job's signature does not match QUEUE_SECRET: it was made with another secret, or altered in Redis");
  let part: SealedTarget;
  try {
    part = sealer.unseal<SealedTarget>(String(unsigned.sealed));
  } catch {
    throw new JobRefused('the sealed target does not open with QUEUE_SECRET');
  }
  return {
    url: new URL(part.url),
    headers: part.headers,
    ...(part.proxy ? { proxy: new URL(part.proxy) } : {}),
    ...(part.upstream ? { upstream: part.upstream } : {}),
    ...(part.origin ? { origin: part.origin } : {}),
  };
}

/** Smallest sensible values: a job cannot ask for a zero budget or a negative count either. */
const LIMIT_MINIMA: ProbeLimits = { timeoutMs: 100, maxBodyBytes: 0, maxRedirects: 0, repeatCount: 1, repeatSpreadMs: 0 };

/**
 * The job's limits within [minimum, `maxima`], each one; a missing or non-numeric value takes the
 * default. Whatever a job says, a worker sends at most `maxima.repeatCount` repeated requests.
 */
export function clampLimits(limits: unknown, maxima: ProbeLimits): ProbeLimits {
  const given = (limits !== null && typeof limits === 'object' ? limits : {}) as Record<string, unknown>;
  const out = {} as Record<keyof ProbeLimits, number>;
  for (const key of Object.keys(DEFAULT_PROBE_LIMITS) as (keyof ProbeLimits)[]) {
    const v = given[key];
    const n = typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : DEFAULT_PROBE_LIMITS[key];
    out[key] = Math.min(maxima[key], Math.max(LIMIT_MINIMA[key], n));
  }
  return out;
}

/** The longest a job with these limits may run: two probe rounds, the repeat spread, and slack. */
export function jobBudgetMs(limits: ProbeLimits): number {
  return limits.timeoutMs * 2 + limits.repeatSpreadMs + 5_000;
}
