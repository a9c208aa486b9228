import { randomUUID } from 'node:crypto';
import { WebClient, type Logger } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TriageError } from '../../src/errors.js';
import { MASK } from '../../src/security/redact.js';
import { createPoster, type PosterLogEntry, type PosterOptions } from '../../src/slack/poster.js';
import { startSlackStandin, type SlackStandin, type WebApiCall } from '../support/slack-standin.js';

const BOT_TOKEN = `xoxb-${randomUUID()}`;
const INTERVAL = 200;
/**
 * The stand-in records arrival times, which trail the send times the poster keeps by a few ms (more
 * for the first request of a process, which also opens the connection).
 */
const SLACK_MS = 80;

const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as ReturnType<Logger['getLevel']>,
  setName: () => {},
};

/** A real WebClient that leaves every retry to the poster. */
const webClient = (apiUrl: string): WebClient =>
  new WebClient(BOT_TOKEN, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: silent });

let standin: SlackStandin;
let logs: PosterLogEntry[];

const makePoster = (over: Partial<PosterOptions> = {}) =>
  createPoster({
    client: webClient(standin.apiUrl),
    log: (entry) => logs.push(entry),
    perChannelIntervalMs: INTERVAL,
    retryBaseMs: 20,
    ...over,
  });

const postsTo = (channel: string): WebApiCall[] => standin.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
const gaps = (calls: WebApiCall[]): number[] => calls.slice(1).map((c, i) => c.at - (calls[i] as WebApiCall).at);

beforeEach(async () => {
  standin = await startSlackStandin({ signingSecret: randomUUID(), botToken: BOT_TOKEN });
  logs = [];
});

afterEach(async () => {
  await standin.stop();
});

describe('createPoster: pacing and order', () => {
  it('posts in order within a channel, about one per interval', async () => {
    const poster = makePoster();
    const started = Date.now();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => poster.post('C0ORDER', { text: `message ${n}` })));

    expect(results.every((r) => r.ok)).toBe(true);
    const calls = postsTo('C0ORDER');
    expect(calls.map((c) => c.args.text)).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
    // Each arrival gap can shrink by one late arrival before it (a busy machine); the whole span cannot
    // shrink by more than one such delay. Unpaced, the five would arrive within a few milliseconds.
    for (const gap of gaps(calls)) expect(gap).toBeGreaterThanOrEqual(INTERVAL * 0.4);
    expect((calls[4] as WebApiCall).at - (calls[0] as WebApiCall).at).toBeGreaterThanOrEqual(4 * INTERVAL - SLACK_MS);
    expect(Date.now() - started).toBeLessThan(4 * INTERVAL + 1_000);
    const tss = results.map((r) => (r.ok ? r.ts : ''));
    expect(new Set(tss).size).toBe(5);
  });

  it('keeps the pace for a message sent right after the previous one resolved', async () => {
    const poster = makePoster();
    await poster.post('C0AGAIN', { text: 'first' });
    await poster.post('C0AGAIN', { text: 'second' });
    expect(gaps(postsTo('C0AGAIN'))[0]).toBeGreaterThanOrEqual(INTERVAL - SLACK_MS);
  });

  it('does not make one channel wait for another', async () => {
    const poster = makePoster();
    const jobs = [1, 2, 3].flatMap((n) => [poster.post('C0AAAA', { text: `a${n}` }), poster.post('C0BBBB', { text: `b${n}` })]);
    await Promise.all(jobs);

    const a = postsTo('C0AAAA');
    const b = postsTo('C0BBBB');
    expect(a.map((c) => c.args.text)).toEqual(['a1', 'a2', 'a3']);
    expect(b.map((c) => c.args.text)).toEqual(['b1', 'b2', 'b3']);
    for (let i = 0; i < 3; i += 1) expect(Math.abs((a[i] as WebApiCall).at - (b[i] as WebApiCall).at)).toBeLessThan(INTERVAL / 2);
  });

  it('queues update and ephemeral on the channel lane, in order', async () => {
    const poster = makePoster();
    const posted = await poster.post('C0MIXED', { text: 'probing…' });
    expect(posted.ok).toBe(true);
    const ts = posted.ok ? posted.ts : '';
    const [updated, ephemeral, threaded] = await Promise.all([
      poster.update('C0MIXED', ts, { text: 'done' }),
      poster.ephemeral('C0MIXED', 'U0ONCALL01', { text: 'only you' }),
      poster.post('C0MIXED', { text: 'details' }, { thread_ts: ts }),
    ]);

    expect(updated).toEqual({ ok: true, channel: 'C0MIXED', ts });
    expect(ephemeral.ok).toBe(true);
    expect(threaded.ok).toBe(true);
    expect(standin.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'chat.postMessage']);
    expect(standin.callsTo('chat.postEphemeral')[0]?.args.user).toBe('U0ONCALL01');
    expect(postsTo('C0MIXED')[1]?.args.thread_ts).toBe(ts);
    for (const gap of gaps(standin.calls)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - SLACK_MS);
  });
});

describe('createPoster: failures', () => {
  it('waits Retry-After on a 429 for that channel only, while another channel posts', async () => {
    const poster = makePoster();
    standin.rateLimit('chat.postMessage', { times: 1, retryAfterSec: 1 });
    const a = poster.post('C0LIMITED', { text: 'limited' });
    const limited = await standin.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0LIMITED');
    expect(limited.answer.status).toBe(429);

    const b = await poster.post('C0FREE', { text: 'free' });
    expect(b.ok).toBe(true);
    const free = postsTo('C0FREE')[0] as WebApiCall;
    expect(free.at - limited.at).toBeLessThan(500);

    expect((await a).ok).toBe(true);
    const [first, retry] = postsTo('C0LIMITED') as [WebApiCall, WebApiCall];
    expect(retry.at - first.at).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
    expect(retry.answer.status).toBe(200);
    expect(free.at).toBeLessThan(retry.at);
    expect(logs).toEqual([expect.objectContaining({ event: 'retry', error: 'ratelimited', channel: 'C0LIMITED', attempt: 1 })]);
    expect(logs[0]?.retryInMs).toBeGreaterThan(1_000 - SLACK_MS);
  });

  it.each(['service_unavailable', 'internal_error', 'ratelimited', 'fatal_error', 'request_timeout'])(
    'retries the transient error %s, then succeeds',
    async (error) => {
      const poster = makePoster();
      standin.fail('chat.postMessage', error, 2);
      const result = await poster.post('C0FLAKY', { text: 'eventually' });

      expect(result.ok).toBe(true);
      const calls = postsTo('C0FLAKY');
      expect(calls.map((c) => c.answer.body.ok)).toEqual([false, false, true]);
      expect(logs.map((l) => [l.event, l.error, l.attempt])).toEqual([
        ['retry', error, 1],
        ['retry', error, 2],
      ]);
    },
  );

  it('gives up after maxRetries and resolves ok: false', async () => {
    const poster = makePoster({ maxRetries: 2 });
    standin.fail('chat.postMessage', 'service_unavailable', 10);
    const result = await poster.post('C0DOWN', { text: 'never' });

    expect(result).toEqual({ ok: false, error: 'service_unavailable' });
    expect(postsTo('C0DOWN')).toHaveLength(3);
    expect(logs.at(-1)).toEqual({
      level: 'error',
      event: 'failed',
      method: 'chat.postMessage',
      channel: 'C0DOWN',
      error: 'service_unavailable',
      attempt: 3,
    });
  });

  it.each(['channel_not_found', 'not_in_channel', 'invalid_blocks', 'msg_too_long'])(
    'does not retry the permanent error %s',
    async (error) => {
      const poster = makePoster();
      standin.fail('chat.postMessage', error, 5);
      const result = await poster.post('C0GONE', { text: 'secret plan xoxb-1234567890-abcdefgh' });

      expect(result).toEqual({ ok: false, error });
      expect(postsTo('C0GONE')).toHaveLength(1);
      expect(logs).toEqual([{ level: 'error', event: 'failed', method: 'chat.postMessage', channel: 'C0GONE', error, attempt: 1 }]);
      expect(JSON.stringify(logs)).not.toMatch(/secret plan|xoxb/);
    },
  );

  it('retries a network error, then resolves request_error', async () => {
    const closed = await startSlackStandin({ signingSecret: randomUUID(), botToken: BOT_TOKEN });
    const deadUrl = closed.apiUrl;
    await closed.stop();
    const poster = makePoster({ client: webClient(deadUrl), maxRetries: 2 });

    const result = await poster.post('C0NOWHERE', { text: 'lost' });
    expect(result).toEqual({ ok: false, error: 'request_error' });
    expect(logs.map((l) => [l.event, l.attempt])).toEqual([
      ['retry', 1],
      ['retry', 2],
      ['failed', 3],
    ]);
  });

  it('fails an update of a missing message without retrying', async () => {
    const poster = makePoster();
    expect(await poster.update('C0UPD', '1.000001', { text: 'x' })).toEqual({ ok: false, error: 'message_not_found' });
    expect(standin.callsTo('chat.update')).toHaveLength(1);
    expect(logs[0]).toMatchObject({ event: 'failed', method: 'chat.update', error: 'message_not_found' });
  });

  it('turns a throwing client and a broken logger into values', async () => {
    const poster = createPoster({
      client: {
        chat: {
          postMessage: () => Promise.reject(new TypeError('boom')),
          update: () => Promise.resolve({ ok: false, error: 'internal_error' }),
          postEphemeral: () => Promise.resolve({ ok: true, message_ts: '1.2' }),
        },
      },
      log: () => {
        throw new Error('logger down');
      },
      perChannelIntervalMs: 0,
      retryBaseMs: 1,
      maxRetries: 1,
    });
    expect(await poster.post('C0X', { text: 'a' })).toEqual({ ok: false, error: 'unexpected_error' });
    expect(await poster.update('C0X', '1.1', { text: 'a' })).toEqual({ ok: false, error: 'internal_error' });
    expect(await poster.ephemeral('C0X', 'U1', { text: 'a' })).toEqual({ ok: true, channel: 'C0X', ts: '1.2' });
  });
});

describe('createPoster: bounds and masking', () => {
  it('masks secrets in text and in every string of blocks and attachments', async () => {
    const poster = makePoster();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvbmNhbGwifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
    const result = await poster.post('C0SECRET', {
      text: `upstream said Authorization: Bearer ${jwt}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'token=hunter2hunter2 at https://u:p4ssw0rd@api.example.com/' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'key AKIAABCDEFGHIJKLMNOP' }] },
      ],
      attachments: [{ fallback: 'see https://api.example.com/x?access_token=s3cr3tvalue', blocks: [] }],
    });

    expect(result.ok).toBe(true);
    const call = postsTo('C0SECRET')[0] as WebApiCall;
    const sent = JSON.stringify(call.args);
    for (const secret of [jwt, 'hunter2hunter2', 'p4ssw0rd', 'AKIAABCDEFGHIJKLMNOP', 's3cr3tvalue']) expect(sent).not.toContain(secret);
    expect(call.args.text).toContain(MASK);
    expect(call.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: `token=${MASK} at https://u:${MASK}@api.example.com/` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `key ${MASK}(aws-key)` }] },
    ]);
  });

  it('refuses a message nested beyond maxDepth without sending it', async () => {
    const poster = makePoster({ maxDepth: 4 });
    const deep = { type: 'section', a: { b: { c: { d: { text: 'token=hidden-value' } } } } };
    expect(await poster.post('C0DEEP', { text: 'x', blocks: [deep] })).toEqual({ ok: false, error: 'message_too_complex' });
    const cyclic: Record<string, unknown> = { type: 'section' };
    cyclic.self = cyclic;
    expect(await poster.post('C0DEEP', { text: 'x', blocks: [cyclic] })).toEqual({ ok: false, error: 'message_too_complex' });
    expect(standin.calls).toHaveLength(0);
  });

  it('drops jobs beyond maxPendingPerChannel with a logged error value', async () => {
    const poster = makePoster({ maxPendingPerChannel: 3 });
    const jobs = [1, 2, 3, 4, 5].map((n) => poster.post('C0BUSY', { text: `m${n}` }));
    const other = poster.post('C0QUIET', { text: 'fine' });
    const results = await Promise.all(jobs);

    expect(results.slice(3)).toEqual([
      { ok: false, error: 'queue_full' },
      { ok: false, error: 'queue_full' },
    ]);
    expect(results.slice(0, 3).every((r) => r.ok)).toBe(true);
    expect((await other).ok).toBe(true);
    expect(postsTo('C0BUSY').map((c) => c.args.text)).toEqual(['m1', 'm2', 'm3']);
    expect(logs.filter((l) => l.error === 'queue_full')).toHaveLength(2);
  });

  it('refuses an empty channel without calling Slack', async () => {
    const poster = makePoster();
    expect(await poster.post('', { text: 'x' })).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(await poster.ephemeral('C0E', '', { text: 'x' })).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(standin.calls).toHaveLength(0);
  });

  it('idle() waits for every lane, including retries', async () => {
    const poster = makePoster();
    standin.fail('chat.postMessage', 'internal_error', 1);
    for (const n of [1, 2, 3]) void poster.post('C0IDLE1', { text: `i${n}` });
    void poster.post('C0IDLE2', { text: 'j1' });
    await poster.idle();

    expect(standin.callsTo('chat.postMessage')).toHaveLength(5);
    expect(postsTo('C0IDLE1').filter((c) => c.answer.body.ok)).toHaveLength(3);
    await poster.idle();
  });

  it('rejects bad options, listing every problem', () => {
    const bad = () =>
      createPoster({
        client: {} as PosterOptions['client'],
        log: () => {},
        perChannelIntervalMs: -1,
        maxPendingPerChannel: 0,
      });
    expect(bad).toThrow(TriageError);
    expect(bad).toThrow(/client must have.*perChannelIntervalMs must be.*maxPendingPerChannel must be/);
  });
});
