import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBES } from '../../src/probes/index.js';
import { Queue, QueueEvents } from 'bullmq';
import { DEFAULT_PROBE_LIMITS } from '../../src/probes/probe.js';
import { clampLimits, encodeTarget, queueName } from '../../src/queue/jobs.js';
import { QueueRunner } from '../../src/queue/queue-runner.js';
import { checkRedis } from '../../src/queue/redis.js';
import { Sealer } from '../../src/queue/seal.js';
import { createProbeWorker, type ProbeWorker } from '../../src/queue/worker.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { diagnose } from '../../src/triage/diagnose.js';
import { createEngine } from '../../src/triage/engine.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const root = resolve(import.meta.dirname, '../..');
const allowAll = createSsrfPolicy({ allowAll: true });
const only = ['http'];
const QUEUE_SECRET = 'a-long-test-queue-secret-0123456789';

/** A real local HTTP server that records what it was sent and answers after `delayMs`. */
async function startServer(delayMs = 0): Promise<{ url: string; server: Server; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    setTimeout(() => res.end('ok'), delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, server, seen };
}

function target(url: string, headers: [string, string][] = []) {
  return { url: new URL(url), headers };
}

/** Remove every key of a test prefix. */
async function cleanPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

describe('the probe queue (real Redis, real workers)', () => {
  const prefix = `test-${randomUUID()}`;
  let server: Awaited<ReturnType<typeof startServer>>;
  const workers: ProbeWorker[] = [];
  const runners: QueueRunner[] = [];
  const sealer = new Sealer(QUEUE_SECRET);

  beforeAll(async () => {
    expect((await checkRedis(REDIS_URL)).ok, `Redis must run at ${REDIS_URL}`).toBe(true);
    server = await startServer();
    workers.push(
      createProbeWorker({ redisUrl: REDIS_URL, pool: 'default', probes: PROBES, policy: allowAll, prefix, sealer, name: 'worker-a' }),
    );
    workers.push(
      createProbeWorker({ redisUrl: REDIS_URL, pool: 'zonea', probes: PROBES, policy: allowAll, prefix, sealer, name: 'worker-zonea' }),
    );
    workers.push(
      createProbeWorker({
        redisUrl: REDIS_URL,
        pool: 'zoneb',
        probes: PROBES,
        policy: createSsrfPolicy({ allowAll: false }),
        prefix,
        sealer,
        name: 'worker-zoneb',
      }),
    );
    await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
    await Promise.all(workers.map((w) => w.close(1000)));
    server?.server.close();
    await cleanPrefix(prefix);
  });

  function runner(): QueueRunner {
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer });
    runners.push(r);
    return r;
  }

  it('runs probes on a worker and brings the results back', async () => {
    const out = await runner().run(target(server.url), { only });
    expect(out.via).toBe('queue');
    expect(out.worker).toBe('worker-a');
    const http = out.results.find((r) => r.probe === 'http');
    expect(http?.signals.some((s) => s.name === 'http.status' && s.value === '200')).toBe(true);
  });

  it('brings each finished probe back while the others still run on the worker', async () => {
    const slowServer = await startServer(700);
    try {
      const seen: [string[], string[]][] = [];
      const out = await runner().run(target(slowServer.url), {
        only: ['tcp', 'http'],
        onProgress: (done, pending) => seen.push([done.map((r) => r.probe), [...pending]]),
      });
      expect(seen).toContainEqual([['tcp'], ['http']]);
      expect(out.results.map((r) => r.probe)).toEqual(['tcp', 'http']);
    } finally {
      slowServer.server.close();
    }
  });

  it('carries headers sealed: the worker sends them, Redis never holds them in clear', async () => {
    const secret = `Bearer tok-${randomUUID()}`;
    const before = server.seen.length;
    await runner().run(target(server.url, [['Authorization', secret]]), { only });
    expect(server.seen.slice(before).some((h) => h.authorization === secret)).toBe(true);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    for (const k of keys) {
      const type = await redis.type(k);
      const dump = type === 'hash' ? JSON.stringify(await redis.hgetall(k)) : type === 'string' ? ((await redis.get(k)) ?? '') : '';
      expect(dump).not.toContain(secret.slice(7));
    }
    redis.disconnect();
  });

  /** Every string value Redis holds under the test prefix, joined. */
  async function redisDump(): Promise<string> {
    const redis = new Redis(REDIS_URL);
    let dump = '';
    for (const k of await redis.keys(`${prefix}:*`)) {
      const type = await redis.type(k);
      if (type === 'hash') dump += JSON.stringify(await redis.hgetall(k));
      else if (type === 'string') dump += (await redis.get(k)) ?? '';
      else if (type === 'stream') dump += JSON.stringify(await redis.xrange(k, '-', '+'));
    }
    redis.disconnect();
    return dump;
  }

  it('seals the whole target: URL userinfo and secret query values never reach Redis in clear', async () => {
    const pw = `pw${randomUUID().slice(0, 12)}`;
    const token = `tok${randomUUID().slice(0, 12)}`;
    const key = `key${randomUUID().slice(0, 12)}`;
    const url = server.url.replace('http://', `http://svc:${pw}@`) + `?token=${token}&api_key=${key}&page=2`;
    const before = server.seen.length;
    const out = await runner().run(target(url), { only });
    expect(out.results.find((r) => r.probe === 'http')?.status).toBe('ok');
    expect(server.seen.length).toBeGreaterThan(before);
    const dump = await redisDump();
    expect(dump).toContain('page=2');
    for (const secret of [pw, token, key]) expect(dump).not.toContain(secret);
  });

  /** A job written straight to Redis, as any process that can write there could. */
  async function rawJob(pool: string, data: unknown): Promise<{ reason: string; hits: number }> {
    const q = new Queue(queueName(pool), { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix });
    const events = new QueueEvents(queueName(pool), { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix });
    await events.waitUntilReady();
    const before = server.seen.length;
    try {
      const job = await q.add('probe', data, { attempts: 1 });
      const reason = await job.waitUntilFinished(events, 15_000).then(
        () => 'completed',
        (err: Error) => err.message,
      );
      return { reason, hits: server.seen.length - before };
    } finally {
      await Promise.all([q.close(), events.close()]);
    }
  }

  it('a worker refuses a job without the queue signature, with or without headers', async () => {
    const now = Date.now() + 60_000;
    const unsealed = { url: server.url, limits: DEFAULT_PROBE_LIMITS, deadline: now, only };
    expect(await rawJob('default', unsealed)).toEqual({
      reason: expect.stringMatching(/^refused: the job is not in the sealed format/),
      hits: 0,
    });
    // Signed with another secret.
    const forged = encodeTarget(target(server.url), new Sealer('another-secret-of-16+chars'), {
      limits: DEFAULT_PROBE_LIMITS,
      deadline: now,
      only,
    });
    expect(await rawJob('default', forged)).toEqual({ reason: expect.stringMatching(/signature does not match QUEUE_SECRET/), hits: 0 });
    // A genuine job whose limits were raised in Redis.
    const genuine = encodeTarget(target(server.url), sealer, { limits: DEFAULT_PROBE_LIMITS, deadline: now, only });
    const altered = { ...genuine, limits: { ...genuine.limits, repeatCount: 2000, repeatSpreadMs: 1 } };
    expect(await rawJob('default', altered)).toEqual({ reason: expect.stringMatching(/signature does not match/), hits: 0 });
    expect(await rawJob('default', genuine)).toEqual({ reason: 'completed', hits: 1 });
  });

  it('a worker clamps every limit of a signed job to its own maxima', async () => {
    const pool = 'clamped';
    const maxima = { timeoutMs: 2_000, maxBodyBytes: 1024, maxRedirects: 1, repeatCount: 5, repeatSpreadMs: 200 };
    const w = createProbeWorker({
      redisUrl: REDIS_URL,
      pool,
      probes: PROBES,
      policy: allowAll,
      prefix,
      sealer,
      name: 'worker-clamped',
      maxLimits: maxima,
    });
    workers.push(w);
    await w.worker.waitUntilReady();
    // What made one worker send 2,000 GETs in 0.9 s, signed by a producer that holds the secret.
    const greedy = { timeoutMs: 3_600_000, maxBodyBytes: 1e12, maxRedirects: 1e6, repeatCount: 2000, repeatSpreadMs: 1 };
    const before = server.seen.length;
    const t = Date.now();
    const out = await runner().run(target(server.url), { pool, only: ['repeat'], limits: greedy, alwaysRepeat: true });
    expect(out.worker).toBe('worker-clamped');
    expect(server.seen.length - before).toBe(5);
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(clampLimits(greedy, maxima)).toEqual({ ...maxima, repeatSpreadMs: 1 });
    expect(clampLimits({ repeatCount: -3, timeoutMs: 'x', maxRedirects: NaN }, DEFAULT_PROBE_LIMITS)).toEqual({
      ...DEFAULT_PROBE_LIMITS,
      repeatCount: 1,
    });
  });

  it('says at once when no worker listens on a pool', async () => {
    const t = Date.now();
    await expect(runner().run(target(server.url), { pool: 'nobody-here', only })).rejects.toThrow(
      /no worker is listening on pool "nobody-here"/,
    );
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('compares vantage points: the same target from two pools', async () => {
    const engine = createEngine();
    const d = await diagnose(engine, runner(), target(server.url), { pools: ['zonea', 'zoneb'], only });
    expect(d.vantage?.pools.map((p) => [p.pool, p.healthy])).toEqual([
      ['zonea', true],
      ['zoneb', false],
    ]);
    expect(d.vantage?.summary).toMatch(/fails only from zoneb/);
  });

  it('keeps every result at concurrency 16', async () => {
    const r = runner();
    const outs = await Promise.all(Array.from({ length: 16 }, () => r.run(target(server.url), { only })));
    expect(outs.every((o) => o.results.some((x) => x.probe === 'http' && x.status === 'ok'))).toBe(true);
  });
});

describe('Redis unreachable', () => {
  it('is reported quickly with the reason, never a hang', async () => {
    const t = Date.now();
    const r = await checkRedis('redis://127.0.0.1:1', 1500);
    expect(r.ok).toBe(false);
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('leaves nothing behind that holds the process: no timer or socket after a check of a refused Redis', async () => {
    // ioredis' disconnect() arms a 2 s timer that only a later 'close' clears; on a connection already refused that
    // 'close' came before, and `triage diagnose --queue` printed its answer, then sat for 2 s before exiting.
    const script = [
      "const { checkRedis } = await import('./dist/queue/redis.js');",
      "const r = await checkRedis('redis://127.0.0.1:1');",
      'await new Promise((done) => setImmediate(done));',
      'console.log(JSON.stringify({ r, left: process.getActiveResourcesInfo() }));',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    const { r, left } = JSON.parse(out) as { r: unknown; left: string[] };
    expect(r).toEqual({ ok: false, reason: 'ECONNREFUSED' });
    // Its own standard output aside (a pipe here).
    expect(left.filter((kind) => kind !== 'PipeWrap' && kind !== 'TTYWrap')).toEqual([]);
  });

  it('makes `triage diagnose --queue` fall back to in-process probes with a message', async () => {
    const s = await startServer();
    const child = spawn(process.execPath, ['dist/cli.js', 'diagnose', s.url, '--queue', '--json'], {
      cwd: root,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', QUEUE_SECRET },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    s.server.close();
    expect(code).toBe(0);
    expect(err).toMatch(/unreachable.*in-process/);
    expect(JSON.parse(out).probes.length).toBeGreaterThan(0);
  });
});

describe('worker processes', () => {
  const prefix = `test-${randomUUID()}`;
  const children: ChildProcess[] = [];
  let slow: Awaited<ReturnType<typeof startServer>>;
  const runners: QueueRunner[] = [];

  function startWorker(name: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ['dist/worker.js'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL,
        QUEUE_SECRET,
        QUEUE_PREFIX: prefix,
        WORKER_POOLS: 'default',
        PROBE_ALLOW: '127.0.0.0/8',
        WORKER_LOCK_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        WORKER_SHUTDOWN_GRACE_MS: '10000',
        WORKER_NAME: name,
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const ready = new Promise<void>((res, rej) => {
      let buf = '';
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('worker ready')) res();
      });
      child.once('exit', (code) => rej(new Error(`worker exited with ${code}`)));
    });
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    return { child, ready, exited };
  }

  beforeAll(async () => {
    slow = await startServer(2500);
  });
  afterEach(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
    slow.server.close();
    await cleanPrefix(prefix);
  });

  it("`triage diagnose --queue` prints a worker's result and exits: every connection closed", async () => {
    const w = startWorker('cli-worker');
    await w.ready;
    const s = await startServer();
    const started = Date.now();
    const child = spawn(process.execPath, ['dist/cli.js', 'diagnose', s.url, '--queue', '--json'], {
      cwd: root,
      env: { ...process.env, REDIS_URL, QUEUE_PREFIX: prefix },
      // Standard input open and idle, as in a shell.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code] = await exited;
    clearTimeout(killer);
    s.server.close();
    expect(code, 'exited by itself, not killed').toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const result = JSON.parse(out) as { probes: { probe: string }[] };
    expect(result.probes.map((p) => p.probe)).toContain('http');
  }, 30_000);

  it('SIGTERM lets the running job finish before the worker exits', async () => {
    const w = startWorker('term-worker');
    await w.ready;
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer: new Sealer(QUEUE_SECRET) });
    runners.push(r);
    const before = slow.seen.length;
    const result = r.run(target(slow.url), { only });
    while (slow.seen.length === before) await new Promise((res) => setTimeout(res, 50));
    w.child.kill('SIGTERM');
    const out = await result;
    expect(out.worker).toBe('term-worker');
    expect(out.results.find((x) => x.probe === 'http')?.status).toBe('ok');
    expect(await w.exited).toBe(0);
  });

  it('a worker killed with SIGKILL mid-job leaves the job to another worker', async () => {
    const first = startWorker('doomed-worker');
    await first.ready;
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer: new Sealer(QUEUE_SECRET), pickupMs: 20_000 });
    runners.push(r);
    const before = slow.seen.length;
    const result = r.run(target(slow.url), { only });
    while (slow.seen.length === before) await new Promise((res) => setTimeout(res, 50));
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startWorker('rescue-worker');
    await second.ready;
    const out = await result;
    expect(out.worker).toBe('rescue-worker');
    expect(out.results.find((x) => x.probe === 'http')?.status).toBe('ok');
    expect(slow.seen.length - before).toBe(2);
  }, 40_000);
});
