/**
 * Alert channels end to end, one monitoring source at a time (Grafana, Datadog, PagerDuty, Sentry,
 * CloudWatch through AWS Chatbot): each integration posts as it does in Slack, the bot answers the
 * alert once in its thread, a re-firing updates that answer, the resolution updates it again, and
 * people and thread replies get nothing. Real Redis keeps the windows; Slack is the stand-in.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBotConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { createBot } from '../../src/slack/app.js';
import { createSlackStore } from '../../src/slack/store.js';
import { createEngine } from '../../src/triage/engine.js';
import { startBadGateway, type BadGateway, serveBot } from '../support/bot-harness.js';
import { startSlackStandin, type SlackStandin, type WebApiCall } from '../support/slack-standin.js';
import { SIGNING_SECRET as signingSecret } from '../support/samples.js';
import { testRedisUrl } from '../support/redis-url.js';

const REDIS_URL = testRedisUrl();
const prefix = `test-${randomUUID()}`;
let slack: SlackStandin;
let bot: ReturnType<typeof createBot>;
let served: Awaited<ReturnType<typeof serveBot>> | undefined;
let botUrl: string;
let redis: Redis;
let upstream: BadGateway;
/** A local endpoint answering nginx's 502 page: the Grafana alert names it, so probes run. */
let badGateway: string;

type Message = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The messages each integration posts (the shapes of test/slack/alerts.test.ts), carrying gateway errors.

/** Grafana's default contact point message (`[FIRING:n]`, `**Firing**`, Labels/Annotations, links, footer). */
function grafana(status: 'firing' | 'resolved', value: string): Message {
  const firing = status === 'firing';
  const header = firing ? '[FIRING:1] GatewayProbeFailed shop' : '[RESOLVED] GatewayProbeFailed shop';
  const text = [
    firing ? '**Firing**' : '**Resolved**',
    '',
    `Value: A=${value}`,
    'Labels:',
    ' - alertname = GatewayProbeFailed',
    ' - grafana_folder = Gateway',
    ` - instance = ${badGateway}`,
    ' - job = blackbox-http',
    'Annotations:',
    ` - summary = ${badGateway} answers 502 Bad Gateway`,
    'Source: https://grafana.example.com/alerting/grafana/ddlq3x0rb4s1sb/view?orgId=1',
    'Silence: https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DGatewayProbeFailed',
    'Dashboard: https://grafana.example.com/d/gw01?orgId=1',
  ].join('\n');
  return {
    subtype: 'bot_message',
    bot_id: 'B02GF',
    username: 'Grafana',
    text: '',
    attachments: [
      {
        color: firing ? '#D63232' : '#36a64f',
        title: header,
        title_link: 'https://grafana.example.com/alerting/list',
        text,
        fallback: header,
        footer: 'Grafana v10.4.1',
        footer_icon: 'https://grafana.com/static/assets/img/fav32.png',
        ts: 1714557600,
      },
    ],
  };
}

/** A Datadog log monitor notification (`Triggered: [P1] …`, monitor link), quoting Envoy's 503 body. */
function datadog(word: 'Triggered' | 'Re-Triggered' | 'Recovered', value: number): Message {
  const title = `${word}: [P1] Envoy upstream connect errors on gw-1`;
  const recovered = word === 'Recovered';
  return {
    subtype: 'bot_message',
    bot_id: 'B03DD',
    bot_profile: { name: 'Datadog', app_id: 'A03' },
    text: '',
    attachments: [
      {
        color: recovered ? '#2eb886' : '#a30200',
        title,
        title_link: 'https://app.datadoghq.com/monitors/81234567?group=host%3Agw-1&from_ts=1714557000000',
        text: [
          recovered
            ? `Upstream connect errors on gw-1 are back under the threshold (${value} in the last 5m).`
            : `${value} log events in the last 5m matched \`service:envoy status:error\` on gw-1 (threshold 50). Upstream https://api.example.com/v1/orders answered 503:`,
          ...(recovered
            ? []
            : [
                '```upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111```',
              ]),
          'host:gw-1',
          '@slack-gateway-alerts @pagerduty-gateway',
        ].join('\n'),
        fallback: title,
        footer: 'Datadog',
      },
    ],
  };
}

/** The PagerDuty Slack app's incident message (`Triggered #1234 <link|summary>`, Service field). */
function pagerduty(word: 'Triggered' | 'Resolved', incident: number): Message {
  const summary =
    '504 Gateway Time-out on checkout: upstream timed out (110: Connection timed out) while reading response header from upstream';
  return {
    subtype: 'bot_message',
    bot_id: 'B04PD',
    bot_profile: { name: 'PagerDuty', app_id: 'A04' },
    text: `${word} #${incident} <https://acme.pagerduty.com/incidents/Q1ABCD${incident}|${summary}>`,
    attachments: [
      {
        color: word === 'Resolved' ? 'good' : 'danger',
        fields: [
          { title: 'Service', value: '<https://acme.pagerduty.com/service-directory/PSVC01|checkout-gateway>', short: true },
          { title: 'Urgency', value: 'High', short: true },
          { title: 'Assigned', value: '<@U012AB3CD>', short: true },
        ],
      },
    ],
  };
}

/** A Sentry issue alert (exception title, issue link, culprit, event count, short-id footer). */
function sentry(events: number, resolved = false): Message {
  return {
    bot_id: 'B05SE',
    bot_profile: { name: 'Sentry', app_id: 'A05' },
    text: '',
    attachments: [
      {
        color: resolved ? '#2eb886' : '#E03E2F',
        title:
          "ConnectionError: HTTPSConnectionPool(host='orders.internal', port=443): Max retries exceeded with url: /v1/orders (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a>: Failed to establish a new connection: [Errno 111] Connection refused'))",
        title_link: 'https://acme.sentry.io/issues/4501234567/?referrer=slack&alert_rule_id=77&alert_type=issue',
        text: `checkout.services.orders in create_order\nEvents: ${events}`,
        fields: [
          { title: 'environment', value: 'production', short: true },
          { title: 'release', value: 'checkout@2.4.1', short: true },
        ],
        footer: `CHECKOUT-3F2 via <https://acme.sentry.io/organizations/acme/alerts/rules/checkout/77/details/|New issue alert>${resolved ? ' · Resolved by Ana' : ''}`,
        fallback: '[checkout] ConnectionError: HTTPSConnectionPool',
      },
    ],
  };
}

/** An AWS Chatbot (Amazon Q Developer) CloudWatch alarm: `ALARM: "name" in Region`, Block Kit. */
function cloudwatch(state: 'ALARM' | 'OK', datapoint: string): Message {
  const alarm = 'shop-alb-unhealthy-targets';
  const region = 'US East (N. Virginia)';
  return {
    bot_id: 'B06AWS',
    bot_profile: { name: 'AWS Chatbot', app_id: 'A6L22LZNH' },
    text: `${state}: "${alarm}" in ${region}`,
    blocks: [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: `${state === 'ALARM' ? ':rotating_light:' : ':white_check_mark:'} ${state}: "${alarm}" in ${region}`,
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Threshold Crossed: 1 out of the last 1 datapoints [${datapoint} (01/05/24 10:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).\nTarget group shop-tg: Health checks failed with these codes: [502]. The load balancer answers 503 Service Unavailable: no healthy upstream.`,
        },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Alarm Name*\n${alarm}` },
          { type: 'mrkdwn', text: '*Namespace*\nAWS/ApplicationELB' },
          { type: 'mrkdwn', text: '*Metric*\nUnHealthyHostCount' },
        ],
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Show in CloudWatch' },
            url: `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/${alarm}`,
          },
        ],
      },
    ],
  };
}

interface Source {
  name: string;
  channel: string;
  firing: () => Message;
  again: () => Message;
  /** The resolution as Slack delivers it: a new message, or (Sentry) the alert edited in place. */
  resolved: (alertTs: string) => Message;
  /** The cause the answer ranks first; undefined for probe answers (any `cause:` block). */
  cause?: string;
  probes?: boolean;
}

const SOURCES: Source[] = [
  {
    name: 'Grafana (names a local URL: probes run)',
    channel: 'C0GRAFANA',
    firing: () => grafana('firing', '0'),
    again: () => grafana('firing', '0'),
    resolved: () => grafana('resolved', '1'),
    probes: true,
  },
  {
    name: 'Datadog',
    channel: 'C0DATADOG',
    firing: () => datadog('Triggered', 212),
    again: () => datadog('Re-Triggered', 480),
    resolved: () => datadog('Recovered', 3),
    cause: 'upstream-refused',
  },
  {
    name: 'PagerDuty',
    channel: 'C0PAGERDUTY',
    firing: () => pagerduty('Triggered', 1234),
    again: () => pagerduty('Triggered', 1301),
    resolved: () => pagerduty('Resolved', 1234),
    cause: 'upstream-slow',
  },
  {
    name: 'Sentry',
    channel: 'C0SENTRY',
    firing: () => sentry(12),
    again: () => sentry(40),
    // Resolving from Slack: Sentry edits its alert message, and Slack sends message_changed.
    resolved: (alertTs) => ({
      subtype: 'message_changed',
      hidden: true,
      message: { type: 'message', ...sentry(40, true), ts: alertTs, edited: { user: 'B05SE', ts: '1700003999.000100' } },
      previous_message: { type: 'message', ...sentry(40), ts: alertTs },
    }),
    cause: 'upstream-refused',
  },
  {
    name: 'CloudWatch via AWS Chatbot',
    channel: 'C0CLOUDWATCH',
    firing: () => cloudwatch('ALARM', '2.0'),
    again: () => cloudwatch('ALARM', '3.0'),
    resolved: () => cloudwatch('OK', '0.0'),
    cause: 'upstream-unhealthy',
  },
];

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
  redis = new Redis(REDIS_URL);
  upstream = await startBadGateway('/health');
  badGateway = upstream.url;
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    ALERT_CHANNELS: [...SOURCES.map((s) => s.channel), 'C0EDITS'].join(','),
    PROBE_ALLOW: '127.0.0.0/8',
    REDIS_URL,
  });
  // Offline: host names do not resolve, so alerts naming public hosts are explained from their text.
  const policy = createSsrfPolicy({
    allow: config.probeAllow,
    lookup: async (host) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    },
  });
  bot = createBot({
    config,
    engine: createEngine(),
    runner: new InlineRunner(createProbes(), policy),
    policy,
    store: createSlackStore(redis, { prefix }),
    posting: { perChannelIntervalMs: 50 },
  });
  await bot.start();
  served = await serveBot(bot);
  botUrl = served.url;
});

afterAll(async () => {
  await bot?.stop();
  await served?.stop();
  await upstream?.close();
  await slack?.stop();
  if (redis) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

const settle = () => new Promise((r) => setTimeout(r, 400));
const inChannel = (channel: string, method: string) => slack.callsTo(method).filter((c) => c.args.channel === channel);
const blockIds = (args: Record<string, unknown>) => ((args.blocks as { block_id?: string }[]) ?? []).map((b) => b.block_id ?? '');
/** Every post, update and ephemeral the bot sent to a channel. */
const sentTo = (channel: string) => slack.calls.filter((c) => c.method.startsWith('chat.') && c.args.channel === channel);

let clock = 1_700_002_000;
/** A fresh message ts, as Slack gives each message. */
const nextTs = () => `${clock++}.000100`;

async function deliver(channel: string, message: Message, ts = nextTs()): Promise<string> {
  const r = await slack.sendEvent(botUrl, { type: 'message', channel, channel_type: 'channel', ts, ...message });
  expect(r.status).toBe(200);
  return ts;
}

describe.each(SOURCES)('$name alerts', (source) => {
  const { channel } = source;
  let alertTs: string;
  let answer: WebApiCall;

  it('answers the alert once, in its thread, with the ranked cause', async () => {
    alertTs = await deliver(channel, source.firing());
    answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === channel, source.probes ? 20_000 : 5_000);
    expect(answer.args.thread_ts).toBe(alertTs);
    const causes = blockIds(answer.args).filter((id) => id.startsWith('cause:'));
    expect(causes.length).toBeGreaterThan(0);
    if (source.cause) expect(causes[0]).toBe(`cause:${source.cause}`);
    if (source.probes) {
      expect(JSON.stringify(answer.args.blocks)).toContain(new URL(badGateway).host);
      expect(JSON.stringify(answer.args.blocks)).toMatch(/502/);
    }
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toEqual([]);
  });

  it('updates that answer when the same alert fires again ("seen 2 times"), without a new post', async () => {
    await deliver(channel, source.again());
    const update = await slack.waitForCall('chat.update', (c) => c.args.channel === channel);
    expect(update.args.ts).toBe(answer.answer.body.ts);
    expect(JSON.stringify(update.args.blocks)).toMatch(/seen 2 times/);
    expect(blockIds(update.args).filter((id) => id.startsWith('cause:'))).toEqual(
      blockIds(answer.args).filter((id) => id.startsWith('cause:')),
    );
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toHaveLength(1);
  });

  it('updates that answer when the alert resolves', async () => {
    await deliver(channel, source.resolved(alertTs));
    const update = await slack.waitForCall(
      'chat.update',
      (c) => c.args.channel === channel && JSON.stringify(c.args.blocks).includes('resolved'),
    );
    expect(update.args.ts).toBe(answer.answer.body.ts);
    await settle();
    expect(inChannel(channel, 'chat.postMessage')).toHaveLength(1);
    expect(inChannel(channel, 'chat.update')).toHaveLength(2);
  });

  it('does not answer people in the channel, or replies inside the alert thread', async () => {
    const before = sentTo(channel).length;
    const error = '502 Bad Gateway again: connect() failed (111: Connection refused) while connecting to upstream';
    await deliver(channel, { user: 'U0ALICE', text: `is this the same? ${error}` });
    await deliver(channel, { user: 'U0BOB', text: `still seeing ${error}`, thread_ts: alertTs });
    await deliver(channel, { ...source.firing(), thread_ts: alertTs });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });
});

describe('edits Slack reports in an alert channel (message_changed)', () => {
  const channel = 'C0EDITS';
  let alertTs: string;
  let answer: WebApiCall;

  it('answers a first alert (the setup of the edits below)', async () => {
    alertTs = await deliver(channel, pagerduty('Triggered', 4321));
    answer = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === channel);
    expect(answer.args.thread_ts).toBe(alertTs);
    await settle();
  });

  it('never answers its own answer when Slack reports it edited', async () => {
    const before = sentTo(channel).length;
    const ours = slack.messages(channel).find((m) => m.ts === answer.answer.body.ts)!;
    expect(ours).toMatchObject({ bot_id: slack.botId, thread_ts: alertTs });
    await deliver(channel, {
      subtype: 'message_changed',
      hidden: true,
      message: { ...ours, edited: { user: slack.botUserId, ts: nextTs() } },
      previous_message: ours,
    });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });

  it('does not count a link unfurl of the alert (same text) as a second firing', async () => {
    const before = sentTo(channel).length;
    const alert: Message = { type: 'message', ...pagerduty('Triggered', 4321), ts: alertTs };
    const unfurl = {
      from_url: 'https://acme.pagerduty.com/incidents/Q1ABCD4321',
      title: 'Incident #4321',
      title_link: 'https://acme.pagerduty.com/incidents/Q1ABCD4321',
      service_name: 'PagerDuty',
      text: 'checkout-gateway · triggered · high urgency',
      fallback: 'PagerDuty: Incident #4321',
    };
    await deliver(channel, {
      subtype: 'message_changed',
      hidden: true,
      message: { ...alert, attachments: [...(alert.attachments as unknown[]), unfurl] },
      previous_message: alert,
    });
    await settle();
    expect(sentTo(channel).slice(before)).toEqual([]);
  });
});
