import type { Redis } from 'ioredis';
import { boundedMap, part } from '../store/redis-kit.js';

/**
 * Per-user limits on Slack commands: a token bucket per user holding `count` commands, refilled
 * at `count` per `perSec` seconds, so a burst is allowed and a steady flood is not. In Redis (all
 * replicas share one bucket per user) or in process memory. A limiter that cannot reach Redis
 * lets the command through: a Redis outage must not silence the bot.
 */
export interface RateLimiter {
  take(key: string): Promise<RateDecision>;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };

/** A limit: `count` per `perSec` seconds. SLACK_COMMAND_RATE_LIMIT=`20/60s`. */
export interface RateLimit {
  readonly count: number;
  readonly perSec: number;
}

/** @defaultValue 20 commands per user per 60 s. */
export const COMMAND_RATE_DEFAULT: RateLimit = { count: 20, perSec: 60 };

/** KEYS: bucket. ARGV: capacity, tokens per ms, now ms, ttl s. Returns { 1, 0 } or { 0, ms to wait }. */
const TAKE = `
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
local ok = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return { ok, wait }
`;

const refill = (limit: RateLimit) => limit.count / (limit.perSec * 1000);

/** Buckets in Redis: `${prefix}:rate:<key>`. */
export function redisRateLimiter(redis: Redis, limit: RateLimit, prefix = 'triage', now: () => number = Date.now): RateLimiter {
  return {
    async take(key) {
      try {
        const k = `${prefix}:rate:${part('rate', 'key', key)}`;
        const [ok, wait] = (await redis.eval(TAKE, 1, k, limit.count, refill(limit), now(), limit.perSec + 60)) as [number, number];
        return ok === 1 ? { ok: true } : { ok: false, retryAfterSec: Math.max(1, Math.ceil(wait / 1000)) };
      } catch {
        return { ok: true };
      }
    },
  };
}

/** Buckets in process memory, bounded (a single replica without Redis). */
export function memoryRateLimiter(limit: RateLimit, now: () => number = Date.now, maxKeys = 10_000): RateLimiter {
  const buckets = boundedMap<{ tokens: number; at: number }>(maxKeys);
  return {
    async take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: limit.count, at: t };
      const tokens = Math.min(limit.count, b.tokens + Math.max(0, t - b.at) * refill(limit));
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, at: t });
        return { ok: true };
      }
      buckets.set(key, { tokens, at: t });
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - tokens) / refill(limit) / 1000)) };
    },
  };
}

/** No limit (SLACK_COMMAND_RATE_LIMIT=off). */
export const UNLIMITED: RateLimiter = { take: async () => ({ ok: true }) };
