/**
 * Redis down: the bot still acknowledges within 3 s, answers pasted errors and runs /diagnose in
 * process (the queue is unreachable), and nothing crashes. Real bot, real stand-in, a Redis URL
 * that points at a closed port.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBotConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { FallbackRunner } from '../../src/queue/fallback.js';
import { Sealer } from '../../src/queue/seal.js';
import { QueueRunner } from '../../src/queue/queue-runner.js';
import { checkRedis, createRedis } from '../../src/queue/redis.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { createBot } from '../../src/slack/app.js';
import { createSlackStore } from '../../src/slack/store.js';
import { createEngine } from '../../src/triage/engine.js';
import { startBadGateway, type BadGateway, serveBot } from '../support/bot-harness.js';
import { startSlackStandin, type SlackStandin } from '../support/slack-standin.js';
import { NGINX_REFUSED as nginxRefused, SIGNING_SECRET as signingSecret } from '../support/samples.js';

let slack: SlackStandin;
let bot: ReturnType<typeof createBot>;
let served: Awaited<ReturnType<typeof serveBot>> | undefined;
let botUrl: string;
let upstream: BadGateway;
let upstreamUrl: string;
let deadRedis: string;
const fellBack: string[] = [];

beforeAll(async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  deadRedis = `redis://127.0.0.1:${(probe.address() as AddressInfo).port}/0`;
  probe.close();
  slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
  upstream = await startBadGateway('/api');
  upstreamUrl = upstream.url;
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    REDIS_URL: deadRedis,
    PROBE_ALLOW: '127.0.0.0/8',
  });
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  const runner = new FallbackRunner(
    new QueueRunner({ redisUrl: deadRedis, prefix: 'test-redis-down', sealer: new Sealer('a-long-test-queue-secret-0123456789') }),
    new InlineRunner(createProbes(), policy),
    () => checkRedis(deadRedis, 500),
    (reason) => fellBack.push(reason),
  );
  bot = createBot({
    config,
    engine: createEngine(),
    runner,
    policy,
    store: createSlackStore(createRedis(deadRedis, 'producer'), { prefix: 'test-redis-down' }),
    posting: { perChannelIntervalMs: 100 },
  });
  await bot.start();
  served = await serveBot(bot);
  botUrl = served.url;
});

afterAll(async () => {
  await bot?.stop();
  await served?.stop();
  await upstream?.close();
  await slack?.stop();
});

describe('with Redis down', () => {
  it('acknowledges /diagnose within 3 s and answers from this process', async () => {
    const r = await slack.sendCommand(botUrl, { command: '/diagnose', text: upstreamUrl, user_id: 'U0ALICE', channel_id: 'C0DOWN' });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0DOWN', 20_000);
    expect(JSON.stringify(update.args)).toMatch(/502/);
    expect(fellBack.length).toBeGreaterThan(0);
  });

  it('acknowledges events within 3 s and still answers a pasted error', async () => {
    const r = await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'D0DOWN',
      channel_type: 'im',
      user: 'U0ALICE',
      text: nginxRefused,
      ts: '1700000100.000100',
    });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0DOWN', 10_000);
    expect(JSON.stringify(answer.args)).toContain('cause:upstream-refused');
  });

  it('says at once that a vantage point cannot be reached', async () => {
    await slack.sendCommand(botUrl, {
      command: '/diagnose',
      text: `${upstreamUrl} --from zonea,zoneb`,
      user_id: 'U0ALICE',
      channel_id: 'C0DOWN2',
    });
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0DOWN2', 10_000);
    expect(JSON.stringify(update.args)).toMatch(/probe queue is unreachable/);
  });
});
