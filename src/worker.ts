#!/usr/bin/env node
import { Queue } from 'bullmq';
import { readWorkerConfig } from './config.js';
import { asTriageError } from './errors.js';
import { childLogger, setLogLevel, type Logger } from './log.js';
import { createProbes } from './probes/index.js';
import { countJobs, registerQueueDepth } from './queue/depth.js';
import { queueName } from './queue/jobs.js';
import type { MetricsServer } from './queue/metrics-server.js';
import { checkRedis, createRedis, describeRedisUrl } from './queue/redis.js';
import { Sealer } from './queue/seal.js';
import { createProbeWorker, type ProbeWorker } from './queue/worker.js';
import { createSsrfPolicy } from './security/ssrf.js';

/**
 * Entry point of `npm run worker`: serve probe jobs for the configured pools until SIGTERM, with
 * GET /metrics and GET /healthz on METRICS_PORT.
 */
async function main(): Promise<void> {
  const config = readWorkerConfig();
  setLogLevel(config.logLevel);
  const log = childLogger({ component: 'worker' });
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  const sealer = new Sealer(config.queueSecret);
  const probes = createProbes({ extraCaPems: config.extraCaPems });
  const redis = await checkRedis(config.redisUrl);
  if (!redis.ok)
    throw new Error(`Redis at ${describeRedisUrl(config.redisUrl)} is unreachable (${redis.reason}): start it or fix REDIS_URL`);
  const workers: ProbeWorker[] = [];
  const metrics =
    config.metricsPort === 0
      ? undefined
      : await serveMetrics(config.metricsPort, () => workers.length > 0 && workers.every((w) => w.ready()), log);
  const counts = createRedis(config.redisUrl, 'producer');
  const queues = new Map(
    config.pools.map((pool) => [pool, new Queue(queueName(pool), { connection: counts, prefix: config.queuePrefix })]),
  );
  for (const q of queues.values()) q.on('error', () => {});
  registerQueueDepth(() => countJobs(queues));
  for (const pool of config.pools)
    workers.push(
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
        sealer,
        maxLimits: config.maxLimits,
        onRefused: (reason) => log.warn(reason),
      }),
    );
  await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  log.info(
    { pools: config.pools, concurrency: config.concurrency, metricsPort: metrics?.port ?? 0 },
    `worker ready: pools ${config.pools.join(', ')}, concurrency ${config.concurrency}${metrics ? `, /metrics on port ${metrics.port}` : ''}`,
  );
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: finishing running jobs (up to ${config.shutdownGraceMs} ms), then handing the rest back`);
    // Whatever hangs (a Redis that does not answer), the process ends within its grace period.
    setTimeout(() => {
      log.warn(`${sig}: the grace period (${config.shutdownGraceMs} ms) is over: exiting`);
      process.exit(0);
    }, config.shutdownGraceMs).unref();
    Promise.all(workers.map((w) => w.close(config.shutdownGraceMs)))
      .then(async () => {
        await metrics?.close();
        await Promise.allSettled([...queues.values()].map((q) => q.close()));
        counts.disconnect();
      })
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, `${sig}: shutdown failed`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * GET /metrics and /healthz, or undefined (with an error line) when the port is taken: probe jobs
 * matter more than metrics, and two workers on one host would otherwise stop each other.
 */
async function serveMetrics(port: number, ready: () => boolean, log: Logger): Promise<MetricsServer | undefined> {
  // Loaded here, so a worker with METRICS_PORT=0 never loads prom-client.
  const { startMetricsServer } = await import('./queue/metrics-server.js');
  try {
    return await startMetricsServer({ port, ready });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    log.error(
      `cannot serve /metrics and /healthz on METRICS_PORT=${port} (${code}): running without them; choose a free port, or METRICS_PORT=0 to turn them off`,
    );
    return undefined;
  }
}

main().catch((err: unknown) => {
  const e = asTriageError(err);
  process.stderr.write(`worker: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  process.exit(2);
});
