import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAlertWindows, redisAlertWindows, type AlertWindows } from '../../src/store/alert-windows.js';
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

const message = { text: 'answer', blocks: [{ type: 'header', block_id: 'header' }] };

/** What every AlertWindows does: one conformance suite for memory and Redis. */
function suite(name: string, make: () => AlertWindows) {
  describe(`${name} alert windows`, () => {
    it('counts firings, gives one first per window, keeps the answer, and resolves once', async () => {
      const w = make();
      const fp = `alertmanager:${randomUUID().slice(0, 16)}`;
      expect(await w.note('C1', fp, 60)).toEqual({ first: true, count: 1 });
      expect(await w.note('C1', fp, 60)).toEqual({ first: false, count: 2 });
      expect(await w.setAnswer('C1', fp, { channel: 'C1', ts: '1.2', message })).toBe(true);
      expect(await w.note('C1', fp, 60)).toEqual({ first: false, count: 3, answer: { channel: 'C1', ts: '1.2', message } });
      // Another channel is another window.
      expect((await w.note('C2', fp, 60)).first).toBe(true);
      expect(await w.resolve('C1', fp)).toEqual({ channel: 'C1', ts: '1.2', message });
      expect(await w.resolve('C1', fp)).toBeUndefined();
      // Resolved while the answer was on its way: the answer is not kept.
      expect(await w.setAnswer('C1', fp, { channel: 'C1', ts: '1.3', message })).toBe(false);
      expect((await w.note('C1', fp, 60)).first).toBe(true);
      // An answer that could not be posted gives the window back.
      await w.release('C1', fp);
      expect((await w.note('C1', fp, 60)).first).toBe(true);
    });
  });
}

suite('in-memory', () => memoryAlertWindows());
suite('Redis', () => redisAlertWindows(redis, prefix));

describe('Redis alert windows', () => {
  it('gives exactly one first to 20 concurrent firings from two connections; the window expires with its TTL', async () => {
    const notes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => redisAlertWindows(i % 2 ? other : redis, prefix).note('C3', 'fp-race', 3600)),
    );
    expect(notes.filter((n) => n.first)).toHaveLength(1);
    expect(notes.map((n) => n.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const ttl = await redis.ttl(`${prefix}:alert:C3:fp-race`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('expires a memory window after windowSec', async () => {
    let now = 0;
    const w = memoryAlertWindows(100, () => now);
    expect((await w.note('C', 'f', 10)).first).toBe(true);
    now = 9_000;
    expect((await w.note('C', 'f', 10)).first).toBe(false);
    now = 10_001;
    expect((await w.note('C', 'f', 10)).first).toBe(true);
  });
});
