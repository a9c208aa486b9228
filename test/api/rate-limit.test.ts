/** Fair use: a token bucket per API token (429 + Retry-After) and diagnoses in flight per token. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenBuckets } from '../../src/api/rate-limit.js';
import { NGINX_REFUSED, startApi, TOKEN, type RunningApi } from './fixture.js';

const OTHER = 'other-token-0123456789abcdef';

describe('token buckets', () => {
  it('allow a burst, then one request per 60/perMinute seconds, and say how long to wait', () => {
    let t = 0;
    const b = tokenBuckets({ perMinute: 60, burst: 3, now: () => t });
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(b.take('a')).toEqual({ ok: false, retryAfterSec: 1 });
    expect(b.take('b')).toEqual({ ok: true });
    t = 1000;
    expect(b.take('a')).toEqual({ ok: true });
    expect(b.take('a', 3)).toEqual({ ok: false, retryAfterSec: 3 });
    t = 60_000;
    // Full again, never more than the burst; a cost above the burst takes the whole bucket.
    expect(b.take('a', 10)).toEqual({ ok: true });
    expect(b.take('a')).toEqual({ ok: false, retryAfterSec: 1 });
  });

  it('are off at 0 a minute', () => {
    const b = tokenBuckets({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(b.take('a').ok).toBe(true);
  });
});

const explain = (api: RunningApi, token: string, text = NGINX_REFUSED) =>
  fetch(`${api.url}/v1/explain`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ text }),
  });

describe('the API', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startApi({ options: { ratePerMinute: 60, rateBurst: 5 } }, { API_TOKENS: `${TOKEN},${OTHER}` });
  });
  afterAll(() => api.stop());

  it('answers 429 TOO_MANY_REQUESTS with Retry-After once a token is over its rate, other tokens unaffected', async () => {
    for (let i = 0; i < 5; i++) expect((await explain(api, TOKEN)).status).toBe(200);
    const over = await explain(api, TOKEN);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    const body = (await over.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TOO_MANY_REQUESTS');
    expect(body.error.message).toMatch(/over its rate limit \(60 requests a minute, 5 at once\): retry in 1 s/);
    expect((await explain(api, OTHER)).status).toBe(200);
    // Health and metrics are not counted.
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await explain(api, TOKEN)).status).toBe(200);
  });

  it('counts an explain as one request per 64 KiB of text', async () => {
    const fresh = await startApi({ options: { ratePerMinute: 60, rateBurst: 5 } });
    try {
      const big = `${NGINX_REFUSED}\n${'x'.repeat(200 * 1024)}`;
      expect((await explain(fresh, TOKEN, big)).status).toBe(200); // 1 + 3 more
      expect((await explain(fresh, TOKEN)).status).toBe(200);
      const over = await explain(fresh, TOKEN);
      expect(over.status).toBe(429);
      expect((await explain(fresh, TOKEN, big)).status).toBe(429);
    } finally {
      await fresh.stop();
    }
  });
});

describe('diagnoses in flight per token', () => {
  let hanging: ReturnType<typeof createServer>;
  let url: string;
  beforeAll(async () => {
    hanging = createServer(() => {});
    hanging.listen(0, '127.0.0.1');
    await once(hanging, 'listening');
    url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`;
  });
  afterAll(() => {
    hanging.closeAllConnections();
    hanging.close();
  });

  it('answers 429 to a token with its maximum running, not to another token', async () => {
    const api = await startApi({ options: { maxInFlightPerCaller: 1 } }, { API_TOKENS: `${TOKEN},${OTHER}` });
    const post = (token: string) =>
      fetch(`${api.url}/v1/diagnoses`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url, timeoutMs: 3000 }),
      });
    try {
      expect((await post(TOKEN)).status).toBe(202);
      const second = await post(TOKEN);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('5');
      expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/this token has 1 diagnoses running/);
      expect((await post(OTHER)).status).toBe(202);
      await api.handler.idle();
      expect((await post(TOKEN)).status).toBe(202);
    } finally {
      await api.stop();
    }
  }, 30_000);
});
