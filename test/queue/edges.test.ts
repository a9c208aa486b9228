/**
 * The queue's edges with a Redis that goes away: a private redis-server on a spare port, killed
 * and started again (empty) while work is in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PROBES } from '../../src/probes/index.js';
import { QUEUE_LOST, QueueRunner } from '../../src/queue/queue-runner.js';
import { createRedis } from '../../src/queue/redis.js';
import { Sealer } from '../../src/queue/seal.js';
import { createProbeWorker, type ProbeWorker } from '../../src/queue/worker.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';

const root = resolve(import.meta.dirname, '../..');
const QUEUE_SECRET = 'a-long-test-queue-secret-0123456789';
const sealer = new Sealer(QUEUE_SECRET);
const children: ChildProcess[] = [];
const cleanup: (() => Promise<unknown> | unknown)[] = [];

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  return port;
}

/** A redis-server without persistence: a restart loses everything, as an unconfigured one does. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  children.push(child);
  const redis = createRedis(`redis://127.0.0.1:${port}`, 'producer');
  const deadline = Date.now() + 5000;
  while ((await redis.ping().catch(() => '')) !== 'PONG') {
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  redis.disconnect();
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});
afterAll(async () => {
  for (const c of children) await kill(c);
});

describe('with Redis gone', () => {
  it('a worker exits within its grace period on SIGTERM', async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    const graceMs = 3000;
    const worker = spawn(process.execPath, ['dist/worker.js'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${port}`,
        QUEUE_SECRET,
        QUEUE_PREFIX: `test-${randomUUID()}`,
        WORKER_SHUTDOWN_GRACE_MS: String(graceMs),
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(worker);
    let out = '';
    worker.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = once(worker, 'exit');
    while (!out.includes('worker ready')) await new Promise((r) => setTimeout(r, 50));
    await kill(redis);
    await new Promise((r) => setTimeout(r, 500));
    const t = Date.now();
    worker.kill('SIGTERM');
    const [code] = await exited;
    const took = Date.now() - t;
    expect(code).toBe(0);
    expect(took).toBeLessThanOrEqual(graceMs + 300);
  }, 20_000);

  it('a job lost with Redis fails within seconds ("the queue lost this job"), not after its whole wait', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const prefix = `test-${randomUUID()}`;
    // A target that answers after 20 s: the job is running when Redis restarts.
    let hits = 0;
    const slow = createHttpServer((_req, res) => {
      hits++;
      setTimeout(() => res.end('ok'), 20_000).unref();
    });
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    cleanup.push(
      () => slow.closeAllConnections(),
      () => slow.close(),
    );
    const worker: ProbeWorker = createProbeWorker({
      redisUrl,
      pool: 'default',
      probes: PROBES,
      policy: createSsrfPolicy({ allowAll: true }),
      prefix,
      sealer,
    });
    cleanup.push(() => worker.close(0));
    await worker.worker.waitUntilReady();
    const runner = new QueueRunner({ redisUrl, prefix, sealer, watchMs: 500 });
    cleanup.push(() => runner.close());
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    const outcome = runner.run({ url: new URL(url), headers: [] }, { only: ['http'], limits: { timeoutMs: 30_000 } }).then(
      () => 'done',
      (err: Error) => err.message,
    );
    while (hits === 0) await new Promise((r) => setTimeout(r, 50));
    await kill(redis);
    redis = await startRedis(port);
    const t = Date.now();
    const message = await outcome;
    expect(message).toContain(QUEUE_LOST);
    // The job's own wait would be 2 × 30 s + 4 s + 5 s + 15 s.
    expect(Date.now() - t).toBeLessThan(8_000);
  }, 30_000);
});
