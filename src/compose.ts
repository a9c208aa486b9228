import type { Server } from 'node:http';
import type { Logger } from '@slack/bolt';
import { LogLevel, WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { AlertmanagerSink } from './api/alertmanager.js';
import { memoryDiagnosisStore, redisDiagnosisStore } from './api/diagnosis-store.js';
import { createReadiness, redisCheck, slackCheck, type ReadinessCheck } from './api/ready.js';
import { createApiHandler, type ApiDeps, type ApiHandler, type ApiOptions } from './api/server.js';
import type { BotConfig, ServerConfig } from './config.js';
import { boltLogger, childLogger, logLine } from './log.js';
import { createProbes } from './probes/index.js';
import { InlineRunner, type ProbeRunner } from './queue/runner.js';
import type { Sealer } from './queue/seal.js';
import { redact } from './security/redact.js';
import { createSsrfPolicy, type SsrfPolicy } from './security/ssrf.js';
import { startHttpServer, stopHttpServer } from './server.js';
import { createBot, type Bot, type BotDeps, type BotStores } from './slack/app.js';
import { redisRateLimiter } from './slack/rate-limit.js';
import { redisAlertWindows } from './store/alert-windows.js';
import { redisAnswerStore } from './store/answers.js';
import { redisInvestigationStore } from './store/investigations.js';
import { redisDedupe } from './store/dedupe.js';
import { redisFeedbackStore } from './store/feedback.js';
import { createEngine, type Engine } from './triage/engine.js';

/*
 * The one place the application is put together, for `npm start` (src/main.ts) and for the tests
 * (test/support/bot-harness.ts), so both run the same wiring:
 * 1. the engine, the SSRF policy (PROBE_ALLOW), the probe runner (the queue with REDIS_URL, falling
 *    back to this process while Redis is down; in process otherwise);
 * 2. one Redis connection for the bot's and the API's state: dedupe, answers, feedback, alert
 *    windows, rate limits, diagnoses (each in src/store/, each in memory without Redis);
 * 3. the Slack bot (when SLACK_* is set) and the HTTP API, whose Alertmanager route feeds the bot's
 *    alert pipeline in ALERTMANAGER_CHANNEL;
 * 4. one HTTP server on PORT: Slack under /slack/events (HTTP mode), the API and health elsewhere.
 */

/** Parts a caller supplies instead of the ones built from the config (tests; every field optional). */
export interface ComposeOverrides {
  readonly engine?: Engine;
  readonly policy?: SsrfPolicy;
  /** The caller owns it: closing the app does not close it. */
  readonly runner?: ProbeRunner;
  /** Whether that runner reaches workers (pools). @defaultValue 'inline' */
  readonly runnerVia?: 'inline' | 'queue';
  readonly sealer?: Sealer;
  readonly posting?: BotDeps['posting'];
  readonly alertWindowSec?: number;
  readonly logger?: Logger;
  readonly apiOptions?: Partial<ApiOptions>;
  readonly apiLog?: ApiDeps['log'];
}

/** The application, put together and not yet listening. */
export interface Composed {
  readonly config: ServerConfig;
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly bot?: Bot;
  readonly api: ApiHandler;
  readonly redis?: Redis;
  /** Serve HTTP on `port` (0: any) and start the bot (auth.test; Socket Mode connects). */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** Stop serving, let background work end, stop the bot, close what was opened here. */
  close(): Promise<void>;
}

export async function composeApp(config: ServerConfig, overrides: ComposeOverrides = {}): Promise<Composed> {
  const engine = overrides.engine ?? createEngine(config.knowledgeDirs);
  const policy = overrides.policy ?? createSsrfPolicy({ allow: config.probeAllow });
  const sealer = overrides.sealer ?? (config.queueSecret ? new (await import('./queue/seal.js')).Sealer(config.queueSecret) : undefined);
  const runner = overrides.runner ?? (await createRunner(config, policy, sealer));
  // One Redis connection for the state of the bot and the API (the queue has its own).
  const redis = config.redisUrl ? (await import('./queue/redis.js')).createRedis(config.redisUrl, 'producer') : undefined;
  const prefix = config.queuePrefix;
  let bot: Bot | undefined;
  if (config.bot) {
    const stores: BotStores = redis
      ? {
          dedupe: redisDedupe(redis, prefix),
          answers: redisAnswerStore(redis, { prefix }),
          investigations: redisInvestigationStore(redis, { prefix }),
          feedback: redisFeedbackStore(redis, { prefix }),
          windows: redisAlertWindows(redis, prefix),
          ...(config.bot.commandRateLimit ? { commandLimit: redisRateLimiter(redis, config.bot.commandRateLimit, prefix) } : {}),
        }
      : {};
    bot = createBot({
      config: config.bot,
      engine,
      runner,
      policy,
      stores,
      logger: overrides.logger ?? boltLogger(childLogger({ component: 'slack' })),
      ...(sealer ? { sealer } : {}),
      ...(overrides.posting ? { posting: overrides.posting } : {}),
      ...(overrides.alertWindowSec ? { alertWindowSec: overrides.alertWindowSec } : {}),
    });
  }
  const sink = alertmanagerSink(config, bot);
  const api = createApiHandler({
    engine,
    runner,
    runnerVia: overrides.runner ? (overrides.runnerVia ?? 'inline') : config.redisUrl && config.queueSecret ? 'queue' : 'inline',
    policy,
    tokenDigests: config.api.tokenDigests,
    diagnoses: redis ? redisDiagnosisStore(redis, { prefix }) : memoryDiagnosisStore(),
    readiness: createReadiness(readinessChecks(config)),
    ...(sink ? { alertmanager: sink } : {}),
    ...(overrides.apiLog ? { log: overrides.apiLog } : {}),
    options: {
      ratePerMinute: config.api.ratePerMinute,
      rateBurst: config.api.rateBurst,
      maxInFlightPerCaller: config.api.maxInFlightPerToken,
      ...overrides.apiOptions,
    },
  });
  let server: Server | undefined;
  return {
    config,
    engine,
    runner,
    api,
    ...(bot ? { bot } : {}),
    ...(redis ? { redis } : {}),
    async listen(port, host) {
      // Serve health and metrics first: a slow Slack start must not fail the liveness probe.
      const http = await startHttpServer(port, { ...(bot?.requestListener ? { slack: bot.requestListener } : {}), api }, host);
      server = http.server;
      await bot?.start();
      return { port: http.port };
    },
    async close() {
      if (server) await stopHttpServer(server).catch(() => {});
      await api.close();
      await bot?.stop().catch(() => {});
      if (!overrides.runner) await runner.close();
      redis?.disconnect();
    },
  };
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

/** The Alertmanager route's sink: the bot's alert pipeline, answering in ALERTMANAGER_CHANNEL. */
function alertmanagerSink(config: ServerConfig, bot: Bot | undefined): AlertmanagerSink | undefined {
  const channel = config.api.alertmanagerChannel;
  if (!channel || !bot || !config.bot) return undefined;
  const lang = config.bot.alertChannelLangs[channel] ?? 'en';
  return (alert) => bot.alerts.receive(alert, { channel, team: bot.self.teamId ?? '', lang, via: 'webhook' });
}

/** A Web API client for readiness: no retries of its own. */
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
