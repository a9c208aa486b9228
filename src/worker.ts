#!/usr/bin/env node
import { readWorkerConfig } from './config.js';
import { asTriageError } from './errors.js';
import { logLine } from './log.js';
import { createProbes } from './probes/index.js';
import { checkRedis, describeRedisUrl } from './queue/redis.js';
import { Sealer } from './queue/seal.js';
import { createProbeWorker, type ProbeWorker } from './queue/worker.js';
import { createSsrfPolicy } from './security/ssrf.js';

/** Entry point of `npm run worker`: serve probe jobs for the configured pools until SIGTERM. */
async function main(): Promise<void> {
  const config = readWorkerConfig();
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  const sealer = config.queueSecret ? new Sealer(config.queueSecret) : undefined;
  const probes = createProbes({ extraCaPems: config.extraCaPems });
  const redis = await checkRedis(config.redisUrl);
  if (!redis.ok)
    throw new Error(`Redis at ${describeRedisUrl(config.redisUrl)} is unreachable (${redis.reason}): start it or fix REDIS_URL`);
  const workers: ProbeWorker[] = config.pools.map((pool) =>
    createProbeWorker({
      redisUrl: config.redisUrl,
      pool,
      probes,
      policy,
      concurrency: config.concurrency,
      prefix: config.queuePrefix,
      lockDurationMs: config.lockDurationMs,
      stalledIntervalMs: config.stalledIntervalMs,
      ...(config.name ? { name: config.name } : {}),
      ...(sealer ? { sealer } : {}),
    }),
  );
  await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  logLine('info', `worker ready: pools ${config.pools.join(', ')}, concurrency ${config.concurrency}`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logLine('info', `${sig}: finishing running jobs (up to ${config.shutdownGraceMs} ms), then handing the rest back`);
    Promise.all(workers.map((w) => w.close(config.shutdownGraceMs))).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const e = asTriageError(err);
  process.stderr.write(`worker: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  process.exit(2);
});
