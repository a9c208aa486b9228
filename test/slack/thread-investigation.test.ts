/**
 * The thread is the investigation, end to end through the Slack stand-in with real Redis: what a
 * person pastes arrives escaped as Slack sends it, clicks arrive as block_actions, edits as
 * message_changed and deletes as message_deleted. One answer is updated in place; a short note
 * goes to the thread only when the top cause changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseId,
  blocksOf,
  causeIdsOf,
  settle,
  startBadGateway,
  startBotHarness,
  type BadGateway,
  type BotHarness,
} from '../support/bot-harness.js';
import type { SlackStandin, WebApiCall } from '../support/slack-standin.js';
import { createEngine } from '../../src/triage/engine.js';

let h: BotHarness;
let slack: SlackStandin;
let botUrl: string;
let upstream: BadGateway;

const CHANNEL = 'C0INCIDENT';

beforeAll(async () => {
  upstream = await startBadGateway('/api');
  h = await startBotHarness({ redis: true, env: { WATCH_CHANNELS: CHANNEL, THREAD_EVIDENCE_MAX: '3', PROBE_ALLOW: '127.0.0.0/8' } });
  slack = h.slack;
  botUrl = h.url;
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
});

/** What curl -v shows for a 502 from an AWS Application Load Balancer: nothing but the status, the server and ALB's page. */
const ALB_502 = [
  '502 from the ALB again:',
  '< HTTP/2 502',
  '< server: awselb/2.0',
  '< date: Sun, 06 Dec 2026 10:00:00 GMT',
  '< content-type: text/html',
  '< content-length: 122',
  '<',
  '<html>',
  '<head><title>502 Bad Gateway</title></head>',
  '<body>',
  '<center><h1>502 Bad Gateway</h1></center>',
  '</body>',
  '</html>',
].join('\n');

/** nginx's error.log line for a refused upstream (nginx 1.25, ngx_event_connect.c). */
const NGINX_REFUSED =
  '2026/12/06 10:01:02 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.5, server: api.example.com, request: "GET /v1/orders HTTP/1.1", upstream: "http://10.0.3.17:8080/v1/orders", host: "api.example.com"';

const posts = () => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL);
const updates = () => slack.callsTo('chat.update').filter((c) => c.args.channel === CHANNEL);
const tsOf = (c: WebApiCall) => String(c.answer.body.ts ?? '');
const text = (c: WebApiCall) => JSON.stringify(c.args.blocks ?? []);

/** Wait for the n-th update of the answer. */
async function nthUpdate(n: number): Promise<WebApiCall> {
  await slack.waitForCall('chat.update', () => updates().length >= n, 15_000);
  return updates()[n - 1]!;
}

/** Click a button of the answer as it now stands, as Slack sends block_actions. */
async function click(answer: WebApiCall, current: Record<string, unknown>, actionId: string, label: string): Promise<void> {
  const ts = tsOf(answer);
  type El = { action_id?: string; value?: string; text?: { text?: string } };
  const el = blocksOf(current)
    .flatMap((b) => (b.elements ?? []) as El[])
    .find((e) => e.action_id?.startsWith(actionId) && e.text?.text === label);
  expect(el, `a "${label}" button`).toBeDefined();
  const r = await slack.sendInteraction(botUrl, {
    type: 'block_actions',
    user: { id: 'U0ONCALL01' },
    team: { id: slack.teamId },
    channel: { id: CHANNEL },
    container: { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: false },
    message: { type: 'message', ts, thread_ts: answer.args.thread_ts, blocks: current.blocks },
    actions: [{ type: 'button', action_id: el!.action_id, value: el!.value, block_id: 'ask-answers', text: el!.text, action_ts: '1' }],
  });
  expect(r.status).toBe(200);
}

/** The score the answer shows for a cause, in percent. */
function pctOf(args: Record<string, unknown>, cause: string): number {
  const b = blocksOf(args).find((x) => baseId(x.block_id) === `cause:${cause}`) as { text?: { text?: string } } | undefined;
  const m = /(\d+) ?%/.exec(b?.text?.text ?? '');
  return m ? Number(m[1]) : NaN;
}

describe('one investigation per thread', () => {
  it('a bare ALB 502, a question, the nginx line, an edit: one answer updated in place, one note per change of top cause', async () => {
    const engine = createEngine();
    const root = await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL01', text: ALB_502 });
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === CHANNEL, 15_000);
    expect(answer.args.thread_ts).toBe(root.ts);

    // 1. The thin paste: the guide's differential for a 502, low confidence, and a question to separate the top two.
    const thin = engine.explain(ALB_502);
    expect(causeIdsOf(answer.args)).toEqual(thin.causes.slice(0, 3).map((c) => c.id));
    expect(thin.causes[0]!.confidence).toBe('low');
    expect(thin.next?.ask?.id).toBe('every-request');
    expect(text(answer)).toContain('Does it fail for every request, or only for some?');

    // 2. "Only some": the answer's stated weights (knowledge/questions/questions.yaml) re-rank the same message.
    await click(answer, answer.args, 'answer_question', 'Only some');
    const afterQuestion = await nthUpdate(1);
    expect(afterQuestion.args.ts).toBe(tsOf(answer));
    const expected = engine.investigate([
      { id: root.ts, text: ALB_502 },
      {
        id: 'answer:every-request',
        signals: [{ name: 'answer.every_request', value: 'some', excerpt: 'Only some' as never, source: 'question' }],
      },
    ]);
    expect(expected.causes[0]!.id).toBe('idle-timeout-mismatch');
    expect(causeIdsOf(afterQuestion.args)).toEqual(expected.causes.slice(0, 3).map((c) => c.id));
    expect(pctOf(afterQuestion.args, 'idle-timeout-mismatch')).toBe(Math.round(expected.causes[0]!.score * 100));
    expect(text(afterQuestion)).toContain('answer.every_request=some');
    await slack.waitForCall('chat.postMessage', () => posts().length >= 2, 15_000);
    expect(posts()[1]!.args.thread_ts).toBe(root.ts);
    expect(String(posts()[1]!.args.text)).toContain('Now ranked first');

    // 3. The nginx error line in the thread: the same message, now upstream-refused with high confidence.
    const line = await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL01', text: NGINX_REFUSED, thread_ts: root.ts });
    const afterLine = await nthUpdate(2);
    expect(afterLine.args.ts).toBe(tsOf(answer));
    expect(causeIdsOf(afterLine.args)[0]).toBe('upstream-refused');
    expect(pctOf(afterLine.args, 'upstream-refused')).toBeGreaterThanOrEqual(75);
    expect(text(afterLine)).toMatch(/High|high/);
    // Each cause shows where its support came from: the line's message, the question's answer.
    expect(text(afterLine)).toContain(`<@U0ONCALL01>'s message`);
    await slack.waitForCall('chat.postMessage', () => posts().length >= 3, 15_000);
    const note = posts()[2]!;
    expect(note.args.thread_ts).toBe(root.ts);
    expect(String(note.args.text)).toContain('upstream-refused');
    expect(String(note.args.text)).toContain('Connection refused');

    // 4. The line edited away: its evidence goes, and the ranking is back to where the answer put it.
    await slack.editMessage(botUrl, CHANNEL, line.ts, 'never mind, that was the staging box');
    const afterEdit = await nthUpdate(3);
    expect(afterEdit.args.ts).toBe(tsOf(answer));
    expect(causeIdsOf(afterEdit.args)).toEqual(causeIdsOf(afterQuestion.args));
    await slack.waitForCall('chat.postMessage', () => posts().length >= 4, 15_000);

    // The whole path: one answer and one note per change of top cause (three changes), nothing else.
    await settle(500);
    expect(posts()).toHaveLength(4);
    expect(slack.callsTo('chat.postEphemeral')).toHaveLength(0);
    expect(new Set(updates().map((u) => u.args.ts))).toEqual(new Set([tsOf(answer)]));
  });

  it('chat in the thread changes nothing; a deleted follow-up takes its evidence with it; evidence is stored masked', async () => {
    const root = await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL02', text: ALB_502 });
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === CHANNEL && c.args.thread_ts === root.ts, 15_000);
    const before = updates().length;
    await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL02', text: 'looking at it now, thanks', thread_ts: root.ts });
    await settle(600);
    expect(updates()).toHaveLength(before);
    const secret = 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc4OTA';
    const line = await slack.sendMessage(botUrl, {
      channel: CHANNEL,
      user: 'U0ONCALL02',
      text: `${NGINX_REFUSED}\n${secret}`,
      thread_ts: root.ts,
    });
    const added = await nthUpdate(before + 1);
    expect(causeIdsOf(added.args)[0]).toBe('upstream-refused');
    const stored = await h.redis!.hgetall(`${h.prefix}:inv:${CHANNEL}:${encodeURIComponent(root.ts)}`);
    expect(Object.keys(stored)).toContain(`i:${line.ts}`);
    expect(JSON.stringify(stored)).not.toContain('c2lnbmF0dXJlLXZhbHVl');
    const ttl = await h.redis!.ttl(`${h.prefix}:inv:${CHANNEL}:${encodeURIComponent(root.ts)}`);
    expect(ttl).toBeGreaterThan(6 * 86_400);
    await slack.deleteMessage(botUrl, CHANNEL, line.ts);
    const removed = await nthUpdate(before + 2);
    expect(removed.args.ts).toBe(tsOf(answer));
    expect(causeIdsOf(removed.args)).toEqual(causeIdsOf(answer.args));
    expect(Object.keys(await h.redis!.hgetall(`${h.prefix}:inv:${CHANNEL}:${encodeURIComponent(root.ts)}`))).not.toContain(`i:${line.ts}`);
  });

  it("a typed reply to the answer's question counts as the click would; deleting the reply takes it back", async () => {
    const root = await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL05', text: ALB_502 });
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === CHANNEL && c.args.thread_ts === root.ts, 15_000);
    expect(text(answer)).toContain('Does it fail for every request, or only for some?');
    const n = updates().length;
    const reply = await slack.sendMessage(botUrl, {
      channel: CHANNEL,
      user: 'U0ONCALL05',
      text: 'Only some of them, maybe 1 in 20',
      thread_ts: root.ts,
    });
    await slack.waitForCall('chat.update', () => updates().length > n, 15_000);
    const answered = updates()[updates().length - 1]!;
    expect(answered.args.ts).toBe(tsOf(answer));
    expect(causeIdsOf(answered.args)[0]).toBe('idle-timeout-mismatch');
    expect(text(answered)).toContain('answer.every_request=some');
    await slack.deleteMessage(botUrl, CHANNEL, reply.ts);
    await slack.waitForCall('chat.update', () => updates().length > n + 1, 15_000);
    expect(causeIdsOf(updates()[updates().length - 1]!.args)).toEqual(causeIdsOf(answer.args));
  });

  it('keeps at most THREAD_EVIDENCE_MAX items: the oldest are summarised into one that keeps their signals', async () => {
    const root = await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL03', text: ALB_502 });
    await slack.waitForCall('chat.postMessage', (c) => c.args.channel === CHANNEL && c.args.thread_ts === root.ts, 15_000);
    const key = `${h.prefix}:inv:${CHANNEL}:${encodeURIComponent(root.ts)}`;
    const followUps = [
      'curl: (56) Recv failure: Connection reset by peer',
      'upstream prematurely closed connection while reading response header from upstream',
      NGINX_REFUSED,
    ];
    for (const [i, t] of followUps.entries()) {
      const n = updates().length;
      await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL03', text: t, thread_ts: root.ts });
      await slack.waitForCall('chat.update', () => updates().length > n, 15_000);
      expect(
        Object.keys(await h.redis!.hgetall(key)).filter((f) => f.startsWith('i:')).length,
        `after follow-up ${i + 1}`,
      ).toBeLessThanOrEqual(3);
    }
    const stored = await h.redis!.hgetall(key);
    const summary = JSON.parse(stored['i:summary']!) as { kind: string; label: string; signals: { n: string; v?: string }[] };
    expect(summary.kind).toBe('summary');
    expect(Number(summary.label)).toBe(2);
    // The paste summarised away still counts: its 502 (the ALB's) is in the summary's signals.
    expect(summary.signals).toContainEqual(expect.objectContaining({ n: 'http.status', v: '502' }));
    const last = updates()[updates().length - 1]!;
    expect(causeIdsOf(last.args)[0]).toBe('upstream-refused');
    expect(text(last)).toContain('2 earlier items');
  });

  it('/diagnose: the probe run is the first evidence; a paste in its thread re-ranks the same message', async () => {
    upstream.setStatus(502);
    const before = posts().length;
    await slack.sendCommand(botUrl, { command: '/diagnose', text: upstream.url, user_id: 'U0ONCALL04', channel_id: CHANNEL });
    const probing = (c: WebApiCall) => c.args.channel === CHANNEL && String(c.args.text).startsWith('Probing');
    if (!posts().some(probing)) await slack.waitForCall('chat.postMessage', probing, 15_000);
    const placeholder = posts().find(probing)!;
    const answerTs = tsOf(placeholder);
    // The final answer of the probes has the buttons (Re-probe); wait for it.
    const final = (c: WebApiCall) => c.args.ts === answerTs && JSON.stringify(c.args.blocks).includes('reprobe');
    if (!updates().some(final)) await slack.waitForCall('chat.update', final, 20_000);
    const n = updates().length;
    await slack.sendMessage(botUrl, { channel: CHANNEL, user: 'U0ONCALL04', text: NGINX_REFUSED, thread_ts: answerTs });
    await slack.waitForCall('chat.update', () => updates().length > n, 15_000);
    const after = updates()[updates().length - 1]!;
    expect(after.args.ts).toBe(answerTs);
    expect(causeIdsOf(after.args)[0]).toBe('upstream-refused');
    // Both origins show: the probe run and the pasted line.
    expect(text(after)).toContain('probes of');
    expect(text(after)).toContain(`<@U0ONCALL04>'s message`);
    await settle(300);
    expect(posts().filter((p) => p.args.thread_ts === undefined && String(p.args.text).startsWith('Probing'))).toHaveLength(1);
    expect(
      posts()
        .slice(before)
        .filter((p) => p.args.thread_ts === answerTs)
        .every((p) => String(p.args.text).includes('Now ranked first')),
    ).toBe(true);
  });
});
