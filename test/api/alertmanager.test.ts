/**
 * The Alertmanager webhook end to end: the app composed as `npm start` composes it (bot and API on
 * one port), the API's route handing each group to the bot's alert pipeline, the answers posted in
 * ALERTMANAGER_CHANNEL through the Slack stand-in, and their buttons clicked as Slack sends them.
 * Real Redis keeps the windows, the answers' state and the votes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import type { components } from '../../src/api/schema.gen.js';
import { redisFeedbackStore } from '../../src/store/feedback.js';
import { causeIdsOf, settle, startBadGateway, startBotHarness, type BadGateway, type BotHarness } from '../support/bot-harness.js';
import type { SlackStandin, WebApiCall } from '../support/slack-standin.js';
import { NGINX_REFUSED, TOKEN } from './fixture.js';
import { conformance } from './spec.js';

type Webhook = components['schemas']['AlertmanagerWebhook'];
const CHANNEL = 'C0ALERTMGR';

let h: BotHarness;
let slack: SlackStandin;
let client: ApiClient;
let upstream: BadGateway;

beforeAll(async () => {
  upstream = await startBadGateway('/api');
  h = await startBotHarness({
    redis: true,
    env: { API_TOKENS: TOKEN, ALERTMANAGER_CHANNEL: CHANNEL, PROBE_ALLOW: '127.0.0.0/8' },
  });
  slack = h.slack;
  client = createApiClient(h.baseUrl, TOKEN);
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
});

const errorCode = (e: unknown) => (e as { error?: { code?: string } })?.error?.code;
const errorOf = (e: unknown) => (e as { error: { code: string; message: string; details?: string[] } }).error;
const posts = (predicate: (c: WebApiCall) => boolean = () => true) =>
  slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL && predicate(c));
const text = (c: WebApiCall) => JSON.stringify(c.args);

/** An Alertmanager v4 notification for one group. */
function notification(
  status: 'firing' | 'resolved',
  groupKey: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
): Webhook {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status,
    receiver: 'triage',
    groupLabels: { alertname: labels.alertname ?? 'ProbeFailure' },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: '2024-03-01T10:00:00.000Z',
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2024-03-01T10:20:00.000Z',
        generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=probe_success+%3D%3D+0',
        fingerprint: '1a30ba71cca2921f',
      },
    ],
  };
}

/** Click a button of a posted message, as Slack sends it. */
async function click(message: WebApiCall, actionId: string, user: string, causeId?: string) {
  const blocks = (message.args.blocks as { elements?: { action_id?: string; value?: string }[] }[]) ?? [];
  const el = blocks
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === actionId && (!causeId || (JSON.parse(e.value ?? '{}') as { causeId?: string }).causeId === causeId));
  if (!el) throw new Error(`no ${actionId} button`);
  const ts = String(message.answer.body.ts);
  return slack.sendInteraction(h.url, {
    type: 'block_actions',
    user: { id: user },
    team: { id: slack.teamId },
    channel: { id: CHANNEL },
    container: { type: 'message', message_ts: ts, channel_id: CHANNEL },
    message: { ts, blocks: message.args.blocks },
    actions: [{ type: 'button', action_id: el.action_id, value: el.value, block_id: 'x', action_ts: '1' }],
  });
}

describe('POST /v1/alerts/alertmanager', () => {
  it('probes the failing URL once per group, updates the answer on a repeat and on resolve', async () => {
    const groupKey = '{}/{severity="critical"}:{alertname="ProbeFailure"}';
    const labels = { alertname: 'ProbeFailure', instance: upstream.url, job: 'blackbox', severity: 'critical' };
    const annotations = { summary: `BlackBox Probe Failure: ${upstream.url}`, description: 'down for 5m' };
    const firing = notification('firing', groupKey, labels, annotations);

    const started = Date.now();
    const r = await client.POST('/v1/alerts/alertmanager', { body: firing });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.response.status).toBe(200);
    expect(r.data).toEqual({ status: 'accepted', action: 'answer' });
    expect(conformance('AlertAccepted', r.data)).toEqual([]);

    const post = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === CHANNEL && /ProbeFailure/.test(text(c)), 20_000);
    expect(text(post)).toMatch(/Alertmanager: ProbeFailure \([^)]*critical\), 1 firing/);
    expect(text(post)).toMatch(/502/);
    expect(causeIdsOf(post.args).length).toBeGreaterThan(0);

    // Alertmanager re-sends the firing group: no second answer, the first says it was seen again.
    const again = await client.POST('/v1/alerts/alertmanager', { body: firing });
    expect(again.data!.action).toBe('duplicate');
    const seen = await slack.waitForCall('chat.update', (c) => c.args.ts === post.answer.body.ts && /seen 2 times/.test(text(c)), 10_000);
    expect(causeIdsOf(seen.args)).toEqual(causeIdsOf(post.args));

    const resolved = await client.POST('/v1/alerts/alertmanager', { body: notification('resolved', groupKey, labels, annotations) });
    expect(resolved.data!.action).toBe('resolve');
    const update = await slack.waitForCall('chat.update', (c) => c.args.ts === post.answer.body.ts && /Resolved at/.test(text(c)), 10_000);
    expect(text(update)).toMatch(/Resolved at .* UTC: ProbeFailure/);
    expect(posts((c) => /ProbeFailure/.test(text(c)))).toHaveLength(1);

    // A resolved group that fires again is answered afresh.
    const refire = await client.POST('/v1/alerts/alertmanager', { body: firing });
    expect(refire.data!.action).toBe('answer');
    await h.app.api.idle();
    expect(posts((c) => /ProbeFailure/.test(text(c)))).toHaveLength(2);

    const metrics = (await client.GET('/metrics', { parseAs: 'text' })).data!;
    expect(metrics).toMatch(/triage_diagnoses_total\{entry="alertmanager",top_cause="[a-z-]+"\} [1-9]/);
  });

  it("gives the answers working buttons: Show all, Wrong cause and Fixed it, confirmed in the answer's thread", async () => {
    const text502 = [
      'even with keepalive_timeout smaller than the jetty idleTimeout I still see',
      '"upstream prematurely closed connection while reading response header from upstream" and',
      '"recv() failed (104: Connection reset by peer) while reading response header from upstream" occasionally.',
      'nginx.conf: `keepalive_timeout 65s;` start.ini: `jetty.http.idleTimeout=120000`',
    ].join('\n');
    const r = await client.POST('/v1/alerts/alertmanager', {
      body: notification('firing', '{}:{alertname="NginxUpstreamReset"}', { alertname: 'NginxUpstreamReset' }, { description: text502 }),
    });
    expect(r.data!.action).toBe('answer');
    const answer = await slack.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === CHANNEL && /NginxUpstreamReset/.test(text(c)),
      10_000,
    );
    const [top, second] = causeIdsOf(answer.args);
    expect(second).toBeDefined();

    await click(answer, 'feedback_wrong', 'U0ALICE', top);
    const wrong = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === CHANNEL && c.args.user === 'U0ALICE');
    expect(text(wrong)).toMatch(/ranks lower/);
    expect(text(wrong)).not.toMatch(/too old/);
    // The answer is top-level in the channel: the confirmation goes in its thread.
    expect(wrong.args.thread_ts).toBe(answer.answer.body.ts);

    await click(answer, 'feedback_fixed', 'U0BOB', second);
    const fixed = await slack.waitForCall('chat.postEphemeral', (c) => c.args.channel === CHANNEL && c.args.user === 'U0BOB');
    expect(text(fixed)).toMatch(/fixed it/);
    const counts = await redisFeedbackStore(h.redis!, { prefix: h.prefix }).feedbackCounts(slack.teamId);
    expect(counts[top!]?.wrong).toBe(1);
    expect(counts[second!]?.fixed).toBe(1);

    await click(answer, 'show_all', 'U0ALICE');
    const all = await slack.waitForCall('chat.update', (c) => c.args.ts === answer.answer.body.ts, 10_000);
    expect(causeIdsOf(all.args).length).toBeGreaterThanOrEqual(causeIdsOf(answer.args).length);
    await settle();
    expect(slack.callsTo('chat.postEphemeral').filter((c) => /too old/.test(text(c)))).toEqual([]);
  });

  it('explains the alert text when the policy refuses its URL, and ignores an unanswered resolve', async () => {
    const groupKey = '{}:{alertname="NginxUpstreamRefused"}';
    const labels = { alertname: 'NginxUpstreamRefused', instance: 'http://169.254.169.254/latest/' };
    const annotations = { description: NGINX_REFUSED };
    const r = await client.POST('/v1/alerts/alertmanager', { body: notification('firing', groupKey, labels, annotations) });
    expect(r.data!.action).toBe('answer');
    const post = await slack.waitForCall('chat.postMessage', (c) => /NginxUpstreamRefused/.test(text(c)), 10_000);
    expect(text(post)).toMatch(/not probed: .*169\.254\.169\.254/);
    expect(causeIdsOf(post.args)).toContain('upstream-refused');

    const never = await client.POST('/v1/alerts/alertmanager', {
      body: notification('resolved', '{}:{alertname="Never"}', labels, annotations),
    });
    expect(never.data!.action).toBe('ignore');
  });

  it('validates the payload strictly, naming each field', async () => {
    const bad = notification('firing', 'k', { alertname: 'X' }, {}) as unknown as Record<string, unknown>;
    const alerts = bad.alerts as Record<string, unknown>[];
    alerts[0] = { ...alerts[0], labels: { instance: 42 }, fingerprint: undefined };
    const r = await client.POST('/v1/alerts/alertmanager', { body: { ...bad, version: '3' } as unknown as Webhook });
    expect(r.response.status).toBe(400);
    const details = errorOf(r.error).details!.join('\n');
    expect(details).toMatch(/^version: must be "4"/m);
    expect(details).toMatch(/^alerts\[0\]\.labels\.instance: must be a string/m);
    expect(details).toMatch(/^alerts\[0\]\.fingerprint: is required/m);
    const empty = await client.POST('/v1/alerts/alertmanager', { body: { ...bad, alerts: [] } as unknown as Webhook });
    expect(errorOf(empty.error).details).toEqual(['alerts: must be a non-empty array']);
  });

  it('answers ALERTMANAGER_NOT_CONFIGURED without ALERTMANAGER_CHANNEL', async () => {
    const bare = await startBotHarness({ env: { API_TOKENS: TOKEN } });
    try {
      const r = await createApiClient(bare.baseUrl, TOKEN).POST('/v1/alerts/alertmanager', {
        body: notification('firing', 'k', { alertname: 'X' }, {}),
      });
      expect(r.response.status).toBe(503);
      expect(errorCode(r.error)).toBe('ALERTMANAGER_NOT_CONFIGURED');
      expect(errorOf(r.error).message).toMatch(/ALERTMANAGER_CHANNEL/);
    } finally {
      await bare.stop();
    }
  });
});
