import type { Extractor } from './extractor.js';
import { addStatus, eachMatch, errnoKind, formatSeconds, hasAny, lineBounds, nearTimeout, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * HAProxy: HTTP and TCP logs (timers `Tq/Tw/Tc/Tr/Tt`, status, the termination state `sH--`, `SC--`,
 * `CD--` …), custom log formats that print `%tsc`, `<NOSRV>`, server-down alerts with their health-check
 * reason, resource alerts and HAProxy's built-in error pages.
 */

const KEYS = [
  'haproxy',
  '/',
  'nosrv',
  'no server available',
  'is down',
  'layer4',
  'layer6',
  'layer7',
  'fd limit',
  'maximum connection limit',
  'no server is available',
  "didn't respond in time",
  'invalid or incomplete response',
  'administrative rules',
  'too many requests in a given',
];

/** HTTP log: `0/0/3/-1/600004 504 198 - - sH-- 1757/1757/11/0/0`. */
const HTTP_LOG =
  /(?:^|[ \t\n])(-?\d{1,9})\/(-?\d{1,9})\/(-?\d{1,9})\/(-?\d{1,9})\/(\+?\d{1,10})[ \t]{1,3}(-?\d{1,3})[ \t]{1,3}\+?\d{1,15}[ \t]{1,3}[^\s]{1,300}[ \t]{1,3}[^\s]{1,300}[ \t]{1,3}([A-Za-z-]{4})[ \t]{1,3}\d{1,9}\/\d{1,9}\/\d{1,9}\/\d{1,9}\/\+?\d{1,9}/g;
/** TCP log: `0/0/5007 212 -- 0/0/0/0/3`. */
const TCP_LOG =
  /(?:^|[ \t\n])(-?\d{1,9})\/(-?\d{1,9})\/(\+?\d{1,10})[ \t]{1,3}\+?\d{1,15}[ \t]{1,3}([A-Za-z-]{2})[ \t]{1,3}\d{1,9}\/\d{1,9}\/\d{1,9}\/\d{1,9}\/\+?\d{1,9}/g;
/** A termination state printed alone by a custom log-format (`… 3 CC-- 4 1 0 …`); only read when the text names HAProxy. */
const LONE_STATE = /\b([CSPLRIDUKcs][RQCHDLT](?:--|[NIDVEOU]-|-[NIPRDVU]))/g;
/** A two-letter state quoted in prose: "logged as 503 and status `sQ`". */
const QUOTED_STATE = /[`'"]([CSPLRIDUKcs][RQCHDLT])(?:--)?[`'"]/g;

const NOSRV = /<NOSRV>/g;
const NO_SERVER = /\bbackend '?[^\s']{1,200}'? has no server available!/g;
const SERVER_DOWN = /\bServer [^\s]{1,300} is DOWN\b([^\n]{0,400})/g;
const GOING_DOWN_DNS =
  /\bis going DOWN for maintenance \((?:DNS NX|DNS timeout|DNS refused|unspecified DNS error|DNS no answer)[^)\n]{0,20}\)/g;
/** A health-check reason outside a DOWN line (stats page `lastChk`, pasted fragments). */
const CHECK_REASON =
  /\bLayer(?:4 connection problem|4 timeout|6 invalid response|7 timeout|7 invalid response)\b(?:[:,][ \t]{0,2}(?:info: )?["“]?([^"”\n]{1,80}))?/g;
const RESOURCE = /\b(?:reached (?:process|system) FD limit|reached the configured maximum connection limit|reached system memory limit)\b/g;

/** HAProxy's built-in error pages (http_err_msgs): body sentence → status and meaning. */
const PAGES: readonly { key: string; re: RegExp; status: string; context?: string; name?: string; value?: string }[] = [
  {
    key: 'no server is available to handle this request',
    re: /\bNo server is available to handle this request\b/gi,
    status: '503',
    name: 'proxy.upstream_error',
    value: 'no_live_upstreams',
  },
  {
    key: "the server didn't respond in time",
    re: /\bThe server didn't respond in time\b/gi,
    status: '504',
    context: '504 gateway time-out',
    name: 'proxy.upstream_error',
    value: 'read_timeout',
  },
  {
    key: 'returned an invalid or incomplete response',
    re: /\bThe server returned an invalid or incomplete response\b/gi,
    status: '502',
    name: 'proxy.upstream_error',
    value: 'invalid_header',
  },
  {
    key: 'request forbidden by administrative rules',
    re: /\bRequest forbidden by administrative rules\b/gi,
    status: '403',
    name: 'access.denied_rule',
  },
  {
    key: 'too many requests in a given amount of time',
    re: /\bYou have sent too many requests in a given amount of time\b/gi,
    status: '429',
    name: 'limit.rate',
  },
  { key: "didn't send a complete request in time", re: /\bYour browser didn't send a complete request in time\b/gi, status: '408' },
];

type Effect = readonly [name: string, value?: string];

/** Termination state (first two characters) → what it says (HAProxy configuration manual, "Session state at disconnection"). */
const STATES: Readonly<Record<string, readonly Effect[]>> = {
  SC: [
    ['proxy.upstream_error', 'connection_refused'],
    ['proxy.upstream_phase', 'connecting'],
  ],
  sC: [
    ['proxy.upstream_error', 'connect_timeout'],
    ['proxy.upstream_phase', 'connecting'],
    ['timing.near_timeout', 'haproxy_timeout_connect'],
  ],
  SH: [
    ['proxy.upstream_error', 'prematurely_closed'],
    ['proxy.upstream_phase', 'reading_response_header'],
  ],
  sH: [
    ['proxy.upstream_error', 'read_timeout'],
    ['proxy.upstream_phase', 'reading_response_header'],
    ['timing.near_timeout', 'haproxy_timeout_server'],
  ],
  SD: [
    ['proxy.upstream_error', 'reset'],
    ['proxy.upstream_phase', 'reading_response_body'],
  ],
  sD: [
    ['proxy.upstream_error', 'read_timeout'],
    ['proxy.upstream_phase', 'reading_response_body'],
    ['timing.near_timeout', 'haproxy_timeout_server'],
  ],
  sQ: [['limit.overload'], ['timing.near_timeout', 'haproxy_timeout_queue']],
  SQ: [['limit.overload']],
  CC: [['client.closed']],
  CQ: [['client.closed']],
  CH: [['client.closed']],
  CD: [['client.closed']],
  // The client aborted before sending a whole request (a browser's pre-connect, a scanner, telnet).
  CR: [['client.closed']],
  cD: [['timing.near_timeout', 'haproxy_timeout_client']],
  cR: [['timing.near_timeout', 'haproxy_timeout_http_request']],
  PH: [['proxy.upstream_error', 'invalid_header']],
  PD: [['proxy.upstream_error', 'invalid_header']],
  PC: [['limit.connections']],
  RC: [['limit.connections']],
  RQ: [['limit.connections']],
};

/** A health-check reason (and its `info`) → proxy.upstream_error. */
function checkError(reason: string, info: string): string | undefined {
  const r = reason.toLowerCase();
  if (r.includes('layer4 timeout')) return 'connect_timeout';
  if (r.includes('layer7 timeout')) return 'read_timeout';
  if (r.includes('layer6') || r.includes('ssl handshake')) return 'tls_handshake';
  if (r.includes('layer7 invalid response')) return 'invalid_header';
  if (r.includes('layer4 connection problem') || r.includes('socket error')) {
    const kind = errnoKind(undefined, info || r);
    if (kind === 'timeout') return 'connect_timeout';
    if (kind === 'connection_refused' || kind === 'host_unreachable' || kind === 'network_unreachable' || kind === 'reset') return kind;
  }
  return undefined;
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'haproxy');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;
  let productAt: number | undefined;
  const seen = (start: number) => {
    productAt = productAt === undefined ? start : Math.min(productAt, start);
  };

  const state = (raw: string, status: number | undefined, start: number, end: number): boolean => {
    const two = raw.slice(0, 2);
    if (two.startsWith('-') || !/^[CSPLRIDUKcs][RQCHDLT-]$/.test(two)) return false;
    sink.add('haproxy.termination', two, start, end);
    // SC with <NOSRV>: no server was even tried because none is up (not a refused connection).
    if (two === 'SC' && text.slice(...lineBounds(text, start)).includes('<NOSRV>')) {
      sink.add('proxy.upstream_error', 'no_live_upstreams', start, end);
      return true;
    }
    for (const [name, value] of STATES[two] ?? []) sink.add(name, value, start, end);
    if (two === 'PR' && status === 403) sink.add('access.denied_rule', undefined, start, end);
    return true;
  };
  const timing = (tt: string | undefined, start: number, end: number) => {
    if (!tt || tt.startsWith('-')) return;
    const seconds = Number(tt.replace('+', '')) / 1000;
    if (!Number.isFinite(seconds)) return;
    sink.add('timing.duration_s', formatSeconds(seconds), start, end);
    const near = nearTimeout(seconds);
    if (near) sink.add('timing.near_timeout', near, start, end);
  };

  /** A log field starts at the start of the text or after a blank. */
  const fieldStart = (i: number) => i === 0 || ' \t\n'.includes(text[i - 1]!);

  let logs = 0;
  // Log lines whose <NOSRV> is not "no server": the request ended before a server was chosen
  // (denied or answered by the proxy itself, the client gone, a resource limit).
  const notServerLess = new Set<number>();
  eachMatch(HTTP_LOG, doc, (m) => {
    const start = m.index + (m[0].length - m[0].trimStart().length);
    const end = m.index + m[0].length;
    const status = Number(m[6]);
    logs++;
    seen(start);
    if (/^[PCRIDK]/.test(m[7] ?? '') || (status > 0 && status !== 503)) notServerLess.add(lineBounds(text, start)[0]);
    addStatus(sink, String(status), start, end);
    state(m[7] ?? '', status, start, end);
    timing(m[5], start, end);
  });
  eachMatch(TCP_LOG, doc, (m) => {
    const start = m.index + (m[0].length - m[0].trimStart().length);
    const end = m.index + m[0].length;
    logs++;
    seen(start);
    state(m[4] ?? '', undefined, start, end);
    timing(m[3], start, end);
  });

  const named = doc.mayContain('haproxy');
  if (named && logs === 0) {
    eachMatch(LONE_STATE, doc, (m) => {
      const end = m.index + m[0].length;
      if (!fieldStart(m.index) || (end < text.length && !' \t\n'.includes(text[end]!))) return;
      if (state(m[1] ?? '', undefined, m.index, end)) seen(m.index);
    });
    eachMatch(QUOTED_STATE, doc, (m) => {
      if (state(m[1] ?? '', undefined, m.index, m.index + m[0].length)) seen(m.index);
    });
  }

  if (doc.mayContain('<nosrv>')) {
    eachMatch(NOSRV, doc, (m) => {
      if (notServerLess.has(lineBounds(text, m.index)[0])) return;
      sink.add('haproxy.no_server', undefined, m.index, m.index + m[0].length);
      seen(m.index);
    });
  }
  if (doc.mayContain('has no server available')) {
    eachMatch(NO_SERVER, doc, (m) => {
      sink.add('haproxy.no_server', undefined, m.index, m.index + m[0].length);
      sink.add('proxy.upstream_error', 'no_live_upstreams', m.index, m.index + m[0].length);
      seen(m.index);
    });
  }
  if (doc.mayContain(' is down')) {
    eachMatch(SERVER_DOWN, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      const rest = m[1] ?? '';
      seen(start);
      const reason = /reason: ([^,\n]{1,120})/.exec(rest)?.[1] ?? '';
      const info = /info: "([^"\n]{1,100})"/.exec(rest)?.[1] ?? '';
      const value = checkError(reason, info);
      if (value) sink.add('proxy.upstream_error', value, start, end);
      if (/\b0 active and 0 backup servers left\b/.test(rest)) {
        sink.add('haproxy.no_server', undefined, start, end);
        sink.add('proxy.upstream_error', 'no_live_upstreams', start, end);
      }
    });
  }
  if (doc.mayContain('going down for maintenance')) {
    eachMatch(GOING_DOWN_DNS, doc, (m) => {
      sink.add('proxy.upstream_error', 'host_not_found', m.index, m.index + m[0].length);
      seen(m.index);
    });
  }
  if (hasAny(doc, ['layer4', 'layer6', 'layer7'])) {
    eachMatch(CHECK_REASON, doc, (m) => {
      const value = checkError(m[0], m[1] ?? '');
      if (value) sink.add('proxy.upstream_error', value, m.index, m.index + m[0].length);
      seen(m.index);
    });
  }
  if (hasAny(doc, ['fd limit', 'maximum connection limit', 'memory limit'])) {
    eachMatch(RESOURCE, doc, (m) => {
      sink.add('limit.connections', undefined, m.index, m.index + m[0].length);
      if (named) seen(m.index);
    });
  }

  for (const p of PAGES) {
    if (!doc.mayContain(p.key) || (p.context && !doc.mayContain(p.context))) continue;
    eachMatch(p.re, doc, (m) => {
      const end = m.index + m[0].length;
      addStatus(sink, p.status, m.index, end);
      sink.add('http.body.error_page', undefined, m.index, end);
      if (p.name) sink.add(p.name, p.value, m.index, end);
      seen(m.index);
    });
  }

  if (productAt !== undefined) sink.once('http.server', 'haproxy', ...lineBounds(text, productAt));
  return sink;
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const HAPROXY_PATTERNS: readonly RegExp[] = [
  HTTP_LOG,
  TCP_LOG,
  LONE_STATE,
  QUOTED_STATE,
  NOSRV,
  NO_SERVER,
  SERVER_DOWN,
  GOING_DOWN_DNS,
  CHECK_REASON,
  RESOURCE,
  ...PAGES.map((p) => p.re),
];

export const haproxyExtractor: Extractor = {
  name: 'haproxy',
  reads: 'HAProxy HTTP/TCP logs (timers, status, termination state), <NOSRV>, server DOWN alerts, resource alerts, built-in error pages',
  get patterns() {
    return HAPROXY_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
