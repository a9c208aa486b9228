/**
 * The bot end to end in Socket Mode against the Slack stand-in: apps.connections.open with the
 * app-level token, a WebSocket, envelopes in (acked by envelope_id), Web API calls out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_TOKEN, baseId, startBadGateway, startBotHarness, type BadGateway, type BotHarness } from '../support/bot-harness.js';
import { NGINX_REFUSED as nginxError } from '../support/samples.js';
import type { SlackStandin, SocketAck, WebApiCall } from '../support/slack-standin.js';
/** An error.log excerpt with five causes: its answer shows three and a "Show all causes" button. */
const errorLog = [
  nginxError,
  '2024/03/01 10:00:05 [error] 31#31: *12 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9, server: shop, request: "GET /api/report HTTP/1.1", upstream: "http://10.0.3.6:8080/api/report", host: "shop"',
  '2024/03/01 10:00:06 [error] 31#31: *13 SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure:SSL alert number 40) while SSL handshaking to upstream, client: 10.0.0.9, server: shop, request: "GET /pay HTTP/1.1", upstream: "https://10.0.4.2:443/pay", host: "shop"',
  '2024/03/01 10:00:08 [error] 31#31: *16 limiting requests, excess: 20.500 by zone "api", client: 10.0.0.9, server: shop, request: "GET /api HTTP/1.1", host: "shop"',
  '2024/03/01 10:00:09 [error] 31#31: *18 client intended to send too large body: 10485760 bytes, client: 10.0.0.9, server: shop, request: "POST /upload HTTP/1.1", host: "shop"',
].join('\n');
/** Slack's deadline for an ack is 3 s. */
const ACK_MS = 3000;

let h: BotHarness;
let slack: SlackStandin;
let upstream: BadGateway;
let badGateway: string;
/** The answer to the pasted error.log in a DM; its "Show all causes" button is clicked later. */
let dmAnswer: WebApiCall | undefined;

beforeAll(async () => {
  upstream = await startBadGateway('/api');
  badGateway = upstream.url;
  h = await startBotHarness({ mode: 'socket', env: { WATCH_CHANNELS: 'C0WATCHED', PROBE_ALLOW: '127.0.0.0/8' } });
  expect(h.app.config.bot?.mode).toBe('socket');
  slack = h.slack;
  await slack.socketConnected();
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
});

const posts = (channel: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
const chatCalls = () => slack.calls.filter((c) => c.method.startsWith('chat.'));
const blockIds = (args: Record<string, unknown>) => ((args.blocks as { block_id?: string }[]) ?? []).map((b) => baseId(b.block_id));
const settle = () => new Promise((r) => setTimeout(r, 400));

/** Deliver an envelope and require its ack (by envelope_id) within Slack's 3 s. */
async function send(type: 'slash_commands' | 'events_api' | 'interactive', payload: unknown): Promise<SocketAck> {
  const started = Date.now();
  const ack = await slack.socketSend(type, payload, { timeoutMs: ACK_MS });
  expect(ack.envelope_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(Date.now() - started).toBeLessThan(ACK_MS);
  return ack;
}

interface Button {
  action_id?: string;
  value?: string;
  text?: unknown;
  type?: string;
}
/** The button with this action_id in a recorded message's actions blocks. */
function buttonIn(call: WebApiCall, actionId: string): { blockId: string; button: Button } | undefined {
  for (const b of (call.args.blocks as { type?: string; block_id?: string; elements?: Button[] }[]) ?? []) {
    if (b.type !== 'actions') continue;
    const button = b.elements?.find((e) => e.action_id === actionId);
    if (button) return { blockId: b.block_id ?? '', button };
  }
  return undefined;
}

describe('Socket Mode', () => {
  it('connects with the app-level token through apps.connections.open', () => {
    const opens = slack.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(APP_TOKEN);
    expect(opens[0]!.answer.body.ok).toBe(true);
  });

  it('/diagnose help: acked, then the usage ephemerally on the response_url', async () => {
    const payload = slack.commandPayload({ command: '/diagnose', text: 'help', user_id: 'U0ALICE', channel_id: 'C0ONE' });
    await send('slash_commands', payload);
    const id = decodeURIComponent(payload.response_url!.split('/response/')[1]!);
    const post = await slack.waitForResponseUrlPost(id);
    expect(post.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(post.body)).toMatch(/--upstream/);
    expect(posts('C0ONE')).toEqual([]);
  });

  it('/diagnose <pasted nginx error>: the ranked answer posted in the channel', async () => {
    await send('slash_commands', slack.commandPayload({ command: '/diagnose', text: nginxError, user_id: 'U0ALICE', channel_id: 'C0TWO' }));
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0TWO');
    expect(blockIds(call.args)).toContain('cause:upstream-refused');
  });

  it('/diagnose <url>: a "probing" message, then updated in place with the ranked answer', async () => {
    await send(
      'slash_commands',
      slack.commandPayload({ command: '/diagnose', text: badGateway, user_id: 'U0ALICE', channel_id: 'C0THREE' }),
    );
    const placeholder = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0THREE');
    expect(JSON.stringify(placeholder.args)).toMatch(/[Pp]robing/);
    const ts = placeholder.answer.body.ts;
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0THREE', 20_000);
    expect(update.args.ts).toBe(ts);
    expect(blockIds(update.args).some((id) => id.startsWith('cause:'))).toBe(true);
    expect(JSON.stringify(update.args)).toMatch(/502/);
    expect(posts('C0THREE')).toHaveLength(1);
  });

  it('answers an error.log pasted in a DM in its thread (events_api), three causes and "Show all causes"', async () => {
    await send('events_api', slack.eventEnvelope(slack.userMessage({ channel: 'D0DM', text: errorLog, ts: '1700000101.000100' })));
    dmAnswer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0DM');
    expect(dmAnswer.args.thread_ts).toBe('1700000101.000100');
    expect(blockIds(dmAnswer.args)).toContain('cause:upstream-refused');
    expect(blockIds(dmAnswer.args).filter((id) => id.startsWith('cause:'))).toHaveLength(3);
    expect(buttonIn(dmAnswer, 'show_all')).toBeDefined();
    expect(posts('D0DM')).toHaveLength(1);
  });

  it('posts nothing for ordinary conversation in a DM', async () => {
    const before = chatCalls().length;
    await send(
      'events_api',
      slack.eventEnvelope(slack.userMessage({ channel: 'D0CHAT', text: 'thanks, lunch at noon?', ts: '1700000102.000100' })),
    );
    await settle();
    expect(chatCalls().slice(before)).toEqual([]);
  });

  /** Click "Show all causes" on the DM answer; resolves with the chat.update it caused. */
  async function clickShowAll(): Promise<{ answer: WebApiCall; update: WebApiCall }> {
    const answer = dmAnswer!;
    const channel = String(answer.args.channel);
    const ts = String(answer.answer.body.ts);
    const { blockId, button } = buttonIn(answer, 'show_all')!;
    expect(JSON.parse(button.value!)).toEqual({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const before = slack.callsTo('chat.update').length;
    await send(
      'interactive',
      slack.interactionPayload({
        type: 'block_actions',
        container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
        channel: { id: channel, name: 'directmessage' },
        message: {
          type: 'message',
          user: slack.botUserId,
          bot_id: slack.botId,
          ts,
          thread_ts: answer.args.thread_ts,
          text: answer.args.text,
          blocks: answer.args.blocks,
        },
        state: { values: {} },
        actions: [
          {
            type: 'button',
            action_id: 'show_all',
            block_id: blockId,
            text: button.text,
            value: button.value,
            action_ts: `${Math.floor(Date.now() / 1000)}.000000`,
          },
        ],
      }),
    );
    const update = await slack.waitForCall('chat.update', (c) => slack.callsTo('chat.update').indexOf(c) >= before);
    expect(update.args).toMatchObject({ channel, ts });
    return { answer, update };
  }

  const causes = (args: Record<string, unknown>) => blockIds(args).filter((id) => id.startsWith('cause:'));

  it('"Show all causes" (block_actions): acked, that answer updated in place, the button gone', async () => {
    const { answer, update } = await clickShowAll();
    expect(buttonIn(update, 'show_all')).toBeUndefined();
    expect(causes(update.args).slice(0, 3)).toEqual(causes(answer.args));
    expect(posts(String(answer.args.channel))).toHaveLength(1);
    expect(slack.callsTo('chat.postEphemeral')).toEqual([]);
  });

  it('"Show all causes" shows every cause, shortening fixes rather than dropping causes', async () => {
    const { update } = await clickShowAll();
    expect(causes(update.args)).toHaveLength(5);
  });

  it('reconnects after a disconnect (refresh_requested) and still answers', async () => {
    const opens = slack.callsTo('apps.connections.open').length;
    slack.socketDisconnect('refresh_requested');
    // The client waits clientPingTimeout (5 s) before it reconnects.
    await slack.socketConnected(15_000);
    expect(slack.callsTo('apps.connections.open')).toHaveLength(opens + 1);
    await send('events_api', slack.eventEnvelope(slack.userMessage({ channel: 'D0AFTER', text: nginxError, ts: '1700000103.000100' })));
    const call = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0AFTER');
    expect(call.args.thread_ts).toBe('1700000103.000100');
  });
});
