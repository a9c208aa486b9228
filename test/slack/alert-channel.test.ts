/**
 * Alert channels end to end: monitoring bots post, the bot answers each alert once in its thread,
 * re-firings update that answer, RESOLVED updates it; real Redis keeps the windows.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBotConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { createBot } from '../../src/slack/app.js';
import { createSlackStore } from '../../src/slack/store.js';
import { createEngine } from '../../src/triage/engine.js';
import { serveBot } from '../support/bot-harness.js';
import { startSlackStandin, type SlackStandin } from '../support/slack-standin.js';
import { SIGNING_SECRET as signingSecret } from '../support/samples.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const prefix = `test-${randomUUID()}`;
let slack: SlackStandin;
let bot: ReturnType<typeof createBot>;
let served: Awaited<ReturnType<typeof serveBot>> | undefined;
let botUrl: string;
let redis: Redis;

function alertmanager(status: 'FIRING' | 'RESOLVED', ts: string, count = 1) {
  return {
    type: 'message',
    subtype: 'bot_message',
    bot_id: 'B0ALERTMGR',
    username: 'alertmanager',
    channel: 'C0ALERTS',
    ts,
    text: '',
    attachments: [
      {
        color: status === 'FIRING' ? 'danger' : 'good',
        title: `[${status}:${count}] NginxUpstreamRefused (prod web)`,
        title_link: 'http://alertmanager.example.com/#/alerts?receiver=slack',
        text: [
          '*Alert:* NginxUpstreamRefused - critical',
          '*Description:* nginx cannot reach the orders upstream',
          '*Details:*',
          ' • *alertname:* `NginxUpstreamRefused`',
          ' • *instance:* `web-1:9113`',
          ' • *log:* `connect() failed (111: Connection refused) while connecting to upstream, upstream: "http://10.0.3.4:8080/api"`',
        ].join('\n'),
        fallback: `[${status}:${count}] NginxUpstreamRefused`,
      },
    ],
  };
}

beforeAll(async () => {
  slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
  redis = new Redis(REDIS_URL);
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    ALERT_CHANNELS: 'C0ALERTS',
    REDIS_URL,
  });
  const policy = createSsrfPolicy({ allow: '' });
  bot = createBot({
    config,
    engine: createEngine(),
    runner: new InlineRunner(createProbes(), policy),
    policy,
    store: createSlackStore(redis, { prefix }),
  });
  await bot.start();
  served = await serveBot(bot);
  botUrl = served.url;
});

afterAll(async () => {
  await bot?.stop();
  await served?.stop();
  await slack?.stop();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const settle = () => new Promise((r) => setTimeout(r, 400));
const threadReplies = () => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0ALERTS');

describe('alert channels', () => {
  it('answers a monitoring alert once, in its thread, with the ranked cause', async () => {
    await slack.sendEvent(botUrl, alertmanager('FIRING', '1700001000.000100'));
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0ALERTS');
    expect(call.args.thread_ts).toBe('1700001000.000100');
    expect(JSON.stringify(call.args.blocks)).toMatch(/cause:upstream-refused/);
  });

  it('updates the first answer when the same alert fires again, instead of answering again', async () => {
    await slack.sendEvent(botUrl, alertmanager('FIRING', '1700001060.000100', 2));
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0ALERTS');
    expect(JSON.stringify(update.args.blocks)).toMatch(/seen 2 times/);
    await settle();
    expect(threadReplies()).toHaveLength(1);
  });

  it('updates the answer when the alert resolves', async () => {
    await slack.sendEvent(botUrl, alertmanager('RESOLVED', '1700001120.000100'));
    await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0ALERTS' && JSON.stringify(c.args.blocks).includes('resolved'));
    await settle();
    expect(threadReplies()).toHaveLength(1);
  });

  it('never answers its own posts, replies inside threads, or people in the alert channel', async () => {
    const before = threadReplies().length;
    await slack.sendEvent(botUrl, { ...alertmanager('FIRING', '1700001200.000100'), bot_id: slack.botId });
    await slack.sendEvent(botUrl, { ...alertmanager('FIRING', '1700001260.000100'), thread_ts: '1700001000.000100' });
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'C0ALERTS',
      user: 'U0ALICE',
      text: 'looking into it',
      ts: '1700001300.000100',
    });
    await settle();
    expect(threadReplies()).toHaveLength(before);
  });
});
