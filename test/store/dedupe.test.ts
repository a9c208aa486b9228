import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryDedupe, redisDedupe, type Dedupe } from '../../src/store/dedupe.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const prefix = `test-${randomUUID()}`;
let redis: Redis;
let other: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  other = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  other.disconnect();
});

/** What every Dedupe does. */
function suite(name: string, make: () => Dedupe) {
  describe(`${name} dedupe`, () => {
    it('lets a key be claimed once within its TTL, and rejects misuse', async () => {
      const d = make();
      const key = `event:${randomUUID()}`;
      expect(await d.claim(key, 60)).toBe(true);
      expect(await d.claim(key, 60)).toBe(false);
      expect(await d.claim(`${key}-other`, 60)).toBe(true);
      await expect(d.claim('', 60)).rejects.toThrow(/key must be a non-empty string/);
      await expect(d.claim('x', 0)).rejects.toMatchObject({ op: 'claim', reason: 'invalid' });
    });
  });
}

suite('in-memory', () => memoryDedupe());
suite('Redis', () => redisDedupe(redis, prefix));

describe('Redis dedupe across replicas', () => {
  it('gives one claim to 20 concurrent callers on two connections, under the prefix, expiring', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => redisDedupe(i % 2 ? other : redis, prefix).claim('event:Ev01', 3600)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const ttl = await redis.ttl(`${prefix}:dedupe:event%3AEv01`);
    expect(ttl).toBeGreaterThan(3500);
  });

  it('expires a memory claim after its TTL', async () => {
    let now = 1_000;
    const d = memoryDedupe(10, () => now);
    expect(await d.claim('k', 2)).toBe(true);
    now += 1_500;
    expect(await d.claim('k', 2)).toBe(false);
    now += 1_000;
    expect(await d.claim('k', 2)).toBe(true);
  });
});
