/**
 * The bot's buttons, feedback, posting and permissions end to end: composed as `npm start`
 * composes it, driven through the Slack stand-in, real Redis for state, probes through the queue
 * to real workers (three pools).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackCalls } from '../../src/metrics-registry.js';
import { PROBES } from '../../src/probes/index.js';
import { QueueRunner } from '../../src/queue/queue-runner.js';
import { Sealer } from '../../src/queue/seal.js';
import { createProbeWorker, type ProbeWorker } from '../../src/queue/worker.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { redisFeedbackStore } from '../../src/store/feedback.js';
import { createEngine } from '../../src/triage/engine.js';
import {
  baseId,
  blocksOf as blocksOfArgs,
  causeIdsOf,
  NGINX_502_PAGE,
  REDIS_URL,
  settle as wait,
  startBadGateway,
  startBotHarness,
  type BadGateway,
  type BotHarness,
} from '../support/bot-harness.js';
import { NGINX_REFUSED as nginxRefused } from '../support/samples.js';
import type { SlackStandin, WebApiCall } from '../support/slack-standin.js';

let h: BotHarness;
let slack: SlackStandin;
let botUrl: string;
let upstream: BadGateway;
let upstreamUrl: string;
const workers: ProbeWorker[] = [];
let runner: QueueRunner;
const queuePrefix = `test-q-${Date.now()}-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  upstream = await startBadGateway('/api');
  upstreamUrl = upstream.url;
  const prefix = queuePrefix;
  const policy = createSsrfPolicy({ allow: '127.0.0.0/8' });
  const sealer = new Sealer('a-long-test-queue-secret-0123456789');
  // Three pools of real workers: zoneb's network "cannot reach" loopback (its policy refuses it).
  for (const [pool, p] of [
    ['default', policy],
    ['zonea', policy],
    ['zoneb', createSsrfPolicy({ allowAll: false })],
  ] as const) {
    workers.push(createProbeWorker({ redisUrl: REDIS_URL, pool, probes: PROBES, policy: p, prefix, sealer, name: `worker-${pool}` }));
  }
  await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  runner = new QueueRunner({ redisUrl: REDIS_URL, prefix, sealer });
  h = await startBotHarness({
    redis: true,
    env: { PROBE_ALLOW: '127.0.0.0/8', PROBE_USERS: 'U0ALICE,U0BOB', QUEUE_SECRET: 'a-long-test-queue-secret-0123456789' },
    overrides: { policy, runner, runnerVia: 'queue', sealer, posting: { perChannelIntervalMs: 200, retryBaseMs: 50 } },
  });
  slack = h.slack;
  botUrl = h.url;
});

afterAll(async () => {
  const redis = h?.redis;
  if (redis) {
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await h?.stop();
  await runner?.close();
  await Promise.all(workers.map((w) => w.close(1000)));
  await upstream?.close();
});

type Blocks = { block_id?: string; type: string; elements?: { action_id?: string; value?: string }[] }[];
const blocksOf = (c: WebApiCall) => blocksOfArgs(c.args) as Blocks;
const causeIds = (c: WebApiCall) => causeIdsOf(c.args);
const button = (c: WebApiCall, actionId: string, causeId?: string) => {
  for (const b of blocksOf(c))
    for (const e of b.elements ?? [])
      if (e.action_id === actionId && (!causeId || (JSON.parse(e.value ?? '{}') as { causeId?: string }).causeId === causeId)) return e;
  throw new Error(`no ${actionId} button in ${JSON.stringify(blocksOf(c)).slice(0, 300)}`);
};
const posts = (channel: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
const settle = (ms = 500) => wait(ms);

/** A curl -v transcript of a 502 from the local upstream: names the URL, so "Run probes" is offered. */
const curlTranscript = () =>
  [`$ curl -v ${upstreamUrl}`, '> GET /api HTTP/1.1', '< HTTP/1.1 502 Bad Gateway', '< Server: nginx/1.25.3', NGINX_502_PAGE].join('\n');

/** Paste `text` in a DM and wait for the answer. */
async function pasteInDm(channel: string, text: string, user = 'U0ALICE'): Promise<WebApiCall> {
  await slack.sendMessage(botUrl, { channel, user, text });
  return slack.waitForCall('chat.postMessage', (c) => c.args.channel === channel, 15_000);
}

/** Click a button of a posted message, as Slack sends it. */
async function click(message: WebApiCall, ts: string, el: { action_id?: string; value?: string }, user = 'U0ALICE') {
  const channel = String(message.args.channel);
  return slack.sendInteraction(botUrl, {
    type: 'block_actions',
    user: { id: user },
    team: { id: slack.teamId },
    channel: { id: channel },
    container: { type: 'message', message_ts: ts, channel_id: channel },
    message: { ts, ...(message.args.thread_ts ? { thread_ts: message.args.thread_ts } : {}), blocks: message.args.blocks },
    actions: [{ type: 'button', action_id: el.action_id, value: el.value, block_id: 'actions', action_ts: '1' }],
  });
}

const tsOf = (c: WebApiCall) => String(c.answer.body.ts ?? '');

describe('buttons', () => {
  it('"Show all causes" updates the answer in place with every cause', async () => {
    const text = [
      'even with keepalive_timeout smaller than the jetty idleTimeout I still see',
      '"upstream prematurely closed connection while reading response header from upstream" and',
      '"recv() failed (104: Connection reset by peer) while reading response header from upstream" occasionally.',
      'nginx.conf: `keepalive_timeout 65s;` start.ini: `jetty.http.idleTimeout=120000`',
    ].join('\n');
    const answer = await pasteInDm('D0SHOWALL', text);
    const all = createEngine()
      .explain(text)
      .causes.map((c) => c.id);
    expect(all.length).toBeGreaterThan(3);
    expect(causeIds(answer)).toHaveLength(3);
    const r = await click(answer, tsOf(answer), button(answer, 'show_all'));
    expect(r.status).toBe(200);
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'D0SHOWALL');
    expect(update.args.ts).toBe(tsOf(answer));
    expect(causeIds(update)).toEqual(all.slice(0, causeIds(update).length));
    expect(causeIds(update).length).toBeGreaterThan(3);
    // Every block of the new version has an id of its own; the renderer's names stay.
    const before = new Set(blocksOf(answer).map((b) => b.block_id));
    const after = blocksOf(update).flatMap((b) => (b.block_id ? [b.block_id] : []));
    expect(after.filter((id) => before.has(id))).toEqual([]);
    expect(new Set(after).size).toBe(after.length);
    expect(after.map(baseId)).toContain('header');
  });

  it('"Run probes" on a text answer that names a URL probes it through the workers and adds the run to the answer, in place', async () => {
    upstream.setStatus(502);
    const answer = await pasteInDm('D0RUNPROBES', curlTranscript());
    await click(answer, tsOf(answer), button(answer, 'run_probes'));
    // First the answer says the probes are running (no buttons meanwhile), then it holds their result.
    const pending = await slack.waitForCall('chat.update', (c) => c.args.channel === 'D0RUNPROBES', 20_000);
    expect(pending.args.ts).toBe(tsOf(answer));
    expect(JSON.stringify(pending.args)).toMatch(/still running/);
    const update = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === 'D0RUNPROBES' && JSON.stringify(c.args.blocks).includes('probe:'),
      20_000,
    );
    expect(update.args.ts).toBe(tsOf(answer));
    expect(JSON.stringify(update.args)).toMatch(/502/);
    expect(JSON.stringify(update.args)).toMatch(/probes of/);
    expect(causeIds(update).length).toBeGreaterThan(0);
    await settle();
    // No message of its own: the answer, and at most a note that the top cause changed.
    expect(posts('D0RUNPROBES').length).toBeLessThanOrEqual(2);
    for (const p of posts('D0RUNPROBES').slice(1)) expect(String(p.args.text)).toMatch(/Now ranked first/);
  });

  it('"Re-probe" runs again and shows what changed since the last run', async () => {
    upstream.setStatus(502);
    await slack.sendCommand(botUrl, { command: '/diagnose', text: upstreamUrl, user_id: 'U0ALICE', channel_id: 'C0REPROBE' });
    const first = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0REPROBE', 20_000);
    upstream.setStatus(200);
    await click(first, String(first.args.ts), button(first, 'reprobe'));
    // The run joins the answer's thread: the same message is updated, with what changed.
    const second = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === 'C0REPROBE' && JSON.stringify(c.args.blocks).includes('"changes'),
      20_000,
    );
    expect(second.args.ts).toBe(first.args.ts);
    const changes = blocksOf(second).find((b) => baseId(b.block_id) === 'changes');
    expect(JSON.stringify(changes)).toMatch(/http: failed 502 → ok 200/);
    // A double click is run once.
    await click(first, String(first.args.ts), button(first, 'reprobe'));
    const busy = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'C0REPROBE');
    expect(JSON.stringify(busy.args)).toMatch(/Already running/);
    // A later Re-probe compares with the run just made: nothing changed.
    await settle(3100);
    await click(first, String(first.args.ts), button(first, 'reprobe'));
    const third = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === 'C0REPROBE' && c !== second && JSON.stringify(c.args.blocks).includes('"changes'),
      20_000,
    );
    expect(third.args.ts).toBe(first.args.ts);
    expect(JSON.stringify(blocksOf(third).find((b) => baseId(b.block_id) === 'changes'))).toMatch(/Nothing changed|nothing changed/i);
  });

  it('a forged button value is refused with a message, nothing else happens', async () => {
    const answer = await pasteInDm('D0FORGEDVALUE', nginxRefused);
    await click(answer, tsOf(answer), { action_id: 'reprobe', value: '{"requestId":"../../etc/passwd"}' });
    const eph = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'D0FORGEDVALUE');
    expect(JSON.stringify(eph.args)).toMatch(/run \/diagnose again/);
    expect(posts('D0FORGEDVALUE')).toHaveLength(1);
  });
});

describe('feedback', () => {
  it('"Wrong cause" lowers that cause for the workspace; "Fixed it" is recalled when the error comes back', async () => {
    const text =
      '2024/03/01 10:00:00 [error] 17114#0: *54 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 10.1.2.3, server: localhost, request: "GET /pkgInfo HTTP/1.1", upstream: "http://10.0.3.4:8080/pkgInfo"';
    // Precondition: the top two are close enough that two "wrong" votes (×0.8) reorder them.
    const [a, b] = createEngine().explain(text).causes;
    expect(b!.score / a!.score).toBeGreaterThan(0.82);
    const before = await pasteInDm('D0FEEDBACK1', text);
    const [top, second] = causeIds(before);
    expect([top, second]).toEqual([a!.id, b!.id]);
    // Two users say the top cause was wrong: it drops below the second for this workspace.
    for (const user of ['U0ALICE', 'U0BOB']) {
      await click(before, tsOf(before), button(before, 'feedback_wrong', top), user);
      const eph = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'D0FEEDBACK1' && c.args.user === user);
      expect(JSON.stringify(eph.args)).toMatch(/ranks lower/);
    }
    // The same vote again counts once.
    await click(before, tsOf(before), button(before, 'feedback_wrong', top), 'U0ALICE');
    await slack.waitForCall(
      'chat.postEphemeral',
      (c) => c.args.channel === 'D0FEEDBACK1' && JSON.stringify(c.args).includes('counted once'),
    );
    const after = await pasteInDm('D0FEEDBACK2', text);
    expect(causeIds(after).indexOf(top!)).toBeGreaterThan(causeIds(after).indexOf(second!));

    await click(after, tsOf(after), button(after, 'feedback_fixed', second), 'U0ALICE');
    await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'D0FEEDBACK2' && JSON.stringify(c.args).includes('fixed it'));
    const again = await pasteInDm('D0FEEDBACK3', text);
    const recalled = blocksOf(again).find((b) => baseId(b.block_id) === 'recalled');
    expect(JSON.stringify(recalled)).toMatch(/Last time/);
    expect((await h.redis!.keys(`${h.prefix}:fb:*`)).length).toBeGreaterThan(0);
  });

  it("a user's later vote replaces their earlier one, and the confirmation is in the answer's thread", async () => {
    // An error nobody voted on yet in this workspace.
    const text = [
      'even with keepalive_timeout smaller than the jetty idleTimeout I still see',
      '"upstream prematurely closed connection while reading response header from upstream" and',
      '"recv() failed (104: Connection reset by peer) while reading response header from upstream" occasionally.',
      'nginx.conf: `keepalive_timeout 65s;` start.ini: `jetty.http.idleTimeout=120000`',
    ].join('\n');
    const answer = await pasteInDm('D0REVOTE', text);
    const [first, second] = causeIds(answer);
    expect(second).toBeDefined();
    const feedback = redisFeedbackStore(h.redis!, { prefix: h.prefix });
    const before = await feedback.feedbackCounts(slack.teamId);
    await click(answer, tsOf(answer), button(answer, 'feedback_fixed', first), 'U0BOB');
    const thanks = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'D0REVOTE' && c.args.user === 'U0BOB');
    expect(thanks.args.thread_ts).toBe(answer.args.thread_ts);
    await click(answer, tsOf(answer), button(answer, 'feedback_wrong', second), 'U0BOB');
    const replaced = await slack.waitForCall(
      'chat.postEphemeral',
      (c) => c.args.channel === 'D0REVOTE' && JSON.stringify(c.args).includes('replaces your earlier vote'),
    );
    expect(replaced.args.thread_ts).toBe(answer.args.thread_ts);
    const counts = await feedback.feedbackCounts(slack.teamId);
    // Only the later vote counts: U0BOB's "Fixed it" on the first cause is gone, their "Wrong cause" counts.
    expect(counts[first!]?.fixed ?? 0).toBe(before[first!]?.fixed ?? 0);
    expect(counts[second!]?.wrong ?? 0).toBe((before[second!]?.wrong ?? 0) + 1);
  });
});

describe('vantage points and permissions', () => {
  it('/diagnose --from zonea,zoneb compares the pools: "fails only from zoneb"', async () => {
    upstream.setStatus(200);
    await slack.sendCommand(botUrl, {
      command: '/diagnose',
      text: `${upstreamUrl} --from zonea,zoneb`,
      user_id: 'U0ALICE',
      channel_id: 'C0VANTAGE',
    });
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0VANTAGE', 20_000);
    expect(JSON.stringify(update.args)).toMatch(/fails only from zoneb/);
  });

  it('a user outside PROBE_USERS is refused ephemerally; explaining text stays open to everyone', async () => {
    const r = await slack.sendCommand(botUrl, { command: '/diagnose', text: upstreamUrl, user_id: 'U0MALLORY', channel_id: 'C0PERM' });
    const post = await slack.waitForResponseUrlPost(r.responseUrlId);
    expect(JSON.stringify(post.body)).toMatch(/PROBE_USERS/);
    expect(JSON.stringify(post.body)).toMatch(/ephemeral/);
    const text = await slack.sendCommand(botUrl, { command: '/diagnose', text: nginxRefused, user_id: 'U0MALLORY', channel_id: 'C0PERM' });
    expect(text.status).toBe(200);
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0PERM');
    expect(causeIds(answer)[0]).toBe('upstream-refused');
    // Their "Run probes" click is refused too.
    const withUrl = await pasteInDm('D0MALLORY', curlTranscript(), 'U0MALLORY');
    await click(withUrl, tsOf(withUrl), button(withUrl, 'run_probes'), 'U0MALLORY');
    const eph = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === 'D0MALLORY');
    expect(JSON.stringify(eph.args)).toMatch(/PROBE_CHANNELS \/ PROBE_USERS/);
    await settle();
    expect(posts('D0MALLORY')).toHaveLength(1);
  });
});

describe('posting', () => {
  it('honours 429 Retry-After on one channel without stalling another, and retries a failed call', async () => {
    slack.rateLimit('chat.postMessage', { times: 1, retryAfterSec: 2 });
    const started = Date.now();
    const slow = slack.sendMessage(botUrl, { channel: 'D0LIMITED', text: nginxRefused });
    await slow;
    await settle(200);
    await slack.sendMessage(botUrl, { channel: 'D0FREE', text: nginxRefused });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0FREE' && c.answer.status === 200, 10_000);
    const freeAt = Date.now() - started;
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0LIMITED' && c.answer.status === 200, 10_000);
    const limitedAt = Date.now() - started;
    expect(freeAt).toBeLessThan(1500);
    expect(limitedAt).toBeGreaterThanOrEqual(2000);

    const calls = async (outcome: string) =>
      (await slackCalls.get()).values.find((v) => v.labels.method === 'chat.postMessage' && v.labels.outcome === outcome)?.value ?? 0;
    const [errorsBefore, okBefore] = [await calls('error'), await calls('ok')];
    slack.fail('chat.postMessage', 'internal_error', 1);
    await slack.sendMessage(botUrl, { channel: 'D0FLAKY', text: nginxRefused });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0FLAKY' && c.answer.body.ok === true, 10_000);
    expect(posts('D0FLAKY').length).toBe(2);
    // Each call counted once: the failed one as error, the retry as ok.
    expect([(await calls('error')) - errorsBefore, (await calls('ok')) - okBefore]).toEqual([1, 1]);
    // A permanent error is not retried, and counted once too.
    slack.fail('chat.postMessage', 'channel_not_found', 1);
    await slack.sendMessage(botUrl, { channel: 'D0GONE', text: nginxRefused });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0GONE');
    await settle(300);
    expect(posts('D0GONE')).toHaveLength(1);
    expect((await calls('error')) - errorsBefore).toBe(2);
  });

  it('paces one channel to about one message per second', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) await slack.sendMessage(botUrl, { channel: 'D0PACED', text: nginxRefused });
    await slack.waitForCall('chat.postMessage', () => posts('D0PACED').length === 3, 10_000);
    const at = posts('D0PACED').map((c) => c.at - t0);
    // The poster spaces its sends 200 ms apart; arrival times at the stand-in jitter on a busy
    // machine (a late first arrival shortens the measured span), so the bound keeps a margin.
    // Unpaced, the three would arrive within a few milliseconds.
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(2 * 200 * 0.75);
  });
});

describe('messages', () => {
  it('reads code blocks, attached text snippets, and mentions in any channel', async () => {
    await slack.sendMessage(botUrl, { channel: 'D0CODE', text: `seeing this since the deploy:\n\`\`\`\n${nginxRefused}\n\`\`\`` });
    expect(causeIds(await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0CODE'))[0]).toBe('upstream-refused');

    // A snippet is fetched as it was uploaded: raw, never decoded.
    const file = slack.addFile({ name: 'error.log', content: `${nginxRefused}\n> GET /api HTTP/1.1 & more\n` });
    await slack.sendMessage(botUrl, { channel: 'D0FILE', text: 'see attached', files: [file] });
    expect(causeIds(await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0FILE'))[0]).toBe('upstream-refused');

    const { ts } = await slack.sendMention(botUrl, { channel: 'C0RANDOM', text: `what is this? ${nginxRefused}` });
    const reply = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0RANDOM');
    expect(reply.args.thread_ts).toBe(ts);
    await settle();
    expect(posts('C0RANDOM')).toHaveLength(1);
  });

  it('an edited message updates the earlier answer; a link unfurl (same text) does nothing', async () => {
    const { ts } = await slack.sendMessage(botUrl, { channel: 'D0EDIT', text: nginxRefused });
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'D0EDIT');
    const edited =
      'upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9 see https://status.example.com/incidents?id=4&view=full';
    await slack.editMessage(botUrl, 'D0EDIT', ts, edited);
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'D0EDIT');
    expect(update.args.ts).toBe(tsOf(answer));
    expect(causeIds(update)[0]).toBe('upstream-slow');
    await slack.unfurl(botUrl, 'D0EDIT', ts, {
      from_url: 'https://status.example.com/incidents?id=4&view=full',
      original_url: 'https://status.example.com/incidents?id=4&view=full',
      title: 'Status',
      title_link: 'https://status.example.com/incidents?id=4&view=full',
      fallback: 'Status: incident 4',
      service_name: 'status.example.com',
    });
    await settle();
    // The answer itself was updated; the thread got one short note, because the top cause changed.
    expect(posts('D0EDIT')).toHaveLength(2);
    expect(posts('D0EDIT')[1]!.args.thread_ts).toBe(ts);
    expect(String(posts('D0EDIT')[1]!.args.text)).toMatch(/Now ranked first.*upstream-slow/);
    expect(slack.callsTo('chat.update').filter((c) => c.args.channel === 'D0EDIT')).toHaveLength(1);
  });
});
