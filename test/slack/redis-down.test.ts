/**
 * Redis down: the bot still acknowledges within 3 s, answers pasted errors and runs /diagnose in
 * process (the queue is unreachable), and nothing crashes. Real bot, real stand-in, a Redis URL
 * that points at a closed port.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbes } from '../../src/probes/index.js';
import { FallbackRunner } from '../../src/queue/fallback.js';
import { Sealer } from '../../src/queue/seal.js';
import { QueueRunner } from '../../src/queue/queue-runner.js';
import { checkRedis } from '../../src/queue/redis.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { startBadGateway, startBotHarness, type BadGateway, type BotHarness } from '../support/bot-harness.js';
import { NGINX_REFUSED as nginxRefused } from '../support/samples.js';
import type { SlackStandin } from '../support/slack-standin.js';

let h: BotHarness;
let slack: SlackStandin;
let botUrl: string;
let upstream: BadGateway;
let upstreamUrl: string;
let deadRedis: string;
const fellBack: string[] = [];

beforeAll(async () => {
  // A port that was just free: nothing listens there.
  const probe: Server = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  deadRedis = `redis://127.0.0.1:${(probe.address() as AddressInfo).port}/0`;
  probe.close();
  upstream = await startBadGateway('/api');
  upstreamUrl = upstream.url;
  const policy = createSsrfPolicy({ allow: '127.0.0.0/8' });
  const runner = new FallbackRunner(
    new QueueRunner({ redisUrl: deadRedis, prefix: 'test-redis-down', sealer: new Sealer('a-long-test-queue-secret-0123456789') }),
    new InlineRunner(createProbes(), policy),
    () => checkRedis(deadRedis, 500),
    (reason) => fellBack.push(reason),
  );
  h = await startBotHarness({
    env: { REDIS_URL: deadRedis, PROBE_ALLOW: '127.0.0.0/8' },
    overrides: { policy, runner, runnerVia: 'queue', posting: { perChannelIntervalMs: 100 } },
  });
  slack = h.slack;
  botUrl = h.url;
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
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
    const r = await slack.sendMessage(botUrl, { channel: 'D0DOWN', text: nginxRefused });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0DOWN', 10_000);
    expect(JSON.stringify(answer.args)).toContain('cause:upstream-refused~');
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
