#!/usr/bin/env node
import { LogLevel, WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { memoryAlertStore, redisAlertStore } from './api/alert-store.js';
import { memoryDiagnosisStore, redisDiagnosisStore } from './api/diagnosis-store.js';
import { createReadiness, redisCheck, slackCheck, type ReadinessCheck } from './api/ready.js';
import { createApiHandler, type ApiDeps } from './api/server.js';
import { readServerConfig, type BotConfig, type ServerConfig } from './config.js';
import { asTriageError } from './errors.js';
import { boltLogger, childLogger, logLine, setLogLevel } from './log.js';
import { createProbes } from './probes/index.js';
import { InlineRunner, type ProbeRunner } from './queue/runner.js';
import type { Sealer } from './queue/seal.js';
import { redact } from './security/redact.js';
import { createSsrfPolicy, type SsrfPolicy } from './security/ssrf.js';
import { startHttpServer, stopHttpServer } from './server.js';
import { createBot, type Bot } from './slack/app.js';
import type { SlackStore } from './slack/store.js';
import { createEngine } from './triage/engine.js';

/**
 * Entry point of `npm start`: the Slack bot (Socket Mode or HTTP mode) and the HTTP API on one
 * port, or the API alone when Slack is not configured.
 */
async function main(): Promise<void> {
  const config = readServerConfig();
  setLogLevel(config.logLevel);
  // A failure nobody awaited is logged, never fatal: one bad request must not take the bot down.
  process.on('unhandledRejection', (err) => logLine('error', redact(`unhandled rejection: ${String((err as Error)?.stack ?? err)}`)));
  const engine = createEngine(config.knowledgeDirs);
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  const sealer = config.queueSecret ? new (await import('./queue/seal.js')).Sealer(config.queueSecret) : undefined;
  const runner = await createRunner(config, policy, sealer);
  // One Redis connection for the state of the bot and the API (the queue has its own).
  let redis: Redis | undefined;
  if (config.redisUrl) {
    const { createRedis } = await import('./queue/redis.js');
    redis = createRedis(config.redisUrl, 'producer');
  }
  let bot: Bot | undefined;
  if (config.bot) {
    let store: SlackStore | undefined;
    if (redis) store = (await import('./slack/store.js')).createSlackStore(redis, { prefix: config.queuePrefix });
    bot = createBot({
      config: config.bot,
      engine,
      runner,
      policy,
      logger: boltLogger(childLogger({ component: 'slack' })),
      ...(store ? { store } : {}),
      ...(sealer ? { sealer } : {}),
    });
  }
  const api = createApiHandler({
    engine,
    runner,
    runnerVia: config.redisUrl && config.queueSecret ? 'queue' : 'inline',
    policy,
    tokenDigests: config.api.tokenDigests,
    diagnoses: redis ? redisDiagnosisStore(redis, { prefix: config.queuePrefix }) : memoryDiagnosisStore(),
    readiness: createReadiness(readinessChecks(config)),
    options: {
      ratePerMinute: config.api.ratePerMinute,
      rateBurst: config.api.rateBurst,
      maxInFlightPerCaller: config.api.maxInFlightPerToken,
    },
    ...alertmanagerDeps(config, redis, bot),
  });
  // Serve health and metrics first: a slow Slack start must not fail the liveness probe.
  const http = await startHttpServer(config.port, { ...(bot?.requestListener ? { slack: bot.requestListener } : {}), api });
  await bot?.start();
  logLine('info', readyLine(config, http.port));

  const stop = async () => {
    await stopHttpServer(http.server).catch(() => {});
    await api.close();
    await bot?.stop().catch(() => {});
    await runner.close();
    redis?.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/**
 * Probes go to workers through the queue when REDIS_URL is set, in this process otherwise; while
 * Redis is down they run here too, so a chat command is still answered. Queue depth per pool is
 * read from Redis when /metrics is scraped.
 */
async function createRunner(config: ServerConfig, policy: SsrfPolicy, sealer: Sealer | undefined): Promise<ProbeRunner> {
  const local = new InlineRunner(createProbes(), policy);
  if (!config.redisUrl) return local;
  const redisUrl = config.redisUrl;
  if (!sealer) {
    // Workers run only jobs sealed and signed with QUEUE_SECRET: without it there is no queue to use.
    logLine('warn', "REDIS_URL is set but QUEUE_SECRET is not: probes run in this process, not on workers; set the workers' QUEUE_SECRET");
    return local;
  }
  const [{ QueueRunner }, { FallbackRunner }, { checkRedis }, { registerQueueDepth }] = await Promise.all([
    import('./queue/queue-runner.js'),
    import('./queue/fallback.js'),
    import('./queue/redis.js'),
    import('./queue/depth.js'),
  ]);
  const queue = new QueueRunner({ redisUrl, prefix: config.queuePrefix, sealer });
  registerQueueDepth(() => queue.jobCounts());
  return new FallbackRunner(
    queue,
    local,
    () => checkRedis(redisUrl, 1000),
    (reason) => logLine('warn', redact(`the probe queue is unreachable (${reason}): probing from this process`)),
  );
}

/** A Web API client for the poster: no retries of its own, so the poster owns pacing and retries. */
function slackClient(bot: BotConfig): WebClient {
  return new WebClient(bot.botToken, {
    ...(bot.slackApiUrl ? { slackApiUrl: bot.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
}

function readinessChecks(config: ServerConfig): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  if (config.redisUrl) checks.push(redisCheck(config.redisUrl));
  // The bot started, so auth.test succeeded at start.
  if (config.bot) {
    const client = slackClient(config.bot);
    checks.push(slackCheck(() => client.auth.test(), true));
  }
  return checks;
}

/** The Alertmanager receiver, when ALERTMANAGER_CHANNEL is set (config.ts requires Slack with it). */
function alertmanagerDeps(config: ServerConfig, redis: Redis | undefined, bot: Bot | undefined): Pick<ApiDeps, 'alertmanager'> {
  const channel = config.api.alertmanagerChannel;
  if (!channel || !bot) return {};
  // The bot's poster: one pace per channel, whoever posts.
  const poster = bot.poster;
  return {
    alertmanager: {
      output: { channel, post: (c, m) => poster.post(c, m), update: (c, ts, m) => poster.update(c, ts, m) },
      store: redis ? redisAlertStore(redis, config.queuePrefix) : memoryAlertStore(),
    },
  };
}

function readyLine(config: ServerConfig, port: number): string {
  const api =
    config.api.tokenDigests.length > 0 ? `HTTP API on port ${port}` : `health and metrics on port ${port} (API_TOKENS unset: /v1 is off)`;
  if (!config.bot) return `API ready (${api}; Slack not configured)`;
  return config.bot.mode === 'socket' ? `bot ready (Socket Mode; ${api})` : `bot ready (HTTP mode, POST /slack/events; ${api})`;
}

main().catch((err: unknown) => {
  const e = asTriageError(err);
  process.stderr.write(`triage: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  process.exit(2);
});
