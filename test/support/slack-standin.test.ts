import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { slackSignature, startSlackStandin, type SlackStandin } from './slack-standin.js';

const SECRET = 'test-signing-secret';
const BOT_TOKEN = 'xoxb-test-bot-token';
const APP_TOKEN = 'xapp-1-test-app-token';

/** Computed here with node:crypto alone, so the stand-in's signer is checked, not echoed. */
const independentSignature = (ts: string, body: string): string =>
  `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;

interface Captured {
  headers: IncomingMessage['headers'];
  raw: string;
}

/** A plain node:http "bot" that records each raw request and answers with `reply`. */
async function startFakeBot(
  reply: (c: Captured) => { status: number; body: string; type?: string } | null = () => ({ status: 200, body: '' }),
) {
  const seen: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured = { headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      seen.push(captured);
      const answer = reply(captured);
      if (!answer) return; // never answer: lets a test hit the timeout
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'text/plain' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const stop = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url, seen, stop };
}

const api = (standin: SlackStandin, method: string, init: { token?: string; form?: Record<string, string>; json?: unknown }) =>
  fetch(`${standin.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      'content-type': init.json !== undefined ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : new URLSearchParams(init.form ?? {}).toString(),
  });

const apiJson = async (standin: SlackStandin, method: string, init: Parameters<typeof api>[2]) =>
  (await (await api(standin, method, init)).json()) as Record<string, unknown>;

let standin: SlackStandin;
let bot: Awaited<ReturnType<typeof startFakeBot>> | undefined;

beforeEach(async () => {
  standin = await startSlackStandin({ signingSecret: SECRET, botToken: BOT_TOKEN, appToken: APP_TOKEN });
});

afterEach(async () => {
  await standin.stop();
  await bot?.stop();
  bot = undefined;
});

describe('request signing', () => {
  it("reproduces Slack's documented example signature", () => {
    // The worked example in Slack's "Verifying requests from Slack".
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('rejects bad options with every problem and its fix', async () => {
    await expect(startSlackStandin({ signingSecret: '', botToken: 'nope', appToken: 'xoxb-wrong' })).rejects.toThrow(
      /signingSecret is required.*botToken must start with "xoxb-".*appToken must start with "xapp-"/,
    );
  });

  it('sends a slash command form-encoded, signed over the raw body, with a response_url on the stand-in', async () => {
    bot = await startFakeBot();
    const reply = await standin.sendCommand(bot.url, {
      command: '/diagnose',
      text: 'https://api.example.com 502',
      user_id: 'U1',
      channel_id: 'C1',
    });
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeLessThan(3000);
    const [req] = bot.seen;
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const ts = String(req?.headers['x-slack-request-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(req?.headers['x-slack-signature']).toBe(independentSignature(ts, req?.raw ?? ''));
    const form = new URLSearchParams(req?.raw);
    expect(form.get('command')).toBe('/diagnose');
    expect(form.get('text')).toBe('https://api.example.com 502');
    expect(form.get('user_id')).toBe('U1');
    expect(form.get('channel_id')).toBe('C1');
    expect(form.get('team_id')).toBe(standin.teamId);
    expect(form.get('trigger_id')).toBe(reply.triggerId);
    expect(form.get('response_url')).toBe(standin.responseUrl(reply.responseUrlId));
    expect(form.get('response_url')?.startsWith(standin.baseUrl)).toBe(true);
  });

  it('forges signatures and stales timestamps on request', async () => {
    bot = await startFakeBot();
    await standin.sendCommand(bot.url, { command: '/diagnose' }, { forgeSignature: true });
    await standin.sendCommand(bot.url, { command: '/diagnose' }, { staleTimestamp: true });
    const [forged, stale] = bot.seen;
    const forgedTs = String(forged?.headers['x-slack-request-timestamp']);
    expect(forged?.headers['x-slack-signature']).not.toBe(independentSignature(forgedTs, forged?.raw ?? ''));
    const staleTs = Number(stale?.headers['x-slack-request-timestamp']);
    expect(Date.now() / 1000 - staleTs).toBeGreaterThan(5 * 60);
    expect(stale?.headers['x-slack-signature']).toBe(independentSignature(String(staleTs), stale?.raw ?? ''));
  });

  it('posts an event_callback envelope as signed JSON, with retry headers when asked', async () => {
    bot = await startFakeBot();
    const event = { type: 'app_mention', user: 'U1', text: '<@U0BOTTRIAGE> diagnose', channel: 'C1' };
    const first = await standin.sendEvent(bot.url, event, { eventId: 'Ev0001' });
    await standin.sendEvent(bot.url, event, { eventId: 'Ev0001', retryNum: 1, retryReason: 'http_timeout' });
    const [req, retry] = bot.seen;
    expect(first.eventId).toBe('Ev0001');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-slack-signature']).toBe(independentSignature(String(req?.headers['x-slack-request-timestamp']), req?.raw ?? ''));
    expect(req?.headers['x-slack-retry-num']).toBeUndefined();
    const body = JSON.parse(req?.raw ?? '{}');
    expect(body).toMatchObject({ type: 'event_callback', event_id: 'Ev0001', team_id: standin.teamId, api_app_id: standin.appId });
    expect(body.event).toMatchObject({ ...event, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(body.authorizations[0]).toMatchObject({ user_id: standin.botUserId, is_bot: true });
    expect(retry?.headers['x-slack-retry-num']).toBe('1');
    expect(retry?.headers['x-slack-retry-reason']).toBe('http_timeout');
    expect(retry?.raw).toBe(req?.raw);
    // The event's message is now known to the stand-in, so the bot can react to it.
    expect(standin.messages('C1')).toHaveLength(1);
  });

  it('sends url_verification and returns the bot answer', async () => {
    bot = await startFakeBot((c) => ({
      status: 200,
      body: JSON.stringify({ challenge: JSON.parse(c.raw).challenge }),
      type: 'application/json',
    }));
    const reply = await standin.sendUrlVerification(bot.url, 'chal-123');
    expect(JSON.parse(bot.seen[0]?.raw ?? '{}')).toEqual({ token: expect.any(String), challenge: 'chal-123', type: 'url_verification' });
    expect(reply.json).toEqual({ challenge: 'chal-123' });
  });

  it('posts interactions as payload=<json>, form-encoded and signed', async () => {
    bot = await startFakeBot();
    await standin.sendInteraction(bot.url, { type: 'block_actions', actions: [{ action_id: 'rerun', value: 'x' }] });
    const [req] = bot.seen;
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.headers['x-slack-signature']).toBe(independentSignature(String(req?.headers['x-slack-request-timestamp']), req?.raw ?? ''));
    const form = new URLSearchParams(req?.raw);
    expect([...form.keys()]).toEqual(['payload']);
    const payload = JSON.parse(form.get('payload') ?? '{}');
    expect(payload).toMatchObject({ type: 'block_actions', actions: [{ action_id: 'rerun' }], team: { id: standin.teamId } });
    expect(payload.response_url.startsWith(standin.baseUrl)).toBe(true);
    expect(typeof payload.trigger_id).toBe('string');
  });

  it('bounds a bot that never answers', async () => {
    bot = await startFakeBot(() => null);
    const reply = await standin.sendCommand(bot.url, { command: '/diagnose' }, { timeoutMs: 200 });
    expect(reply).toMatchObject({ status: 0, error: 'timeout' });
    expect(reply.ms).toBeLessThan(2000);
  });
});

describe('payloads as Slack shapes them', () => {
  const eventOf = (c: Captured) => (JSON.parse(c.raw) as { event: Record<string, unknown> }).event;

  it('sends what a person typed escaped, links in angle brackets, with its raw rich_text block', async () => {
    bot = await startFakeBot();
    const typed = '> GET /a?x=1&y=2 HTTP/1.1\nsee https://api.example.com/b?p=2&l=5 or shop.example.com';
    const { ts } = await standin.sendMessage(bot.url, { channel: 'D1', text: typed });
    const event = eventOf(bot.seen[0]!);
    expect(event).toMatchObject({ type: 'message', channel: 'D1', channel_type: 'im', user: 'U0ONCALL01', ts });
    expect(event.text).toBe(
      '&gt; GET /a?x=1&amp;y=2 HTTP/1.1\nsee <https://api.example.com/b?p=2&amp;l=5> or <http://shop.example.com|shop.example.com>',
    );
    const rich = JSON.stringify(event.blocks);
    expect(rich).toContain('"text":"> GET /a?x=1&y=2 HTTP/1.1\\nsee "');
    expect(rich).toContain('{"type":"link","url":"https://api.example.com/b?p=2&l=5"}');
  });

  it('escapes slash-command text as Slack does', async () => {
    bot = await startFakeBot();
    await standin.sendCommand(bot.url, { command: '/diagnose', text: 'https://x.example.com/a?b=1&c=<2>' });
    expect(new URLSearchParams(bot.seen[0]!.raw).get('text')).toBe('https://x.example.com/a?b=1&amp;c=&lt;2&gt;');
  });

  it("refuses to send a person's text Slack would have escaped", async () => {
    bot = await startFakeBot();
    await expect(standin.sendEvent(bot.url, { type: 'message', user: 'U1', channel: 'D1', text: 'a & b' })).rejects.toThrow(/never sends/);
    await expect(
      standin.sendEvent(bot.url, { type: 'message', user: 'U1', channel: 'D1', text: 'a &amp; <https://x.io|x.io> <@U1>' }),
    ).resolves.toMatchObject({ status: 200 });
  });

  it("delivers an integration's message as Slack stores it, and its edits with previous_message", async () => {
    bot = await startFakeBot();
    const { ts } = await standin.postAsIntegration(
      bot.url,
      'C1',
      { bot_id: 'B1', subtype: 'bot_message', username: 'AlertManager' },
      {
        attachments: [
          { color: 'good', title: '[RESOLVED] X' },
          { color: '#D63232', title: 'Y' },
        ],
      },
    );
    const event = eventOf(bot.seen[0]!);
    expect(event).toMatchObject({ subtype: 'bot_message', bot_id: 'B1', username: 'AlertManager', ts, text: '' });
    expect(event.attachments).toEqual([
      { id: 1, color: '2eb886', title: '[RESOLVED] X', fallback: '[RESOLVED] X' },
      { id: 2, color: 'D63232', title: 'Y', fallback: 'Y' },
    ]);
    // A reply makes it a thread parent: its edits say so.
    await apiJson(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'answer', thread_ts: ts } });
    await standin.unfurl(bot.url, 'C1', ts, { from_url: 'https://x.io', title: 'x' });
    const edit = eventOf(bot.seen[1]!);
    expect(edit).toMatchObject({ subtype: 'message_changed', hidden: true, channel: 'C1' });
    expect(edit.message).toMatchObject({ ts, thread_ts: ts, reply_count: 1 });
    expect((edit.message as { attachments: unknown[] }).attachments).toHaveLength(3);
    expect((edit.previous_message as { attachments: unknown[] }).attachments).toHaveLength(2);
  });

  it("sends a person's edit as message_changed, escaped like the original", async () => {
    bot = await startFakeBot();
    const { ts } = await standin.sendMessage(bot.url, { channel: 'D2', text: 'first' });
    await standin.editMessage(bot.url, 'D2', ts, 'second & last');
    const edit = eventOf(bot.seen[1]!);
    expect(edit).toMatchObject({
      subtype: 'message_changed',
      message: { ts, text: 'second &amp; last' },
      previous_message: { ts, text: 'first' },
    });
  });
});

describe('Web API', () => {
  it('records form and JSON calls with their token and parsed args', async () => {
    const form = await apiJson(standin, 'chat.postMessage', {
      token: BOT_TOKEN,
      form: { channel: 'C1', text: 'hi', blocks: JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }]) },
    });
    const json = await apiJson(standin, 'chat.postMessage', {
      token: BOT_TOKEN,
      json: { channel: 'C1', text: 'again', thread_ts: form.ts },
    });
    expect(form).toMatchObject({ ok: true, channel: 'C1', ts: '1700000000.000100', message: { text: 'hi', user: standin.botUserId } });
    expect(json.ts).toBe('1700000000.000200');
    expect(standin.callsTo('chat.postMessage')).toHaveLength(2);
    const [first, second] = standin.callsTo('chat.postMessage');
    expect(first).toMatchObject({ token: BOT_TOKEN, args: { channel: 'C1', blocks: [{ type: 'section' }] } });
    expect(second).toMatchObject({
      token: BOT_TOKEN,
      args: { thread_ts: '1700000000.000100' },
      answer: { status: 200, body: { ok: true } },
    });
    const replies = await apiJson(standin, 'conversations.replies', { token: BOT_TOKEN, form: { channel: 'C1', ts: String(form.ts) } });
    expect((replies.messages as { text: string }[]).map((m) => m.text)).toEqual(['hi', 'again']);
  });

  it('accepts the token as a form field, and refuses missing, wrong and wrong-type tokens', async () => {
    expect(await apiJson(standin, 'auth.test', { form: { token: BOT_TOKEN } })).toMatchObject({
      ok: true,
      user_id: standin.botUserId,
      bot_id: standin.botId,
      team_id: standin.teamId,
    });
    expect(await apiJson(standin, 'auth.test', {})).toEqual({ ok: false, error: 'not_authed' });
    expect(await apiJson(standin, 'auth.test', { token: 'xoxb-other' })).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await apiJson(standin, 'auth.test', { token: APP_TOKEN })).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await apiJson(standin, 'apps.connections.open', { token: BOT_TOKEN })).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('answers unknown methods with unknown_method and records them', async () => {
    expect(await apiJson(standin, 'made.up', { token: BOT_TOKEN })).toEqual({ ok: false, error: 'unknown_method' });
    expect(standin.callsTo('made.up')).toHaveLength(1);
  });

  it('waits for a call matching a predicate, and times out otherwise', async () => {
    const waited = standin.waitForCall('chat.postMessage', (c) => c.args.text === 'second');
    await apiJson(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'first' } });
    await apiJson(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'second' } });
    expect((await waited).args.text).toBe('second');
    await expect(standin.waitForCall('views.open', undefined, 50)).rejects.toThrow(/timed out after 50 ms waiting for a views.open call/);
  });

  it('rate-limits with HTTP 429 and Retry-After, then answers normally', async () => {
    standin.rateLimit('chat.postMessage', { times: 1, retryAfterSec: 2 });
    const limited = await api(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'x' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    const next = await api(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'x' } });
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ ok: true });
    expect(standin.callsTo('chat.postMessage').map((c) => c.answer.status)).toEqual([429, 200]);
  });

  it('fails the next N calls with {ok:false,error}', async () => {
    standin.fail('chat.update', 'msg_too_long', 2);
    const call = () => apiJson(standin, 'chat.update', { token: BOT_TOKEN, form: { channel: 'C1', ts: '1', text: 'x' } });
    expect(await call()).toEqual({ ok: false, error: 'msg_too_long' });
    expect(await call()).toEqual({ ok: false, error: 'msg_too_long' });
    expect(await call()).toEqual({ ok: false, error: 'message_not_found' });
  });

  it('lets a test override an answer, and restore the default', async () => {
    const restore = standin.respond('auth.test', () => ({ ok: true, user_id: 'UOTHER' }));
    expect(await apiJson(standin, 'auth.test', { token: BOT_TOKEN })).toEqual({ ok: true, user_id: 'UOTHER' });
    restore();
    expect((await apiJson(standin, 'auth.test', { token: BOT_TOKEN })).user_id).toBe(standin.botUserId);
  });

  it('updates, deletes, reacts and posts ephemerally', async () => {
    const posted = await apiJson(standin, 'chat.postMessage', { token: BOT_TOKEN, form: { channel: 'C1', text: 'working…' } });
    const ts = String(posted.ts);
    expect(await apiJson(standin, 'chat.update', { token: BOT_TOKEN, form: { channel: 'C1', ts, text: 'done' } })).toMatchObject({
      ok: true,
      ts,
      text: 'done',
    });
    expect(await apiJson(standin, 'reactions.add', { token: BOT_TOKEN, form: { channel: 'C1', timestamp: ts, name: 'eyes' } })).toEqual({
      ok: true,
    });
    expect(await apiJson(standin, 'reactions.add', { token: BOT_TOKEN, form: { channel: 'C1', timestamp: ts, name: 'eyes' } })).toEqual({
      ok: false,
      error: 'already_reacted',
    });
    const eph = await apiJson(standin, 'chat.postEphemeral', { token: BOT_TOKEN, form: { channel: 'C1', user: 'U1', text: 'psst' } });
    expect(eph).toMatchObject({ ok: true, message_ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(await apiJson(standin, 'chat.delete', { token: BOT_TOKEN, form: { channel: 'C1', ts } })).toEqual({
      ok: true,
      channel: 'C1',
      ts,
    });
    expect(standin.messages('C1')).toHaveLength(0);
  });

  it('returns user locale only with include_locale, per user when set', async () => {
    standin.setUser('U2', { locale: 'zh-CN', real_name: '李雷' });
    const plain = await apiJson(standin, 'users.info', { token: BOT_TOKEN, form: { user: 'U1' } });
    expect((plain.user as Record<string, unknown>).locale).toBeUndefined();
    const en = await apiJson(standin, 'users.info', { token: BOT_TOKEN, form: { user: 'U1', include_locale: 'true' } });
    expect(en.user).toMatchObject({ id: 'U1', locale: 'en-US' });
    const zh = await apiJson(standin, 'users.info', { token: BOT_TOKEN, json: { user: 'U2', include_locale: true } });
    expect(zh.user).toMatchObject({ id: 'U2', locale: 'zh-CN', real_name: '李雷' });
    standin.setChannel('C9', { name: 'incidents', is_private: true });
    const channel = await apiJson(standin, 'conversations.info', { token: BOT_TOKEN, form: { channel: 'C9' } });
    expect(channel.channel).toMatchObject({ id: 'C9', name: 'incidents', is_private: true });
  });

  it('opens views only with a live, unused trigger_id', async () => {
    // Long enough for two requests on a loaded machine, short enough to wait out.
    const short = await startSlackStandin({ signingSecret: SECRET, botToken: BOT_TOKEN, triggerTtlMs: 1_000 });
    try {
      const view = { type: 'modal', title: { type: 'plain_text', text: 'Diagnose' }, blocks: [] };
      const open = (trigger_id: string) => apiJson(short, 'views.open', { token: BOT_TOKEN, json: { trigger_id, view } });
      const fresh = short.issueTrigger();
      expect(await open(fresh)).toMatchObject({ ok: true, view: { type: 'modal', id: expect.stringMatching(/^V/) } });
      expect(await open(fresh)).toEqual({ ok: false, error: 'exchanged_trigger_id' });
      expect(await open('123.456.abc')).toEqual({ ok: false, error: 'invalid_trigger_id' });
      const stale = short.issueTrigger();
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await open(stale)).toEqual({ ok: false, error: 'expired_trigger_id' });
    } finally {
      await short.stop();
    }
  });
});

describe('response_url', () => {
  it('records JSON posts per id', async () => {
    bot = await startFakeBot();
    const { responseUrlId } = await standin.sendCommand(bot.url, { command: '/diagnose' });
    const url = new URLSearchParams(bot.seen[0]?.raw).get('response_url') ?? '';
    const waited = standin.waitForResponseUrlPost(responseUrlId);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'in_channel', text: 'Likely cause: upstream timeout' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const post = await waited;
    expect(post).toMatchObject({ id: responseUrlId, body: { response_type: 'in_channel', text: 'Likely cause: upstream timeout' } });
    expect(standin.responseUrlPosts).toHaveLength(1);
  });
});

describe('files', () => {
  it('hosts a text snippet whose url_private needs the bot token', async () => {
    const file = standin.addFile({ name: 'error.log', content: 'HTTP/1.1 502 Bad Gateway\nupstream timed out' });
    expect(file).toMatchObject({ mode: 'snippet', filetype: 'text', mimetype: 'text/plain', size: 43 });
    const info = await apiJson(standin, 'files.info', { token: BOT_TOKEN, form: { file: file.id } });
    expect(info.file).toMatchObject({ id: file.id, url_private: file.url_private });
    expect(await apiJson(standin, 'files.info', { token: BOT_TOKEN, form: { file: 'FNOPE' } })).toEqual({
      ok: false,
      error: 'file_not_found',
    });

    const anonymous = await fetch(file.url_private, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    await anonymous.arrayBuffer();
    const followed = await fetch(file.url_private, { headers: { authorization: 'Bearer xoxb-wrong' } });
    expect(followed.headers.get('content-type')).toContain('text/html');
    expect(await followed.text()).not.toContain('502 Bad Gateway');

    for (const url of [file.url_private, file.url_private_download]) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${BOT_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('HTTP/1.1 502 Bad Gateway\nupstream timed out');
    }
  });
});

describe('Socket Mode', () => {
  const connect = async (): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> => {
    const opened = await apiJson(standin, 'apps.connections.open', { token: APP_TOKEN });
    expect(opened).toMatchObject({ ok: true, url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/) });
    const ws = new WebSocket(String(opened.url));
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, messages };
  };

  it('says hello, delivers envelopes and resolves with the ack and its payload', async () => {
    const { ws, messages } = await connect();
    await standin.socketConnected(1000);
    await expect.poll(() => messages[0]).toMatchObject({ type: 'hello', connection_info: { app_id: standin.appId } });

    ws.on('message', (data) => {
      const envelope = JSON.parse(String(data));
      if (envelope.type === 'slash_commands') ws.send(JSON.stringify({ envelope_id: envelope.envelope_id, payload: { text: 'On it' } }));
      if (envelope.type === 'events_api') ws.send(JSON.stringify({ envelope_id: envelope.envelope_id }));
    });
    const ack = await standin.socketSend('slash_commands', standin.commandPayload({ command: '/diagnose', text: '502' }));
    expect(ack).toEqual({ envelope_id: expect.any(String), payload: { text: 'On it' } });
    const command = messages.find((m) => m.type === 'slash_commands');
    expect(command).toMatchObject({
      envelope_id: ack.envelope_id,
      accepts_response_payload: true,
      payload: { command: '/diagnose', text: '502' },
    });

    const eventAck = await standin.socketSend('events_api', standin.eventEnvelope({ type: 'app_mention', channel: 'C1', text: 'hi' }), {
      retryAttempt: 1,
      retryReason: 'timeout',
    });
    expect(eventAck.payload).toBeUndefined();
    expect(messages.find((m) => m.type === 'events_api')).toMatchObject({
      accepts_response_payload: false,
      retry_attempt: 1,
      retry_reason: 'timeout',
      payload: { type: 'event_callback', event: { type: 'app_mention' } },
    });
    ws.close();
  });

  it('rejects when the client does not ack in time, and refuses unknown or reused tickets', async () => {
    const { ws } = await connect();
    await expect(standin.socketSend('interactive', { type: 'block_actions' }, { timeoutMs: 100 })).rejects.toThrow(
      /no ack for interactive/,
    );
    for (const url of [ws.url, ws.url.replace(/ticket=[^&]+/, 'ticket=made-up')]) {
      const refused = new WebSocket(url);
      await expect(new Promise((_resolve, reject) => refused.once('error', reject))).rejects.toThrow(/Unexpected server response: 401/);
    }
    ws.close();
  });

  it('closes every connection on stop()', async () => {
    const { ws } = await connect();
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const pending = expect(standin.socketSend('interactive', { type: 'block_actions' }, { timeoutMs: 5000 })).rejects.toThrow(/stopped/);
    const waiting = expect(standin.waitForCall('never.called', undefined, 5000)).rejects.toThrow(/stopped/);
    await standin.stop();
    await closed;
    await pending;
    await waiting;
    await expect(fetch(`${standin.apiUrl}auth.test`, { method: 'POST' })).rejects.toThrow();
  });

  it('leaves no TCP server or socket behind after stop()', async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const baseline = tcpHandles();
    const other = await startSlackStandin({ signingSecret: SECRET, botToken: BOT_TOKEN, appToken: APP_TOKEN });
    const opened = await apiJson(other, 'apps.connections.open', { token: APP_TOKEN });
    const ws = new WebSocket(String(opened.url));
    await other.socketConnected(1000);
    expect(tcpHandles()).toBeGreaterThan(baseline);
    await other.stop();
    await new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve())));
    await expect.poll(tcpHandles, { timeout: 2000 }).toBeLessThanOrEqual(baseline);
  });
});
