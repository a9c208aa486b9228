/**
 * Alert channels end to end, one monitoring sender at a time: each integration posts as it does
 * in Slack (test/support/alert-samples.ts, delivered by the stand-in as Slack stores it), the bot
 * answers the alert once in its thread, a re-firing updates that answer, the resolution updates
 * it again and posts nothing; people, replies in the thread and our own posts get nothing. Real
 * Redis keeps the windows; the bot is composed as `npm start` composes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatAlert } from '../../src/alerts/registry.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { readInbound } from '../../src/slack/inbound.js';
import * as samples from '../support/alert-samples.js';
import type { IntegrationPost } from '../support/alert-samples.js';
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

let h: BotHarness;
let slack: SlackStandin;
let botUrl: string;
let upstream: BadGateway;

interface Source {
  name: string;
  channel: string;
  firing: () => IntegrationPost;
  again: () => IntegrationPost;
  /** The resolution: a new message, or (Sentry) the alert edited in place. */
  resolved: () => IntegrationPost;
  resolvedByEdit?: boolean;
  /** The cause the answer ranks first; undefined: whatever the engine ranks (checked against it). */
  cause?: string;
  probes?: boolean;
}

const SOURCES: Source[] = [
  {
    name: 'Alertmanager (default template)',
    channel: 'C0ALERTMGR',
    firing: () => samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api'),
    again: () => samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api', { count: 2 }),
    resolved: () => samples.alertmanagerDefault('resolved', 'http://10.0.3.4:8080/api'),
    cause: 'upstream-refused',
  },
  {
    name: 'Alertmanager (own title: only the colour says resolved)',
    channel: 'C0AMCOLOUR',
    firing: () => samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api', { customTitle: true }),
    again: () => samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api', { customTitle: true }),
    resolved: () => samples.alertmanagerDefault('resolved', 'http://10.0.3.4:8080/api', { customTitle: true }),
    cause: 'upstream-refused',
  },
  {
    name: 'Grafana (names a local URL: probes run)',
    channel: 'C0GRAFANA',
    firing: () => samples.grafana('firing', upstream.url, '0'),
    again: () => samples.grafana('firing', upstream.url, '0'),
    resolved: () => samples.grafana('resolved', upstream.url, '1'),
    probes: true,
  },
  {
    name: 'Datadog',
    channel: 'C0DATADOG',
    firing: () => samples.datadog('Triggered', 212),
    again: () => samples.datadog('Re-Triggered', 480),
    resolved: () => samples.datadog('Recovered', 3),
    cause: 'upstream-refused',
  },
  {
    name: 'Datadog, a thin metric alert (whatever the engine ranks)',
    channel: 'C0THIN',
    firing: () => samples.datadogThin('Triggered'),
    again: () => samples.datadogThin('Triggered'),
    resolved: () => samples.datadogThin('Recovered'),
  },
  {
    name: 'PagerDuty',
    channel: 'C0PAGERDUTY',
    firing: () => samples.pagerduty('Triggered', 1234),
    again: () => samples.pagerduty('Triggered', 1301),
    resolved: () => samples.pagerduty('Resolved', 1234),
    cause: 'upstream-slow',
  },
  {
    name: 'Sentry (resolved from Slack: the alert edited in place)',
    channel: 'C0SENTRY',
    firing: () => samples.sentry(12),
    again: () => samples.sentry(40),
    resolved: () => samples.sentry(40, true),
    resolvedByEdit: true,
    cause: 'upstream-refused',
  },
  {
    name: 'CloudWatch via AWS Chatbot',
    channel: 'C0CLOUDWATCH',
    firing: () => samples.cloudwatch('ALARM', '2.0'),
    again: () => samples.cloudwatch('ALARM', '3.0'),
    resolved: () => samples.cloudwatch('OK', '0.0'),
    cause: 'upstream-unhealthy',
  },
  {
    name: 'Opsgenie',
    channel: 'C0OPSGENIE',
    firing: () => samples.opsgenie('created'),
    again: () => samples.opsgenie('created'),
    resolved: () => samples.opsgenie('closed'),
    cause: 'upstream-refused',
  },
];

beforeAll(async () => {
  upstream = await startBadGateway('/health');
  // Offline: host names do not resolve, so alerts naming public hosts are explained from their text.
  const policy = createSsrfPolicy({
    allow: '127.0.0.0/8',
    lookup: async (host) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    },
  });
  h = await startBotHarness({
    redis: true,
    env: {
      ALERT_CHANNELS: [...SOURCES.map((s) => s.channel), 'C0EDITS', 'C0ZH'].join(','),
      ALERT_CHANNEL_LANGS: 'C0ZH:zh,C0DATADOG:en',
      PROBE_ALLOW: '127.0.0.0/8',
    },
    overrides: { policy },
  });
  slack = h.slack;
  botUrl = h.url;
});

afterAll(async () => {
  await h?.stop();
  await upstream?.close();
});

const inChannel = (channel: string, method: string) => slack.callsTo(method).filter((c) => c.args.channel === channel);
/** Every post, update and ephemeral the bot sent to a channel. */
const sentTo = (channel: string) => slack.calls.filter((c) => c.method.startsWith('chat.') && c.args.channel === channel);
const post = async (channel: string, p: IntegrationPost) => (await slack.postAsIntegration(botUrl, channel, p.who, p.posted)).ts;

describe.each(SOURCES)('$name alerts', (source) => {
  const { channel } = source;
  let alertTs: string;
  let answer: WebApiCall;

  it('answers the alert once, in its thread, with the ranked causes', async () => {
    alertTs = await post(channel, source.firing());
    answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === channel, source.probes ? 20_000 : 5_000);
    expect(answer.args.thread_ts).toBe(alertTs);
    const causes = causeIdsOf(answer.args);
    if (source.cause) expect(causes[0]).toBe(source.cause);
    else if (source.probes) expect(causes.length).toBeGreaterThan(0);
    if (source.probes) {
      expect(JSON.stringify(answer.args.blocks)).toContain(new URL(upstream.url).host);
      expect(JSON.stringify(answer.args.blocks)).toMatch(/502/);
    }
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toEqual([]);
  });

  it('updates that answer when the same alert fires again ("seen 2 times"), without a new post', async () => {
    await post(channel, source.again());
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === channel);
    expect(update.args.ts).toBe(answer.answer.body.ts);
    expect(JSON.stringify(update.args.blocks)).toMatch(/seen 2 times/);
    expect(causeIdsOf(update.args)).toEqual(causeIdsOf(answer.args));
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toHaveLength(1);
  });

  it('updates that answer when the alert resolves, and posts nothing new', async () => {
    const r = source.resolved();
    if (source.resolvedByEdit) {
      // After our reply, Slack stores the alert as a thread parent: its edit carries thread_ts = its ts.
      expect(slack.messages(channel).find((m) => m.ts === alertTs)?.thread_ts).toBe(alertTs);
      await slack.editIntegrationMessage(botUrl, channel, alertTs, r.posted);
    } else await post(channel, r);
    const update = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === channel && JSON.stringify(c.args.blocks).includes('Resolved at'),
    );
    expect(update.args.ts).toBe(answer.answer.body.ts);
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toHaveLength(2);
  });

  it('does not answer people in the channel, or an integration replying inside the alert thread', async () => {
    const before = sentTo(channel).length;
    const error = '502 Bad Gateway again: connect() failed (111: Connection refused) while connecting to upstream';
    await slack.sendMessage(botUrl, { channel, user: 'U0ALICE', text: `is this the same? ${error}` });
    const f = source.firing();
    await slack.postAsIntegration(botUrl, channel, f.who, f.posted, { thread_ts: alertTs });
    await slack.sendMessage(botUrl, { channel, user: 'U0BOB', text: 'looking', thread_ts: alertTs });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });

  it("takes a person's error in the alert thread as evidence: the alert's answer is re-ranked in place, no second answer", async () => {
    const before = sentTo(channel).length;
    const error = '502 Bad Gateway again: connect() failed (111: Connection refused) while connecting to upstream';
    await slack.sendMessage(botUrl, { channel, user: 'U0BOB', text: `still seeing ${error} & more`, thread_ts: alertTs });
    const update = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === channel && JSON.stringify(c.args.blocks).includes('U0BOB'),
      10_000,
    );
    expect(update.args.ts).toBe(answer.answer.body.ts);
    expect(causeIdsOf(update.args)).toContain('upstream-refused');
    // The alert's status lines stay on the answer.
    expect(JSON.stringify(update.args.blocks)).toMatch(/alert-opened|alert-status/);
    await settle();
    const after = sentTo(channel).slice(before);
    const posted = after.filter((c) => c.method === 'chat.postMessage');
    // At most the one note that the top cause changed, in the alert's thread.
    expect(posted.length).toBeLessThanOrEqual(1);
    for (const p of posted) {
      expect(p.args.thread_ts).toBe(alertTs);
      expect(String(p.args.text)).toContain('Now ranked first');
    }
  });
});

describe('the thin alert gets whatever ranking the engine returns for its text', () => {
  it("shows the engine's causes for the alert's text, in the engine's order", async () => {
    const answer = inChannel('C0THIN', 'chat.postMessage')[0]!;
    const stored = slack.messages('C0THIN').find((m) => m.ts === answer.args.thread_ts)!;
    const alert = readChatAlert(readInbound(stored).view)!;
    expect(alert.title).toBe('ALB 5XX above threshold on shop-alb');
    const ranked = h.app.engine.explain(alert.text, { lang: 'en' }).causes.map((c) => c.id);
    const shown = causeIdsOf(answer.args);
    expect(shown).toEqual(ranked.slice(0, shown.length));
    if (ranked.length === 0) expect(JSON.stringify(answer.args.blocks)).toMatch(/No known cause/);
  });
});

describe('edits Slack reports in an alert channel (message_changed)', () => {
  const channel = 'C0EDITS';
  let alertTs: string;
  let answer: WebApiCall;

  it('answers a first alert (the setup of the edits below)', async () => {
    alertTs = await post(channel, samples.pagerduty('Triggered', 4321));
    answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === channel);
    expect(answer.args.thread_ts).toBe(alertTs);
    await settle();
  });

  it('never answers its own answer when Slack reports it edited', async () => {
    const before = sentTo(channel).length;
    const ours = slack.messages(channel).find((m) => m.ts === answer.answer.body.ts)!;
    expect(ours).toMatchObject({ bot_id: slack.botId, thread_ts: alertTs });
    await slack.sendEvent(botUrl, {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      channel,
      message: { ...ours, edited: { user: slack.botUserId, ts: '1700009999.000100' } },
      previous_message: ours,
    });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });

  it('does not count a link unfurl of the alert (same text) as a second firing', async () => {
    const before = sentTo(channel).length;
    await slack.unfurl(botUrl, channel, alertTs, {
      from_url: 'https://acme.pagerduty.com/incidents/Q1ABCD4321',
      original_url: 'https://acme.pagerduty.com/incidents/Q1ABCD4321',
      title: 'Incident #4321',
      title_link: 'https://acme.pagerduty.com/incidents/Q1ABCD4321',
      service_name: 'PagerDuty',
      text: 'checkout-gateway · triggered · high urgency',
      fallback: 'PagerDuty: Incident #4321',
    });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });
});

describe('a channel in ALERT_CHANNEL_LANGS', () => {
  it('answers its alerts in its language, status lines included', async () => {
    const ts = await post('C0ZH', samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api'));
    const answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0ZH');
    expect(answer.args.thread_ts).toBe(ts);
    expect(JSON.stringify(answer.args.blocks)).toMatch(/[\u4e00-\u9fff]/);
    expect(blocksOf(answer.args).some((b) => baseId(b.block_id) === 'cause:upstream-refused')).toBe(true);
    await post('C0ZH', samples.alertmanagerDefault('firing', 'http://10.0.3.4:8080/api', { count: 3 }));
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === 'C0ZH');
    expect(JSON.stringify(update.args.blocks)).toMatch(/已出现 2 次/);
  });
});
