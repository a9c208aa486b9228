import { describe, expect, it } from 'vitest';
import { auditPatterns, structuralProblem } from '../../src/knowledge/regex-safety.js';
import type { Alert } from '../../src/alerts/alert.js';
import { CHAT_LIMITS as ALERT_LIMITS } from '../../src/alerts/chat-message.js';
import { ALERT_PATTERNS, readChatAlert } from '../../src/alerts/registry.js';
import { decodeSlackText, readInbound } from '../../src/slack/inbound.js';
import { opsgenie } from '../support/alert-samples.js';
import { storedIntegrationMessage } from '../support/slack-wire.js';

/** A message as Slack delivers it (colours as hex, attachments numbered), read at the edge, then by the readers. */
function parseAlert(message: unknown): Alert | undefined {
  const stored =
    typeof message === 'object' && message !== null && !Array.isArray(message) ? safeStored(message as Record<string, unknown>) : message;
  return readChatAlert(readInbound(stored).view);
}

function safeStored(m: Record<string, unknown>): unknown {
  try {
    return storedIntegrationMessage(m);
  } catch {
    return m;
  }
}

/*
 * Unit tests of the readers (src/alerts/readers/) through the edge (src/slack/inbound.ts).
 * Fixtures follow the formats the integrations post: Alertmanager's default Slack template
 * (attachment title `[FIRING:n] group labels (common labels)`, title_link to the Alertmanager
 * UI, fallback `title | link`) and the common custom text template; Grafana's default contact
 * point message (`**Firing**`, `Value:`, `Labels:`/`Annotations:` lists, Source/Silence/
 * Dashboard links, `Grafana v…` footer); Datadog monitor notifications (`Triggered:`/
 * `Recovered:` with `[P1]`, monitor link); the PagerDuty Slack app (`Triggered #1234`, Service
 * field); Sentry issue alerts (error title, culprit, issue link, short-id footer); AWS Chatbot /
 * Amazon Q CloudWatch alarms (`ALARM: "name" in Region`, `OK:` when resolved).
 */

function must(a: Alert | undefined): Alert {
  expect(a).toBeDefined();
  return a!;
}

// ---------------------------------------------------------------------------------------------
// Alertmanager

const AM_LINK = 'http://alertmanager.monitoring:9093/#/alerts?receiver=slack-gateway';

function amDefault(status: 'FIRING:1' | 'FIRING:3' | 'RESOLVED', instance: string) {
  const title = `[${status}] ProbeFailed (blackbox ${instance} critical)`;
  return {
    type: 'message',
    subtype: 'bot_message',
    bot_id: 'B01AM',
    username: 'Alertmanager',
    attachments: [
      {
        color: status === 'RESOLVED' ? 'good' : 'danger',
        title,
        title_link: AM_LINK,
        fallback: `${title} | ${AM_LINK}`,
        text: '',
        footer: '',
        mrkdwn_in: ['fallback', 'pretext', 'text'],
      },
    ],
  };
}

function amCustom(status: 'FIRING:1' | 'FIRING:2' | 'RESOLVED', instance: string, value: string, started: string) {
  return {
    subtype: 'bot_message',
    bot_id: 'B01AM',
    bot_profile: { name: 'prom-alerts', app_id: 'A01' },
    attachments: [
      {
        color: status === 'RESOLVED' ? 'good' : 'danger',
        title: `[${status}] ProbeFailed`,
        title_link: AM_LINK,
        text: [
          `*Alert:* Blackbox probe failed for <${instance}> - \`critical\``,
          `*Description:* probe_success{instance="${instance}", job="blackbox-http"} == 0, HTTP status 502, value ${value}`,
          `*Started:* ${started}`,
          '*Details:*',
          '  • *alertname:* `ProbeFailed`',
          `  • *instance:* \`${instance}\``,
          '  • *job:* `blackbox-http`',
          '  • *severity:* `critical`',
          '',
          '*Runbook:* <https://runbooks.example.com/probe-failed|:notebook: runbook>',
          '*Source:* <http://prometheus.monitoring:9090/graph?g0.expr=probe_success%3D%3D0&g0.tab=1|Prometheus>',
        ].join('\n'),
      },
    ],
  };
}

describe('Alertmanager', () => {
  it('reads the default template, firing and resolved', () => {
    const f = must(parseAlert(amDefault('FIRING:1', 'https://api.example.com/health')));
    expect(f.source).toBe('alertmanager');
    expect(f.state).toBe('firing');
    expect(f.title).toBe('ProbeFailed (blackbox https://api.example.com/health critical)');
    expect(f.seenCount).toBe(1);
    expect(f.url).toBe('https://api.example.com/health');
    const r = must(parseAlert(amDefault('RESOLVED', 'https://api.example.com/health')));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
    expect(r.seenCount).toBeUndefined();
  });

  it('keeps the fingerprint when only the count changes, not when the instance does', () => {
    const one = must(parseAlert(amDefault('FIRING:1', 'https://api.example.com/health')));
    const three = must(parseAlert(amDefault('FIRING:3', 'https://api.example.com/health')));
    const other = must(parseAlert(amDefault('FIRING:1', 'https://pay.example.com/health')));
    expect(three.seenCount).toBe(3);
    expect(three.fingerprint).toBe(one.fingerprint);
    expect(other.fingerprint).not.toBe(one.fingerprint);
    expect(one.fingerprint).toMatch(/^alertmanager:[0-9a-f]{16}$/);
  });

  it('reads the custom text template: labels, probed endpoint, not the tool links', () => {
    const a = must(parseAlert(amCustom('FIRING:1', 'https://api.example.com/health', '0', '2024-05-01 10:00:00 +0000 UTC')));
    expect(a.source).toBe('alertmanager');
    expect(a.state).toBe('firing');
    expect(a.title).toBe('ProbeFailed');
    expect(a.url).toBe('https://api.example.com/health');
    expect(a.text).toContain('HTTP status 502');
    expect(a.text).toContain('runbook (https://runbooks.example.com/probe-failed)');
    expect(a.text).not.toMatch(/<https?:/);
    const again = must(parseAlert(amCustom('FIRING:2', 'https://api.example.com/health', '0.25', '2024-05-02 11:30:00 +0000 UTC')));
    expect(again.fingerprint).toBe(a.fingerprint);
    const resolved = must(parseAlert(amCustom('RESOLVED', 'https://api.example.com/health', '1', '2024-05-02 11:30:00 +0000 UTC')));
    expect(resolved.state).toBe('resolved');
    expect(resolved.fingerprint).toBe(a.fingerprint);
    const other = must(parseAlert(amCustom('FIRING:1', 'https://api.example.com/ready', '0', '2024-05-01 10:00:00 +0000 UTC')));
    expect(other.fingerprint).not.toBe(a.fingerprint);
    expect(other.url).toBe('https://api.example.com/ready');
  });
});

// ---------------------------------------------------------------------------------------------
// Grafana

function grafana(status: 'firing' | 'resolved', instance: string, value: string, extraLabel = '') {
  const header = status === 'firing' ? '[FIRING:1] HighLatency gateway' : '[RESOLVED] HighLatency gateway';
  const text = [
    status === 'firing' ? '**Firing**' : '**Resolved**',
    '',
    `Value: B=${value}, C=1`,
    'Labels:',
    ' - alertname = HighLatency',
    ' - grafana_folder = Gateway',
    ` - instance = ${instance}`,
    ' - job = blackbox',
    ...(extraLabel ? [extraLabel] : []),
    'Annotations:',
    ` - summary = p99 latency of ${instance} is ${value}s`,
    'Source: https://grafana.example.com/alerting/grafana/ddlq3x0rb4s1sb/view?orgId=1',
    'Silence: https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHighLatency',
    'Dashboard: https://grafana.example.com/d/gw01?orgId=1',
    'Panel: https://grafana.example.com/d/gw01?orgId=1&viewPanel=4',
  ].join('\n');
  return {
    subtype: 'bot_message',
    bot_id: 'B02GF',
    username: 'Grafana',
    attachments: [
      {
        color: status === 'firing' ? '#D63232' : '#36a64f',
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

describe('Grafana', () => {
  it('reads the default contact point message, firing and resolved', () => {
    const f = must(parseAlert(grafana('firing', 'https://api.example.com/health', '2.31')));
    expect(f.source).toBe('grafana');
    expect(f.state).toBe('firing');
    expect(f.title).toBe('HighLatency gateway');
    expect(f.url).toBe('https://api.example.com/health');
    expect(f.text).toContain('p99 latency of https://api.example.com/health is 2.31s');
    const r = must(parseAlert(grafana('resolved', 'https://api.example.com/health', '0.12')));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
  });

  it('recognises Grafana by its message shape when the webhook has another name', () => {
    const msg = grafana('firing', 'https://api.example.com/health', '2.31');
    const a = must(parseAlert({ ...msg, username: 'alerts', bot_profile: { name: 'ops-webhook' } }));
    expect(a.source).toBe('grafana');
  });

  it('changes the fingerprint with the instance, not with the value', () => {
    const a = must(parseAlert(grafana('firing', 'https://api.example.com/health', '2.31')));
    const b = must(parseAlert(grafana('firing', 'https://api.example.com/health', '9.87')));
    const c = must(parseAlert(grafana('firing', 'https://cdn.example.com/health', '2.31')));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('masks a secret carried in a label, everywhere', () => {
    const secret = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const a = must(
      parseAlert(grafana('firing', 'https://api.example.com/health?token=s3cr3t-t0ken-value', '2.31', ` - api_token = ${secret}`)),
    );
    expect(JSON.stringify(a)).not.toContain(secret);
    expect(JSON.stringify(a)).not.toContain('s3cr3t-t0ken-value');
    expect(a.text).toContain('[masked]');
    expect(a.url).toBe('https://api.example.com/health?token=[masked]');
  });
});

// ---------------------------------------------------------------------------------------------
// Datadog

function datadog(word: 'Triggered' | 'Recovered' | 'Re-Triggered', host: string, value: string, at: string) {
  const title = `${word}: [P1] 5xx rate high on ${host}`;
  return {
    subtype: 'bot_message',
    bot_id: 'B03DD',
    bot_profile: { name: 'Datadog', app_id: 'A03' },
    attachments: [
      {
        color: word === 'Recovered' ? '#2eb886' : '#a30200',
        title,
        title_link: 'https://app.datadoghq.com/monitors/81234567?group=host%3A' + host + '&from_ts=1714557000000',
        text: [
          `5xx rate on gateway is ${value}% (threshold 5%). Upstream https://api.example.com/v1/orders returned 502 Bad Gateway.`,
          `host:${host}`,
          '@slack-gateway-alerts @pagerduty-gateway',
          `Metric value: ${value} at ${at}`,
        ].join('\n'),
        fallback: title,
        image_url: 'https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_1/2024-05-01/abc.png',
        footer: 'Datadog',
      },
    ],
  };
}

describe('Datadog', () => {
  it('reads monitor notifications, triggered and recovered', () => {
    const f = must(parseAlert(datadog('Triggered', 'gw-1', '12.5', '2024-05-01 10:00:00 UTC')));
    expect(f.source).toBe('datadog');
    expect(f.state).toBe('firing');
    expect(f.title).toBe('5xx rate high on gw-1');
    expect(f.url).toBe('https://api.example.com/v1/orders');
    const r = must(parseAlert(datadog('Recovered', 'gw-1', '0.2', '2024-05-01 10:20:00 UTC')));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
  });

  it('keeps the fingerprint across re-triggers, changes it with the host', () => {
    const a = must(parseAlert(datadog('Triggered', 'gw-1', '12.5', '2024-05-01 10:00:00 UTC')));
    const b = must(parseAlert(datadog('Re-Triggered', 'gw-1', '33.1', '2024-05-01 11:00:00 UTC')));
    const c = must(parseAlert(datadog('Triggered', 'gw-2', '12.5', '2024-05-01 10:00:00 UTC')));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('takes a synthetic test URL, not the Datadog links', () => {
    const a = must(
      parseAlert({
        bot_id: 'B03DD',
        bot_profile: { name: 'Datadog' },
        text: 'Triggered: [P2] [Synthetics] Checkout API health',
        attachments: [
          {
            title: '<https://app.datadoghq.com/synthetics/details/abc-def-ghi|[Synthetics] Checkout API health>',
            text: 'Test URL: https://checkout.example.com/healthz\nAssertion failed: status code is 503, expected 200\nFailing locations: aws:us-east-1',
          },
        ],
      }),
    );
    expect(a.state).toBe('firing');
    expect(a.url).toBe('https://checkout.example.com/healthz');
  });
});

// ---------------------------------------------------------------------------------------------
// PagerDuty

function pagerduty(word: 'Triggered' | 'Resolved', incident: number, service: string) {
  return {
    subtype: 'bot_message',
    bot_id: 'B04PD',
    bot_profile: { name: 'PagerDuty', app_id: 'A04' },
    text: `${word} #${incident} <https://acme.pagerduty.com/incidents/Q1ABCD${incident}|[FIRING:1] ProbeFailed https://api.example.com/health>`,
    attachments: [
      {
        color: word === 'Resolved' ? 'good' : 'danger',
        fields: [
          { title: 'Service', value: `<https://acme.pagerduty.com/service-directory/PSVC01|${service}>`, short: true },
          { title: 'Urgency', value: 'High', short: true },
          { title: 'Assigned', value: '<@U012AB3CD>', short: true },
        ],
      },
    ],
  };
}

describe('PagerDuty', () => {
  it('reads incident messages, triggered and resolved', () => {
    const f = must(parseAlert(pagerduty('Triggered', 1234, 'api-gateway')));
    expect(f.source).toBe('pagerduty');
    expect(f.state).toBe('firing');
    expect(f.title).toContain('ProbeFailed');
    expect(f.url).toBe('https://api.example.com/health');
    expect(f.text).toContain('Assigned: @U012AB3CD');
    const r = must(parseAlert(pagerduty('Resolved', 1234, 'api-gateway')));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
  });

  it('gives a new incident of the same alert the same fingerprint, another service another', () => {
    const a = must(parseAlert(pagerduty('Triggered', 1234, 'api-gateway')));
    const b = must(parseAlert(pagerduty('Triggered', 1301, 'api-gateway')));
    const c = must(parseAlert(pagerduty('Triggered', 1234, 'payments')));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });
});

// ---------------------------------------------------------------------------------------------
// Sentry

function sentry(issue: string, events: number, resolved = false) {
  return {
    subtype: 'bot_message',
    bot_id: 'B05SE',
    bot_profile: { name: 'Sentry', app_id: 'A05' },
    attachments: [
      {
        color: resolved ? '#2eb886' : '#E03E2F',
        title: "ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1/orders",
        title_link: `https://acme.sentry.io/issues/${issue}/?referrer=slack&alert_rule_id=77&alert_type=issue`,
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

describe('Sentry', () => {
  it('reads issue alerts, with the seen count, and their resolution', () => {
    const f = must(parseAlert(sentry('4501234567', 12)));
    expect(f.source).toBe('sentry');
    expect(f.state).toBe('firing');
    expect(f.title).toContain('ConnectionError');
    expect(f.text).toContain('checkout.services.orders in create_order');
    expect(f.seenCount).toBe(12);
    expect(f.url).toBeUndefined();
    const r = must(parseAlert(sentry('4501234567', 40, true)));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
  });

  it('keys the fingerprint on the issue, not the event count', () => {
    expect(must(parseAlert(sentry('4501234567', 12))).fingerprint).toBe(must(parseAlert(sentry('4501234567', 99))).fingerprint);
    expect(must(parseAlert(sentry('4501234567', 12))).fingerprint).not.toBe(must(parseAlert(sentry('4509999999', 12))).fingerprint);
  });
});

// ---------------------------------------------------------------------------------------------
// CloudWatch (AWS Chatbot / Amazon Q Developer)

function cloudwatch(state: 'ALARM' | 'OK', alarm: string, region: string, datapoint: string) {
  return {
    subtype: 'bot_message',
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
          text: `Threshold Crossed: 1 out of the last 1 datapoints [${datapoint} (01/05/24 10:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).\nHealth check for https://api.example.com/health reports unhealthy.`,
        },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Alarm Name*\napi-health' },
          { type: 'mrkdwn', text: '*Namespace*\nAWS/Route53' },
          { type: 'mrkdwn', text: '*HealthCheckId*\n1a2b3c4d-0000-1111-2222-333344445555' },
        ],
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Show in CloudWatch' },
            url: 'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/api-health',
          },
        ],
      },
    ],
  };
}

describe('CloudWatch', () => {
  it('reads ALARM and OK notifications', () => {
    const f = must(parseAlert(cloudwatch('ALARM', 'api-health', 'US East (N. Virginia)', '0.0')));
    expect(f.source).toBe('cloudwatch');
    expect(f.state).toBe('firing');
    expect(f.title).toBe('"api-health" in US East (N. Virginia)');
    expect(f.url).toBe('https://api.example.com/health');
    const r = must(parseAlert(cloudwatch('OK', 'api-health', 'US East (N. Virginia)', '1.0')));
    expect(r.state).toBe('resolved');
    expect(r.fingerprint).toBe(f.fingerprint);
  });

  it('keys the fingerprint on alarm and region', () => {
    const a = must(parseAlert(cloudwatch('ALARM', 'api-5xx', 'US East (N. Virginia)', '17.0')));
    expect(must(parseAlert(cloudwatch('ALARM', 'api-5xx', 'US East (N. Virginia)', '42.0'))).fingerprint).toBe(a.fingerprint);
    expect(must(parseAlert(cloudwatch('ALARM', 'api-5xx', 'EU (Ireland)', '17.0'))).fingerprint).not.toBe(a.fingerprint);
    expect(must(parseAlert(cloudwatch('ALARM', 'api-4xx', 'US East (N. Virginia)', '17.0'))).fingerprint).not.toBe(a.fingerprint);
  });

  it('recognises the Chatbot attachment layout by its shape', () => {
    const a = must(
      parseAlert({
        bot_id: 'B06AWS',
        attachments: [
          {
            color: 'danger',
            title: ':rotating_light: CloudWatch Alarm | api-5xx | us-east-1 | Account: 123456789012',
            text: 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).',
            fields: [{ title: 'State', value: 'ALARM' }],
          },
        ],
      }),
    );
    expect(a.source).toBe('cloudwatch');
    expect(a.state).toBe('firing');
    expect(a.title).toBe('api-5xx');
  });
});

// ---------------------------------------------------------------------------------------------
// Opsgenie

describe('Opsgenie', () => {
  it('reads a new alert and its closing as one alert, firing then resolved', () => {
    const created = opsgenie('created');
    const a = must(parseAlert({ ...created.posted, ...created.who }));
    expect(a.source).toBe('opsgenie');
    expect(a.state).toBe('firing');
    expect(a.title).toMatch(/^checkout-gw: 502 Bad Gateway/);
    const closedPost = opsgenie('closed');
    const closed = must(parseAlert({ ...closedPost.posted, ...closedPost.who }));
    expect(closed.state).toBe('resolved');
    expect(closed.fingerprint).toBe(a.fingerprint);
    // Known by its links even under another name.
    expect(must(parseAlert({ ...created.posted, bot_id: 'B9', username: 'alerts-bridge' })).source).toBe('opsgenie');
  });
});

// ---------------------------------------------------------------------------------------------
// Generic and non-alerts

describe('generic bots and non-alerts', () => {
  it('treats an error-looking bot message as a generic alert', () => {
    const a = must(
      parseAlert({
        bot_id: 'B07',
        username: 'uptime-bot',
        text: ':red_circle: Checkout is DOWN: <https://checkout.example.com/health|checkout> returned 503 Service Unavailable (seen 4 times)',
      }),
    );
    expect(a.source).toBe('generic');
    expect(a.state).toBe('firing');
    expect(a.url).toBe('https://checkout.example.com/health');
    expect(a.seenCount).toBe(4);
    expect(a.text).toContain('checkout (https://checkout.example.com/health) returned 503');
    const up = must(
      parseAlert({ bot_id: 'B07', username: 'uptime-bot', text: 'Checkout is back up: checkout.example.com recovered after 4 failures' }),
    );
    expect(up.state).toBe('resolved');
  });

  it('returns undefined for success notices, chatter and people', () => {
    expect(
      parseAlert({ bot_id: 'B08', username: 'deploy-bot', text: 'Deployed gateway v1.42.0 to production (0 errors) :rocket:' }),
    ).toBeUndefined();
    expect(parseAlert({ bot_id: 'B09', username: 'ci', text: 'Build #812 of gateway passed in 4m 12s' })).toBeUndefined();
    expect(parseAlert({ bot_id: 'B10', username: 'standup', text: 'Good morning! Time for standup.' })).toBeUndefined();
    expect(parseAlert({ user: 'U1', text: '[FIRING:1] ProbeFailed (https://api.example.com)' })).toBeUndefined();
  });

  it('treats a failed CI run as an alert', () => {
    expect(must(parseAlert({ bot_id: 'B09', username: 'ci', text: 'Build #813 of gateway failed: e2e tests timed out' })).source).toBe(
      'generic',
    );
  });

  it('parses an edited alert through message_changed', () => {
    const a = parseAlert({ subtype: 'message_changed', message: amDefault('FIRING:1', 'https://api.example.com/health') });
    expect(must(a).source).toBe('alertmanager');
  });
});

// ---------------------------------------------------------------------------------------------
// Text helpers

describe('decodeSlackText', () => {
  it('unwraps links, mentions and entities', () => {
    expect(
      decodeSlackText('see <https://a.example/x|the probe> and <https://b.example/y> &lt;tag&gt; &amp; <@U1> <#C1|ops> <!channel>').text,
    ).toBe('see the probe (https://a.example/x) and https://b.example/y <tag> & @U1 #ops @channel');
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile input

describe('hostile input', () => {
  const time = (f: () => unknown): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };

  it('never throws on odd values', () => {
    const odd: unknown[] = [
      undefined,
      null,
      42,
      'text',
      [],
      {},
      { bot_id: 7, text: 42 },
      { bot_id: 'B', text: { a: 1 }, attachments: 'x', blocks: 5 },
      { bot_id: 'B', attachments: [null, 1, 'a', { title: 5, text: [], fields: [null, 2, { title: {}, value: [] }] }] },
      {
        bot_id: 'B',
        blocks: [null, { type: 7, text: { text: 9 } }, { type: 'section', fields: 'x' }, { type: 'rich_text', elements: [1, null] }],
      },
      { bot_id: 'B', bot_profile: 'Grafana', username: ['x'], text: '[FIRING:99999999999999999999] x' },
      {
        bot_id: 'B',
        get text(): string {
          throw new Error('getter');
        },
      },
      { subtype: 'message_changed', message: null },
    ];
    for (const o of odd) expect(() => parseAlert(o)).not.toThrow();
  });

  it('handles 100k nested blocks quickly', () => {
    let node: Record<string, unknown> = { type: 'text', text: 'connection refused' };
    for (let i = 0; i < 100_000; i++) node = { type: 'rich_text_section', elements: [node] };
    const msg = { bot_id: 'B', text: 'upstream error 502', blocks: [{ type: 'rich_text', elements: [node] }] };
    expect(time(() => expect(parseAlert(msg)?.source).toBe('generic'))).toBeLessThan(1000);
  });

  it('handles 100k sibling blocks and attachments quickly', () => {
    const blocks = Array.from({ length: 100_000 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `error ${i}` } }));
    const attachments = Array.from({ length: 100_000 }, () => ({ title: 'x', fields: [{ title: 'instance', value: 'y' }] }));
    let a: Alert | undefined;
    expect(time(() => (a = parseAlert({ bot_id: 'B', blocks, attachments })))).toBeLessThan(1000);
    expect(must(a).text.length).toBeLessThanOrEqual(ALERT_LIMITS.maxTextChars);
  });

  it('caps 1 MB of text and long URLs', () => {
    const long = `https://api.example.com/${'a'.repeat(5000)}`;
    const texts = [
      `[FIRING:1] ProbeFailed\n${'x'.repeat(1_000_000)}`,
      `error ${'<'.repeat(1_000_000)}`,
      `error ${'<https://a.example/|'.repeat(60_000)}`,
      `error instance="${'"'.repeat(1_000_000)}`,
      `error ${'- a = b\n'.repeat(130_000)}`,
      `error ${'1.'.repeat(500_000)}`,
      `error ${long} ${':a:'.repeat(300_000)}`,
      `error ${'*'.repeat(1_000_000)}`,
      `error ${' \t'.repeat(500_000)}=`,
    ];
    for (const text of texts) {
      let a: Alert | undefined;
      const ms = time(() => (a = parseAlert({ bot_id: 'B', username: 'alertmanager', text })));
      expect(ms, text.slice(0, 30)).toBeLessThan(1000);
      if (a) {
        expect(a.text.length).toBeLessThanOrEqual(ALERT_LIMITS.maxTextChars);
        expect((a.url ?? '').length).toBeLessThanOrEqual(ALERT_LIMITS.maxUrlChars);
      }
    }
    const a = must(parseAlert({ bot_id: 'B', text: `probe failed instance="${long}"` }));
    expect(a.url).toBeUndefined();
  });

  it('uses only regexes without nested quantifiers, backreferences or lookbehind', () => {
    for (const re of ALERT_PATTERNS) expect(structuralProblem(re.source), re.source).toBeUndefined();
  });

  it('uses only regexes that the recheck ReDoS checker proves safe', async () => {
    const verdicts = await auditPatterns(ALERT_PATTERNS.map((re) => ({ regex: re.source, flags: re.flags })));
    expect(verdicts.filter((v) => v.status !== 'safe').map((v) => `${v.status}: ${v.regex} ${v.detail ?? ''}`)).toEqual([]);
  }, 60_000);
});
