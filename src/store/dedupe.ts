import type { Redis } from 'ioredis';
import { boundedMap, call, part, ttl } from './redis-kit.js';

/**
 * Claims that let a thing happen once: a Slack event (retries reuse its event_id), a double
 * click. `claim` is true only for the first caller within `ttlSec`, across replicas with Redis.
 */
export interface Dedupe {
  /** True only the first time `key` is claimed within `ttlSec`. Throws StoreError when Redis fails. */
  claim(key: string, ttlSec: number): Promise<boolean>;
}

/** Dedupe settings. */
export const DEDUPE_DEFAULTS = {
  /** How long a Slack event_id stays claimed (Slack retries within minutes). @defaultValue 3600 */
  eventTtlSec: 3_600,
  /** Keys remembered by the in-memory dedupe. @defaultValue 10000 */
  memoryKeys: 10_000,
} as const;

/** Claims in Redis (`${prefix}:dedupe:<key>`, SET NX EX): one winner across replicas. */
export function redisDedupe(redis: Redis, prefix = 'triage'): Dedupe {
  return {
    claim: (key, sec) =>
      call(
        'claim',
        async () => (await redis.set(`${prefix}:dedupe:${part('claim', 'key', key)}`, '1', 'EX', ttl('claim', sec), 'NX')) === 'OK',
      ),
  };
}

/** Claims in process memory, bounded (a single replica without Redis). */
export function memoryDedupe(max: number = DEDUPE_DEFAULTS.memoryKeys, now: () => number = Date.now): Dedupe {
  const until = boundedMap<number>(max);
  return {
    async claim(key, sec) {
      const t = now();
      if ((until.get(key) ?? 0) > t) return false;
      part('claim', 'key', key);
      until.set(key, t + ttl('claim', sec) * 1000);
      return true;
    },
  };
}
