import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWorkerConfig } from '../src/config.js';
import { TriageError } from '../src/errors.js';
import { probeDuration, queueDepth, queueJobs, registry } from '../src/metrics-registry.js';
import { PROBES } from '../src/probes/index.js';
import type { Probe, ProbeResult } from '../src/probes/probe.js';
import { runProbes } from '../src/probes/run.js';
import { countJobs, registerQueueDepth } from '../src/queue/depth.js';
import { encodeTarget, jobOptions, queueName } from '../src/queue/jobs.js';
import { Sealer } from '../src/queue/seal.js';
import { startMetricsServer } from '../src/queue/metrics-server.js';
import { QueueRunner } from '../src/queue/queue-runner.js';
import { checkRedis, createRedis } from '../src/queue/redis.js';
import { InlineRunner } from '../src/queue/runner.js';
import { createProbeWorker, type ProbeWorker } from '../src/queue/worker.js';
import { trusted } from '../src/security/redact.js';
import { createSsrfPolicy } from '../src/security/ssrf.js';
import { DEFAULT_PROBE_LIMITS } from '../src/probes/probe.js';
import { testRedisUrl } from './support/redis-url.js';

const REDIS_URL = testRedisUrl();
const root = resolve(import.meta.dirname, '..');
const allowAll = createSsrfPolicy({ allowAll: true });
const only = ['http'];
const QUEUE_SECRET = 'a-long-test-queue-secret-0123456789';
const sealer = new Sealer(QUEUE_SECRET);

type Labels = Record<string, string>;

/** A sample of a metric (for histograms, `metricName` picks _count, _sum or _bucket); 0 when absent. */
async function sample(
  metric: { get(): Promise<{ values: { value: number; labels: object; metricName?: string }[] }> },
  labels: Labels,
  metricName?: string,
) {
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      (metricName === undefined || v.metricName === metricName) &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Labels)[k]) === want) &&
      Object.keys(v.labels).filter((k) => k !== 'le').length === Object.keys(labels).length,
  );
  return hit?.value ?? 0;
}

const histCount = (probe: string, phase: string) => sample(probeDuration, { probe, phase }, 'triage_probe_duration_seconds_count');
const histSum = (probe: string, phase: string) => sample(probeDuration, { probe, phase }, 'triage_probe_duration_seconds_sum');
const outcomes = (pool: string, outcome: string) => sample(queueJobs, { pool, outcome });

async function startHttp(delayMs = 0): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => void setTimeout(() => res.end('ok'), delayMs));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, server };
}

async function freePort(): Promise<number> {
  const s = createNetServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function cleanPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

const target = (url: string) => ({ url: new URL(url), headers: [] });
const uniquePool = () => `m-${randomUUID().slice(0, 8)}`;

describe('probe duration histogram', () => {
  let http: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    http = await startHttp();
  });
  afterAll(() => http.server.close());

  it('observes total and each timed phase of a probe run through InlineRunner', async () => {
    const before = { total: await histCount('http', 'total'), dns: await histCount('http', 'dns'), ttfb: await histCount('http', 'ttfb') };
    const out = await new InlineRunner(PROBES, allowAll).run(target(http.url), { only });
    expect(out.results.find((r) => r.probe === 'http')?.status).toBe('ok');
    expect(await histCount('http', 'total')).toBe(before.total + 1);
    expect(await histCount('http', 'dns')).toBe(before.dns + 1);
    expect(await histCount('http', 'ttfb')).toBe(before.ttfb + 1);
    const text = await registry.metrics();
    expect(text).toMatch(/triage_probe_duration_seconds_bucket\{le="0\.005",probe="http",phase="total"\} \d+/);
  });

  it('maps PhaseTimings to phase labels in seconds and skips probes that did not run', async () => {
    const name = `fake-${randomUUID().slice(0, 6)}`;
    const result = (status: ProbeResult['status']): ProbeResult => ({
      probe: name,
      status,
      durationMs: 250,
      phases: { resolve: 10, connect: 20, tls: 30, tunnel: 40, processing: 50, transfer: 60 },
      summary: trusted('fake'),
      details: {},
      signals: [],
    });
    const fake = (status: ProbeResult['status']): Probe => ({
      name,
      describes: 'a fake probe with fixed timings',
      applies: () => true,
      run: async () => result(status),
    });
    await runProbes([fake('failed')], target('http://127.0.0.1:9/'), { policy: allowAll });
    const expected: [string, number][] = [
      ['dns', 0.01],
      ['connect', 0.02],
      ['tls', 0.03],
      ['tunnel', 0.04],
      ['ttfb', 0.05],
      ['transfer', 0.06],
      ['total', 0.25],
    ];
    for (const [phase, seconds] of expected) {
      expect(await histCount(name, phase), phase).toBe(1);
      expect(await histSum(name, phase), phase).toBeCloseTo(seconds, 6);
    }
    expect(await histCount(name, 'resolve')).toBe(0);
    await runProbes([fake('skipped')], target('http://127.0.0.1:9/'), { policy: allowAll });
    expect(await histCount(name, 'total')).toBe(1);
  });
});

describe('queue metrics (real Redis)', () => {
  const prefix = `test-${randomUUID()}`;
  let http: Awaited<ReturnType<typeof startHttp>>;
  const workers: ProbeWorker[] = [];
  const runners: QueueRunner[] = [];
  const queues: Queue[] = [];
  const connections: Redis[] = [];
  const unregister: (() => void)[] = [];

  beforeAll(async () => {
    expect((await checkRedis(REDIS_URL)).ok, `Redis must run at ${REDIS_URL}`).toBe(true);
    http = await startHttp();
  });
  afterEach(() => {
    for (const u of unregister.splice(0)) u();
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
    await Promise.all(workers.map((w) => w.close(1000)));
    await Promise.all(queues.map((q) => q.close()));
    for (const c of connections) c.disconnect();
    http?.server.close();
    await cleanPrefix(prefix);
  });

  function worker(pool: string): ProbeWorker {
    const w = createProbeWorker({ redisUrl: REDIS_URL, pool, probes: PROBES, policy: allowAll, prefix, sealer, name: `w-${pool}` });
    workers.push(w);
    return w;
  }
  function runner(): QueueRunner {
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer });
    runners.push(r);
    return r;
  }
  function queue(pool: string): Queue {
    const connection = createRedis(REDIS_URL, 'producer');
    connections.push(connection);
    const q = new Queue(queueName(pool), { connection, prefix });
    queues.push(q);
    return q;
  }

  it('counts a completed job on the worker side and observes its probes', async () => {
    const pool = uniquePool();
    const w = worker(pool);
    await w.worker.waitUntilReady();
    const total = await histCount('http', 'total');
    // The producer may hear of the completion before the worker's own 'completed' event fires.
    const completed = once(w.worker, 'completed');
    const out = await runner().run(target(http.url), { pool, only });
    expect(out.via).toBe('queue');
    await completed;
    expect(await outcomes(pool, 'completed')).toBe(1);
    expect(await outcomes(pool, 'failed')).toBe(0);
    expect(await histCount('http', 'total')).toBe(total + 1);
  });

  it('counts a job that fails for good as failed on the worker', async () => {
    const pool = uniquePool();
    const w = worker(pool);
    await w.worker.waitUntilReady();
    const failed = new Promise((res) => w.worker.once('failed', res));
    const data = encodeTarget(target(http.url), sealer, { limits: DEFAULT_PROBE_LIMITS, deadline: Date.now() - 1000 });
    await queue(pool).add('probe', data, jobOptions(randomUUID()));
    await failed;
    expect(await outcomes(pool, 'failed')).toBe(1);
    expect(await outcomes(pool, 'retried')).toBe(0);
    expect(await outcomes(pool, 'completed')).toBe(0);
  });

  it('counts no_worker and timeout on the producer side', async () => {
    const idle = uniquePool();
    await expect(runner().run(target(http.url), { pool: idle, only })).rejects.toThrow(/no worker is listening/);
    expect(await outcomes(idle, 'no_worker')).toBe(1);

    // A worker that is connected (so the runner sees one) but never takes a job.
    const pool = uniquePool();
    const connection = createRedis(REDIS_URL, 'blocking');
    connections.push(connection);
    const idleWorker = new Worker(queueName(pool), async () => ({}), { connection, prefix, autorun: false });
    idleWorker.on('error', () => {});
    await idleWorker.waitUntilReady();
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer, pickupMs: 0 });
    runners.push(r);
    await expect(r.run(target(http.url), { pool, only, limits: { timeoutMs: 100, repeatSpreadMs: 0 } })).rejects.toThrow(
      /no result from pool/,
    );
    expect(await outcomes(pool, 'timeout')).toBe(1);
    expect(await outcomes(pool, 'failed')).toBe(0);
    await idleWorker.close();
  }, 20_000);

  it('reports waiting jobs of a pool without workers in the depth gauge on each scrape', async () => {
    const pool = uniquePool();
    const q = queue(pool);
    unregister.push(registerQueueDepth(() => countJobs(new Map([[pool, q]]))));
    expect(await sample(queueDepth, { pool, state: 'waiting' })).toBe(0);
    const data = encodeTarget(target(http.url), sealer, { limits: DEFAULT_PROBE_LIMITS, deadline: Date.now() + 60_000 });
    for (let i = 0; i < 3; i++) await q.add('probe', data, jobOptions(randomUUID()));
    expect(await sample(queueDepth, { pool, state: 'waiting' })).toBe(3);
    expect(await registry.metrics()).toContain(`triage_queue_jobs{pool="${pool}",state="waiting"} 3`);
    await q.drain();
    expect(await sample(queueDepth, { pool, state: 'waiting' })).toBe(0);
  });

  it('asks the QueueRunner for the default pool and the pools it used', async () => {
    const r = runner();
    const counts = await r.jobCounts(['extra-pool']);
    expect(Object.keys(counts).sort()).toEqual(['default', 'extra-pool']);
    expect(counts.default).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });

  it('does not let a hanging or failing source hang or fail a scrape', async () => {
    const pool = uniquePool();
    unregister.push(registerQueueDepth(() => new Promise(() => {}), { timeoutMs: 200 }));
    unregister.push(registerQueueDepth(() => Promise.reject(new Error('ECONNREFUSED')), { timeoutMs: 200 }));
    unregister.push(registerQueueDepth(async () => ({ [pool]: { waiting: 7 } }), { timeoutMs: 200 }));
    const t = Date.now();
    const text = await registry.metrics();
    expect(Date.now() - t).toBeLessThan(1500);
    expect(text).toContain(`triage_queue_jobs{pool="${pool}",state="waiting"} 7`);
  });

  it('a Redis that is down yields no depth series, quickly', async () => {
    const down = new QueueRunner({ redisUrl: 'redis://127.0.0.1:1', prefix, sealer });
    runners.push(down);
    unregister.push(registerQueueDepth(() => down.jobCounts(), { timeoutMs: 1000 }));
    const t = Date.now();
    const { values } = await queueDepth.get();
    expect(Date.now() - t).toBeLessThan(2500);
    expect(values).toEqual([]);
  });
});

describe('METRICS_PORT', () => {
  const base = { REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_SECRET };
  const problems = (env: Record<string, string>) => {
    try {
      readWorkerConfig(env);
      return [];
    } catch (err) {
      if (err instanceof TriageError) return [...err.details];
      throw err;
    }
  };

  it('defaults to 9464, accepts 0 (off) to 65535, and explains anything else', () => {
    expect(readWorkerConfig(base).metricsPort).toBe(9464);
    expect(readWorkerConfig({ ...base, METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(readWorkerConfig({ ...base, METRICS_PORT: '65535' }).metricsPort).toBe(65535);
    for (const bad of ['65536', '-1', 'http', '80.5'])
      expect(problems({ ...base, METRICS_PORT: bad }).join('\n')).toMatch(
        new RegExp(`METRICS_PORT="${bad.replace('.', '\\.')}" must be a port from 0 to 65535 \\(0 turns /metrics and /healthz off\\)`),
      );
  });
});

describe('the metrics server', () => {
  it('answers /healthz 200 or 503 as the readiness says, /metrics with the registry, 404 elsewhere', async () => {
    let ready = true;
    const s = await startMetricsServer({ port: 0, host: '127.0.0.1', ready: () => ready });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      ready = false;
      const down = await fetch(`${base}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable' });
      const m = await fetch(`${base}/metrics`);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await m.text()).toContain('# TYPE triage_probe_duration_seconds histogram');
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('rejects when the port is taken', async () => {
    const a = await startMetricsServer({ port: 0, host: '127.0.0.1', ready: () => true });
    try {
      await expect(startMetricsServer({ port: a.port, host: '127.0.0.1', ready: () => true })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });

  it('a probe worker is ready once connected and not after close', async () => {
    const w = createProbeWorker({
      redisUrl: REDIS_URL,
      pool: uniquePool(),
      probes: PROBES,
      policy: allowAll,
      prefix: `test-${randomUUID()}`,
      sealer,
    });
    await w.worker.waitUntilReady();
    expect(w.ready()).toBe(true);
    await w.close(1000);
    expect(w.ready()).toBe(false);
  });
});

describe('the worker process (dist/worker.js)', () => {
  const prefix = `test-${randomUUID()}`;
  afterAll(() => cleanPrefix(prefix));

  it('serves /metrics and /healthz on METRICS_PORT, logs JSON, and closes them on SIGTERM', async () => {
    const port = await freePort();
    const pool = uniquePool();
    const http = await startHttp();
    const child = spawn(process.execPath, ['dist/worker.js'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL,
        QUEUE_SECRET,
        QUEUE_PREFIX: prefix,
        WORKER_POOLS: pool,
        PROBE_ALLOW: '127.0.0.0/8',
        METRICS_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const r = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer });
    try {
      await new Promise<void>((res, rej) => {
        const timer = setInterval(() => out.includes('worker ready') && (clearInterval(timer), res()), 50);
        void exited.then((code) => (clearInterval(timer), rej(new Error(`worker exited with ${code}`))));
      });
      const ready = out.split('\n').find((l) => l.includes('worker ready'))!;
      expect(JSON.parse(ready)).toEqual(expect.objectContaining({ level: 'info', component: 'worker', pools: [pool] }));

      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${base}/metrics`)).text()).toContain(`triage_queue_jobs{pool="${pool}",state="waiting"} 0`);

      await r.run(target(http.url), { pool, only });
      const completed = `triage_queue_job_outcomes_total{pool="${pool}",outcome="completed"} 1`;
      let text = '';
      for (const t = Date.now(); Date.now() - t < 5000 && !text.includes(completed); await new Promise((res) => setTimeout(res, 50)))
        text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain(completed);
      expect(text).toMatch(/triage_probe_duration_seconds_count\{probe="http",phase="total"\} 1\b/);
      expect(text).toContain('triage_process_process_cpu_user_seconds_total');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await r.close();
      http.server.close();
    }
  });
});

describe('metric labels', () => {
  it('are masked like every other output', async () => {
    const token = `xoxb-123456789012-1234567890123-${'Zq7'.repeat(8)}`;
    queueJobs.inc({ pool: `p ${token}`, outcome: 'completed' });
    queueJobs.labels({ pool: `q ${token}`, outcome: 'failed' }).inc();
    probeDuration.observe({ probe: 'http', phase: `password=${'Hx9'.repeat(6)}` }, 0.1);
    const text = await registry.metrics();
    expect(text).not.toContain('Zq7Zq7Zq7');
    expect(text).not.toContain('Hx9Hx9Hx9');
    expect(text).toContain('pool="p [masked](slack-token)"');
    expect(text).toContain('phase="password=[masked]"');
  });
});
