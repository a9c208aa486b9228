import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  memoryInvestigationStore,
  redisInvestigationStore,
  type InvestigationMeta,
  type InvestigationStore,
  type ThreadItem,
} from '../../src/store/investigations.js';
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

const meta = (thread: string): InvestigationMeta => ({
  channel: 'C0INC',
  thread,
  answerTs: `${thread}1`,
  requestId: randomUUID(),
  team: 'T1',
  lang: 'en',
  source: 'text',
  top: 'upstream-refused',
});
const item = (id: string, seq: number, text = 'HTTP/1.1 502 Bad Gateway'): ThreadItem => ({
  id,
  kind: 'text',
  at: 1_700_000_000_000 + seq,
  seq,
  text,
});

/** What every InvestigationStore does. */
function suite(name: string, make: () => InvestigationStore) {
  describe(`${name} investigation store`, () => {
    it('keeps a thread: items in order of arrival, replaced by id, removed, its top and lines, the answer → thread index', async () => {
      const s = make();
      const m = meta('1700000000.000100');
      await s.open(m, [item('1700000000.000100', 1)]);
      await s.put(m.channel, m.thread, item('1700000000.000300', 3));
      await s.put(m.channel, m.thread, item('1700000000.000200', 2));
      expect((await s.get(m.channel, m.thread))!.items.map((i) => i.id)).toEqual([
        '1700000000.000100',
        '1700000000.000200',
        '1700000000.000300',
      ]);
      await s.put(m.channel, m.thread, item('1700000000.000200', 2, 'edited'));
      expect((await s.get(m.channel, m.thread))!.items[1]!.text).toBe('edited');
      expect(await s.remove(m.channel, m.thread, ['1700000000.000300'])).toBe(true);
      expect(await s.remove(m.channel, m.thread, ['nope'])).toBe(false);
      await s.setTop(m.channel, m.thread, 'upstream-slow');
      await s.setLines(m.channel, m.thread, [{ id: 'alert-status', text: 'seen 2 times' }]);
      const got = (await s.get(m.channel, m.thread))!;
      expect(got.meta).toMatchObject({ top: 'upstream-slow', lines: [{ id: 'alert-status', text: 'seen 2 times' }], answerTs: m.answerTs });
      expect(got.items).toHaveLength(2);
      expect(await s.threadOf(m.channel, m.answerTs)).toBe(m.thread);
      expect(await s.threadOf(m.channel, 'other')).toBeUndefined();
      expect(await s.get(m.channel, 'no-thread')).toBeUndefined();
      // Opening again starts over.
      await s.open(m, [item('x', 1)]);
      expect((await s.get(m.channel, m.thread))!.items.map((i) => i.id)).toEqual(['x']);
    });
  });
}

suite('in-memory', () => memoryInvestigationStore());
suite('Redis', () => redisInvestigationStore(redis, { prefix }));

describe('Redis investigation store', () => {
  it('masks every string once more on the way in, and keeps it as long as answers (7 days)', async () => {
    const s = redisInvestigationStore(redis, { prefix });
    const m = meta('1700000001.000100');
    await s.open(m, [item('a', 1, 'curl -H "Authorization: Bearer sk_live_51HxYzAbCdEfGhIjKlMnOpQr" https://api.example.com')]);
    const key = `${prefix}:inv:C0INC:${encodeURIComponent(m.thread)}`;
    const raw = JSON.stringify(await redis.hgetall(key));
    expect(raw).not.toContain('sk_live_51HxYzAbCdEfGhIjKlMnOpQr');
    expect(await redis.ttl(key)).toBeGreaterThan(7 * 86_400 - 60);
    expect(await redis.ttl(`${prefix}:inv-answer:C0INC:${encodeURIComponent(m.answerTs)}`)).toBeGreaterThan(7 * 86_400 - 60);
  });

  it('reads softly: Redis trouble is reported and answers nothing, so a thread is answered as before', async () => {
    const broken = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    broken.on('error', () => {});
    const errors: unknown[] = [];
    const s = redisInvestigationStore(broken, { prefix, onError: (e) => errors.push(e) });
    expect(await s.get('C0INC', '1.1')).toBeUndefined();
    expect(await s.threadOf('C0INC', '1.1')).toBeUndefined();
    expect(errors.length).toBe(2);
    await expect(s.put('C0INC', '1.1', item('a', 1))).rejects.toThrow(/store: put failed/);
    broken.disconnect();
  });
});

describe('in-memory investigation store', () => {
  it('is bounded: the least recently opened thread goes first', async () => {
    const s = memoryInvestigationStore(2);
    for (const t of ['1', '2', '3']) await s.open(meta(t), [item('a', 1)]);
    expect(await s.get('C0INC', '1')).toBeUndefined();
    expect(await s.get('C0INC', '3')).toBeDefined();
  });
});
