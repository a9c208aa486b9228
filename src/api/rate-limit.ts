/**
 * Fair use of the API: a token bucket per caller (per API token). Each caller may make `burst`
 * requests at once and `perMinute` a minute on average; a request over it gets 429
 * TOO_MANY_REQUESTS with `Retry-After`, the seconds until it would be allowed.
 */

/** Rate limit settings (API_RATE_PER_MINUTE, API_RATE_BURST in config.ts). */
export interface RateLimitOptions {
  /** Requests a minute a caller may make on average; 0 turns the limit off. @defaultValue 120 */
  readonly perMinute: number;
  /** Requests a caller may make at once (the bucket's size). @defaultValue 30 */
  readonly burst: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

export const RATE_LIMIT_DEFAULTS = { perMinute: 120, burst: 30 } as const;

/** A request's cost was taken, or it must wait `retryAfterSec`. */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };

export interface RateLimiter {
  /** Take `cost` tokens from `caller`'s bucket, or say how long until they would be there. */
  take(caller: string, cost?: number): Admission;
}

/** Buckets live while they matter: a full bucket is forgotten (it is what a new caller gets). */
export function tokenBuckets(options: RateLimitOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const perMs = options.perMinute / 60_000;
  const burst = Math.max(1, options.burst);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const sweep = () => {
    const t = now();
    for (const [k, b] of buckets) if (b.tokens + (t - b.at) * perMs >= burst) buckets.delete(k);
  };
  return {
    take(caller, cost = 1) {
      if (options.perMinute <= 0) return { ok: true };
      const t = now();
      if (buckets.size > 10_000) sweep();
      const b = buckets.get(caller) ?? { tokens: burst, at: t };
      const tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
      // A request costing more than the bucket holds is charged the whole bucket, once full.
      const need = Math.min(cost, burst);
      if (tokens >= need) {
        buckets.set(caller, { tokens: tokens - need, at: t });
        return { ok: true };
      }
      buckets.set(caller, { tokens, at: t });
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((need - tokens) / perMs / 1000)) };
    },
  };
}
