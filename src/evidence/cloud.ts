import type { Extractor } from './extractor.js';
import { addStatus, eachMatch, formatSeconds, hasAny, lineBounds, nearTimeout, SignalSink, type TimeoutMark } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * Cloud load balancers and CDNs:
 * - AWS ALB / classic ELB access logs (positional: type time elb client target request/target/response
 *   processing times, elb_status_code, target_status_code …; `-1` times mean "not dispatched" or "no
 *   response"), read per the ALB troubleshooting guide into alb.error;
 * - Cloudflare error pages (Error 520–527, 1xxx such as 1020 "Access denied", 1015 rate limited);
 * - Google Cloud load balancer `statusDetails` and the Google Front End 502 page;
 * - API Gateway's "Endpoint request timed out".
 */

/** The load balancer metric names' literals (lower case), CloudWatch's and Datadog's spellings. */
const LB_METRIC_KEYS = [
  'httpcode_',
  'healthyhostcount',
  'healthy_host_count',
  'targetconnectionerror',
  'target_connection_error',
  'backendconnectionerrors',
  'backend_connection_errors',
  'targetresponsetime',
  'target_response_time',
  'rejectedconnectioncount',
  'rejected_connection_count',
  'surgequeuelength',
  'surge_queue_length',
  'spillovercount',
  'spillover_count',
];

const KEYS = [
  ...LB_METRIC_KEYS,
  '5xx',
  'elasticloadbalancing',
  'app/',
  'z ',
  'cloudflare',
  'cf-ray',
  'ray id',
  'cdn-cgi',
  'error code',
  'error 52',
  'error 10',
  '| 52',
  'statusdetails',
  'backend_',
  '_backend',
  '_by_security_policy',
  'client_disconnected',
  'temporary error and could not complete',
  'endpoint request timed out',
  'origin time',
];

const ALB_TIMEOUTS: readonly TimeoutMark[] = [
  { seconds: 10, name: 'alb_connect_10s' },
  { seconds: 60, name: 'alb_idle_60s' },
];

const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z`;
const SECS = String.raw`(-1|\d{1,7}(?:\.\d{1,9})?)`;
/**
 * `[type] time elb client:port target:port request_processing_time target_processing_time
 * response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"` + rest.
 */
const ALB_LINE = new RegExp(
  // Fields may be wrapped onto the next line, as documentation and pasted consoles do.
  String.raw`(${TIME})[ \n][^\s]{1,300}[ \n][^\s]{1,100}[ \n]([^\s]{1,100})[ \n]${SECS}[ \n]${SECS}[ \n]${SECS}[ \n](\d{3}|-)[ \n](\d{3}|-|0)[ \n](?:\d{1,15}|-)[ \n](?:\d{1,15}|-)[ \n]"[^"\n]{0,8192}"([^\n]{0,4000})`,
  'g',
);
/** An ALB line starts with its type: `h2 2023-…Z`. */
const ALB_TYPE = /(?:^|[\s>|`])(https?|h2|grpcs|wss?) $/;

/** In the rest of an ALB line: `matched_rule_priority request_creation_time "actions" "redirect_url" "error_reason"`. */
const ALB_TAIL = new RegExp(String.raw` (?:-?\d{1,6}|-) (${TIME}) "[^"\n]{0,200}" "[^"\n]{0,4096}" "([^"\n]{0,200})"`);

/** Cloudflare error codes on its pages. */
const CF_CODE = [
  /\bError(?: code)?:?[ \t]{0,3}(52[0-7]|530|1\d{3})\b/gi,
  /\|[ \t]{0,3}(52[0-7]|530|1\d{3}):[ \t]/g,
  /cf-error-code["']?>[ \t]{0,3}(\d{3,4})[ \t]{0,3}</g,
  /\bcloudflare-5xx-errors\/error-(52[0-7]|530)\b/g,
];
/** With Cloudflare context, a 52x status line is Cloudflare's. */
const CF_STATUS = /\bHTTP\/[\d.]{1,3} (52[0-7]|530)\b/g;
/**
 * Cloudflare by itself: the plain-text body it sends a client that does not ask for HTML
 * (`error code: 522`, the whole body), and a 52x code with the title Cloudflare gives it.
 */
const CF_PLAIN = /^[ \t]{0,4}error code: (52[0-7]|530|1\d{3})[ \t]*$/gm;
const CF_TITLED =
  /\bError[ \t]{0,3}(52[0-7]|530)[ \t:|-]{1,4}(?:Web server is returning an unknown error|Web server is down|Connection timed out|Origin is unreachable|A timeout occurred|SSL handshake failed|Invalid SSL certificate|Origin DNS error)\b/gi;
/** `alone`: the phrase names Cloudflare by itself (its code is part of it), so no other Cloudflare context is needed. */
const CF_PHRASES: readonly { key: string; re: RegExp; code: string; alone?: boolean }[] = [
  { key: 'web server is returning an unknown error', re: /\bWeb server is returning an unknown error\b/gi, code: '520' },
  { key: 'web server is down', re: /\bWeb server is down\b/gi, code: '521' },
  { key: 'origin is unreachable', re: /\bOrigin is unreachable\b/gi, code: '523' },
  { key: 'a timeout occurred', re: /\bA timeout occurred\b/gi, code: '524' },
  { key: 'origin time', re: /\b524:? ?Origin Time-?out\b/gi, code: '524', alone: true },
  { key: 'invalid ssl certificate', re: /\bInvalid SSL certificate\b/gi, code: '526' },
  { key: 'you are being rate limited', re: /\bYou are being rate limited\b/gi, code: '1015' },
];
const CF_BLOCK = /\b(?:Attention Required! \| Cloudflare|Sorry, you have been blocked)\b/gi;

type Effect = readonly [name: string, value?: string];
const CF_EFFECTS: Readonly<Record<string, readonly Effect[]>> = {
  '521': [['proxy.upstream_error', 'connection_refused']],
  '522': [['proxy.upstream_error', 'connect_timeout']],
  '523': [['proxy.upstream_error', 'host_unreachable']],
  '524': [
    ['proxy.upstream_error', 'read_timeout'],
    ['timing.near_timeout', 'cloudflare_100s'],
  ],
  '525': [['proxy.upstream_error', 'tls_handshake']],
  '526': [['proxy.upstream_error', 'tls_verify']],
  '1005': [['access.denied_rule']],
  '1006': [['access.denied_rule']],
  '1007': [['access.denied_rule']],
  '1008': [['access.denied_rule']],
  '1009': [['access.denied_rule']],
  '1010': [['access.waf']],
  '1012': [['access.waf']],
  '1015': [['limit.rate']],
  '1016': [['proxy.upstream_error', 'host_not_found']],
  '1020': [['access.waf']],
};

/** Google Cloud load balancer statusDetails → effects. */
const GCP_DETAILS: Readonly<Record<string, readonly Effect[]>> = {
  // The load balancer answers these with a 502 (Cloud Load Balancing's statusDetails reference).
  failed_to_connect_to_backend: [
    ['proxy.upstream_phase', 'connecting'],
    ['http.status', '502'],
  ],
  backend_timeout: [['proxy.upstream_error', 'read_timeout']],
  backend_connection_closed_before_data_sent_to_client: [['proxy.upstream_error', 'prematurely_closed']],
  backend_connection_closed_after_partial_response_sent: [
    ['proxy.upstream_error', 'prematurely_closed'],
    ['proxy.upstream_phase', 'reading_response_body'],
  ],
  failed_to_pick_backend: [['proxy.upstream_error', 'no_live_upstreams']],
  client_disconnected_before_any_response: [['client.closed']],
  denied_by_security_policy: [['access.waf']],
  throttled_by_security_policy: [['limit.rate']],
};
const GCP_DETAIL =
  /\b(failed_to_connect_to_backend|backend_timeout|backend_connection_closed_before_data_sent_to_client|backend_connection_closed_after_partial_response_sent|failed_to_pick_backend|client_disconnected_before_any_response|denied_by_security_policy|throttled_by_security_policy)\b/g;
const GFE_PAGE = /\bThe server encountered a temporary error and could not complete your request\b/gi;
const APIGW_TIMEOUT = /\bEndpoint request timed out\b/g;

/** ALB log fields → alb.error (see "Troubleshoot your Application Load Balancers", HTTP 460/502/503/504). */
function albError(elb: string, target: string, rpt: number, tpt: number, errorReason: string): string | undefined {
  if (errorReason.startsWith('Lambda')) return 'lambda_error';
  if (elb === '460') return 'client_closed_460';
  if (target !== '-' && target !== '0') return undefined; // the target answered: its own status
  if (elb === '503') return 'no_targets';
  // 502: -1 request_processing_time = never dispatched (refused / reset on connect); otherwise the target closed mid-request.
  if (elb === '502') return rpt === -1 ? 'target_refused' : 'target_closed';
  // 504: never dispatched = no connection within the connect timeout; dispatched = no response within the idle timeout.
  if (elb === '504') return rpt === -1 ? 'target_no_response' : tpt === -1 ? 'target_timeout' : undefined;
  return undefined;
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'cloud');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;
  const apply = (effects: readonly Effect[], start: number, end: number) => {
    for (const [name, value] of effects) sink.add(name, value, start, end);
  };

  if (doc.mayContain('z ')) {
    eachMatch(ALB_LINE, doc, (m) => {
      const before = text.slice(Math.max(0, m.index - 7), m.index);
      const type = ALB_TYPE.exec(before)?.[1];
      if (!type && m.index > 0 && !' \t\n>|`'.includes(text[m.index - 1]!)) return;
      const start = type ? m.index - type.length - 1 : m.index;
      const end = m.index + m[0].length;
      const [, time, , rptS, tptS, , elb = '-', target = '-', tail = ''] = m;
      const t = ALB_TAIL.exec(tail);
      sink.once('http.server', type ? 'aws-alb' : 'aws-elb', start, end);
      addStatus(sink, elb, start, end);
      const err = albError(elb, target, Number(rptS), Number(tptS), t?.[2] ?? '-');
      if (err) sink.add('alb.error', err, start, end);
      if (err === 'client_closed_460') sink.add('client.closed', undefined, start, end);
      if (t && time) {
        const seconds = (Date.parse(time) - Date.parse(t[1] ?? '')) / 1000;
        if (Number.isFinite(seconds) && seconds >= 0) {
          sink.add('timing.duration_s', formatSeconds(seconds), start, end);
          const near = nearTimeout(seconds, ALB_TIMEOUTS);
          if (near) sink.add('timing.near_timeout', near, start, end);
        }
      }
    });
  }

  const cfContext = hasAny(doc, ['cloudflare', 'cf-ray', 'ray id', 'cdn-cgi']);
  const cf = (code: string, start: number, end: number) => {
    sink.add('cloudflare.error', code, start, end);
    apply(CF_EFFECTS[code] ?? [], start, end);
    sink.once('http.server', 'cloudflare', ...lineBounds(text, start));
  };
  const [byError, byTitle, bySpan, byDocLink] = CF_CODE;
  if (cfContext && byError) eachMatch(byError, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  if (byTitle && doc.mayContain('| 5')) eachMatch(byTitle, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  if (bySpan && doc.mayContain('cf-error-code')) eachMatch(bySpan, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  if (byDocLink && doc.mayContain('cloudflare-5xx-errors'))
    eachMatch(byDocLink, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  if (cfContext) {
    eachMatch(CF_STATUS, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  }
  if (doc.mayContain('error code: ')) eachMatch(CF_PLAIN, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  if (!cfContext && doc.mayContain('error')) eachMatch(CF_TITLED, doc, (m) => cf(m[1] ?? '', m.index, m.index + m[0].length));
  for (const p of CF_PHRASES) {
    if ((cfContext || p.alone) && doc.mayContain(p.key)) eachMatch(p.re, doc, (m) => cf(p.code, m.index, m.index + m[0].length));
  }
  if (cfContext) {
    eachMatch(CF_BLOCK, doc, (m) => {
      sink.add('access.waf', undefined, m.index, m.index + m[0].length);
      sink.once('http.server', 'cloudflare', ...lineBounds(text, m.index));
    });
  }

  if (hasAny(doc, ['backend_', '_backend', '_by_security_policy', 'client_disconnected'])) {
    eachMatch(GCP_DETAIL, doc, (m) => {
      const name = m[1] ?? '';
      if (
        name === 'backend_timeout' &&
        !hasAny(doc, ['statusdetails', 'status_details', 'loadbalancing', 'load balancer', 'http_load_balancer'])
      ) {
        return; // too generic a word without the load balancer around it
      }
      apply(GCP_DETAILS[name] ?? [], m.index, m.index + m[0].length);
      sink.once('http.server', 'gcp-lb', ...lineBounds(text, m.index));
    });
  }
  if (doc.mayContain('temporary error and could not complete')) {
    eachMatch(GFE_PAGE, doc, (m) => {
      const end = m.index + m[0].length;
      addStatus(sink, '502', m.index, end);
      sink.add('http.body.error_page', undefined, m.index, end);
      sink.once('http.server', 'gcp-lb', m.index, end);
    });
  }
  // A metric named in a runbook or a dashboard is no failure: the text must be an alert about it.
  // So is the definition of an alert: a Prometheus rule (expr:), a CloudWatch alarm in CloudFormation or Terraform.
  const alerting = (hasAny(doc, LB_ALERT_WORDS) || />\s*\d/.test(text)) && !ALERT_DEFINITION.test(text);
  if (alerting && hasAny(doc, LB_METRIC_KEYS))
    eachMatch(LB_METRIC, doc, (m) => {
      const key = (m[1] ?? '').toLowerCase().replace(/_/g, '');
      const value = LB_METRICS.find(([re]) => re.test(key))?.[1];
      if (!value) return;
      const end = m.index + m[0].length;
      sink.add('lb.metric', value, m.index, end);
      const code = /^elb_(50[234])$/.exec(value)?.[1];
      if (code) addStatus(sink, code, m.index, end);
      sink.once('http.server', /aws\.elb\.|backend/i.test(m[0]) ? 'aws-elb' : 'aws-alb', m.index, end);
    });
  if (alerting && doc.mayContain('5xx'))
    eachMatch(LB_5XX_TITLE, doc, (m) => sink.add('lb.metric', 'lb_5xx', m.index, m.index + m[0].length));
  if (doc.mayContain('endpoint request timed out')) {
    eachMatch(APIGW_TIMEOUT, doc, (m) => {
      const end = m.index + m[0].length;
      sink.add('proxy.upstream_error', 'read_timeout', m.index, end);
      sink.add('timing.near_timeout', 'aws_apigateway_29s', m.index, end);
      sink.once('http.server', 'aws-apigateway', m.index, end);
    });
  }
  return sink;
}

/**
 * A load balancer's own metrics, as CloudWatch names them (AWS/ApplicationELB, AWS/ELB:
 * HTTPCode_ELB_5XX_Count, UnHealthyHostCount …) and as Datadog does (aws.applicationelb.*,
 * aws.elb.*: httpcode_elb_5xx, un_healthy_host_count …). An alert on one says what failed even
 * when it says nothing else.
 */
const LB_METRIC =
  /\b(?:aws\.(?:applicationelb|elb)\.)?(httpcode_elb_5xx(?:_count)?|httpcode_elb_50[234](?:_count)?|httpcode_(?:target|backend)_5xx(?:_count)?|un_?healthy_?host_?count|target_?connection_?error_?count|backend_?connection_?errors|target_?response_?time|rejected_?connection_?count|surge_?queue_?length|spillover_?count)(?![A-Za-z0-9])/gi;
/** The definition of an alert rather than the alert: a Prometheus rule's `expr:` (also as a line of a diff), an alarm's comparison settings. */
const ALERT_DEFINITION =
  /^[+-]?[ \t]*(?:-[ \t]*)?expr[ \t]*:|\b(?:ComparisonOperator|comparison_operator|EvaluationPeriods|evaluation_periods)\b/m;
/** Words of an alert (CloudWatch, Datadog, Grafana, Alertmanager …), lower case. */
const LB_ALERT_WORDS = ['alarm', 'triggered', 'firing', 'threshold', 'greater than', 'exceeded', 'above', 'breach', 'critical', 'alert:'];
/** What each metric (lower case, without underscores) says. */
const LB_METRICS: readonly [RegExp, string][] = [
  [/^httpcodeelb5xx/, 'lb_5xx'],
  [/^httpcodeelb502/, 'elb_502'],
  [/^httpcodeelb503/, 'elb_503'],
  [/^httpcodeelb504/, 'elb_504'],
  [/^httpcode(?:target|backend)5xx/, 'target_5xx'],
  [/^unhealthyhostcount/, 'unhealthy_hosts'],
  [/^(?:targetconnectionerrorcount|backendconnectionerrors)/, 'target_connection_errors'],
  [/^targetresponsetime/, 'target_response_time'],
  [/^rejectedconnectioncount/, 'rejected_connections'],
  [/^surgequeuelength/, 'surge_queue'],
  [/^spillovercount/, 'spillover'],
];
/**
 * An alert title that names a load balancer or a proxy and 5XX: "ALB 5XX above threshold", "ELB 5xx
 * errors > 1%", the proxies' 5xx-rate rules of the common Prometheus rule sets (NginxHighHttp5xxErrorRate,
 * TraefikServiceHighHttp5xxErrorRate, HaproxyHighHttp5xxErrorRateBackend, IstioHigh5xxErrorRate) and
 * their summary "Too many HTTP requests with status 5xx".
 */
const LB_5XX_TITLE =
  /\b(?:ALB|ELB|NLB|load[ -]balancer|nginx|ingress|proxy|gateway|haproxy|envoy|traefik|istio|kong)s?\b[^\n]{0,40}?\b5xx\b|\b5xx\b[^\n]{0,30}?\b(?:on|from|at) (?:the )?(?:ALB|ELB|load[ -]balancer|proxy|gateway|ingress)\b|\b[A-Z][A-Za-z]{0,30}(?:Http5xx|High5xx)[A-Za-z]{0,20}\b|\bToo many HTTP requests with status 5xx\b/gi;

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const CLOUD_PATTERNS: readonly RegExp[] = [
  LB_METRIC,
  LB_5XX_TITLE,
  ALB_LINE,
  ...CF_CODE,
  CF_STATUS,
  CF_PLAIN,
  CF_TITLED,
  ...CF_PHRASES.map((p) => p.re),
  CF_BLOCK,
  GCP_DETAIL,
  GFE_PAGE,
  APIGW_TIMEOUT,
];

export const cloudExtractor: Extractor = {
  name: 'cloud',
  reads: 'AWS ALB/ELB access logs, Cloudflare error pages (52x, 1xxx), Google Cloud LB statusDetails and error page, API Gateway timeouts',
  get patterns() {
    return CLOUD_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
