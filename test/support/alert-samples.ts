/**
 * Monitoring integrations' Slack messages, one builder per sender, as the integration posts them
 * (the stand-in's postAsIntegration then stores and delivers them as Slack does: colour names and
 * `#` turned into hex, attachments numbered). Text is escaped the way each sender escapes it.
 * Each builder says where its shape comes from; the gateway errors inside are real error texts.
 */
import type { IntegrationIdentity } from './slack-standin.js';

export interface IntegrationPost {
  readonly who: IntegrationIdentity;
  readonly posted: Record<string, unknown>;
}

/**
 * Alertmanager's default Slack template (prometheus/alertmanager template/default.tmpl and its
 * slack_config defaults): username AlertManager, attachment title `[FIRING:n] <group labels>
 * (<common labels>)` / `[RESOLVED] …`, title_link `<externalURL>/#/alerts?receiver=<receiver>`,
 * fallback `title | link`, mrkdwn_in, colour danger/good. A real one, quoted in a public test:
 * `"color": "a30200"`, fallback `[FIRING:2] FaultMavenSLAAtRisk (…) | <http://alertmanager…>`.
 * `customTitle` is a team's own title template without the status (only the colour says it).
 */
export function alertmanagerDefault(
  state: 'firing' | 'resolved',
  upstream: string,
  opts: { count?: number; customTitle?: boolean } = {},
): IntegrationPost {
  const link = 'http://alertmanager.monitoring:9093/#/alerts?receiver=slack-gateway';
  const status = state === 'firing' ? `FIRING:${opts.count ?? 1}` : 'RESOLVED';
  const title = opts.customTitle ? 'NginxUpstreamRefused (prod web-1)' : `[${status}] NginxUpstreamRefused (prod web-1)`;
  return {
    who: { bot_id: 'B0ALERTMGR', subtype: 'bot_message', username: 'AlertManager' },
    posted: {
      text: '',
      attachments: [
        {
          color: state === 'firing' ? 'danger' : 'good',
          title,
          title_link: link,
          fallback: `${title} | <${link}>`,
          text: [
            '*Alert:* nginx cannot reach the orders upstream - `critical`',
            `*Description:* connect() failed (111: Connection refused) while connecting to upstream, upstream: &quot;${upstream}&quot;`,
            '*Details:*',
            '  • *alertname:* `NginxUpstreamRefused`',
            '  • *instance:* `web-1:9113`',
            '  • *job:* `nginx-exporter`',
          ].join('\n'),
          mrkdwn_in: ['fallback', 'pretext', 'text'],
        },
      ],
    },
  };
}

/**
 * Grafana alerting's Slack contact point, default template: title `[FIRING:1] <alertname>
 * (<labels>)`, text `**Firing**`, `Value:`, `Labels:` / `Annotations:` lists, Source / Silence /
 * Dashboard links, footer `Grafana v…`, colour `#D63232` / `#36a64f` (a real one quoted in a
 * public test: `"color": "D63232"`).
 */
export function grafana(state: 'firing' | 'resolved', instance: string, value: string): IntegrationPost {
  const firing = state === 'firing';
  const header = firing ? '[FIRING:1] GatewayProbeFailed shop' : '[RESOLVED] GatewayProbeFailed shop';
  const text = [
    firing ? '**Firing**' : '**Resolved**',
    '',
    `Value: A=${value}`,
    'Labels:',
    ' - alertname = GatewayProbeFailed',
    ' - grafana_folder = Gateway',
    ` - instance = ${instance}`,
    ' - job = blackbox-http',
    'Annotations:',
    ` - summary = ${instance} answers 502 Bad Gateway`,
    'Source: https://grafana.example.com/alerting/grafana/ddlq3x0rb4s1sb/view?orgId=1',
    'Silence: https://grafana.example.com/alerting/silence/new?alertmanager=grafana&amp;matcher=alertname%3DGatewayProbeFailed',
    'Dashboard: https://grafana.example.com/d/gw01?orgId=1',
  ].join('\n');
  return {
    who: { bot_id: 'B02GF', subtype: 'bot_message', username: 'Grafana' },
    posted: {
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
    },
  };
}

/**
 * A Datadog monitor notification: title `Triggered: [P1] <monitor>` (`Re-Triggered`,
 * `Recovered`), title_link to the monitor, the monitor's message (Datadog's @-handles, a
 * quoted log line). Shape as Datadog documents monitor notifications (docs.datadoghq.com/monitors/notify/).
 */
export function datadog(word: 'Triggered' | 'Re-Triggered' | 'Recovered', value: number): IntegrationPost {
  const title = `${word}: [P1] Envoy upstream connect errors on gw-1`;
  const recovered = word === 'Recovered';
  return {
    who: { bot_id: 'B03DD', bot_profile: { name: 'Datadog', app_id: 'A03' } },
    posted: {
      text: '',
      attachments: [
        {
          color: recovered ? '#2eb886' : '#a30200',
          title,
          title_link: 'https://app.datadoghq.com/monitors/81234567?group=host%3Agw-1&amp;from_ts=1714557000000',
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
    },
  };
}

/** Datadog's renotification of a thin metric alert: nothing but the symptom ("ALB 5XX above threshold"). */
export function datadogThin(word: 'Triggered' | 'Recovered'): IntegrationPost {
  const title = `${word}: [P2] ALB 5XX above threshold on shop-alb`;
  return {
    who: { bot_id: 'B03DD', bot_profile: { name: 'Datadog', app_id: 'A03' } },
    posted: {
      text: '',
      attachments: [
        {
          color: word === 'Recovered' ? '#2eb886' : '#a30200',
          title,
          title_link: 'https://app.datadoghq.com/monitors/90000001',
          text: 'sum:aws.applicationelb.httpcode_elb_5xx{loadbalancer:app/shop-alb/0a1b2c} &gt; 50 for the last 5m @slack-gateway-alerts',
          fallback: title,
        },
      ],
    },
  };
}

/** The PagerDuty Slack app's incident message: `Triggered #1234 <incident link|summary>`, Service, Urgency and Assigned fields. */
export function pagerduty(word: 'Triggered' | 'Resolved', incident: number): IntegrationPost {
  const summary =
    '504 Gateway Time-out on checkout: upstream timed out (110: Connection timed out) while reading response header from upstream';
  return {
    who: { bot_id: 'B04PD', bot_profile: { name: 'PagerDuty', app_id: 'A04' } },
    posted: {
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
    },
  };
}

/**
 * A Sentry issue alert in Block Kit, as getsentry/sentry builds it
 * (tests/sentry/integrations/slack/test_message_builder.py build_test_message_blocks): title
 * section `:red_circle: <issue link|*title*>`, culprit context, the message in a code block, a
 * context `Events: *n*   State: *…*`, Resolve / Archive buttons, `Project: … Alert: … Short ID: …`.
 * Resolved from Slack, Sentry updates it: `:white_circle:`, `State: *Resolved*`, Unresolve.
 */
export function sentry(events: number, resolved = false): IntegrationPost {
  const link = 'https://acme.sentry.io/organizations/acme/issues/4501234567/?referrer=slack&amp;alert_rule_id=77&amp;alert_type=issue';
  const title = 'ConnectionError: HTTPSConnectionPool(host=&#39;orders.internal&#39;, port=443): Max retries exceeded';
  return {
    who: { bot_id: 'B05SE', bot_profile: { name: 'Sentry', app_id: 'A05' } },
    posted: {
      text: `[checkout] ${title}`,
      blocks: [
        {
          type: 'section',
          block_id: '{"issue":4501234567}',
          text: { type: 'mrkdwn', text: `${resolved ? ':white_circle:' : ':red_circle:'} <${link}|*${title}*>` },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'checkout.services.orders in create_order' }] },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: "```Failed to establish a new connection: [Errno 111] Connection refused (Caused by NewConnectionError('&lt;urllib3.connection.HTTPSConnection object at 0x7f3a&gt;'))```",
          },
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: `Events: *${events}*   State: *${resolved ? 'Resolved' : 'Ongoing'}*   First Seen: *2 hours ago*` },
          ],
        },
        {
          type: 'actions',
          elements: resolved
            ? [
                {
                  type: 'button',
                  action_id: 'unresolved:ongoing',
                  text: { type: 'plain_text', text: 'Unresolve' },
                  value: 'unresolved:ongoing',
                },
              ]
            : [
                { type: 'button', action_id: 'resolve_dialog', text: { type: 'plain_text', text: 'Resolve' }, value: 'resolve_dialog' },
                { type: 'button', action_id: 'archive_dialog', text: { type: 'plain_text', text: 'Archive' }, value: 'archive_dialog' },
              ],
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'Project: <https://acme.sentry.io/organizations/acme/issues/?project=12|checkout>    Alert: <https://acme.sentry.io/organizations/acme/issues/alerts/rules/checkout/77/details/|New issue alert>    Short ID: CHECKOUT-3F2',
            },
          ],
        },
      ],
    },
  };
}

/**
 * CloudWatch through SNS and AWS Chatbot (Amazon Q Developer): header `ALARM: "<name>" in
 * <Region>` (`OK:` when it recovers), the alarm's NewStateReason as the body (AWS Chatbot posts
 * NewStateReason as the notification body, per the aws-chatbot-mention project), fields, and a
 * CloudWatch console button.
 */
export function cloudwatch(state: 'ALARM' | 'OK', datapoint: string): IntegrationPost {
  const alarm = 'shop-alb-unhealthy-targets';
  const region = 'US East (N. Virginia)';
  return {
    who: { bot_id: 'B06AWS', bot_profile: { name: 'AWS Chatbot', app_id: 'A6L22LZNH' } },
    posted: {
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
            text: `Threshold Crossed: 1 out of the last 1 datapoints [${datapoint} (01/05/24 10:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -&gt; ALARM transition).\nTarget group shop-tg: Health checks failed with these codes: [502]. The load balancer answers 503 Service Unavailable: no healthy upstream.`,
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
    },
  };
}

/**
 * Opsgenie's Slack app: a new alert is an attachment titled `#<tiny id>: <message>` linking to
 * the alert's detail page, with Priority, Routed Teams, Source and Tags fields; closing it posts
 * `<who> closed alert <link|#<tiny id>>: "<message>"` (the layout Opsgenie's chat integrations
 * share, mirrored by the Mattermost Opsgenie plugin).
 */
export function opsgenie(state: 'created' | 'closed', tiny = 4321): IntegrationPost {
  const id = '6f3c1a8e-2b4d-4c9a-9e71-0b5d2f8a7c11-1714557600123';
  const link = `https://acme.app.opsgenie.com/alert/detail/${id}/details`;
  const message = 'checkout-gw: 502 Bad Gateway from nginx, connect() failed (111: Connection refused) while connecting to upstream';
  const who: IntegrationIdentity = { bot_id: 'B07OG', bot_profile: { name: 'Opsgenie', app_id: 'A07' } };
  if (state === 'closed')
    return {
      who,
      posted: {
        text: `Ana Ruiz closed alert <${link}|#${tiny}>: "${message}"`,
        attachments: [{ color: '#2eb886', text: 'Closed via Slack' }],
      },
    };
  return {
    who,
    posted: {
      text: '',
      attachments: [
        {
          color: '#d5242a',
          pretext: 'New alert created via Datadog',
          title: `#${tiny}: ${message}`,
          title_link: link,
          fields: [
            { title: 'Priority', value: 'P1', short: true },
            { title: 'Routed Teams', value: 'Gateway SRE', short: true },
            { title: 'Source', value: 'Datadog', short: true },
            { title: 'Tags', value: 'checkout, nginx, prod', short: true },
          ],
          actions: [
            { type: 'button', name: 'ack', text: 'Acknowledge' },
            { type: 'button', name: 'close', text: 'Close' },
          ],
        },
      ],
    },
  };
}
