import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';
import { lineBounds } from './proxy-common.js';
import { SOCKET_ERRORS } from './vocab/socket-errors.js';

/**
 * Browser console, devtools and error pages: Chrome `net::ERR_*` codes and interstitial wording,
 * Firefox `NS_ERROR_*` / `SEC_ERROR_*` / `SSL_ERROR_*` / `MOZILLA_PKIX_ERROR_*` codes, CORS
 * messages from Chrome, Firefox and Safari (cors.error), failed WebSocket handshakes
 * (ws.upgrade_failed) and the console's `GET https://… 502 (Bad Gateway)` network lines.
 */
export const browserExtractor: Extractor = {
  name: 'browser',
  reads: 'browser console / devtools output and error pages (Chrome, Firefox, Safari): net::ERR_*, CORS, WebSocket',
  get patterns() {
    return BROWSER_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy([...codes(doc), ...runRules(doc, active(doc), 'browser')], { preferPhasedTimeout: false });
  },
};

type Emit = readonly (readonly [string, string?])[];

const ne = (value: string, phase?: string): Emit =>
  phase
    ? [
        ['net.error', value],
        ['net.phase', phase],
      ]
    : [['net.error', value]];
const tls = (value: string): Emit => [
  ['tls.error', value],
  ['net.phase', 'tls'],
];

/** Chrome's net error names (without ERR_) → signals. */
const CHROME: Readonly<Record<string, Emit>> = {
  CONNECTION_REFUSED: ne('connection_refused', 'connect'),
  CONNECTION_RESET: ne('connection_reset'),
  CONNECTION_CLOSED: ne('unexpected_eof'),
  CONNECTION_ABORTED: ne('connection_reset'),
  NETWORK_CHANGED: ne('connection_aborted'),
  CONNECTION_TIMED_OUT: ne('connect_timeout', 'connect'),
  TIMED_OUT: ne('timeout'),
  NAME_NOT_RESOLVED: ne('dns_not_found', 'dns'),
  NAME_RESOLUTION_FAILED: ne('dns_temporary', 'dns'),
  ADDRESS_UNREACHABLE: ne('host_unreachable', 'connect'),
  INTERNET_DISCONNECTED: ne('network_unreachable'),
  EMPTY_RESPONSE: ne('empty_reply', 'response_header'),
  CONTENT_LENGTH_MISMATCH: ne('unexpected_eof', 'response_body'),
  INCOMPLETE_CHUNKED_ENCODING: ne('unexpected_eof', 'response_body'),
  HTTP2_PROTOCOL_ERROR: [['h2.error', 'protocol_error']],
  QUIC_PROTOCOL_ERROR: ne('proto_error'),
  INVALID_HTTP_RESPONSE: ne('proto_error'),
  TOO_MANY_REDIRECTS: [['http.redirect_loop']],
  CERT_DATE_INVALID: tls('cert_expired'),
  CERT_AUTHORITY_INVALID: tls('unknown_issuer'),
  CERT_COMMON_NAME_INVALID: tls('hostname_mismatch'),
  CERT_REVOKED: tls('revoked'),
  SSL_PROTOCOL_ERROR: tls('handshake_failure'),
  SSL_VERSION_OR_CIPHER_MISMATCH: tls('protocol_version'),
  SSL_CLIENT_AUTH_CERT_NEEDED: tls('client_cert_required'),
  BAD_SSL_CLIENT_AUTH_CERT: tls('client_cert_required'),
  SSL_UNRECOGNIZED_NAME_ALERT: tls('sni_required'),
  // a subresource whose certificate did not verify (the console's form of the interstitial's codes)
  INSECURE_RESPONSE: tls('unknown_issuer'),
  TUNNEL_CONNECTION_FAILED: [['proxy.forward'], ['connect.sent'], ['connect.failed']],
  PROXY_CONNECTION_FAILED: [['proxy.forward'], ['net.error', 'connection_refused']],
  PROXY_AUTH_REQUESTED: [['proxy.forward'], ['proxy.auth_required']],
  PROXY_AUTH_UNSUPPORTED: [['proxy.forward'], ['proxy.auth_required']],
  HTTPS_PROXY_TUNNEL_RESPONSE_REDIRECT: [['proxy.forward'], ['connect.sent']],
};

/** Firefox error names → signals. */
const FIREFOX: Readonly<Record<string, Emit>> = {
  NS_ERROR_CONNECTION_REFUSED: ne('connection_refused', 'connect'),
  NS_ERROR_NET_RESET: ne('connection_reset'),
  NS_ERROR_NET_TIMEOUT: ne('timeout'),
  NS_ERROR_NET_INTERRUPT: ne('unexpected_eof'),
  NS_ERROR_UNKNOWN_HOST: ne('dns_not_found', 'dns'),
  NS_ERROR_PROXY_CONNECTION_REFUSED: [['proxy.forward'], ['net.error', 'connection_refused']],
  NS_ERROR_UNKNOWN_PROXY_HOST: [['proxy.forward'], ['net.error', 'dns_not_found']],
  NS_ERROR_PROXY_AUTHENTICATION_FAILED: [['proxy.forward'], ['proxy.auth_required']],
  NS_ERROR_REDIRECT_LOOP: [['http.redirect_loop']],
  SEC_ERROR_EXPIRED_CERTIFICATE: tls('cert_expired'),
  SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE: tls('cert_expired'),
  SEC_ERROR_UNKNOWN_ISSUER: tls('unknown_issuer'),
  SEC_ERROR_UNTRUSTED_ISSUER: tls('unknown_issuer'),
  SEC_ERROR_CA_CERT_INVALID: tls('unknown_issuer'),
  SEC_ERROR_REVOKED_CERTIFICATE: tls('revoked'),
  MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT: tls('self_signed'),
  MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE: tls('cert_not_yet_valid'),
  MOZILLA_PKIX_ERROR_NOT_YET_VALID_ISSUER_CERTIFICATE: tls('cert_not_yet_valid'),
  MOZILLA_PKIX_ERROR_MITM_DETECTED: [['tls.intercepted'], ['net.phase', 'tls']],
  SSL_ERROR_BAD_CERT_DOMAIN: tls('hostname_mismatch'),
  SSL_ERROR_RX_RECORD_TOO_LONG: tls('wrong_version_number'),
  SSL_ERROR_NO_CYPHER_OVERLAP: tls('no_shared_cipher'),
  SSL_ERROR_UNSUPPORTED_VERSION: tls('protocol_version'),
  SSL_ERROR_PROTOCOL_VERSION_ALERT: tls('protocol_version'),
  SSL_ERROR_HANDSHAKE_FAILURE_ALERT: tls('handshake_failure'),
  SSL_ERROR_BAD_CERT_ALERT: tls('client_cert_required'),
  SSL_ERROR_UNRECOGNIZED_NAME_ALERT: tls('sni_required'),
  // NSPR's socket errors, which Firefox's error pages print under "Error code:"
  PR_CONNECT_RESET_ERROR: ne('connection_reset'),
  PR_CONNECT_REFUSED_ERROR: ne('connection_refused', 'connect'),
  PR_CONNECT_TIMEOUT_ERROR: ne('connect_timeout', 'connect'),
  PR_IO_TIMEOUT_ERROR: ne('timeout'),
  PR_CONNECT_ABORTED_ERROR: ne('connection_aborted'),
  PR_NETWORK_UNREACHABLE_ERROR: ne('network_unreachable'),
  PR_HOST_UNREACHABLE_ERROR: ne('host_unreachable', 'connect'),
  PR_END_OF_FILE_ERROR: tls('reset_during_handshake'),
};

/**
 * Apple's URL loading system (NSURLSession, WKWebView, Safari on iOS and macOS): NSURLErrorDomain codes
 * (NSURLError.h), as `Error Domain=NSURLErrorDomain Code=-1202`, `NSURLErrorDomain, code = -1001` or
 * `(NSURLErrorDomain error -1004.)`.
 */
const APPLE_URL: Readonly<Record<string, Emit>> = {
  '-1001': ne('timeout'),
  '-1003': ne('dns_not_found', 'dns'),
  '-1004': ne('connect_failed', 'connect'),
  '-1005': ne('unexpected_eof'),
  '-1006': ne('dns_not_found', 'dns'),
  '-1007': [['http.redirect_loop']],
  '-1200': tls('failed'),
  '-1201': tls('cert_expired'),
  '-1202': tls('unknown_issuer'),
  '-1203': tls('unknown_issuer'),
  '-1204': tls('cert_not_yet_valid'),
  '-1205': tls('client_cert_required'),
  '-1206': tls('client_cert_required'),
};

/**
 * SecureTransport's OSStatus codes (SecureTransport.h), which CFNetwork reports beside the URL error as
 * `kCFStreamErrorDomainSSL, -9813` or `_kCFStreamErrorCodeKey=-9807`.
 */
const APPLE_SSL: Readonly<Record<string, Emit>> = {
  '-9800': tls('handshake_failure'), // errSSLProtocol
  '-9802': tls('handshake_failure'), // errSSLFatalAlert
  '-9806': tls('reset_during_handshake'), // errSSLClosedAbort
  '-9807': tls('unknown_issuer'), // errSSLXCertChainInvalid
  '-9808': tls('cert_invalid'), // errSSLBadCert
  '-9812': tls('unknown_issuer'), // errSSLUnknownRootCert
  '-9813': tls('unknown_issuer'), // errSSLNoRootCert
  '-9814': tls('cert_expired'), // errSSLCertExpired
  '-9815': tls('cert_not_yet_valid'), // errSSLCertNotYetValid
  '-9824': tls('handshake_failure'), // errSSLPeerHandshakeFail
  '-9825': tls('client_cert_required'), // errSSLPeerBadCert: the server rejects the client's certificate
  '-9829': tls('client_cert_required'), // errSSLPeerCertUnknown
  '-9831': tls('client_cert_required'), // errSSLPeerUnknownCA
  '-9836': tls('protocol_version'), // errSSLPeerProtocolVersion
  '-9842': tls('client_cert_required'), // errSSLClientCertRequested
  '-9843': tls('hostname_mismatch'), // errSSLHostNameMismatch
  '-9844': tls('reset_during_handshake'), // errSSLConnectionRefused
};

/**
 * CFNetwork's underlying stream error beside the URL error: `_kCFStreamErrorDomainKey=1` is a POSIX errno,
 * numbered as Darwin numbers them (`_kCFStreamErrorCodeKey=61` is ECONNREFUSED); domain 3 is SecureTransport.
 * These five are read; what each number means is the socket errors' table (./vocab/socket-errors.ts, `bsd`).
 */
const DARWIN_ERRNO_READ: readonly number[] = [61, 60, 54, 65, 51];
const CONNECTING: ReadonlySet<string> = new Set(['connection_refused', 'connect_timeout', 'host_unreachable']);
const DARWIN_ERRNO: ReadonlyMap<string, Emit> = new Map(
  SOCKET_ERRORS.filter((e) => e.bsd !== undefined && DARWIN_ERRNO_READ.includes(e.bsd)).map((e) => [
    String(e.bsd),
    ne(e.value, CONNECTING.has(e.value) ? 'connect' : undefined),
  ]),
);

/** Chrome's DNS probe results. */
const DNS_PROBE: Readonly<Record<string, Emit>> = {
  NXDOMAIN: ne('dns_not_found', 'dns'),
  BAD_CONFIG: ne('dns_temporary', 'dns'),
  NO_INTERNET: ne('network_unreachable'),
};

const CHROME_CODE = /\bERR_([A-Z0-9_]{3,60})\b/g;
const FIREFOX_CODE = /\b((?:NS_ERROR|SEC_ERROR|SSL_ERROR|MOZILLA_PKIX_ERROR|PR)_[A-Z0-9_]{3,60})\b/g;
const DNS_PROBE_CODE = /\bDNS_PROBE_FINISHED_([A-Z_]{3,30})\b/g;
const APPLE_URL_CODE = /\b(?:NSURLErrorDomain|kCFErrorDomainCFNetwork)\b[^\n\d-]{0,24}(-1\d{3})\b/g;
const CF_STREAM_CODE = /\b_kCFStreamErrorCodeKey=(-?\d{1,5})\b/g;
const CF_STREAM_DOMAIN = /\b_kCFStreamErrorDomainKey=(\d{1,2})\b/;
const APPLE_SSL_CODE = /\b(?:kCFStreamErrorDomainSSL|_kCFStreamErrorCodeKey|NSOSStatusErrorDomain)\b[^\n\d-]{0,24}(-98\d\d)\b/g;

/**
 * A browser's own error page prints its code alone on a line, or after a label ("NET::ERR_CERT_DATE_INVALID",
 * "Error code: SEC_ERROR_UNKNOWN_ISSUER", "错误代码：PR_CONNECT_RESET_ERROR"); prose that talks about a code names it
 * inside a sentence.
 */
const ALONE_BEFORE =
  /^[ \t>*`-]{0,8}(?:[^\n:：]{0,20}(?:code|código|codice|kod|код|代码|代碼|コード|코드)[^\n:：]{0,10}[:：][ \t]{0,2})?(?:NET::|net::)?$/i;
const ALONE_AFTER = /^[ \t`.)]{0,4}$/;

function codes(doc: TextDoc): Signal[] {
  const out: Signal[] = [];
  const lower = doc.lower;
  const scan = (re: RegExp, table: Readonly<Record<string, Emit>>) => {
    re.lastIndex = 0;
    let n = 0;
    for (let m = re.exec(doc.text); m !== null && n < 50; m = re.exec(doc.text)) {
      const emit = table[m[1] ?? ''];
      if (!emit) continue;
      n++;
      const end = m.index + m[0].length;
      for (const [name, value] of emit) out.push(doc.signal(name, value, m.index, end, 'browser'));
      const [from, to] = lineBounds(doc.text, m.index);
      if (ALONE_BEFORE.test(doc.text.slice(from, m.index)) && ALONE_AFTER.test(doc.text.slice(end, to)))
        out.push(doc.signal('browser.error_page', undefined, from, to, 'browser'));
    }
  };
  if (doc.mayContain('err_')) scan(CHROME_CODE, CHROME);
  if (/ns_error|sec_error|ssl_error|mozilla_pkix|pr_[a-z_]{3,40}_error/.test(lower)) scan(FIREFOX_CODE, FIREFOX);
  if (doc.mayContain('dns_probe_finished')) scan(DNS_PROBE_CODE, DNS_PROBE);
  if (doc.mayContain('nsurlerrordomain') || doc.mayContain('kcferrordomaincfnetwork')) scan(APPLE_URL_CODE, APPLE_URL);
  if (doc.mayContain('kcfstreamerror') || doc.mayContain('nsosstatuserrordomain')) scan(APPLE_SSL_CODE, APPLE_SSL);
  if (doc.mayContain('_kcfstreamerrordomainkey=1')) {
    // A POSIX errno only where the same line says its domain is 1 (POSIX).
    CF_STREAM_CODE.lastIndex = 0;
    let n = 0;
    for (let m = CF_STREAM_CODE.exec(doc.text); m !== null && n < 10; m = CF_STREAM_CODE.exec(doc.text)) {
      const [from, to] = lineBounds(doc.text, m.index);
      if (CF_STREAM_DOMAIN.exec(doc.text.slice(from, to))?.[1] !== '1') continue;
      const emit = DARWIN_ERRNO.get(m[1] ?? '');
      if (!emit) continue;
      n++;
      for (const [name, value] of emit) out.push(doc.signal(name, value, m.index, m.index + m[0].length, 'browser'));
    }
  }
  return out;
}

const BLOCKED =
  /\bhas been blocked by CORS policy\b|\bCross-Origin Request Blocked\b|\bdue to access control checks\b|\bis not allowed by Access-Control-Allow-Origin\b/g;
const NO_ALLOW_ORIGIN = /\bNo 'Access-Control-Allow-Origin' header is present\b|\bCORS header .Access-Control-Allow-Origin. missing\b/g;
const PREFLIGHT_FAILED =
  /\bResponse to preflight request doesn't pass access control check\b|\bCORS preflight (?:channel|response) did not succeed\b|\bRedirect is not allowed for a preflight request\b/g;
const PREFLIGHT_STATUS =
  /\bIt does not have HTTP ok status\b|\bResponse for preflight (?:has invalid HTTP status code|does not have HTTP ok status)\b|\bPreflight response is not successful\b|\bCORS preflight response did not succeed\)\. Status code: \d{3}/g;
const HEADER_NOT_ALLOWED = /\bRequest header field [\w-]{1,60} is not allowed by Access-Control-Allow-Headers\b/g;
/** Firefox: `header ‘authorization’ is not allowed according to header ‘Access-Control-Allow-Headers’`, `missing token ‘x’ in CORS header …`. */
const HEADER_NOT_ALLOWED_FIREFOX =
  /\b(?:header|missing token) .[\w-]{1,60}. (?:is not allowed according to header|in CORS header) .Access-Control-Allow-Headers./g;
const METHOD_NOT_ALLOWED =
  /\bMethod [A-Z]{3,10} is not allowed by Access-Control-Allow-Methods\b|\bDid not find method in CORS header .Access-Control-Allow-Methods./g;
const MULTIPLE =
  /\bThe 'Access-Control-Allow-Origin' header contains multiple values\b|\bMultiple CORS header .Access-Control-Allow-Origin. not allowed\b/g;
const WILDCARD =
  /\bmust not be the wildcard '\*' when the request's credentials mode is 'include'|\bCredential is not supported if the CORS header .Access-Control-Allow-Origin. is .\*./g;
const ORIGIN_MISMATCH =
  /\bThe 'Access-Control-Allow-Origin' header has a value '[^'\n]{0,300}' that is not equal to the supplied origin\b|\bCORS header .Access-Control-Allow-Origin. does not match\b/g;

const WS_FAILED =
  /\bError during WebSocket handshake\b|\bWebSocket connection to '[^'\s]{1,300}' failed: (?:Error during|Unexpected response code)|\bcan.t establish a connection to the server at wss?:\/\/|\bWebSocket connection to '[^'\s]{1,300}' failed:?[ \t]*$/gm;
const WS_CODE = /\bUnexpected response code: (\d{3})\b/g;
const CONSOLE_STATUS = /\bthe server responded with a status of (\d{3})\b/g;
const CONSOLE_STATUS_407 = /\bthe server responded with a status of 407\b/g;
const NETWORK_LINE = /\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) https?:\/\/[^\s]{1,2000} (\d{3}) \(/g;
const PREFLIGHT_HTTP_STATUS = /\bThe response had HTTP status code (\d{3})\b/g;
const DEVTOOLS_METHOD = /^[ \t]{0,8}Request Method: ?([A-Z]{3,10})[ \t]{0,4}$/gm;
const DEVTOOLS_STATUS = /^[ \t]{0,8}Status Code: ?(\d{3})\b/gm;
const REFUSED_PAGE = /\brefused to connect\.|\bdid not accept the connection\b/g;
const SLOW_PAGE = /\btook too long to respond\b/g;
const DNS_PAGE =
  /\b(?:server IP address could not be found|server DNS address could not be found|DNS address could not be found)\b|\bWe can.t connect to the server at\b/g;
const RESET_PAGE = /\bThe connection was reset\b/g;
const EMPTY_PAGE = /\bdidn.t send any data\b/g;
const CLOSED_PAGE = /\bunexpectedly closed the connection\b/g;
const REDIRECT_PAGE = /\bredirected you too many times\b|\bThe page isn.t redirecting properly\b/g;
const UNSUPPORTED_PROTOCOL_PAGE = /\buses an unsupported protocol\b|\bdon.t support a common SSL protocol version or cipher suite\b/g;

const num = (m: RegExpExecArray) => m[1];

const RULES: readonly Rule[] = [
  { key: 'cors', re: BLOCKED, name: 'cors.error', value: 'blocked' },
  { key: 'access control checks', re: BLOCKED, name: 'cors.error', value: 'blocked' },
  { key: 'access-control-allow-origin', re: BLOCKED, name: 'cors.error', value: 'blocked' },
  { key: 'access-control-allow-origin', re: NO_ALLOW_ORIGIN, name: 'cors.error', value: 'no_allow_origin' },
  { key: 'preflight', re: PREFLIGHT_FAILED, name: 'cors.error', value: 'preflight_failed' },
  { key: 'preflight', re: PREFLIGHT_FAILED, name: 'http.method', value: 'OPTIONS' },
  { key: 'http ok status', re: PREFLIGHT_STATUS, name: 'cors.error', value: 'preflight_status' },
  { key: 'preflight', re: PREFLIGHT_STATUS, name: 'cors.error', value: 'preflight_status' },
  { key: 'access-control-allow-headers', re: HEADER_NOT_ALLOWED, name: 'cors.error', value: 'header_not_allowed' },
  { key: 'access-control-allow-headers', re: HEADER_NOT_ALLOWED_FIREFOX, name: 'cors.error', value: 'header_not_allowed' },
  { key: 'access-control-allow-methods', re: METHOD_NOT_ALLOWED, name: 'cors.error', value: 'method_not_allowed' },
  { key: 'access-control-allow-origin', re: MULTIPLE, name: 'cors.error', value: 'multiple_origins' },
  { key: 'access-control-allow-origin', re: WILDCARD, name: 'cors.error', value: 'wildcard_credentials' },
  { key: 'wildcard', re: WILDCARD, name: 'cors.error', value: 'wildcard_credentials' },
  { key: 'access-control-allow-origin', re: ORIGIN_MISMATCH, name: 'cors.error', value: 'origin_mismatch' },
  { key: 'response had http status code', re: PREFLIGHT_HTTP_STATUS, name: 'http.status', value: num },

  { key: 'websocket', re: WS_FAILED, name: 'ws.upgrade_failed' },
  { key: 'establish a connection to the server at ws', re: WS_FAILED, name: 'ws.upgrade_failed' },
  { key: 'unexpected response code', re: WS_CODE, name: 'http.status', value: num },
  { key: 'responded with a status of', re: CONSOLE_STATUS, name: 'http.status', value: num },
  { key: 'status of 407', re: CONSOLE_STATUS_407, name: 'proxy.auth_required' },
  { key: 'http', re: NETWORK_LINE, name: 'http.status', value: (m) => m[2] },
  { key: 'http', re: NETWORK_LINE, name: 'http.method', value: (m) => (m[1] === 'OPTIONS' ? 'OPTIONS' : undefined) },

  { key: 'request method:', re: DEVTOOLS_METHOD, name: 'http.method', value: num },
  { key: 'status code:', re: DEVTOOLS_STATUS, name: 'http.status', value: num },
  { key: 'refused to connect', re: REFUSED_PAGE, name: 'net.error', value: 'connection_refused' },
  { key: 'did not accept the connection', re: REFUSED_PAGE, name: 'net.error', value: 'connection_refused' },
  { key: 'took too long to respond', re: SLOW_PAGE, name: 'net.error', value: 'connect_timeout' },
  { key: 'could not be found', re: DNS_PAGE, name: 'net.error', value: 'dns_not_found' },
  { key: 'connect to the server at', re: DNS_PAGE, name: 'net.error', value: 'dns_not_found' },
  { key: 'the connection was reset', re: RESET_PAGE, name: 'net.error', value: 'connection_reset' },
  { key: 'send any data', re: EMPTY_PAGE, name: 'net.error', value: 'empty_reply' },
  { key: 'unexpectedly closed the connection', re: CLOSED_PAGE, name: 'net.error', value: 'unexpected_eof' },
  { key: 'too many times', re: REDIRECT_PAGE, name: 'http.redirect_loop' },
  { key: 'redirecting properly', re: REDIRECT_PAGE, name: 'http.redirect_loop' },
  { key: 'unsupported protocol', re: UNSUPPORTED_PROTOCOL_PAGE, name: 'tls.error', value: 'protocol_version' },
  { key: 'common ssl protocol version', re: UNSUPPORTED_PROTOCOL_PAGE, name: 'tls.error', value: 'protocol_version' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const BROWSER_PATTERNS: readonly RegExp[] = [
  ...new Set([CHROME_CODE, FIREFOX_CODE, DNS_PROBE_CODE, APPLE_URL_CODE, APPLE_SSL_CODE, CF_STREAM_CODE, ...RULES.map((r) => r.re)]),
];
