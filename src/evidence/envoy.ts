import type { Extractor } from './extractor.js';
import {
  addStatus,
  eachMatch,
  errnoKind,
  formatSeconds,
  hasAny,
  lineBounds,
  nearTimeout,
  SignalSink,
  type TimeoutMark,
} from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * Envoy and Istio: access logs (default, Istio and JSON / key=value formats) with their response
 * flags (`UF`, `UH`, `UO`, `URX`, `UT`, `UC`, `DC`, `NR`, `UPE` … or the long names) and
 * response_code_details, and the bodies Envoy writes itself ("upstream connect error or
 * disconnect/reset before headers. reset reason: connection failure, transport failure reason: …",
 * "no healthy upstream", "upstream request timeout", "RBAC: access denied").
 */

const KEYS = [
  'response_flag',
  'response_code_details',
  'status_details',
  'upstream connect error',
  'reset reason',
  'no healthy upstream',
  'upstream request timeout',
  'local_rate_limited',
  'rbac: access denied',
  'upstream_reset_',
  'x-envoy-',
  'envoy',
  'istio',
  '" 0 -',
  '"- - -" ',
  'http/',
];

/** Envoy's typical timeouts: the route timeout defaults to 15 s. */
const ENVOY_TIMEOUTS: readonly TimeoutMark[] = [{ seconds: 15, name: 'envoy_route_15s' }];

/**
 * Default / Istio text format: `"GET / HTTP/1.1" 503 UF 0 91 1 - "-"` or
 * `"GET / HTTP/1.1" 502 UPE upstream_reset_before_response_started{protocol_error} - "-" 0 87 92 - "-"`; a TCP
 * proxy's line has no request: `"- - -" 0 UH - - "-" 0 0 0 - "-"`.
 */
const ACCESS_LINE =
  /"(?:[A-Z]{3,10} [^"\s]{1,4096} (?:HTTP\/[\d.]{1,3}|-)|- - -)" (\d{1,3}) ([A-Z][A-Za-z,]{0,79}|-) (?:([a-z][a-z0-9_.]{2,80}(?:\{[^}\s]{0,200}\})?|-) [^\s"]{1,200} "[^"\n]{0,300}" )?(\d{1,15}) (\d{1,15}) (\d{1,10}) (?:\d{1,10}|-) "/g;
/** Flags named in prose, as people report them: "a lot of UH errors", "503 UC responses", "the UF flag". */
const FLAGS_PROSE =
  /\b(UH|UF|UO|UC|URX|UT|NR|NC|UPE|UMSDR|LH|UAEX|DPE)(?:\/(UH|UF|UO|UC|URX|UT|NR|NC|UPE|UMSDR|LH|UAEX|DPE))? (?:errors?|responses?|(?:response )?flags?|failures?)\b/g;
/** The flag after its name, as people quote it: "response flag `UO`", "flags: UH", "the UF flag" is above. */
const FLAG_NAMED = /\b(?:response[ _])?flags?[ \t]{0,2}(?:[:=][ \t]{0,2})?[`'"]?(UH|UF|UO|UC|URX|UT|NR|NC|UPE|UMSDR|LH|UAEX|DPE)\b/g;
/**
 * The local reply's body as a client prints it, without the reset reason (a browser, a UI, a log
 * that cut it off): Envoy sends it with 503 and nothing else does.
 */
const RESET_BODY_BARE = /\bupstream connect error or disconnect\/reset before headers\b(?!\.?(?: retried and the latest)? reset reason:)/gi;
/** Headers Envoy adds only when it refused the request itself, named in a paste or in prose. */
const SHED_HEADERS = /\bx-envoy-(overloaded|ratelimited)\b/gi;
/** JSON / key=value: `response_flags="UPE"`, `"response_flags":"UF"`, `response_flag=UT`. */
const FLAGS_KV = /\bresponse_flags?["']?[ \t]{0,2}[:=|][ \t]{0,2}["']?([A-Z][A-Za-z,]{0,79}|-)/g;
const DETAILS_KV =
  /\b(?:response_code_details|status_details|responseCodeDetails)["']?[ \t]{0,2}[:=|][ \t]{0,2}["']?([a-z][a-z0-9_.]{2,80}(?:\{[^}\s"]{0,200}\}|\[[^\]\s"]{0,200}\])?)/g;
/** A duration on a line that carries response flags: `total_time_ms=15001`, `"duration":15001`. */
const DURATION_KV = /\b(?:duration|total_time_ms|duration_ms)["']?[ \t]{0,2}[:=][ \t]{0,2}["']?(\d{1,10})\b/;
/** Details anywhere in the text: `upstream_reset_before_response_started{connection_failure}`. */
const DETAILS_BARE = /\bupstream_reset_(?:before|after)_response_started\{[^}\s]{1,200}\}/g;

/** The body of a local reply after an upstream reset. */
const RESET_BODY =
  /\bupstream connect error or disconnect\/reset before headers\.?(?: retried and the latest)? reset reason: (connection failure|connection termination|connection timeout|overflow|remote refused stream reset|remote reset|local refused stream reset|local reset|protocol error|connect error|[a-z_]{3,40})(?:, transport failure reason: ([^\n]{1,200}))?/gi;
const BODIES: readonly { key: string; re: RegExp; details: string }[] = [
  { key: 'no healthy upstream', re: /\bno healthy upstream\b/gi, details: 'no_healthy_upstream' },
  { key: 'upstream request timeout', re: /\bupstream request timeout\b/gi, details: 'upstream_response_timeout' },
  { key: 'local_rate_limited', re: /\blocal_rate_limited\b/g, details: 'local_rate_limited' },
  { key: 'rbac: access denied', re: /\bRBAC: access denied\b/gi, details: 'rbac_access_denied' },
];

/** Long flag names (Envoy ≥ 1.27 `%RESPONSE_FLAGS_LONG%`) → short codes. */
const LONG_FLAGS: Readonly<Record<string, string>> = {
  FailedLocalHealthCheck: 'LH',
  NoHealthyUpstream: 'UH',
  UpstreamRequestTimeout: 'UT',
  LocalReset: 'LR',
  UpstreamRemoteReset: 'UR',
  UpstreamConnectionFailure: 'UF',
  UpstreamConnectionTermination: 'UC',
  UpstreamOverflow: 'UO',
  UpstreamRetryLimitExceeded: 'URX',
  NoRouteFound: 'NR',
  DelayInjected: 'DI',
  FaultInjected: 'FI',
  RateLimited: 'RL',
  UnauthorizedExternalService: 'UAEX',
  RateLimitServiceError: 'RLSE',
  DownstreamConnectionTermination: 'DC',
  StreamIdleTimeout: 'SI',
  InvalidEnvoyRequestHeaders: 'IH',
  DownstreamProtocolError: 'DPE',
  UpstreamMaxStreamDurationReached: 'UMSDR',
  ResponseFromCacheFilter: 'RFCF',
  NoFilterConfigFound: 'NFCF',
  DurationTimeout: 'DT',
  UpstreamProtocolError: 'UPE',
  NoClusterFound: 'NC',
  OverloadManagerTerminated: 'OM',
  DnsResolutionFailed: 'DF',
  DropOverload: 'DO',
  DownstreamRemoteReset: 'DR',
};
const SHORT_FLAGS = new Set(Object.values(LONG_FLAGS));

type Effect = readonly [name: string, value?: string];

/** What a flag says, beyond itself (UF alone does not say refused vs timeout: the details do). */
const FLAG_EFFECTS: Readonly<Record<string, readonly Effect[]>> = {
  UH: [['proxy.upstream_error', 'no_live_upstreams']],
  UO: [['limit.overload']],
  UT: [['proxy.upstream_error', 'read_timeout']],
  UC: [['proxy.upstream_error', 'prematurely_closed']],
  UR: [['proxy.upstream_error', 'reset']],
  UPE: [['proxy.upstream_error', 'invalid_header']],
  DF: [['proxy.upstream_error', 'host_not_found']],
  DC: [['client.closed']],
  DR: [['client.closed']],
  RL: [['limit.rate']],
  // Envoy's own overload manager: the proxy itself is at its limits.
  OM: [['limit.connections']],
  DO: [['limit.overload']],
};

/** response_code_details (before any `{…}`) → effects. */
const DETAIL_EFFECTS: readonly [prefix: string, effects: readonly Effect[]][] = [
  ['no_healthy_upstream', [['proxy.upstream_error', 'no_live_upstreams']]],
  ['upstream_response_timeout', [['proxy.upstream_error', 'read_timeout']]],
  ['upstream_per_try_timeout', [['proxy.upstream_error', 'read_timeout']]],
  ['downstream_remote_disconnect', [['client.closed']]],
  ['request_payload_too_large', [['limit.body']]],
  ['http1.headers_too_large', [['limit.header']]],
  ['request_headers_too_large', [['limit.header']]],
  ['local_rate_limited', [['limit.rate']]],
  ['request_rate_limited', [['limit.rate']]],
  ['rbac_access_denied', [['access.denied_rule']]],
  ['overload_manager', [['limit.connections']]],
  ['upgrade_failed', [['ws.upgrade_failed']]],
];

/** A reset reason (snake_case) and the transport failure text → proxy.upstream_error / limit.overload. */
function resetEffects(reason: string, transport: string): Effect[] {
  switch (reason) {
    case 'connection_failure': {
      const t = transport.toLowerCase();
      // No transport detail (at most the quote or stop that ends a pasted message): Envoy's own name for it is UF.
      if (/^[\s"'`.,;:)\]]*$/.test(t)) return [['envoy.flag', 'UF']];
      if (t.includes('tls error') || t.includes('ssl')) {
        return [['proxy.upstream_error', /certificate_verify_failed|certificate verify failed/.test(t) ? 'tls_verify' : 'tls_handshake']];
      }
      const code = /(?:error|errno)[:_ ]{1,3}(\d{1,5})\b/.exec(t)?.[1];
      const kind = errnoKind(code === undefined ? undefined : Number(code), t);
      if (kind === 'timeout') return [['proxy.upstream_error', 'connect_timeout']];
      if (kind === 'connection_refused' || kind === 'host_unreachable' || kind === 'network_unreachable' || kind === 'reset') {
        return [['proxy.upstream_error', kind]];
      }
      return [];
    }
    case 'connection_termination':
      return [['proxy.upstream_error', 'prematurely_closed']];
    case 'connection_timeout':
      return [['proxy.upstream_error', 'connect_timeout']];
    case 'overflow':
      return [['limit.overload']];
    case 'remote_reset':
    case 'remote_refused_stream_reset':
    case 'remote_connection_failure':
      return [['proxy.upstream_error', 'reset']];
    case 'protocol_error':
      return [['proxy.upstream_error', 'invalid_header']];
    default:
      return [];
  }
}

/** jwt_authn's reasons (`jwt_authn_access_denied{Jwt_is_expired}`), lower case with underscores. */
const JWT_DENIED: readonly (readonly [RegExp, Effect[]])[] = [
  [/expired/, [['auth.error', 'token_expired']]],
  [/not_yet_valid|not_valid_yet/, [['auth.error', 'token_not_yet_valid']]],
  [/missing|not_found_in_request/, [['auth.error', 'missing_credentials']]],
  [/verification_fail|signature/, [['auth.error', 'invalid_signature']]],
  [/audience/, [['auth.error', 'invalid_audience']]],
  [/issuer/, [['auth.error', 'invalid_issuer']]],
];

/** `upstream_reset_before_response_started{connection_failure|delayed_connect_error:_111}` → normalised details + effects. */
function detailsOf(raw: string): { details: string; effects: Effect[] } {
  const brace = raw.indexOf('{');
  const base = brace < 0 ? raw : raw.slice(0, brace);
  if (brace >= 0 && base.startsWith('upstream_reset_')) {
    const inner = raw.slice(brace + 1, raw.length - 1);
    const bar = inner.indexOf('|');
    const reason = (bar < 0 ? inner : inner.slice(0, bar)).toLowerCase();
    const transport = bar < 0 ? '' : inner.slice(bar + 1).replace(/_/g, ' ');
    return { details: `${base}{${reason}}`, effects: resetEffects(reason, transport) };
  }
  if (brace >= 0 && base === 'jwt_authn_access_denied') {
    const reason = raw.slice(brace + 1, raw.length - 1).toLowerCase();
    return { details: `${base}{${reason}}`, effects: JWT_DENIED.find(([re]) => re.test(reason))?.[1] ?? [['auth.error', 'invalid_token']] };
  }
  const hit = DETAIL_EFFECTS.find(([p]) => base.startsWith(p));
  return { details: base.length > 0 ? base : raw, effects: hit ? [...hit[1]] : [] };
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'envoy');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;
  let productAt: number | undefined;
  const seen = (start: number) => {
    productAt = productAt === undefined ? start : Math.min(productAt, start);
  };
  const apply = (effects: readonly Effect[], start: number, end: number) => {
    for (const [name, value] of effects) sink.add(name, value, start, end);
  };

  /** Returns the short flags found in a flags field. */
  const flags = (field: string, start: number, end: number): string[] => {
    const out: string[] = [];
    for (const f of field.split(',')) {
      const short = SHORT_FLAGS.has(f) ? f : LONG_FLAGS[f];
      if (!short) continue;
      out.push(short);
      sink.add('envoy.flag', short, start, end);
      apply(FLAG_EFFECTS[short] ?? [], start, end);
    }
    return out;
  };
  const details = (raw: string, start: number, end: number) => {
    const d = detailsOf(raw);
    if (d.details === 'via_upstream' || d.details === '-') return;
    sink.add('envoy.details', d.details, start, end);
    apply(d.effects, start, end);
  };
  const duration = (ms: number, start: number, end: number) => {
    if (!Number.isFinite(ms) || ms < 0) return;
    const seconds = ms / 1000;
    sink.add('timing.duration_s', formatSeconds(seconds), start, end);
    const near = nearTimeout(seconds, ENVOY_TIMEOUTS);
    if (near) sink.add('timing.near_timeout', near, start, end);
  };

  if (doc.mayContain('http/') || doc.mayContain('" 0 -') || doc.mayContain('"- - -" ')) {
    eachMatch(ACCESS_LINE, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      const status = Number(m[1]);
      const field = m[2] ?? '-';
      const found = field === '-' ? [] : flags(field, start, end);
      if (field !== '-' && found.length === 0) return; // not Envoy flags after all
      seen(start);
      if (status === 0) {
        if (field === '-' || found.includes('DC')) sink.add('client.closed', undefined, start, end);
      } else addStatus(sink, String(status), start, end);
      if (m[3] && m[3] !== '-') details(m[3], start, end);
      duration(Number(m[6]), start, end);
    });
  }

  if (doc.mayContain(' error') || doc.mayContain(' flag') || doc.mayContain(' response') || doc.mayContain(' failure'))
    eachMatch(FLAGS_PROSE, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      if (flags([m[1], m[2]].filter(Boolean).join(','), start, end).length > 0) seen(start);
    });

  if (doc.mayContain(' flag'))
    eachMatch(FLAG_NAMED, doc, (m) => {
      if (flags(m[1] ?? '', m.index, m.index + m[0].length).length > 0) seen(m.index);
    });
  if (doc.mayContain('upstream connect error'))
    eachMatch(RESET_BODY_BARE, doc, (m) => {
      addStatus(sink, '503', m.index, m.index + m[0].length);
      seen(m.index);
    });
  if (doc.mayContain('x-envoy-'))
    eachMatch(SHED_HEADERS, doc, (m) => {
      sink.add(m[1]!.toLowerCase() === 'overloaded' ? 'limit.overload' : 'limit.rate', undefined, m.index, m.index + m[0].length);
      seen(m.index);
    });

  if (doc.mayContain('response_flag')) {
    eachMatch(FLAGS_KV, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      if (m[1] === '-' || flags(m[1] ?? '', start, end).length > 0) seen(start);
      const [ls, le] = lineBounds(text, start);
      const ms = DURATION_KV.exec(text.slice(ls, le))?.[1];
      if (ms !== undefined) duration(Number(ms), start, end);
    });
  }
  if (hasAny(doc, ['response_code_details', 'status_details', 'responsecodedetails'])) {
    eachMatch(DETAILS_KV, doc, (m) => {
      details(m[1] ?? '', m.index, m.index + m[0].length);
      seen(m.index);
    });
  }
  if (doc.mayContain('upstream_reset_')) {
    eachMatch(DETAILS_BARE, doc, (m) => {
      details(m[0], m.index, m.index + m[0].length);
      seen(m.index);
    });
  }

  if (doc.mayContain('reset reason')) {
    eachMatch(RESET_BODY, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      const reason = (m[1] ?? '').trim().toLowerCase().replace(/ /g, '_');
      const base = 'upstream_reset_before_response_started';
      sink.add('envoy.details', `${base}{${reason}}`, start, end);
      // Envoy sends this local reply with 503: the body alone says which status the client got.
      addStatus(sink, '503', start, end);
      // The transport reason, or whatever the local reply appended (e.g. a gRPC-web "connect: connection refused").
      const transport = m[2] ?? text.slice(end, lineBounds(text, end)[1]);
      apply(resetEffects(reason, transport), start, end);
      seen(start);
    });
  }
  for (const b of BODIES) {
    if (!doc.mayContain(b.key)) continue;
    eachMatch(b.re, doc, (m) => {
      details(b.details, m.index, m.index + m[0].length);
      seen(m.index);
    });
  }

  if (productAt !== undefined) {
    sink.once('http.server', doc.mayContain('istio') ? 'istio' : 'envoy', ...lineBounds(text, productAt));
  }
  return sink;
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const ENVOY_PATTERNS: readonly RegExp[] = [
  ACCESS_LINE,
  FLAGS_KV,
  FLAGS_PROSE,
  FLAG_NAMED,
  RESET_BODY_BARE,
  SHED_HEADERS,
  DETAILS_KV,
  DETAILS_BARE,
  RESET_BODY,
  ...BODIES.map((b) => b.re),
];

export const envoyExtractor: Extractor = {
  name: 'envoy',
  reads: 'Envoy / Istio access logs (response flags, response_code_details, duration) and Envoy local-reply bodies',
  get patterns() {
    return ENVOY_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
