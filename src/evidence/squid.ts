import type { Extractor } from './extractor.js';
import { addStatus, eachMatch, errnoKind, hasAny, isKnownStatus, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * Squid (and tinyproxy), the forward proxies: access.log result codes (`TCP_DENIED/403`,
 * `TCP_MISS/502`, `NONE_NONE/400`, `TCP_TUNNEL/200`, or `%Ss:%Sh` as `TCP_DENIED:HIER_NONE`), error
 * pages and `X-Squid-Error: ERR_ACCESS_DENIED 0`, cache.log warnings ("Your cache is running out of
 * filedescriptors"), and tinyproxy's pages and log lines.
 */

const KEYS = [
  'tcp_',
  'udp_',
  'none',
  'tag_',
  'err_',
  'squid',
  'could not be retrieved',
  'following error was encountered',
  'filedescriptors',
  'too many open files',
  'tinyproxy',
  'processes are busy',
  'unauthorized connection from',
  'refused connect method',
  'maximum number of connections reached',
  'opensock: could not establish',
];

/** access.log `code/status`: `TCP_DENIED/403`, `NONE_NONE/000`, `TAG_NONE/503`. */
const ACCESS_CODE = /\b((?:TCP|UDP|TAG)_[A-Z_]{2,40}|NONE(?:_[A-Z_]{2,40})?)\/(\d{3})\b/g;
/** logformat `%Ss:%Sh`: `TCP_DENIED:HIER_NONE`. */
const ACCESS_CODE_HIER =
  /\b((?:TCP|UDP|TAG|NONE)_[A-Z_]{2,40}):(?:HIER|FIRST|DIRECT|PARENT|SIBLING|DEFAULT|ANY|ROUND|CARP|CLOSEST|SOURCEHASH|USERHASH)[A-Z_]{0,30}\b/g;

/** `X-Squid-Error: ERR_CONNECT_FAIL 111` (the number is the errno, 0 when none). */
const SQUID_ERROR_HEADER = /\bX-Squid-Error:[ \t]{0,4}(ERR_[A-Z_]{2,40})(?:[ \t]{1,4}(\d{1,5}))?/gi;
/** The error page's body id: `<body id=ERR_ACCESS_DENIED>` (quoted or not, maybe escaped). */
const BODY_ID = /<body id=\\{0,8}["']?(ERR_[A-Z_]{2,40})/g;
/** A bare error name, taken only when the text is about Squid. */
const ERROR_NAME = /\bERR_[A-Z_]{2,40}\b/g;
/** "The system returned: (111) Connection refused" on ERR_CONNECT_FAIL and friends. */
const SYSTEM_RETURNED = /\bThe system returned:[ \t\n]{0,4}(?:<i>)?\((\d{1,5})\) ([^<\n]{1,80})/g;

/** Squid's error templates (names from squid's errors/ directory). */
const KNOWN_ERRORS = new Set([
  'ERR_ACCESS_DENIED',
  'ERR_ACL_TIME_QUOTA_EXCEEDED',
  'ERR_AGENT_CONFIGURE',
  'ERR_AGENT_WPAD',
  'ERR_CACHE_ACCESS_DENIED',
  'ERR_CACHE_MGR_ACCESS_DENIED',
  'ERR_CANNOT_FORWARD',
  'ERR_CONFLICT_HOST',
  'ERR_CONNECT_FAIL',
  'ERR_DIR_LISTING',
  'ERR_DNS_FAIL',
  'ERR_ESI',
  'ERR_FORWARDING_DENIED',
  'ERR_FTP_DISABLED',
  'ERR_FTP_FAILURE',
  'ERR_FTP_FORBIDDEN',
  'ERR_FTP_NOT_FOUND',
  'ERR_FTP_PUT_CREATED',
  'ERR_FTP_PUT_ERROR',
  'ERR_FTP_PUT_MODIFIED',
  'ERR_FTP_UNAVAILABLE',
  'ERR_GATEWAY_FAILURE',
  'ERR_ICAP_FAILURE',
  'ERR_INVALID_REQ',
  'ERR_INVALID_RESP',
  'ERR_INVALID_URL',
  'ERR_LIFETIME_EXP',
  'ERR_NO_RELAY',
  'ERR_ONLY_IF_CACHED_MISS',
  'ERR_PRECONDITION_FAILED',
  'ERR_PROTOCOL_UNKNOWN',
  'ERR_READ_ERROR',
  'ERR_READ_TIMEOUT',
  'ERR_RELAY_REMOTE',
  'ERR_REQUEST_PARSE_TIMEOUT',
  'ERR_REQUEST_START_TIMEOUT',
  'ERR_SECURE_CONNECT_FAIL',
  'ERR_SHUTTING_DOWN',
  'ERR_SOCKET_FAILURE',
  'ERR_TOO_BIG',
  'ERR_UNSUP_HTTPVERSION',
  'ERR_UNSUP_REQ',
  'ERR_URN_RESOLVE',
  'ERR_WRITE_ERROR',
  'ERR_ZERO_SIZE_OBJECT',
]);

/** What an error name means beyond itself. ERR_CONNECT_FAIL is read from its errno. */
const ERROR_IMPLIES: Readonly<Record<string, { name: string; value?: string }>> = {
  ERR_ACCESS_DENIED: { name: 'access.denied_rule' },
  ERR_CACHE_MGR_ACCESS_DENIED: { name: 'access.denied_rule' },
  ERR_FORWARDING_DENIED: { name: 'access.denied_rule' },
  ERR_CACHE_ACCESS_DENIED: { name: 'proxy.auth_required' },
  ERR_READ_TIMEOUT: { name: 'proxy.upstream_error', value: 'read_timeout' },
  ERR_DNS_FAIL: { name: 'proxy.upstream_error', value: 'host_not_found' },
  ERR_ZERO_SIZE_OBJECT: { name: 'proxy.upstream_error', value: 'prematurely_closed' },
  ERR_READ_ERROR: { name: 'proxy.upstream_error', value: 'reset' },
  ERR_WRITE_ERROR: { name: 'proxy.upstream_error', value: 'reset' },
  ERR_SECURE_CONNECT_FAIL: { name: 'proxy.upstream_error', value: 'tls_handshake' },
  ERR_INVALID_RESP: { name: 'proxy.upstream_error', value: 'invalid_header' },
  ERR_CANNOT_FORWARD: { name: 'proxy.upstream_error', value: 'no_live_upstreams' },
  ERR_TOO_BIG: { name: 'limit.body' },
  ERR_SOCKET_FAILURE: { name: 'limit.connections' },
};

/** Sentences of the rendered error pages (when the HTML is gone), with the error they belong to. */
const PAGE_TEXT: readonly { key: string; re: RegExp; error: string }[] = [
  {
    key: 'access control configuration prevents',
    re: /\bAccess control configuration prevents your request from being allowed at this time\b/gi,
    error: 'ERR_ACCESS_DENIED',
  },
  {
    key: 'until you have authenticated yourself',
    re: /\bfrom this cache until you have authenticated yourself\b/gi,
    error: 'ERR_CACHE_ACCESS_DENIED',
  },
  { key: 'unable to determine ip address', re: /\bUnable to determine IP address from host name\b/gi, error: 'ERR_DNS_FAIL' },
  { key: 'connection to ', re: /\bConnection to [^\s<]{1,260} failed\./g, error: 'ERR_CONNECT_FAIL' },
  {
    key: 'a timeout occurred while waiting to read',
    re: /\bA Timeout occurred while waiting to read data from the network\b/gi,
    error: 'ERR_READ_TIMEOUT',
  },
  {
    key: 'did not receive any data for this request',
    re: /\bdid not receive any data for this request\b/gi,
    error: 'ERR_ZERO_SIZE_OBJECT',
  },
  { key: 'unable to forward this request', re: /\bUnable to forward this request at this time\b/gi, error: 'ERR_CANNOT_FORWARD' },
  {
    key: 'failed to establish a secure connection',
    re: /\bFailed to establish a secure connection to\b/gi,
    error: 'ERR_SECURE_CONNECT_FAIL',
  },
  { key: 'some aspect of the http request is invalid', re: /\bSome aspect of the HTTP Request is invalid\b/gi, error: 'ERR_INVALID_REQ' },
  {
    key: 'some aspect of the requested url is incorrect',
    re: /\bSome aspect of the requested URL is incorrect\b/gi,
    error: 'ERR_INVALID_URL',
  },
  { key: 'unsupported request method and protocol', re: /\bUnsupported Request Method and Protocol\b/gi, error: 'ERR_UNSUP_REQ' },
  { key: 'the request or reply is too large', re: /\bThe request or reply is too large\b/gi, error: 'ERR_TOO_BIG' },
  {
    key: 'error condition occurred while reading data',
    re: /\bAn error condition occurred while reading data from the network\b/gi,
    error: 'ERR_READ_ERROR',
  },
];

/** cache.log and product identification. */
const MESSAGES: readonly { key: string; re: RegExp; name: string; value?: string; squid?: boolean }[] = [
  {
    key: 'running out of filedescriptors',
    re: /\bYour cache is running out of filedescriptors\b/gi,
    name: 'limit.connections',
    squid: true,
  },
  { key: 'too many open files', re: /\((?:23|24)\) Too many open files\b/g, name: 'limit.connections' },
  { key: 'processes are busy', re: /\bAll \d{1,6}\/\d{1,6} [\w-]{1,40} processes are busy\b/g, name: 'limit.overload', squid: true },
  { key: 'squid/', re: /\(squid\/[\d.]{1,20}[^\d.)\n]{0,20}\)/gi, name: 'http.server', value: 'squid' },
  // Squid's error pages open with this sentence: the page explains itself ("This means that…"), and is still a failure shown
  {
    key: 'following error was encountered',
    re: /\bThe following error was encountered while trying to retrieve the URL\b/gi,
    name: 'proxy.error_page',
    squid: true,
  },
];

/** tinyproxy's pages (reqs.c) and log lines. */
const TINYPROXY: readonly { key: string; re: RegExp; name: string; value?: string }[] = [
  { key: 'generated by tinyproxy', re: /\bGenerated by tinyproxy version\b/gi, name: 'http.body.error_page' },
  { key: 'generated by tinyproxy', re: /\bGenerated by tinyproxy version\b/gi, name: 'proxy.error_page' },
  {
    key: 'not configured it to service requests from your host',
    re: /\bhas not configured it to service requests from your host\b/gi,
    name: 'access.denied_rule',
  },
  { key: 'unauthorized connection from', re: /\bUnauthorized connection from\b/g, name: 'access.denied_rule' },
  {
    key: 'with the port you tried to use',
    re: /\bCONNECT method not allowed with the port you tried to use\b/gi,
    name: 'access.denied_rule',
  },
  { key: 'refused connect method', re: /\bRefused CONNECT method on port\b/gi, name: 'access.denied_rule' },
  { key: 'has been filtered', re: /\bThe request you made has been filtered\b/gi, name: 'access.denied_rule' },
  {
    key: 'maximum number of connections reached',
    re: /\bMaximum number of connections reached\b/gi,
    name: 'limit.connections',
  },
];
const TINYPROXY_KEYS = [
  'tinyproxy',
  'unauthorized connection from',
  'refused connect method',
  'maximum number of connections',
  'opensock: could not establish',
];
const TINYPROXY_CONNECT =
  /\b(?:tinyproxy was unable to connect to the remote web server|opensock: Could not establish a connection to)\b([^\n]{0,200})/gi;

function connectFailure(sink: SignalSink, code: number | undefined, message: string, start: number, end: number): void {
  const kind = errnoKind(code, message);
  const value =
    kind === 'timeout'
      ? 'connect_timeout'
      : kind === 'connection_refused' || kind === 'host_unreachable' || kind === 'network_unreachable' || kind === 'reset'
        ? kind
        : /not known|nodename nor servname|no address associated/i.test(message)
          ? 'host_not_found'
          : undefined;
  if (value) sink.add('proxy.upstream_error', value, start, end);
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'squid');
  const { text } = doc;
  if (!hasAny(doc, KEYS)) return sink;
  let squidAt: number | undefined;
  const squid = (start: number) => {
    squidAt ??= start;
  };

  const code = (name: string, status: string | undefined, start: number, end: number) => {
    if (status && status !== '000' && !isKnownStatus(Number(status))) return;
    sink.add('squid.status', name, start, end);
    squid(start);
    if (status && status !== '000') addStatus(sink, status, start, end);
    if (name.includes('DENIED')) sink.add(status === '407' ? 'proxy.auth_required' : 'access.denied_rule', undefined, start, end);
    if (name.endsWith('_ABORTED')) sink.add('client.closed', undefined, start, end);
  };
  if (hasAny(doc, ['tcp_', 'udp_', 'none', 'tag_'])) {
    eachMatch(ACCESS_CODE, doc, (m) => code(m[1] ?? '', m[2], m.index, m.index + m[0].length));
    eachMatch(ACCESS_CODE_HIER, doc, (m) => code(m[1] ?? '', undefined, m.index, m.index + m[0].length));
  }

  const error = (name: string, start: number, end: number) => {
    if (!KNOWN_ERRORS.has(name)) return;
    sink.add('squid.error', name, start, end);
    squid(start);
    const implied = ERROR_IMPLIES[name];
    if (implied) sink.add(implied.name, implied.value, start, end);
  };
  if (doc.mayContain('err_')) {
    eachMatch(SQUID_ERROR_HEADER, doc, (m) => {
      const name = (m[1] ?? '').toUpperCase();
      error(name, m.index, m.index + m[0].length);
      if (name === 'ERR_CONNECT_FAIL' && m[2] && m[2] !== '0') connectFailure(sink, Number(m[2]), '', m.index, m.index + m[0].length);
    });
    eachMatch(BODY_ID, doc, (m) => error(m[1] ?? '', m.index, m.index + m[0].length));
  }
  const aboutSquid = squidAt !== undefined || doc.mayContain('squid') || doc.mayContain('could not be retrieved');
  if (aboutSquid && doc.mayContain('err_')) {
    eachMatch(ERROR_NAME, doc, (m) => {
      if (
        text
          .slice(Math.max(0, m.index - 5), m.index)
          .toLowerCase()
          .endsWith('net::')
      )
        return; // Chrome's net::ERR_…
      error(m[0], m.index, m.index + m[0].length);
    });
  }
  if (aboutSquid) {
    for (const p of PAGE_TEXT) {
      if (doc.mayContain(p.key)) eachMatch(p.re, doc, (m) => error(p.error, m.index, m.index + m[0].length));
    }
  }
  if (doc.mayContain('the system returned')) {
    eachMatch(SYSTEM_RETURNED, doc, (m) => connectFailure(sink, Number(m[1]), m[2] ?? '', m.index, m.index + m[0].length));
  }

  for (const r of MESSAGES) {
    if (!doc.mayContain(r.key)) continue;
    eachMatch(r.re, doc, (m) => {
      sink.add(r.name, r.value, m.index, m.index + m[0].length);
      if (r.squid || r.value === 'squid') squid(m.index);
    });
  }
  if (squidAt !== undefined) {
    const end = text.indexOf('\n', squidAt);
    sink.once('http.server', 'squid', squidAt, end < 0 ? text.length : end);
  }

  if (hasAny(doc, TINYPROXY_KEYS)) {
    let tinyAt: number | undefined;
    for (const r of TINYPROXY) {
      if (!doc.mayContain(r.key)) continue;
      eachMatch(r.re, doc, (m) => {
        sink.add(r.name, r.value, m.index, m.index + m[0].length);
        tinyAt ??= m.index;
      });
    }
    eachMatch(TINYPROXY_CONNECT, doc, (m) => {
      tinyAt ??= m.index;
      connectFailure(sink, undefined, m[1] ?? '', m.index, m.index + m[0].length - (m[1] ?? '').length);
    });
    if (tinyAt !== undefined && doc.mayContain('tinyproxy')) {
      const end = text.indexOf('\n', tinyAt);
      sink.once('http.server', 'tinyproxy', tinyAt, end < 0 ? text.length : end);
    }
  }
  return sink;
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const SQUID_PATTERNS: readonly RegExp[] = [
  ACCESS_CODE,
  ACCESS_CODE_HIER,
  SQUID_ERROR_HEADER,
  BODY_ID,
  ERROR_NAME,
  SYSTEM_RETURNED,
  ...PAGE_TEXT.map((p) => p.re),
  ...MESSAGES.map((r) => r.re),
  ...TINYPROXY.map((r) => r.re),
  TINYPROXY_CONNECT,
];

export const squidExtractor: Extractor = {
  name: 'squid',
  reads: 'Squid access.log result codes, error pages / X-Squid-Error names, cache.log warnings; tinyproxy pages and log lines',
  get patterns() {
    return SQUID_PATTERNS;
  },
  get keys() {
    return KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
