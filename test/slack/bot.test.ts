/**
 * The bot end to end in HTTP mode against the Slack stand-in: signed requests in, Web API calls out.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBotConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { createBot } from '../../src/slack/app.js';
import { createEngine } from '../../src/triage/engine.js';
import { startBadGateway, type BadGateway, serveBot } from '../support/bot-harness.js';
import { startSlackStandin, type SlackStandin } from '../support/slack-standin.js';
import { NGINX_REFUSED as nginxError, SIGNING_SECRET as signingSecret } from '../support/samples.js';

let slack: SlackStandin;
let bot: ReturnType<typeof createBot>;
let served: Awaited<ReturnType<typeof serveBot>> | undefined;
let botUrl: string;
let upstream: BadGateway;
let badGateway: string;

beforeAll(async () => {
  slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
  upstream = await startBadGateway('/api');
  badGateway = upstream.url;
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    WATCH_CHANNELS: 'C0WATCHED',
    PROBE_ALLOW: '127.0.0.0/8',
  });
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  bot = createBot({ config, engine: createEngine(), runner: new InlineRunner(createProbes(), policy), policy });
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

const posts = (channel: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
const blockIds = (args: Record<string, unknown>) => ((args.blocks as { block_id?: string }[]) ?? []).map((b) => b.block_id ?? '');
const settle = () => new Promise((r) => setTimeout(r, 400));

describe('/diagnose', () => {
  it('answers help ephemerally, acknowledged within 3 s', async () => {
    const r = await slack.sendCommand(botUrl, { command: '/diagnose', text: 'help', user_id: 'U0ALICE', channel_id: 'C0ONE' });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    const post = await slack.waitForResponseUrlPost(r.responseUrlId);
    expect(JSON.stringify(post.body)).toMatch(/ephemeral/);
    expect(JSON.stringify(post.body)).toMatch(/--upstream/);
  });

  it('explains pasted text in the channel, each cause carrying its id', async () => {
    await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxError, user_id: 'U0ALICE', channel_id: 'C0TWO' });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0TWO');
    expect(blockIds(call.args)).toContain('cause:upstream-refused');
  });

  it('probes a URL: a visible "probing" message, then updated in place with the ranked answer', async () => {
    await slack.sendCommand(botUrl, { command: '/diagnose', text: `<${badGateway}>`, user_id: 'U0ALICE', channel_id: 'C0THREE' });
    const placeholder = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0THREE');
    expect(JSON.stringify(placeholder.args)).toMatch(/[Pp]robing/);
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0THREE', 20_000);
    expect(blockIds(update.args).some((id) => id.startsWith('cause:'))).toBe(true);
    expect(JSON.stringify(update.args)).toMatch(/502/);
  });

  it('shows the first ranked answer within 2 s, says which probes still run, then completes it in place', async () => {
    // Behind the 502, a backend that answers at once and keeps idle connections 2.5 s: the upstream probe watches that long.
    const backend = createServer((_req, res) => res.end('fine'));
    backend.keepAliveTimeout = 1500;
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    try {
      const upstreamAt = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
      const sent = Date.now();
      await slack.sendCommand(botUrl, {
        command: '/diagnose',
        text: `<${badGateway}> --upstream ${upstreamAt}`,
        user_id: 'U0ALICE',
        channel_id: 'C0PROGRESS',
      });
      const first = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0PROGRESS', 5_000);
      expect(first.at - sent).toBeLessThan(2_000);
      expect(blockIds(first.args).some((id) => id.startsWith('cause:'))).toBe(true);
      expect(blockIds(first.args)).toContain('pending');
      expect(JSON.stringify(first.args)).toMatch(/still running: upstream/);
      expect(JSON.stringify(first.args), 'no buttons before the answer is kept').not.toMatch(/"action_id"/);
      const final = await slack.waitForCall(
        'chat.update',
        (c) => c.args.channel === 'C0PROGRESS' && !blockIds(c.args).includes('pending'),
        15_000,
      );
      expect(final.at).toBeGreaterThan(first.at);
      expect(JSON.stringify(final.args)).toMatch(/"action_id":"reprobe"/);
      expect(JSON.stringify(final.args)).toMatch(/upstream/);
      await settle();
      const updates = slack.callsTo('chat.update').filter((c) => c.args.channel === 'C0PROGRESS');
      expect(updates[updates.length - 1], 'the complete answer is the last update').toBe(final);
    } finally {
      backend.closeAllConnections();
      backend.close();
    }
  });

  it('refuses a target the SSRF policy forbids, ephemerally, saying how to allow it', async () => {
    const r = await slack.sendCommand(botUrl, {
      command: '/diagnose',
      text: 'http://169.254.169.254/latest/meta-data/',
      user_id: 'U0ALICE',
      channel_id: 'C0FOUR',
    });
    const post = await slack.waitForResponseUrlPost(r.responseUrlId);
    expect(JSON.stringify(post.body)).toMatch(/metadata/);
    await settle();
    expect(posts('C0FOUR')).toEqual([]);
  });

  it('answers in Chinese for a zh-CN user', async () => {
    slack.setUser('U0WANG', { locale: 'zh-CN' });
    await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxError, user_id: 'U0WANG', channel_id: 'C0FIVE' });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0FIVE');
    expect(JSON.stringify(call.args)).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('pasted errors', () => {
  it('answers an error in a DM in its thread, and ignores ordinary conversation', async () => {
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'D0DM',
      channel_type: 'im',
      user: 'U0ALICE',
      text: nginxError,
      ts: '1700000001.000100',
    });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0DM');
    expect(call.args.thread_ts).toBe('1700000001.000100');
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'D0DM2',
      channel_type: 'im',
      user: 'U0ALICE',
      text: 'thanks, lunch at noon?',
      ts: '1700000002.000100',
    });
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'C0WATCHED',
      channel_type: 'channel',
      user: 'U0ALICE',
      text: 'deploy went fine',
      ts: '1700000003.000100',
    });
    await settle();
    expect(posts('D0DM2')).toEqual([]);
    expect(posts('C0WATCHED')).toEqual([]);
  });

  it('answers in a watched channel, never in an unwatched one', async () => {
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'C0OTHER',
      channel_type: 'channel',
      user: 'U0ALICE',
      text: nginxError,
      ts: '1700000004.000100',
    });
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'C0WATCHED',
      channel_type: 'channel',
      user: 'U0ALICE',
      text: nginxError,
      ts: '1700000005.000100',
    });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0WATCHED');
    await settle();
    expect(posts('C0OTHER')).toEqual([]);
  });

  it('replies once to a Slack retry of the same event', async () => {
    const event = { type: 'message', channel: 'D0RETRY', channel_type: 'im', user: 'U0ALICE', text: nginxError, ts: '1700000006.000100' };
    const first = await slack.sendEvent(botUrl, event, { eventId: 'Ev0RETRY' });
    await slack.sendEvent(botUrl, event, { eventId: first.eventId, retryNum: 1, retryReason: 'http_timeout' });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0RETRY');
    await settle();
    expect(posts('D0RETRY')).toHaveLength(1);
  });

  it('never answers a bot, and rejects forged or stale requests', async () => {
    await slack.sendEvent(botUrl, {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0OTHER',
      channel: 'D0BOT',
      channel_type: 'im',
      text: nginxError,
      ts: '1700000007.000100',
    });
    const forged = await slack.sendEvent(
      botUrl,
      { type: 'message', channel: 'D0FORGED', channel_type: 'im', user: 'U0ALICE', text: nginxError, ts: '1700000008.000100' },
      { forgeSignature: true },
    );
    const stale = await slack.sendEvent(
      botUrl,
      { type: 'message', channel: 'D0STALE', channel_type: 'im', user: 'U0ALICE', text: nginxError, ts: '1700000009.000100' },
      { staleTimestamp: true },
    );
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await settle();
    expect([...posts('D0BOT'), ...posts('D0FORGED'), ...posts('D0STALE')]).toEqual([]);
  });

  it('masks secrets in what it posts', async () => {
    const text = `${nginxError}\nAuthorization: Bearer sk_live_abcdefghijklmnopqrstuvwx`;
    await slack.sendEvent(botUrl, {
      type: 'message',
      channel: 'D0SECRET',
      channel_type: 'im',
      user: 'U0ALICE',
      text,
      ts: '1700000010.000100',
    });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0SECRET');
    expect(JSON.stringify(call.args)).not.toContain('abcdefghijklmnopqrstuvwx');
  });
});
