// Queue round trip (enqueue → worker → result) p50/p99 at 1, 4 and 16 concurrent jobs, and 1,000
// probe jobs through 2 worker processes with none lost and none run twice to completion.
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/0).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { QueueRunner } from '../dist/queue/queue-runner.js';
import { Sealer } from '../dist/queue/seal.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = `bench-${randomUUID()}`;
const QUEUE_SECRET = process.env.QUEUE_SECRET ?? `bench-${randomUUID()}`;
const hits = new Map();
const server = createServer((req, res) => {
  hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
  res.end('ok');
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${server.address().port}`;

const workers = ['w1', 'w2'].map((name) => {
  const child = spawn(process.execPath, ['dist/worker.js'], {
    env: {
      ...process.env,
      REDIS_URL,
      QUEUE_SECRET,
      QUEUE_PREFIX: prefix,
      PROBE_ALLOW: '127.0.0.0/8',
      WORKER_CONCURRENCY: '16',
      WORKER_NAME: name,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, ready: new Promise((res) => child.stdout.on('data', (b) => b.toString().includes('worker ready') && res())) };
});
await Promise.all(workers.map((w) => w.ready));
const runner = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer: new Sealer(QUEUE_SECRET) });
const only = ['http'];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const line = (name, v, unit, extra = '') => console.log(`${name.padEnd(44)} ${String(v).padStart(10)} ${unit}${extra ? `  ${extra}` : ''}`);

for (const c of [1, 4, 16]) {
  const times = [];
  let next = 0;
  const total = 200;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await runner.run({ url: new URL(`${base}/rt`), headers: [] }, { only });
        times.push(performance.now() - t);
      }
    }),
  );
  line(
    `queue round trip, concurrency ${c}`,
    `${pct(times, 50).toFixed(1)} / ${pct(times, 99).toFixed(1)}`,
    'ms p50/p99',
    `${times.length} jobs`,
  );
}

const N = 1000;
const t0 = performance.now();
const results = await Promise.allSettled(
  Array.from({ length: N }, (_, i) => runner.run({ url: new URL(`${base}/job/${i}`), headers: [] }, { only })),
);
const secs = (performance.now() - t0) / 1000;
const ok = results.filter((r) => r.status === 'fulfilled' && r.value.results.some((x) => x.status === 'ok')).length;
let twice = 0;
let missing = 0;
for (let i = 0; i < N; i++) {
  const h = hits.get(`/job/${i}`) ?? 0;
  if (h > 1) twice++;
  if (h === 0) missing++;
}
const by = {};
for (const r of results) if (r.status === 'fulfilled') by[r.value.worker] = (by[r.value.worker] ?? 0) + 1;
line(
  '1000 jobs through 2 workers',
  `${ok}/${N}`,
  'completed',
  `${(N / secs).toFixed(0)} jobs/s; lost ${N - ok}, never run ${missing}, run twice ${twice}; per worker ${JSON.stringify(by)}`,
);

await runner.close();
for (const w of workers) w.child.kill('SIGTERM');
await Promise.all(workers.map((w) => once(w.child, 'exit')));
server.close();
const redis = new Redis(REDIS_URL);
const keys = await redis.keys(`${prefix}:*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
