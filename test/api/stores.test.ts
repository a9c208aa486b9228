/**
 * The API's stores: one shared suite run by the in-memory and the Redis implementations (the
 * tests' real Redis, TEST_REDIS_URL, a fresh key prefix per run, deleted afterwards), and the API
 * itself on the Redis store, read back through a second replica.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import {
  memoryDiagnosisStore,
  redisDiagnosisStore,
  StoreError,
  type DiagnosisRecord,
  type DiagnosisStore,
} from '../../src/api/diagnosis-store.js';
import { startApi, startBadGateway, TOKEN } from './fixture.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const prefix = `gt-test-api-${randomUUID()}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const record = (over: Partial<DiagnosisRecord> = {}): DiagnosisRecord => ({
  id: randomUUID(),
  status: 'queued',
  createdAt: new Date().toISOString(),
  target: { url: 'https://api.example.com/health' },
  ...over,
});

/** What every DiagnosisStore does, whatever keeps the records. */
function diagnosisStoreSuite(name: string, make: () => DiagnosisStore) {
  describe(`${name} diagnosis store`, () => {
    it('returns what was put, replaced by the latest put, and undefined for unknown ids', async () => {
      const store = make();
      const r = record();
      await store.put(r);
      expect(await store.get(r.id)).toEqual(r);
      await store.put({ ...r, status: 'running', startedAt: new Date().toISOString() });
      expect((await store.get(r.id))?.status).toBe('running');
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('stores a failure in place of a result over the size bound', async () => {
      const store = make();
      const big = record({ status: 'done', finishedAt: new Date().toISOString() });
      const result = {
        symptoms: [],
        causes: [],
        signals: [],
        notes: ['x'.repeat(2 * 1024 * 1024)],
        lang: 'en' as const,
        target: big.target,
        probes: [],
      };
      await store.put({ ...big, result });
      const got = await store.get(big.id);
      expect(got?.status).toBe('failed');
      expect(got?.error?.code).toBe('RESULT_TOO_LARGE');
      expect(got?.result).toBeUndefined();
    });
  });
}

diagnosisStoreSuite('in-memory', () => memoryDiagnosisStore());
diagnosisStoreSuite('Redis', () => redisDiagnosisStore(redis, { prefix }));

describe('in-memory diagnosis store bounds', () => {
  it('evicts the least recently used record first, and expires records', async () => {
    let now = 1_000_000;
    const store = memoryDiagnosisStore({ maxEntries: 2, ttlSec: 10, now: () => now });
    const [a, b, c] = [record(), record(), record()];
    await store.put(a);
    await store.put(b);
    await store.get(a.id); // a is now the most recently used
    await store.put(c);
    expect(await store.get(b.id)).toBeUndefined();
    expect(await store.get(a.id)).toEqual(a);
    now += 11_000;
    expect(await store.get(c.id)).toBeUndefined();
  });
});

describe('Redis diagnosis store', () => {
  it('keeps each record under the prefix for 24 hours', async () => {
    const store = redisDiagnosisStore(redis, { prefix });
    const r = record();
    await store.put(r);
    const ttl = await redis.ttl(`${prefix}:api:diagnosis:${r.id}`);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });

  it('throws StoreError when Redis does not answer', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    await expect(redisDiagnosisStore(down).get(randomUUID())).rejects.toBeInstanceOf(StoreError);
    down.disconnect();
  });

  it('serves a diagnosis to every replica, without its headers, and answers 503 when Redis is gone', async () => {
    const upstream = await startBadGateway();
    const one = await startApi({ diagnoses: redisDiagnosisStore(redis, { prefix }) });
    const two = await startApi({ diagnoses: redisDiagnosisStore(redis, { prefix }) });
    try {
      const created = await createApiClient(one.url, TOKEN).POST('/v1/diagnoses', {
        body: { url: upstream.url, headers: ['X-Api-Key: key-9d8c7b6a5f4e'], timeoutMs: 2000 },
      });
      expect(created.response.status).toBe(202);
      const id = created.data!.id;
      await one.handler.idle();
      const got = await createApiClient(two.url, TOKEN).GET('/v1/diagnoses/{id}', { params: { path: { id } } });
      expect(got.data?.status).toBe('done');
      expect(got.data?.result?.probes.length).toBeGreaterThan(0);
      const stored = (await redis.get(`${prefix}:api:diagnosis:${id}`))!;
      expect(stored).toContain(upstream.url);
      expect(stored).not.toContain('key-9d8c7b6a5f4e');
    } finally {
      await Promise.all([one.stop(), two.stop(), upstream.close()]);
    }

    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const broken = await startApi({ diagnoses: redisDiagnosisStore(down, { prefix }) });
    try {
      const r = await createApiClient(broken.url, TOKEN).GET('/v1/diagnoses/{id}', { params: { path: { id: randomUUID() } } });
      expect(r.response.status).toBe(503);
      expect((r.error as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    } finally {
      await broken.stop();
      down.disconnect();
    }
  });
});
