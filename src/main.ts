#!/usr/bin/env node
import { readBotConfig } from './config.js';
import { asTriageError } from './errors.js';
import { logLine } from './log.js';
import { createProbes } from './probes/index.js';
import { InlineRunner, type ProbeRunner } from './queue/runner.js';
import { createSsrfPolicy } from './security/ssrf.js';
import { startHttpServer, stopHttpServer } from './server.js';
import { createBot } from './slack/app.js';
import type { SlackStore } from './slack/store.js';
import { createEngine } from './triage/engine.js';

/** Entry point of `npm start`: the Slack bot, in Socket Mode or HTTP mode. */
async function main(): Promise<void> {
  const config = readBotConfig();
  const engine = createEngine();
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  let runner: ProbeRunner = new InlineRunner(createProbes(), policy);
  if (config.redisUrl) {
    const [{ QueueRunner }, { Sealer }] = await Promise.all([import('./queue/queue-runner.js'), import('./queue/seal.js')]);
    runner = new QueueRunner({
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      ...(config.queueSecret ? { sealer: new Sealer(config.queueSecret) } : {}),
    });
  }
  let store: SlackStore | undefined;
  if (config.redisUrl) {
    const [{ createRedis }, { createSlackStore }] = await Promise.all([import('./queue/redis.js'), import('./slack/store.js')]);
    store = createSlackStore(createRedis(config.redisUrl, 'producer'), { prefix: config.queuePrefix });
  }
  const bot = createBot({ config, engine, runner, policy, ...(store ? { store } : {}) });
  await bot.start();
  const http = await startHttpServer(config.port, { ...(bot.requestListener ? { slack: bot.requestListener } : {}) });
  logLine(
    'info',
    config.mode === 'socket'
      ? `bot ready (Socket Mode; HTTP on port ${http.port})`
      : `bot ready (HTTP mode, POST /slack/events on port ${http.port})`,
  );
  const stop = async () => {
    await bot.stop().catch(() => {});
    await stopHttpServer(http.server).catch(() => {});
    await runner.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  const e = asTriageError(err);
  process.stderr.write(`bot: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  process.exit(2);
});
