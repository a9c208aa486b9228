import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../src/queue/redis.js';
import { SlackStoreError, createSlackStore, errorSignature, type SlackStore } from '../../src/slack/store.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const DAY = 86_400_000;

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  return redis.keys(`${prefix}:*`);
}

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

describe('createSlackStore (real Redis)', () => {
  const prefix = `test-${randomUUID()}`;
  let redis: Redis;
  let other: Redis;
  let store: SlackStore;
  const clock = Date.now();

  beforeAll(async () => {
    expect((await checkRedis(REDIS_URL)).ok, `Redis must run at ${REDIS_URL}`).toBe(true);
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
    store = createSlackStore(redis, { prefix, now: () => clock });
  });

  afterAll(async () => {
    const keys = await keysOf(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    expect(await keysOf(redis, prefix)).toEqual([]);
    redis.disconnect();
    other.disconnect();
  });

  it('claims an event once under 20 concurrent calls', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createSlackStore(i % 2 ? other : redis, { prefix }).claimEvent('Ev01')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.claimEvent('Ev01')).toBe(false);
    expect(await store.claimEvent('Ev02')).toBe(true);
    const ttl = await redis.ttl(`${prefix}:slack:event:Ev01`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('claims other keys once, in their own namespace, with the given TTL', async () => {
    expect(await store.claimKey('cmd:abc', 60)).toBe(true);
    expect(await store.claimKey('cmd:abc', 60)).toBe(false);
    expect(await store.claimEvent('cmd:abc')).toBe(true);
    expect(await redis.ttl(`${prefix}:slack:claim:cmd%3Aabc`)).toBeGreaterThan(50);
  });

  it('rejects misuse with the operation name', async () => {
    await expect(store.claimKey('', 60)).rejects.toThrow(/claimKey failed: key must be a non-empty string/);
    await expect(store.claimKey('x', 0)).rejects.toMatchObject({ op: 'claimKey', reason: 'invalid' });
  });

  it('moves the factor up for fixed, down for wrong, and clamps it', async () => {
    const team = 'T-adjust';
    const sig = errorSignature(['http.status=502']);
    for (let i = 0; i < 3; i++) await store.recordFeedback(team, { causeId: 'good', kind: 'fixed', signature: sig, user: `U${i}` });
    for (let i = 0; i < 2; i++) await store.recordFeedback(team, { causeId: 'bad', kind: 'wrong', signature: sig, user: `U${i}` });
    let adjust = await store.adjustFor(team);
    expect(adjust('good')).toBeCloseTo(1.15, 3);
    expect(adjust('bad')).toBeCloseTo(0.8, 3);
    expect(adjust('unknown')).toBe(1);

    for (let i = 0; i < 30; i++) {
      await store.recordFeedback(team, { causeId: 'good', kind: 'fixed', signature: sig, user: `V${i}` });
      await store.recordFeedback(team, { causeId: 'bad', kind: 'wrong', signature: sig, user: `V${i}` });
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

  it('tracks an alert window: first, count, answer ts, resolve', async () => {
    expect(await store.noteAlert('C1', 'fp-1')).toEqual({ first: true, count: 1 });
    expect(await store.noteAlert('C1', 'fp-1')).toEqual({ first: false, count: 2 });
    expect(await store.setAlertAnswer('C1', 'fp-1', '1700000000.000100')).toBe(true);
    expect(await store.noteAlert('C1', 'fp-1')).toEqual({ first: false, count: 3, answerTs: '1700000000.000100' });
    expect(await store.noteAlert('C1', 'fp-2', { ts: '1700000000.000200' })).toEqual({
      first: true,
      count: 1,
      answerTs: '1700000000.000200',
    });

    const ttl = await redis.ttl(`${prefix}:slack:alert:C1:fp-1`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);

    expect(await store.resolveAlert('C1', 'fp-1')).toBe('1700000000.000100');
    expect(await store.resolveAlert('C1', 'fp-1')).toBeUndefined();
    expect(await store.setAlertAnswer('C1', 'fp-1', '1')).toBe(false);
    expect((await store.noteAlert('C1', 'fp-1', { windowSec: 60 })).first).toBe(true);
    expect(await redis.ttl(`${prefix}:slack:alert:C1:fp-1`)).toBeLessThanOrEqual(60);
  });

  it('gives exactly one first:true to 20 concurrent firings from two connections', async () => {
    const a = createSlackStore(redis, { prefix });
    const b = createSlackStore(other, { prefix });
    const notes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).noteAlert('C2', 'fp-race')));
    expect(notes.filter((n) => n.first)).toHaveLength(1);
    expect(notes.map((n) => n.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('saves and loads request state and last runs, masked, bounded, with a TTL', async () => {
    const data = { url: 'https://api.example.com/x', note: 'Authorization: Bearer abc.def.ghi', n: 3 };
    expect(await store.saveRequest('req-1', data)).toMatchObject({ ok: true });
    const loaded = await store.loadRequest<typeof data>('req-1');
    expect(loaded?.url).toBe(data.url);
    expect(loaded?.note).not.toContain('abc.def.ghi');
    expect(await store.loadRequest('missing')).toBeUndefined();
    const ttl = await redis.ttl(`${prefix}:slack:req:req-1`);
    expect(ttl).toBeGreaterThan(7 * 86_400 - 100);

    expect(await store.saveRequest('req-big', { text: 'x'.repeat(17 * 1024) })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(await store.loadRequest('req-big')).toBeUndefined();

    expect(await store.lastRun('req-1')).toBeUndefined();
    expect(await store.saveLastRun('req-1', { causes: ['a', 'b'] })).toMatchObject({ ok: true });
    expect(await store.lastRun('req-1')).toEqual({ causes: ['a', 'b'] });
    expect(await redis.ttl(`${prefix}:slack:run:req-1`)).toBeGreaterThan(7 * 86_400 - 100);
  });

  it('throws named errors on Redis failure, except soft reads, which report and degrade', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const seen: SlackStoreError[] = [];
    const s = createSlackStore(dead, { prefix, onError: (e) => seen.push(e) });
    await expect(s.claimEvent('E')).rejects.toMatchObject({ name: 'SlackStoreError', op: 'claimEvent', reason: 'redis' });
    await expect(s.noteAlert('C', 'f')).rejects.toThrow(/noteAlert failed/);
    expect((await s.adjustFor('T'))('x')).toBe(1);
    expect(await s.recallFix('T', 'sig')).toBeUndefined();
    expect(await s.lastRun('r')).toBeUndefined();
    expect(seen.map((e) => e.op)).toEqual(['adjustFor', 'recallFix', 'lastRun']);
    dead.disconnect();
  });

  it('keeps every key under the prefix, and every key expires', async () => {
    const keys = await keysOf(redis, prefix);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(key.startsWith(`${prefix}:slack:`)).toBe(true);
      expect(await redis.ttl(key), key).toBeGreaterThan(0);
    }
  });
});
