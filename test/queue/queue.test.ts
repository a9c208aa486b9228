import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBES } from '../../src/probes/index.js';
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
  const sealer = new Sealer('a-long-test-queue-secret-0123456789');

  beforeAll(async () => {
    expect((await checkRedis(REDIS_URL)).ok, `Redis must run at ${REDIS_URL}`).toBe(true);
    server = await startServer();
    workers.push(
      createProbeWorker({ redisUrl: REDIS_URL, pool: 'default', probes: PROBES, policy: allowAll, prefix, sealer, name: 'worker-a' }),
    );
    workers.push(createProbeWorker({ redisUrl: REDIS_URL, pool: 'zonea', probes: PROBES, policy: allowAll, prefix, name: 'worker-zonea' }));
    workers.push(
      createProbeWorker({
        redisUrl: REDIS_URL,
        pool: 'zoneb',
        probes: PROBES,
        policy: createSsrfPolicy({ allowAll: false }),
        prefix,
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

  function runner(withSealer = true): QueueRunner {
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, ...(withSealer ? { sealer } : {}) });
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

  it('refuses to carry headers without QUEUE_SECRET, saying how to fix it', async () => {
    await expect(runner(false).run(target(server.url, [['Authorization', 'Bearer x']]), { only })).rejects.toThrow(/QUEUE_SECRET/);
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

  it('makes `triage diagnose --queue` fall back to in-process probes with a message', async () => {
    const s = await startServer();
    const child = spawn(process.execPath, ['dist/cli.js', 'diagnose', s.url, '--queue', '--json'], {
      cwd: root,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' },
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

  it('SIGTERM lets the running job finish before the worker exits', async () => {
    const w = startWorker('term-worker');
    await w.ready;
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix });
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
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, pickupMs: 20_000 });
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
