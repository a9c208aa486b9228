/**
 * The bot end to end in HTTP mode, composed as `npm start` composes it, driven only through the
 * Slack stand-in: what a person types arrives as Slack sends it (escaped, links in angle
 * brackets, with its rich_text block), signed requests in, Web API calls out.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causeIdsOf, settle, startBadGateway, startBotHarness, type BadGateway, type BotHarness } from '../support/bot-harness.js';
import { NGINX_REFUSED as nginxError } from '../support/samples.js';
import type { SlackStandin } from '../support/slack-standin.js';
import { baseBlockId } from '../../src/slack/poster.js';
import { typedToWire } from '../support/slack-wire.js';

let h: BotHarness;
let slack: SlackStandin;
let botUrl: string;
let upstream: BadGateway;

beforeAll(async () => {
  upstream = await startBadGateway('/api');
  h = await startBotHarness({
    env: { WATCH_CHANNELS: 'C0WATCHED', PROBE_ALLOW: '127.0.0.0/8', SLACK_COMMAND_RATE_LIMIT: '3/1h' },
  });
  slack = h.slack;
  botUrl = h.url;
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
});

const posts = (channel: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
/** The renderer's block ids, without the version the poster appends to each on update. */
const blockIds = (args: Record<string, unknown>) =>
  ((args.blocks as { block_id?: string }[]) ?? []).map((b) => baseBlockId(b.block_id ?? ''));

/** A curl -v transcript of a 502 from nginx, as a person pastes it. */
const CURL_502 = [
  '$ curl -v https://shop.example.com/api/orders',
  '*   Trying 203.0.113.10:443...',
  '* Connected to shop.example.com (203.0.113.10) port 443 (#0)',
  '> GET /api/orders HTTP/1.1',
  '> Host: shop.example.com',
  '> User-Agent: curl/8.4.0',
  '> Accept: */*',
  '>',
  '< HTTP/1.1 502 Bad Gateway',
  '< Server: nginx/1.25.3',
  '< Content-Type: text/html',
  '< Content-Length: 157',
  '<',
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>',
  '* Connection #0 to host shop.example.com left intact',
].join('\n');

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
    expect(causeIdsOf(call.args)).toContain('upstream-refused');
  });

  it('probes a URL with & in its query exactly as typed, and shows it escaped once', async () => {
    const typed = `${upstream.url}?page=2&limit=50`;
    const sent = await slack.sendCommand(botUrl, { command: '/diagnose', text: typed, user_id: 'U0BOB', channel_id: 'C0THREE' });
    expect(sent.status).toBe(200);
    const placeholder = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0THREE');
    const shown = JSON.stringify(placeholder.args);
    expect(shown).toMatch(/[Pp]robing/);
    expect(shown).toContain('page=2&amp;limit=50');
    expect(shown).not.toContain('&amp;amp;');
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0THREE', 20_000);
    expect(causeIdsOf(update.args).length).toBeGreaterThan(0);
    expect(JSON.stringify(update.args)).toMatch(/502/);
    expect(JSON.stringify(update.args)).not.toContain('&amp;amp;');
    // The upstream saw the query as typed, never `&amp;`.
    expect(upstream.requests).toContain('/api?page=2&limit=50');
    expect(upstream.requests.some((r) => r.includes('amp;'))).toBe(false);
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
        text: `${upstream.url} --upstream ${upstreamAt}`,
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
      user_id: 'U0CAROL',
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

  it('holds each user to SLACK_COMMAND_RATE_LIMIT, saying when to retry; others are not held', async () => {
    for (let i = 0; i < 3; i++)
      await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxError, user_id: 'U0FLOOD', channel_id: 'C0FLOOD' });
    await slack.waitForCall('chat.postMessage', () => posts('C0FLOOD').length === 3);
    const held = await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxError, user_id: 'U0FLOOD', channel_id: 'C0FLOOD' });
    expect(held.status).toBe(200);
    const said = await slack.waitForResponseUrlPost(held.responseUrlId);
    expect(JSON.stringify(said.body)).toMatch(/ephemeral/);
    expect(JSON.stringify(said.body)).toMatch(/try again in \d+ s/);
    // Help is never held; another user is not held by U0FLOOD's limit.
    const help = await slack.sendCommand(botUrl, { command: '/diagnose', text: 'help', user_id: 'U0FLOOD', channel_id: 'C0FLOOD' });
    expect(JSON.stringify((await slack.waitForResponseUrlPost(help.responseUrlId)).body)).toMatch(/--upstream/);
    await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxError, user_id: 'U0OTHER', channel_id: 'C0FLOOD' });
    await slack.waitForCall('chat.postMessage', () => posts('C0FLOOD').length === 4);
    await settle();
    expect(posts('C0FLOOD')).toHaveLength(4);
  });
});

describe('pasted errors', () => {
  it('answers an error in a DM in its thread, and ignores ordinary conversation', async () => {
    const { ts } = await slack.sendMessage(botUrl, { channel: 'D0DM', text: nginxError });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0DM');
    expect(call.args.thread_ts).toBe(ts);
    await slack.sendMessage(botUrl, {
      channel: 'D0DM2',
      text: 'thanks, lunch at noon? see https://lunch.example.com/menu?day=fri&time=12',
    });
    await slack.sendMessage(botUrl, { channel: 'C0WATCHED', text: 'deploy went fine' });
    await settle();
    expect(posts('D0DM2')).toEqual([]);
    expect(posts('C0WATCHED')).toEqual([]);
  });

  it('gives an escaped curl -v paste the same answer as the raw transcript', async () => {
    const wire = typedToWire(CURL_502);
    // What Slack sends: every `> ` and `< ` line escaped, the URL in angle brackets.
    expect(wire).toContain('&gt; GET /api/orders HTTP/1.1');
    expect(wire).toContain('&lt; HTTP/1.1 502 Bad Gateway');
    expect(wire).toContain('<https://shop.example.com/api/orders>');
    const raw = h.app.engine.explain(CURL_502, { lang: 'en' });
    // Read without decoding, the request and response headers are lost: the answer would differ.
    const undecoded = h.app.engine.explain(wire, { lang: 'en' });
    expect(undecoded.signals.map((s) => s.signal)).not.toEqual(raw.signals.map((s) => s.signal));

    await slack.sendMessage(botUrl, { channel: 'D0CURL', text: CURL_502 });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0CURL');
    expect(raw.causes.length).toBeGreaterThan(0);
    expect(causeIdsOf(call.args)).toEqual(raw.causes.slice(0, causeIdsOf(call.args).length).map((c) => c.id));
    expect(causeIdsOf(call.args)[0]).toBe(raw.causes[0]!.id);

    await slack.sendCommand(botUrl, { command: '/diagnose', text: CURL_502, user_id: 'U0DAVE', channel_id: 'C0CURL' });
    const viaCommand = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0CURL');
    expect(causeIdsOf(viaCommand.args)).toEqual(causeIdsOf(call.args));
  });

  it('answers in a watched channel, never in an unwatched one', async () => {
    await slack.sendMessage(botUrl, { channel: 'C0OTHER', text: nginxError });
    await slack.sendMessage(botUrl, { channel: 'C0WATCHED', text: nginxError });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0WATCHED');
    await settle();
    expect(posts('C0OTHER')).toEqual([]);
  });

  it('replies once to a Slack retry of the same event', async () => {
    const event = slack.userMessage({ channel: 'D0RETRY', text: nginxError });
    const first = await slack.sendEvent(botUrl, event, { eventId: 'Ev0RETRY' });
    await slack.sendEvent(botUrl, event, { eventId: first.eventId, retryNum: 1, retryReason: 'http_timeout' });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0RETRY');
    await settle();
    expect(posts('D0RETRY')).toHaveLength(1);
  });

  it('never answers a bot, and refuses forged, stale and future-dated requests', async () => {
    await slack.postAsIntegration(
      botUrl,
      'D0BOT',
      { bot_id: 'B0OTHER', subtype: 'bot_message', username: 'deploy-bot' },
      { text: nginxError },
    );
    const forged = await slack.sendMessage(botUrl, { channel: 'D0FORGED', text: nginxError }, { forgeSignature: true });
    const stale = await slack.sendMessage(botUrl, { channel: 'D0STALE', text: nginxError }, { staleTimestamp: true });
    // Bolt refuses only the past; ten minutes ahead is refused too.
    const future = await slack.sendMessage(
      botUrl,
      { channel: 'D0FUTURE', text: nginxError },
      { timestamp: Math.floor(Date.now() / 1000) + 600 },
    );
    const futureCommand = await slack.sendCommand(
      botUrl,
      { command: '/diagnose', text: nginxError, user_id: 'U0EVE', channel_id: 'C0FUTURE' },
      // Beyond five minutes by more than a busy machine takes to deliver it (at +301 s a 1 s delay made it +300 s).
      { timestamp: Math.floor(Date.now() / 1000) + 320 },
    );
    // Four minutes ahead is within Slack's five.
    const soon = await slack.sendMessage(
      botUrl,
      { channel: 'D0SOON', text: nginxError },
      { timestamp: Math.floor(Date.now() / 1000) + 240 },
    );
    expect([forged.status, stale.status, future.status, futureCommand.status]).toEqual([401, 401, 401, 401]);
    expect(soon.status).toBe(200);
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0SOON');
    await settle();
    expect([...posts('D0BOT'), ...posts('D0FORGED'), ...posts('D0STALE'), ...posts('D0FUTURE'), ...posts('C0FUTURE')]).toEqual([]);
  });

  it('masks secrets in what it posts', async () => {
    const text = `${nginxError}\nAuthorization: Bearer sk_live_abcdefghijklmnopqrstuvwx`;
    await slack.sendMessage(botUrl, { channel: 'D0SECRET', text });
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0SECRET');
    expect(JSON.stringify(call.args)).not.toContain('abcdefghijklmnopqrstuvwx');
  });

  it("refuses to send a person's text the way Slack never sends it (the stand-in keeps tests honest)", async () => {
    await expect(slack.sendEvent(botUrl, { type: 'message', channel: 'D0RAW', user: 'U0ALICE', text: '> GET / HTTP/1.1' })).rejects.toThrow(
      /never sends/,
    );
  });
});
