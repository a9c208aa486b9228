import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineBefore, lineOf, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';
import { serverProduct } from './vocab/products.js';
import { tlsReason } from './vocab/tls-reasons.js';

/**
 * curl: `curl -v` transcripts (`* ` info lines, `> ` request, `< ` response), `curl: (N) …` exit
 * lines, and the same libcurl messages inside PHP (`cURL error 28: …`), yum (`curl#6 - …`) and
 * pycurl (`error: (35, '…')`). Emits curl.exit plus the normalised net.error / tls.error, the
 * CONNECT exchange with a forward proxy (connect.*, proxy.*) and response status lines.
 */
export const curlExtractor: Extractor = {
  name: 'curl',
  reads: 'curl -v transcripts and curl/libcurl error lines (curl: (N) …, cURL error N, curl#N)',
  get patterns() {
    return CURL_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy([...runRules(doc, active(doc), 'curl'), ...scanExchange(doc), ...selfRedirect(doc)]);
  },
};

/** Network phase implied by an exit code. */
const EXIT_PHASE: Readonly<Record<string, string>> = {
  '5': 'dns',
  '6': 'dns',
  '7': 'connect',
  '35': 'tls',
  '51': 'tls',
  '58': 'tls',
  '60': 'tls',
  '52': 'response_header',
};

const EXIT = /\bcurl: \((\d{1,3})\)/g;
const EXIT_PHP = /\bcURL error (\d{1,3})\b/gi;
const EXIT_YUM = /\bcurl#(\d{1,3}) - /g;
const EXIT_PYCURL = /\berror: \((\d{1,3}), ['"]/g;
/** git over HTTPS: `error: RPC failed; curl 56 GnuTLS recv error (-9): …`. */
const EXIT_GIT = /\bRPC failed; curl (\d{1,3})\b/g;
/** git before 2.x: `error: RPC failed; result=22, HTTP code = 413`. */
const EXIT_GIT_OLD = /\bRPC failed; result=(\d{1,3}), HTTP code = (\d{3})\b/g;
const RESOLVE_HOST = /\bCould(?: not|n't) resolve host\b/gi;
const RESOLVE_PROXY = /\bCould(?: not|n't) resolve proxy\b/gi;
const RESOLVE_TIMEOUT = /\bResolving timed out after \d{1,9} milliseconds/gi;
const CONNECT_TIMEOUT = /\bConnection timed out after (\d{1,9}) milliseconds/gi;
const OPERATION_TIMEOUT = /\bOperation timed out after (\d{1,9}) milliseconds(?: with (\d{1,15}) (?:out of -?\d{1,15} )?bytes received)?/gi;
const SSL_TIMEOUT = /\bSSL connection timeout\b/gi;
const FAILED_CONNECT = /\bFailed (?:to )?connect to [^\s]{1,255}(?: port \d{1,5}|:\d{1,5};)[^\n]{0,300}/g;
const CONNECT_FAILED_VERBOSE = /\bconnect to [^\s]{1,255} port \d{1,5}[^\n]{0,120}? failed: [^\n]{1,160}/gi;
const IMMEDIATE_FAIL = /\bImmediate connect fail for [^\n]{1,200}/gi;
const OLD_CONNECT_TIMEOUT = /\bconnect\(\) timed out!/gi;
const RECV_FAILURE = /\bRecv failure: [^\n]{1,160}/gi;
const SEND_FAILURE = /\bSend failure: [^\n]{1,160}/gi;
const EMPTY_REPLY = /\bEmpty reply from server\b/gi;
const TRANSFER_CLOSED = /\btransfer closed with (?:\d{1,15} bytes remaining to read|outstanding read data remaining)/gi;
const BYTES_MISSING = /\bend of response with \d{1,15} bytes missing/gi;
const REDIRECTS = /\bMaximum \(\d{1,5}\) redirects followed/gi;
const URL_ERROR = /\bThe requested URL returned error: (\d{3})/gi;
/** libcurl's TLS connect failure: `OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to host:443`. */
const SSL_CONNECT = /\bOpenSSL SSL_connect: [^\n]{1,200}/g;
const CERT_PROBLEM = /\bSSL certificate problem: [^\n]{1,200}/gi;
const VERIFY_RESULT = /\bSSL certificate verify result: [^\n]{1,200}/gi;
const NAME_MISMATCH =
  /\b(?:no alternative certificate subject name matches target host ?name|certificate subject name '[^'\n]{0,255}' does not match target host name|subjectAltName does not match)/gi;
const TLS_LIBRARY =
  /(?:\berror:[0-9A-Fa-f]{8}:SSL routines:|\b(?:OpenSSL|LibreSSL|BoringSSL) SSL_connect: |\bschannel: |\bgnutls_handshake\(\) failed: |\bNSS error -?\d{1,6}|\bUnknown SSL protocol error|\bSSL connect error|\bSSL_ERROR_SYSCALL|\bPeer's [Cc]ertificate )[^\n]{0,300}/g;
const PROXY_ENV = /\bUses proxy env variable \w{1,20}/g;
const PROXY_ENV_ASSIGN = /\b(?:https?|all)_proxy=[^\s'"]/gi;
/** `-x host:port`, `-vx host`, `--proxy url`; taken only on a curl command line (see {@link onCurlCommand}). */
const PROXY_FLAG = /\s(?:--proxy[ =]|-[A-Za-wyz]{0,8}x ?)[^\s-]/g;
const PROXY_AUTH_USING = /\bProxy auth using \w{1,20}/g;
const TUNNEL = /\bEstablish(?:ing)? HTTP proxy tunnel to [^\s]{1,300}/g;
const AFTER_CONNECT = /\bReceived HTTP code (\d{3}) from proxy after CONNECT/g;
const AFTER_CONNECT_407 = /\bReceived HTTP code 407 from proxy after CONNECT/g;
const TUNNEL_FAILED = /\bCONNECT tunnel failed, response (\d{3})/g;
const TUNNEL_FAILED_407 = /\bCONNECT tunnel failed, response 407/g;
const PROXY_REPLIED = /\bProxy replied (\d{3}) to CONNECT request/g;
const CONNECT_ABORTED = /\bProxy CONNECT aborted(?! due to timeout)/g;
const CONNECT_ABORTED_TIMEOUT = /\bProxy CONNECT aborted due to timeout/g;
const PROXY_AUTHENTICATE = /^< Proxy-Authenticate: ?\w{1,20}/gim;
const REQUEST_LINE = /^[ \t]{0,8}> ([A-Z]{3,12}) [^\s]{1,2000} HTTP\/\d(?:\.\d)?[ \t]{0,4}$/gm;
const SERVER_HEADER = /^[ \t]{0,8}< Server: ?([^\r\n]{1,100})/gim;
/** The lines the CONNECT state machine looks at: request/response lines, info lines, the exit line. */
const EXCHANGE_LINE = /^[ \t]{0,8}(?:[<>*]|curl: \()[^\n]{0,400}/gm;

const num = (m: RegExpExecArray) => m[1];
const seconds = (ms: string | undefined) => (ms === undefined ? undefined : String(Math.round(Number(ms)) / 1000));

const RULES: readonly Rule[] = [
  { key: 'curl: (', re: EXIT, name: 'curl.exit', value: num },
  { key: 'curl: (', re: EXIT, name: 'net.phase', value: (m) => EXIT_PHASE[m[1] ?? ''] },
  { key: 'curl error', re: EXIT_PHP, name: 'curl.exit', value: num },
  { key: 'curl#', re: EXIT_YUM, name: 'curl.exit', value: num },
  { key: 'error: (', re: EXIT_PYCURL, name: 'curl.exit', value: num },
  { key: 'rpc failed; curl', re: EXIT_GIT, name: 'curl.exit', value: num },
  { key: 'rpc failed; result=', re: EXIT_GIT_OLD, name: 'curl.exit', value: num },
  { key: 'rpc failed; result=', re: EXIT_GIT_OLD, name: 'http.status', value: (m) => m[2] },

  { key: 'resolve host', re: RESOLVE_HOST, name: 'net.error', value: 'dns_not_found' },
  { key: 'resolve host', re: RESOLVE_HOST, name: 'net.phase', value: 'dns' },
  { key: 'resolve proxy', re: RESOLVE_PROXY, name: 'net.error', value: 'dns_not_found' },
  { key: 'resolve proxy', re: RESOLVE_PROXY, name: 'proxy.forward' },
  { key: 'resolving timed out', re: RESOLVE_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'resolving timed out', re: RESOLVE_TIMEOUT, name: 'net.phase', value: 'dns' },

  { key: 'connection timed out after', re: CONNECT_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'connection timed out after', re: CONNECT_TIMEOUT, name: 'net.phase', value: 'connect' },
  { key: 'connection timed out after', re: CONNECT_TIMEOUT, name: 'timing.duration_s', value: (m) => seconds(m[1]) },
  { key: 'operation timed out after', re: OPERATION_TIMEOUT, name: 'net.error', value: 'read_timeout' },
  {
    key: 'operation timed out after',
    re: OPERATION_TIMEOUT,
    name: 'net.phase',
    value: (m) => (m[2] === undefined ? undefined : m[2] === '0' ? 'response_header' : 'response_body'),
  },
  { key: 'operation timed out after', re: OPERATION_TIMEOUT, name: 'timing.duration_s', value: (m) => seconds(m[1]) },
  { key: 'ssl connection timeout', re: SSL_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'ssl connection timeout', re: SSL_TIMEOUT, name: 'net.phase', value: 'tls' },

  { key: 'failed', re: FAILED_CONNECT, name: 'net.error', value: (m) => connectReason(lineOf(m)) },
  { key: 'failed', re: FAILED_CONNECT, name: 'net.phase', value: 'connect' },
  { key: 'failed', re: FAILED_CONNECT, name: 'timing.duration_s', value: (m) => seconds(/ after (\d{1,9}) ms\b/.exec(m[0])?.[1]) },
  { key: 'connect to', re: CONNECT_FAILED_VERBOSE, name: 'net.error', value: (m) => connectReason(m[0]) },
  { key: 'immediate connect fail', re: IMMEDIATE_FAIL, name: 'net.error', value: (m) => connectReason(m[0]) },
  { key: 'connect() timed out', re: OLD_CONNECT_TIMEOUT, name: 'net.error', value: 'connect_timeout' },

  { key: 'recv failure', re: RECV_FAILURE, name: 'net.error', value: (m) => transferReason(m[0]) },
  { key: 'send failure', re: SEND_FAILURE, name: 'net.error', value: (m) => transferReason(m[0]) },
  { key: 'empty reply from server', re: EMPTY_REPLY, name: 'net.error', value: 'empty_reply' },
  { key: 'empty reply from server', re: EMPTY_REPLY, name: 'net.phase', value: 'response_header' },
  { key: 'transfer closed with', re: TRANSFER_CLOSED, name: 'net.error', value: 'unexpected_eof' },
  { key: 'transfer closed with', re: TRANSFER_CLOSED, name: 'net.phase', value: 'response_body' },
  { key: 'bytes missing', re: BYTES_MISSING, name: 'net.error', value: 'unexpected_eof' },
  { key: 'redirects followed', re: REDIRECTS, name: 'http.redirect_loop' },
  { key: 'returned error', re: URL_ERROR, name: 'http.status', value: num },

  { key: 'ssl certificate problem', re: CERT_PROBLEM, name: 'tls.error', value: (m) => tlsReason(m[0]) },
  // libcurl's own wording, whatever program passes it on (PHP, git, R): "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to …"
  { key: 'openssl ssl_connect: ', re: SSL_CONNECT, name: 'tls.error', value: (m) => tlsReason(m[0]) ?? 'handshake_failure' },
  { key: 'openssl ssl_connect: ', re: SSL_CONNECT, name: 'net.phase', value: 'tls' },
  { key: 'ssl certificate problem', re: CERT_PROBLEM, name: 'net.phase', value: 'tls' },
  { key: 'verify result', re: VERIFY_RESULT, name: 'tls.error', value: (m) => tlsReason(m[0]) },
  { key: 'target host', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'subjectaltname does not match', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'ssl', re: TLS_LIBRARY, name: 'tls.error', value: (m) => (onCurlLine(m) ? tlsReason(m[0]) : undefined) },
  { key: 'nss error', re: TLS_LIBRARY, name: 'tls.error', value: (m) => (onCurlLine(m) ? tlsReason(m[0]) : undefined) },
  { key: "peer's", re: TLS_LIBRARY, name: 'tls.error', value: (m) => (onCurlLine(m) ? tlsReason(m[0]) : undefined) },
  { key: 'schannel', re: TLS_LIBRARY, name: 'tls.error', value: (m) => (onCurlLine(m) ? tlsReason(m[0]) : undefined) },
  { key: 'gnutls', re: TLS_LIBRARY, name: 'tls.error', value: (m) => (onCurlLine(m) ? tlsReason(m[0]) : undefined) },

  { key: 'uses proxy env variable', re: PROXY_ENV, name: 'proxy.forward' },
  { key: '_proxy=', re: PROXY_ENV_ASSIGN, name: 'proxy.forward' },
  { key: 'curl', re: PROXY_FLAG, name: 'proxy.forward', value: (m) => (onCurlCommand(m) ? '' : undefined) },
  { key: 'proxy auth using', re: PROXY_AUTH_USING, name: 'proxy.forward' },
  { key: 'proxy tunnel to', re: TUNNEL, name: 'proxy.forward' },
  { key: 'proxy tunnel to', re: TUNNEL, name: 'connect.sent' },
  { key: 'from proxy after connect', re: AFTER_CONNECT, name: 'connect.status', value: num },
  { key: 'from proxy after connect', re: AFTER_CONNECT, name: 'connect.sent' },
  { key: 'from proxy after connect', re: AFTER_CONNECT, name: 'proxy.forward' },
  { key: 'code 407 from proxy', re: AFTER_CONNECT_407, name: 'proxy.auth_required' },
  { key: 'connect tunnel failed', re: TUNNEL_FAILED, name: 'connect.status', value: num },
  { key: 'connect tunnel failed', re: TUNNEL_FAILED, name: 'connect.sent' },
  { key: 'connect tunnel failed', re: TUNNEL_FAILED, name: 'proxy.forward' },
  { key: 'response 407', re: TUNNEL_FAILED_407, name: 'proxy.auth_required' },
  { key: 'to connect request', re: PROXY_REPLIED, name: 'connect.status', value: num },
  { key: 'to connect request', re: PROXY_REPLIED, name: 'connect.sent' },
  { key: 'proxy connect aborted', re: CONNECT_ABORTED, name: 'connect.reset_after' },
  { key: 'proxy connect aborted', re: CONNECT_ABORTED, name: 'connect.sent' },
  { key: 'proxy connect aborted', re: CONNECT_ABORTED, name: 'proxy.forward' },
  { key: 'aborted due to timeout', re: CONNECT_ABORTED_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'aborted due to timeout', re: CONNECT_ABORTED_TIMEOUT, name: 'connect.sent' },
  { key: 'aborted due to timeout', re: CONNECT_ABORTED_TIMEOUT, name: 'proxy.forward' },
  { key: 'proxy-authenticate', re: PROXY_AUTHENTICATE, name: 'proxy.auth_required' },

  { key: '> ', re: REQUEST_LINE, name: 'http.method', value: num },
  { key: 'server:', re: SERVER_HEADER, name: 'http.server', value: (m) => serverProduct(m[1] ?? '') },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const CURL_PATTERNS: readonly RegExp[] = [...new Set([...RULES.map((r) => r.re), EXCHANGE_LINE])];

/** The URL a URL is compared as: scheme and host in lower case, without a trailing slash. */
function sameUrl(u: string): string {
  const m = /^(https?:\/\/[^/?#\s]+)(.*)$/i.exec(u.trim());
  return m ? `${(m[1] ?? '').toLowerCase()}${(m[2] ?? '').replace(/\/+$/, '')}` : u;
}

/**
 * A redirect back to the URL that was asked for: `curl -I https://example.com/` answered with a 30x
 * whose Location is https://example.com/ again. Following it can only loop.
 */
function selfRedirect(doc: TextDoc): Signal[] {
  if (!doc.mayContain('location:') || !doc.mayContain('curl')) return [];
  let asked: string | undefined;
  let redirected = false;
  let at = 0;
  for (const line of doc.lines()) {
    const start = at;
    at += line.length + 1;
    const t = line.trim();
    if (asked === undefined && /^(?:\$ )?curl\b/.test(t)) asked = /\bhttps?:\/\/[^\s'"]{1,2000}/i.exec(t)?.[0];
    else if (/^(?:< )?HTTP\/[\d.]{1,3} 30[1278]\b/i.test(t)) redirected = true;
    else if (asked && redirected && /^(?:< )?location:/i.test(t)) {
      const target = t.replace(/^(?:< )?location:\s*/i, '');
      if (sameUrl(target) === sameUrl(asked)) return [doc.signal('http.redirect_loop', undefined, start, start + line.length, 'curl')];
    }
  }
  return [];
}

/**
 * Walks the request / response / info lines in order, to tell the proxy's reply to CONNECT
 * (connect.status) from the origin's status (http.status), and to see a reset right after CONNECT.
 */
function scanExchange(doc: TextDoc): Signal[] {
  const out: Signal[] = [];
  if (!doc.mayContain('< http/') && !doc.mayContain('> connect ')) return out;
  let pendingConnect = false;
  EXCHANGE_LINE.lastIndex = 0;
  for (let m = EXCHANGE_LINE.exec(doc.text); m !== null; m = EXCHANGE_LINE.exec(doc.text)) {
    if (m[0].length === 0) {
      EXCHANGE_LINE.lastIndex++;
      continue;
    }
    const line = m[0].trimStart();
    const start = m.index;
    const end = m.index + m[0].length;
    const emit = (name: string, value?: string) => out.push(doc.signal(name, value, start, end, 'curl'));
    const connect = /^> CONNECT ([^\s]{1,2000}) HTTP\/\d/.exec(line);
    if (connect) {
      pendingConnect = true;
      emit('connect.sent');
      emit('proxy.forward');
      if (!isAuthorityForm(connect[1] ?? '')) emit('connect.target_form');
      continue;
    }
    if (/^> [A-Z]{3,12} [^\s]{1,2000} HTTP\/\d/.test(line)) {
      pendingConnect = false;
      continue;
    }
    const status = /^< HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(line);
    if (status) {
      const code = status[1] ?? '';
      if (pendingConnect) {
        emit('connect.status', code);
        if (code === '407') emit('proxy.auth_required');
        pendingConnect = false;
      } else {
        emit('http.status', code);
      }
      continue;
    }
    if (
      pendingConnect &&
      /reset by peer|recv failure|empty reply|connection died|proxy connect aborted|closed the connection|connection closed/i.test(line)
    ) {
      emit('connect.reset_after');
      pendingConnect = false;
    }
  }
  return out;
}

/** host:port, [v6]:port, or a placeholder such as host:port / <host>:<port>. */
function isAuthorityForm(target: string): boolean {
  if (target.includes('/')) return false;
  return /^(?:\[[0-9A-Fa-f:.]{2,64}\]|[^\s:[\]]{1,255}):(?:\d{1,5}|[A-Za-z<>_]{1,12})$/.test(target);
}

/** The reason of a failed connect, in curl's words or the OS's (possibly localised). */
function connectReason(text: string): string | undefined {
  const l = text.toLowerCase();
  if (/refused|拒绝/.test(l)) return 'connection_refused';
  if (/no route to host|host is unreachable|没有到主机的路由/.test(l)) return 'host_unreachable';
  if (/network is unreachable|网络不可达/.test(l)) return 'network_unreachable';
  if (/timed out|timeout|超时/.test(l)) return 'connect_timeout';
  if (/reset by peer|重设|重置/.test(l)) return 'connection_reset';
  if (/permission denied/.test(l)) return 'permission_denied';
  if (/no such file/.test(l)) return 'no_such_file';
  if (l.includes('curl: (28)')) return 'connect_timeout';
  return undefined;
}

function transferReason(text: string): string | undefined {
  const l = text.toLowerCase();
  if (/reset|重设|重置/.test(l)) return 'connection_reset';
  if (/broken pipe|断开的管道/.test(l)) return 'broken_pipe';
  return undefined;
}

/** TLS library wording is shared with servers and proxies (nginx's SSL_do_handshake() …): take it from curl's lines only. */
function onCurlLine(m: RegExpExecArray): boolean {
  return /^[ \t]{0,8}\* |\bcurl\b|\bcURL error\b|^[ \t]{0,8}(?:pycurl\.)?error: \(\d/i.test(lineOf(m));
}

/** The match is an option of a curl command (and not of a command curl pipes into). */
function onCurlCommand(m: RegExpExecArray): boolean {
  return /(?:^|[\s$#>])curl(?:\s[^|;&]{0,400})?$/.test(lineBefore(m));
}
