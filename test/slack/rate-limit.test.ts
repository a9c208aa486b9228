import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from '../../src/slack/rate-limit.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const prefix = `test-${randomUUID()}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Every limiter: a burst of `count`, then a wait that says when one command is back; per key. */
function suite(name: string, make: (now: () => number) => RateLimiter) {
  describe(`${name} rate limiter`, () => {
    it('allows a burst of count per key, then says when to retry, and refills over the period', async () => {
      let now = 1_000_000;
      const l = make(() => now);
      const user = `U-${randomUUID()}`;
      for (let i = 0; i < 3; i++) expect(await l.take(user)).toEqual({ ok: true });
      expect(await l.take(user)).toEqual({ ok: false, retryAfterSec: 20 });
      expect(await l.take(`${user}-other`)).toEqual({ ok: true });
      now += 20_000;
      expect(await l.take(user)).toEqual({ ok: true });
      expect((await l.take(user)).ok).toBe(false);
      now += 60_000;
      for (let i = 0; i < 3; i++) expect((await l.take(user)).ok).toBe(true);
    });
  });
}

suite('in-memory', (now) => memoryRateLimiter({ count: 3, perSec: 60 }, now));
suite('Redis', (now) => redisRateLimiter(redis, { count: 3, perSec: 60 }, prefix, now));

describe('Redis rate limiter', () => {
  it('lets commands through while Redis is down (a limiter must not silence the bot)', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    expect(await redisRateLimiter(dead, { count: 1, perSec: 60 }, prefix).take('U')).toEqual({ ok: true });
    dead.disconnect();
  });
});
