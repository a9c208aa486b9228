import type { Extractor } from './extractor.js';
import {
  addStatus,
  eachMatch,
  formatSeconds,
  hasAny,
  isKnownStatus,
  lineBounds,
  nearTimeout,
  SignalSink,
  type TimeoutMark,
} from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * ingress-nginx's default access log
 * (`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr
 * $upstream_response_length $upstream_response_time $upstream_status $req_id`), the plain nginx
 * combined log, `request_time=` / `upstream_response_time=` fields of custom and JSON formats, and the
 * controller's "does not have any active Endpoint" warning. Emits http.status, client.closed (499),
 * timing.duration_s and timing.near_timeout.
 */

const KEYS = ['http/', '" ', 'request_time', 'upstream_response_time', 'upstream_header_time', 'upstream_connect_time', 'active endpoint'];

/** nginx's and ingress-nginx's default timeouts first, then the common ones. */
const NGINX_TIMEOUTS: readonly TimeoutMark[] = [{ seconds: 60, name: 'nginx_proxy_read_60s' }];

/** `"GET /path HTTP/1.1" 499 0 "-" "ua"` + the rest of the line. Two spaces happen (`400  12`). */
const REQUEST =
  /"([A-Z]{3,10}) [^"\s]{1,4096}(?: HTTP\/[\d.]{1,3})?" {1,3}(\d{3}) {1,3}(?:\d{1,15}|-)(?: {1,3}"[^"\n]{0,4096}" {1,3}"[^"\n]{0,4096}")?([^\n]{0,1200})/g;
/** After the user agent in ingress-nginx's format: ` 409 2.702 [ns-svc-8080] [] <upstream fields…>`. */
const INGRESS_REST = /^ (\d{1,12}) (\d{1,7}(?:\.\d{1,3})?) \[([^\]\n]{0,300})\] \[([^\]\n]{0,300})\] ?([^\n]{0,800})$/;
/** Named durations anywhere: `request_time=60.002`, `"upstream_response_time": "59.998"`, `rt=60.001 urt="60.000"`. */
const NAMED_TIME =
  /\b(request_time|upstream_response_time|upstream_header_time|upstream_connect_time|rt|urt|uht|uct)["']?[ \t]{0,2}[:=][ \t]{0,2}["']?(\d{1,7}(?:\.\d{1,3})?)\b/g;
/** ingress-nginx controller: `Service "default/web" does not have any active Endpoint.` */
const NO_ENDPOINTS = /\bdoes not have any active endpoints?\b/gi;

/** Split ingress-nginx's upstream fields, which hold lists (`a, b`) and internal redirects (`a : b`). */
function upstreamFields(tail: string): string[] {
  const out: string[] = [];
  const tokens = tail.trim().split(/ {1,4}/);
  let joinNext = false;
  for (const t of tokens) {
    if (t === ':') {
      joinNext = true;
      continue;
    }
    if (joinNext && out.length > 0) out[out.length - 1] += ` : ${t}`;
    else out.push(t);
    joinNext = t.endsWith(',');
    if (joinNext) out[out.length - 1] = out[out.length - 1]!.slice(0, -1);
  }
  return out;
}

function seconds(list: string | undefined): number[] {
  if (!list) return [];
  return list
    .split(/[,:]/)
    .map((s) => s.trim())
    .filter((s) => /^\d{1,7}(?:\.\d{1,3})?$/.test(s))
    .map(Number);
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'ingress');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;

  const timing = (durations: readonly number[], start: number, end: number) => {
    const [first] = durations;
    if (first === undefined) return;
    sink.add('timing.duration_s', formatSeconds(first), start, end);
    for (const d of durations) {
      const near = nearTimeout(d, NGINX_TIMEOUTS);
      if (near) {
        sink.add('timing.near_timeout', near, start, end);
        break;
      }
    }
  };

  let ingressAt: number | undefined;
  let combinedAt: number | undefined;
  let saw499 = false;
  eachMatch(REQUEST, doc, (m) => {
    const ls = m.index;
    const le = m.index + m[0].length;
    const status = m[2] ?? '';
    if (!isKnownStatus(Number(status))) return;
    addStatus(sink, status, ls, le);
    if (status === '499') saw499 = true;
    const rest = INGRESS_REST.exec(m[3] ?? '');
    if (rest) {
      ingressAt ??= ls;
      const fields = upstreamFields(rest[5] ?? '');
      const requestTime = Number(rest[2]);
      const upstreamTimes = fields.length >= 4 ? seconds(fields[2]) : [];
      timing([requestTime, ...upstreamTimes], ls, le);
    } else {
      combinedAt ??= ls;
    }
  });

  if (hasAny(doc, ['request_time', 'upstream_response_time', 'upstream_header_time', 'upstream_connect_time', 'rt=', 'urt='])) {
    eachMatch(NAMED_TIME, doc, (m) => {
      const short = (m[1] ?? '').length <= 3;
      const [ls, le] = lineBounds(text, m.index);
      // rt=/urt= are only read on an access-log line (they are common words elsewhere).
      if (short && !/" \d{3} /.test(text.slice(ls, le))) return;
      timing([Number(m[2])], m.index, m.index + m[0].length);
    });
  }

  if (doc.mayContain('active endpoint')) {
    eachMatch(NO_ENDPOINTS, doc, (m) => {
      sink.add('proxy.upstream_error', 'no_live_upstreams', m.index, m.index + m[0].length);
      ingressAt ??= lineBounds(text, m.index)[0];
    });
  }

  if (ingressAt !== undefined || hasAny(doc, ['ingress-nginx', 'nginx-ingress', 'ingress-controller', 'ingress controller'])) {
    const at = ingressAt ?? combinedAt;
    if (at !== undefined) sink.once('http.server', 'ingress-nginx', ...lineBounds(text, at));
  } else if (combinedAt !== undefined && (saw499 || hasAny(doc, ['nginx', 'openresty']))) {
    sink.once('http.server', doc.mayContain('openresty') ? 'openresty' : 'nginx', ...lineBounds(text, combinedAt));
  }
  return sink;
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const INGRESS_PATTERNS: readonly RegExp[] = [REQUEST, NAMED_TIME, NO_ENDPOINTS];

export const ingressExtractor: Extractor = {
  name: 'ingress',
  reads: 'ingress-nginx and nginx access logs: status, 499, request/upstream times and timeouts they land on',
  get patterns() {
    return INGRESS_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
