import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../src/queue/redis.js';
import { errorSignature, redisFeedbackStore, type FeedbackStore } from '../../src/store/feedback.js';
import type { StoreError } from '../../src/store/redis-kit.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const DAY = 86_400_000;

describe('errorSignature', () => {
  it('is a short hash of the sorted, de-duplicated stable keys', () => {
    const sig = errorSignature(['http.status=502', 'http.server=nginx', 'net.error=connection_refused']);
    expect(sig).toMatch(/^[0-9a-f]{16}$/);
    expect(errorSignature(['net.error=connection_refused', 'http.server=nginx', 'http.status=502', 'http.status=502'])).toBe(sig);
  });

  it('ignores timings and measured values', () => {
    const base = errorSignature(['http.status=504', 'http.retry_after']);
    expect(errorSignature(['timing.duration_s=60.02', 'http.status=504', 'http.retry_after=30', 'timing.near_timeout=nginx_60s'])).toBe(
      base,
    );
    expect(errorSignature(['http.status=502', 'http.retry_after'])).not.toBe(base);
  });
});

describe('redisFeedbackStore (real Redis)', () => {
  const prefix = `test-${randomUUID()}`;
  let redis: Redis;
  let store: FeedbackStore;
  const clock = Date.now();

  beforeAll(async () => {
    expect((await checkRedis(REDIS_URL)).ok, `Redis must run at ${REDIS_URL}`).toBe(true);
    redis = new Redis(REDIS_URL);
    store = redisFeedbackStore(redis, { prefix, now: () => clock });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('moves the factor up for fixed, down for wrong, and clamps it', async () => {
    const team = 'T-adjust';
    const sig = errorSignature(['http.status=502']);
    const sig2 = errorSignature(['http.status=503']);
    for (let i = 0; i < 3; i++) await store.recordFeedback(team, { causeId: 'good', kind: 'fixed', signature: sig, user: `U${i}` });
    for (let i = 0; i < 2; i++) await store.recordFeedback(team, { causeId: 'bad', kind: 'wrong', signature: sig2, user: `U${i}` });
    let adjust = await store.adjustFor(team);
    expect(adjust('good')).toBeCloseTo(1.15, 3);
    expect(adjust('bad')).toBeCloseTo(0.8, 3);
    expect(adjust('unknown')).toBe(1);

    for (let i = 0; i < 30; i++) {
      await store.recordFeedback(team, { causeId: 'good', kind: 'fixed', signature: sig, user: `V${i}` });
      await store.recordFeedback(team, { causeId: 'bad', kind: 'wrong', signature: sig2, user: `V${i}` });
    }
    adjust = await store.adjustFor(team);
    expect(adjust('good')).toBe(1.4);
    expect(adjust('bad')).toBe(0.6);
    expect(await store.feedbackCounts(team)).toEqual({ good: { fixed: 33, wrong: 0 }, bad: { fixed: 0, wrong: 32 } });
  });

  it('counts one user voting 10 times once, and a changed vote once', async () => {
    const team = 'T-once';
    const vote = { causeId: 'c1', kind: 'fixed' as const, signature: 'sig-a', user: 'U1' };
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await store.recordFeedback(team, vote));
    expect(outcomes[0]).toBe('new');
    expect(outcomes.slice(1).every((o) => o === 'repeat')).toBe(true);
    expect(await store.feedbackCounts(team)).toEqual({ c1: { fixed: 1, wrong: 0 } });
    expect((await store.adjustFor(team))('c1')).toBeCloseTo(1.05, 3);

    expect(await store.recordFeedback(team, { ...vote, kind: 'wrong' })).toBe('changed');
    expect(await store.feedbackCounts(team)).toEqual({ c1: { fixed: 0, wrong: 1 } });
  });

  it('caps one user across signatures and decays old votes', async () => {
    const team = 'T-cap';
    for (let i = 0; i < 10; i++) await store.recordFeedback(team, { causeId: 'c1', kind: 'wrong', signature: `sig-${i}`, user: 'U1' });
    expect((await store.adjustFor(team))('c1')).toBeCloseTo(0.8, 3); // capped at 2 votes

    await store.recordFeedback(team, { causeId: 'c2', kind: 'wrong', signature: 'sig', user: 'U2', at: clock - 90 * DAY });
    expect((await store.adjustFor(team))('c2')).toBeCloseTo(0.95, 3); // half-life 90 days
  });

  it('keeps one vote per user and error: a later vote replaces the earlier, whatever cause it names', async () => {
    const team = 'T-replace';
    const sig = errorSignature(['http.status=502', 'net.error=connection_reset']);
    expect(await store.recordFeedback(team, { causeId: 'a', kind: 'fixed', signature: sig, fixTitle: 'Raise keepalive', user: 'U1' })).toBe(
      'new',
    );
    expect(await store.recallFix(team, sig)).toMatchObject({ causeId: 'a' });
    expect(await store.recordFeedback(team, { causeId: 'b', kind: 'wrong', signature: sig, user: 'U1' })).toBe('changed');
    expect(await store.feedbackCounts(team)).toEqual({ b: { fixed: 0, wrong: 1 } });
    // Their "Fixed it" is no longer standing: it is not recalled.
    expect(await store.recallFix(team, sig)).toBeUndefined();
    expect(await store.recordFeedback(team, { causeId: 'b', kind: 'wrong', signature: sig, user: 'U1' })).toBe('repeat');
    // Another error, another vote.
    expect(await store.recordFeedback(team, { causeId: 'a', kind: 'fixed', signature: 'other', user: 'U1' })).toBe('new');
    expect(await store.feedbackCounts(team)).toEqual({ a: { fixed: 1, wrong: 0 }, b: { fixed: 0, wrong: 1 } });
  });

  it('reads votes recorded before one vote per user and error (cause signature user fields)', async () => {
    const team = 'T-legacy';
    await redis.hset(`${prefix}:fb:{${team}}:votes`, 'old-cause sig-l U9', `wrong ${clock}`);
    expect(await store.feedbackCounts(team)).toEqual({ 'old-cause': { fixed: 0, wrong: 1 } });
    await store.recordFeedback(team, { causeId: 'new-cause', kind: 'fixed', signature: 'sig-l', user: 'U9' });
    expect(await store.feedbackCounts(team)).toEqual({ 'new-cause': { fixed: 1, wrong: 0 } });
  });

  it('recalls the most recent fix for a signature', async () => {
    const team = 'T-recall';
    const sig = errorSignature(['http.status=502', 'net.error=connection_refused']);
    expect(await store.recallFix(team, sig)).toBeUndefined();
    await store.recordFeedback(team, {
      causeId: 'upstream-down',
      kind: 'fixed',
      signature: sig,
      fixTitle: 'Restart the backend',
      user: 'U1',
      at: 1000,
    });
    await store.recordFeedback(team, {
      causeId: 'wrong-port',
      kind: 'fixed',
      signature: sig,
      fixTitle: 'Fix proxy_pass port',
      user: 'U2',
      at: 3000,
    });
    // An older vote arriving late does not replace a newer one.
    await store.recordFeedback(team, { causeId: 'other', kind: 'fixed', signature: sig, fixTitle: 'Old', user: 'U3', at: 2000 });
    expect(await store.recallFix(team, sig)).toEqual({ causeId: 'wrong-port', fixTitle: 'Fix proxy_pass port', at: 3000 });
    expect(await store.recallFix(team, 'another-signature')).toBeUndefined();
    expect(await store.recallFix('T-other', sig)).toBeUndefined();

    // The voter taking it back forgets it.
    await store.recordFeedback(team, { causeId: 'wrong-port', kind: 'wrong', signature: sig, user: 'U2', at: 4000 });
    expect(await store.recallFix(team, sig)).toBeUndefined();
  });

  it('throws named errors on Redis failure, except soft reads, which report and degrade', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const seen: StoreError[] = [];
    const s = redisFeedbackStore(dead, { prefix, onError: (e) => seen.push(e) });
    await expect(s.recordFeedback('T', { causeId: 'c', kind: 'fixed', signature: 's', user: 'U' })).rejects.toMatchObject({
      name: 'StoreError',
      op: 'recordFeedback',
      reason: 'redis',
    });
    expect((await s.adjustFor('T'))('x')).toBe(1);
    expect(await s.recallFix('T', 'sig')).toBeUndefined();
    expect(seen.map((e) => e.op)).toEqual(['adjustFor', 'recallFix']);
    dead.disconnect();
  });

  it('keeps every key under the prefix, and every key expires', async () => {
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) {
      expect(key.startsWith(`${prefix}:fb:`)).toBe(true);
      expect(await redis.ttl(key), key).toBeGreaterThan(0);
    }
  });
});
