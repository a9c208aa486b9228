import type { Extractor } from './extractor.js';
import { eachMatch, errnoKind, hasAny, lineBounds, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * nginx error.log (and the nginx family: openresty, tengine, Kong, APISIX, ingress-nginx):
 * `2024/01/18 15:36:46 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting
 * to upstream, client: …, upstream: "http://10.0.0.5:3000/", host: "…"`, plus nginx's own error-page
 * wording. Emits proxy.upstream_error + proxy.upstream_phase, access.*, limit.*, client.closed,
 * tls.error and http.server.
 */

/** Lower-case words without which the text holds nothing for this extractor. */
const KEYS = [
  '#',
  'upstream',
  'client',
  'access forbidden',
  'directory index',
  'worker_connections',
  '(23: ',
  '(24: ',
  'limiting ',
  'delaying request',
  'could not be resolved',
  'while resolving',
  'plain http request',
  'no required ssl certificate',
  'the ssl certificate error',
  'request header or cookie too large',
  'finalize http upstream request: 499',
];

/** An nginx error.log line prefix: `[error] 123#0:`. */
const LOG_LINE = /\[(?:emerg|alert|crit|error|warn|notice|info|debug)\] \d{1,10}#\d{1,10}:/g;

/**
 * A failed call with its errno: `connect() to unix:/run/app.sock failed (13: Permission denied)`,
 * `recv() failed (104: Connection reset by peer)`, or the same cut short by the paste (`failed (113: …)`).
 */
const FAILED_ERRNO = /\bfailed \((\d{1,5}): ([^)]{1,80})\)/g;
/** What precedes `failed (…)` when the call was on a file: `open() "/usr/share/nginx/html/50x.html" `. */
const FILE_CALL_BEFORE = /\b(?:open|opendir|stat|lstat|realpath|readlink)\(\) "[^"\n]{0,1024}" $/;
const UPSTREAM_TIMED_OUT = /\bupstream timed out \((\d{1,5}): ([^)]{1,80})\)/g;

/** Upstream failures without an errno, with the value they map to. */
const UPSTREAM_MESSAGES: readonly { key: string; re: RegExp; value: string; needsUpstreamPhase?: boolean }[] = [
  { key: 'prematurely closed', re: /\bupstream prematurely closed\b/gi, value: 'prematurely_closed' },
  { key: 'no live upstreams', re: /\bno live upstreams\b/gi, value: 'no_live_upstreams' },
  // max_fails reached: nginx stops using that server for fail_timeout (passive health check).
  { key: 'temporarily disabled', re: /\bupstream server temporarily disabled\b/gi, value: 'no_live_upstreams' },
  { key: 'too big header', re: /\bupstream sent too big header\b/gi, value: 'too_big_header' },
  {
    key: 'upstream sent',
    re: /\bupstream sent (?:invalid|no valid|duplicate|unexpected|unknown|malformed|more data|response body larger|"Content-Length" and|too large http2 frame|frame for closed stream)\b/gi,
    value: 'invalid_header',
  },
  { key: 'ssl_do_handshake', re: /\bSSL_do_handshake\(\) failed\b/g, value: 'tls_handshake', needsUpstreamPhase: true },
  { key: 'in ssl handshake', re: /\bpeer closed connection in SSL handshake\b/gi, value: 'tls_handshake', needsUpstreamPhase: true },
  { key: 'upstream ssl certificate', re: /\bupstream SSL certificate (?:verify error|does not match)\b/gi, value: 'tls_verify' },
  { key: 'host not found in upstream', re: /\bhost not found in upstream\b/gi, value: 'host_not_found' },
  { key: 'no resolver defined', re: /\bno resolver defined to resolve\b/gi, value: 'no_resolver' },
  { key: 'could not be resolved', re: /\bcould not be resolved \(\d{1,5}: [^)\n]{1,60}\)/gi, value: 'no_resolver' },
];

/** Other nginx messages: a fixed signal each. */
const MESSAGES: readonly { key: string; re: RegExp; name: string; value?: string }[] = [
  { key: 'access forbidden by rule', re: /\baccess forbidden by rule\b/gi, name: 'access.denied_rule' },
  {
    key: '(13: ',
    re: /\b(?:open|opendir|stat|lstat|realpath|readlink)\(\) "[^"\n]{0,1024}" failed \(13: /g,
    name: 'access.file_permission',
  },
  { key: 'directory index of', re: /\bdirectory index of "[^"\n]{0,1024}" is forbidden/gi, name: 'access.file_permission' },
  { key: ', excess:', re: /\b(?:limiting requests|delaying request), excess: /gi, name: 'limit.rate' },
  { key: 'limiting connections by zone', re: /\blimiting connections by zone\b/gi, name: 'limit.rate' },
  { key: 'worker_connections are not enough', re: /\bworker_connections are not enough\b/gi, name: 'limit.connections' },
  { key: '(2', re: /\((?:23|24): [A-Za-z][A-Za-z ]{0,60}\)/g, name: 'limit.connections' },
  { key: 'too large', re: /\bclient intended to send too large (?:chunked )?body\b/gi, name: 'limit.body' },
  { key: 'client sent too', re: /\bclient sent too (?:long header line|large request)\b/gi, name: 'limit.header' },
  { key: 'http2_max_', re: /\bclient exceeded http2_max_(?:field|header)_size limit\b/gi, name: 'limit.header' },
  { key: 'request header or cookie too large', re: /\bRequest Header Or Cookie Too Large\b/gi, name: 'limit.header' },
  {
    key: 'plain http request',
    re: /\b(?:client sent plain HTTP request to HTTPS port|The plain HTTP request was sent to HTTPS port)\b/gi,
    name: 'tls.error',
    value: 'http_to_https_port',
  },
  {
    key: 'ssl certificate',
    re: /\b(?:client sent no required SSL certificate|No required SSL certificate was sent|client SSL certificate verify error|The SSL certificate error)\b/gi,
    name: 'tls.error',
    value: 'client_cert_required',
  },
  { key: 'prematurely closed connection', re: /\bclient prematurely closed connection\b/gi, name: 'client.closed' },
  { key: 'upstream request: 499', re: /\bfinalize http upstream request: 499\b/g, name: 'client.closed' },
];

/** `client closed connection while <phase>`; keep-alive idle closes are not a client giving up. */
const CLIENT_CLOSED = /\bclient closed connection(?: while ([a-zA-Z ]{1,40}))?/gi;
const BENIGN_CLIENT_CLOSE = ['waiting for request', 'ssl handshaking', 'reading client request line'];

/** `while <phase>` text → proxy.upstream_phase. */
const PHASES: readonly [string, string][] = [
  ['ssl handshaking to upstream', 'tls_handshake'],
  ['connecting to upstream', 'connecting'],
  ['sending request to upstream', 'sending_request'],
  ['reading response header from upstream', 'reading_response_header'],
  ['reading upstream', 'reading_response_body'],
  ['proxying upgraded connection', 'proxying'],
  ['proxying connection', 'proxying'],
];

interface Context {
  /** proxy.upstream_phase, when the message names one. */
  readonly phase?: string;
  /** The message is about the upstream (an upstream phase, or an `upstream: "…"` field on its line). */
  readonly upstream: boolean;
  /** The message is about the DNS resolver (`while resolving`). */
  readonly resolving: boolean;
}

/**
 * The `while …` clause after a message, read from `end` (sticky): up to 300 characters of the same
 * message (no comma), at most one line break (pastes wrap), then `while <phase>`.
 */
const WHILE_AFTER = /[^\n,]{0,300}?(?:\n[ \t]{0,8})?while ([a-zA-Z ]{3,60})/y;

function contextAfter(text: string, start: number, end: number): Context {
  WHILE_AFTER.lastIndex = end;
  const phrase = WHILE_AFTER.exec(text)?.[1]?.toLowerCase() ?? '';
  const phase = PHASES.find(([p]) => phrase.startsWith(p))?.[1];
  let upstream = phase !== undefined;
  if (!upstream) {
    const [ls, le] = lineBounds(text, start);
    upstream = text.slice(ls, le).includes(', upstream: "');
  }
  return { ...(phase ? { phase } : {}), upstream, resolving: phrase.startsWith('resolving') };
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'nginx');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;

  const upstream = (value: string, ctx: Context, start: number, end: number) => {
    sink.add('proxy.upstream_error', value, start, end);
    if (ctx.phase) sink.add('proxy.upstream_phase', ctx.phase, start, end);
  };

  const onErrno = (m: RegExpExecArray, codeText: string | undefined, message: string, timedOut: boolean) => {
    const start = m.index;
    const end = start + m[0].length;
    const code = codeText === undefined ? undefined : Number(codeText);
    const kind = timedOut ? 'timeout' : errnoKind(code, message);
    if (kind === 'too_many_open_files' || kind === 'address_unavailable') {
      sink.add('limit.connections', undefined, start, end);
      return;
    }
    // A file the server could not open is not its upstream, even on a line with an upstream field.
    if (FILE_CALL_BEFORE.test(text.slice(Math.max(lineBounds(text, start)[0], start - 1100), start))) return;
    const ctx = contextAfter(text, start, end);
    if (ctx.resolving) {
      sink.add('proxy.upstream_error', 'no_resolver', start, end);
      return;
    }
    if (!ctx.upstream || kind === undefined) return;
    if (kind === 'timeout') {
      upstream(
        ctx.phase === 'connecting' ? 'connect_timeout' : ctx.phase === 'sending_request' ? 'send_timeout' : 'read_timeout',
        ctx,
        start,
        end,
      );
    } else {
      upstream(kind, ctx, start, end);
    }
  };

  if (doc.mayContain('failed (')) eachMatch(FAILED_ERRNO, doc, (m) => onErrno(m, m[1], m[2] ?? '', false));
  if (doc.mayContain('upstream timed out')) eachMatch(UPSTREAM_TIMED_OUT, doc, (m) => onErrno(m, m[1], m[2] ?? '', true));

  for (const u of UPSTREAM_MESSAGES) {
    if (!doc.mayContain(u.key)) continue;
    eachMatch(u.re, doc, (m) => {
      const start = m.index;
      const end = start + m[0].length;
      const ctx = contextAfter(text, start, end);
      if (u.needsUpstreamPhase && ctx.phase !== 'tls_handshake') return;
      upstream(u.value, ctx, start, end);
    });
  }

  for (const r of MESSAGES) {
    if (!doc.mayContain(r.key)) continue;
    eachMatch(r.re, doc, (m) => sink.add(r.name, r.value, m.index, m.index + m[0].length));
  }

  if (doc.mayContain('client closed connection')) {
    eachMatch(CLIENT_CLOSED, doc, (m) => {
      const phase = (m[1] ?? '').toLowerCase();
      if (BENIGN_CLIENT_CLOSE.some((b) => phase.startsWith(b))) return;
      sink.add('client.closed', undefined, m.index, m.index + m[0].length);
    });
  }

  // The product: at the first error.log line, else at the first nginx-specific message found above.
  LOG_LINE.lastIndex = 0;
  const line = LOG_LINE.exec(text);
  const first = line ? line.index : firstOffset(sink);
  if (first !== undefined) {
    const [s, e] = lineBounds(text, first);
    const product = doc.mayContain('openresty') || doc.mayContain('[lua]') ? 'openresty' : 'nginx';
    sink.once('http.server', product, s, e);
    if (doc.mayContain('server: kong,')) sink.once('http.server', 'kong', s, e);
  }
  return sink;
}

/** Offset of the earliest signal's line, if any. */
function firstOffset(sink: SignalSink): number | undefined {
  return sink.size === 0 ? undefined : Math.min(...sink.starts);
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const NGINX_PATTERNS: readonly RegExp[] = [
  LOG_LINE,
  FAILED_ERRNO,
  UPSTREAM_TIMED_OUT,
  ...UPSTREAM_MESSAGES.map((u) => u.re),
  ...MESSAGES.map((r) => r.re),
  CLIENT_CLOSED,
];

export const nginxExtractor: Extractor = {
  name: 'nginx',
  reads: 'nginx / openresty / tengine error.log lines ("… while connecting to upstream") and nginx error-page wording',
  get patterns() {
    return NGINX_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
