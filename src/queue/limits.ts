import type { ProbeLimits } from '../probes/probe.js';

/** A pool's name: pools are named after network zones (`eu-west`, `dmz` …). Kept apart from jobs.ts so that config.ts loads nothing of the probes. */
export const POOL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The most a worker lets one job ask for, whatever the job says (WORKER_MAX_* in config.ts).
 * The API takes timeoutMs up to 120000; the other limits are set by the producer.
 */
export const WORKER_LIMIT_MAXIMA: ProbeLimits = {
  /** @defaultValue 120000 */
  timeoutMs: 120_000,
  /** @defaultValue 1048576 */
  maxBodyBytes: 1024 * 1024,
  /** @defaultValue 20 */
  maxRedirects: 20,
  /** @defaultValue 20 */
  repeatCount: 20,
  /** @defaultValue 30000 */
  repeatSpreadMs: 30_000,
};
