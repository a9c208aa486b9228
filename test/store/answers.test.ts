import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAnswerStore, redisAnswerStore, type AnswerStore } from '../../src/store/answers.js';
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

/** What every AnswerStore does. */
function suite(name: string, make: () => AnswerStore) {
  describe(`${name} answer store`, () => {
    it('keeps answers, last runs and replies', async () => {
      const s = make();
      const id = randomUUID();
      expect(await s.save(id, { kind: 'text', n: 3 })).toMatchObject({ ok: true });
      expect(await s.load(id)).toEqual({ kind: 'text', n: 3 });
      expect(await s.load('missing')).toBeUndefined();
      expect(await s.lastRun(id)).toBeUndefined();
      await s.saveRun(id, { top: 'a', probes: {} });
      expect(await s.lastRun(id)).toEqual({ top: 'a', probes: {} });
      await s.saveReply('C1', '1.0001', '1.0002');
      expect(await s.reply('C1', '1.0001')).toBe('1.0002');
      expect(await s.reply('C1', '1.0009')).toBeUndefined();
    });
  });
}

suite('in-memory', () => memoryAnswerStore());
suite('Redis', () => redisAnswerStore(redis, { prefix }));

describe('Redis answer store', () => {
  it('masks what it keeps once more, refuses what is too large, and expires everything after 7 days', async () => {
    const s = redisAnswerStore(redis, { prefix });
    expect(await s.save('req-1', { note: 'Authorization: Bearer abc.def.ghi' })).toMatchObject({ ok: true });
    expect(JSON.stringify(await s.load('req-1'))).not.toContain('abc.def.ghi');
    expect(await s.save('req-big', { text: 'x'.repeat(17 * 1024) })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(await s.load('req-big')).toBeUndefined();
    for (const key of await redis.keys(`${prefix}:*`)) {
      expect(key.startsWith(`${prefix}:answer:`)).toBe(true);
      expect(await redis.ttl(key)).toBeGreaterThan(7 * 86_400 - 100);
    }
  });

  it('answers a soft undefined for the last run while Redis is down, and throws a named error otherwise', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const seen: string[] = [];
    const s = redisAnswerStore(dead, { prefix, onError: (e) => seen.push(e.op) });
    expect(await s.lastRun('r')).toBeUndefined();
    await expect(s.load('r')).rejects.toMatchObject({ name: 'StoreError', op: 'load', reason: 'redis' });
    expect(seen).toEqual(['lastRun']);
    dead.disconnect();
  });
});
