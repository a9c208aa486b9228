import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';
import { tlsReason } from './vocab/tls-reasons.js';

/**
 * Python HTTP clients: requests / urllib3 (`Max retries exceeded … Caused by NewConnectionError(…
 * [Errno 111] Connection refused)`), urllib, httpx / httpcore, aiohttp, the `ssl` module
 * (`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired`), and a
 * few server lines (gunicorn worker timeouts, uWSGI broken pipes). Errno numbers are read as Linux,
 * macOS and Windows report them, so localised messages (`[Errno -2] 未知的名称或服务`) still count.
 */
export const pythonExtractor: Extractor = {
  name: 'python',
  reads: 'Python tracebacks and errors from requests, urllib3, urllib, httpx, aiohttp and ssl',
  get patterns() {
    return PYTHON_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy(runRules(doc, active(doc), 'python'));
  },
};

const REFUSED = /\[Errno (?:111|61)\]|\[WinError 10061\]|\bConnectionRefusedError\b|\[Connect call failed \(/g;
const RESET = /\[Errno (?:104|54)\]|\[WinError 1005[34]\]|\bConnectionResetError\b|\bConnectionAbortedError\b/g;
const ERRNO_TIMEOUT = /\[Errno (?:110|60)\]|\[WinError 10060\]/g;
const CLIENT_MODULE = '(?:requests\\.exceptions|urllib3\\.exceptions|httpx|httpcore|httpcore\\._exceptions)\\.';
const CONNECT_TIMEOUT = new RegExp(
  `\\bConnectTimeoutError\\(|\\b${CLIENT_MODULE}ConnectTimeout(?:Error)?\\b|\\(connect timeout=[\\d.]{1,10}\\)|\\bConnection timeout to host\\b`,
  'g',
);
const READ_TIMEOUT = new RegExp(
  `\\bReadTimeoutError\\(|\\b${CLIENT_MODULE}ReadTimeout(?:Error)?\\b|\\(read timeout=[\\d.]{1,10}\\)|\\bTimeout on reading data from socket\\b|\\bServerTimeoutError\\b`,
  'g',
);
const WRITE_TIMEOUT =
  /\b(?:httpx|httpcore)\.(?:WriteTimeout|PoolTimeout)\b|\bsocket\.timeout: timed out\b|\bTimeoutError: timed out\b|\basyncio\.(?:exceptions\.)?TimeoutError\b/g;
const DNS = /\[Errno (?:-2|-5|11001|11004)\]|\[Errno 8\] nodename\b|\bNameResolutionError\b|\bgetaddrinfo failed\b/g;
const DNS_TEMPORARY = /\[Errno (?:-3|11002)\]|\bTemporary failure in name resolution\b/g;
const HOST_UNREACHABLE = /\[Errno (?:113|65)\]|\[WinError 10065\]/g;
const NET_UNREACHABLE = /\[Errno (?:101|51)\]|\[WinError 10051\]/g;
const BROKEN_PIPE = /\[Errno 32\]|\bBrokenPipeError\b/g;
const TOO_MANY_FILES = /\[Errno 24\]/g;
const EMPTY_REPLY =
  /\bRemoteDisconnected\b|\bRemote end closed connection without response\b|\bServer disconnected without sending a response\b|\bServerDisconnectedError\b/g;
const EOF =
  /\bIncompleteRead\(|\bpeer closed connection without sending complete message body\b|\bResponse ended prematurely\b|\bContentLengthError\b/g;
const AIOHTTP_CONNECT = /\bCannot connect to host [^\s]{1,255} ssl:[^\s]{1,60} \[([^\]\n]{1,80})\]/g;
const PROXY = /\bProxyError\(|\bCannot connect to proxy\b|\bClientProxyConnectionError\b|\bProxyConnectionError\b|\bProxySchemeUnknown\b/g;
const TUNNEL = /\bTunnel connection failed: (\d{3})/g;
const TUNNEL_407 = /\bTunnel connection failed: 407\b/g;
const SCRAPY_TUNNEL = /\bCould not open CONNECT tunnel with proxy [^\s]{1,100} \[\{'status': (\d{3})/g;
const SCRAPY_TUNNEL_407 = /\bCould not open CONNECT tunnel with proxy [^\s]{1,100} \[\{'status': 407\b/g;
const AIOHTTP_PROXY = /\bClientHttpProxyError: (\d{3}), message=/g;
const AIOHTTP_PROXY_407 = /\bClientHttpProxyError: 407, message=/g;
const SSL = /\[SSL: ([A-Z0-9_]{3,60})\]([^\n(]{0,200})/g;
const PYOPENSSL = /\('SSL routines', '[a-z0-9_]{1,60}', '([^'\n]{1,100})'\)/g;
const SSL_EOF = /\bEOF occurred in violation of protocol\b/g;
const HOSTNAME =
  /\bhostname '[^'\s]{1,120}' doesn't match\b|\bCertificateError: hostname\b|\bHostname mismatch, certificate is not valid for\b|\bIP address mismatch, certificate is not valid for\b/g;
const REDIRECTS = /\bTooManyRedirects\b|\bExceeded \d{1,4} redirects\b|\bExceeded maximum allowed redirects\b/g;
const REQUESTS_STATUS = /\b(\d{3}) (?:Client|Server) Error: [^\n]{0,120}? for url\b/g;
const URLLIB_STATUS = /\bHTTP Error (\d{3}): /g;
const HTTPX_STATUS = /\b(?:Client|Server) error '(\d{3}) [^'\n]{0,60}' for url\b/g;
const AIOHTTP_STATUS = /\bClientResponseError: (\d{3}), message=/g;
/** Django and Django REST framework. */
const CSRF =
  /\bCSRF verification failed\b|\bCSRF cookie not set\b|\bCSRF Failed: [^\n]{1,80}|\bCSRF token (?:missing|incorrect)\b|\bReferer checking failed\b/g;
const GUNICORN = /\[CRITICAL\] WORKER TIMEOUT \(pid:\d{1,9}\)|\bWorker \(pid:\d{1,9}\) was sent SIGKILL\b/g;
const UWSGI_PIPE =
  /\buwsgi_response_[a-z_]{1,40}\(\): Broken pipe\b|\bSIGPIPE: writing to a closed pipe\/socket\/fd \(probably the client disconnected\)/g;

const num = (m: RegExpExecArray) => m[1];

const RULES: readonly Rule[] = [
  { key: 'errno', re: REFUSED, name: 'net.error', value: 'connection_refused' },
  { key: 'winerror', re: REFUSED, name: 'net.error', value: 'connection_refused' },
  { key: 'connectionrefusederror', re: REFUSED, name: 'net.error', value: 'connection_refused' },
  { key: 'connect call failed', re: REFUSED, name: 'net.error', value: 'connection_refused' },
  { key: 'errno', re: RESET, name: 'net.error', value: 'connection_reset' },
  { key: 'winerror', re: RESET, name: 'net.error', value: 'connection_reset' },
  { key: 'connection', re: RESET, name: 'net.error', value: 'connection_reset' },
  { key: 'errno', re: ERRNO_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'winerror', re: ERRNO_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'connect', re: CONNECT_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'connect', re: CONNECT_TIMEOUT, name: 'net.phase', value: 'connect' },
  { key: 'read', re: READ_TIMEOUT, name: 'net.error', value: 'read_timeout' },
  { key: 'timeout', re: WRITE_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'errno', re: DNS, name: 'net.error', value: 'dns_not_found' },
  { key: 'resolution', re: DNS, name: 'net.error', value: 'dns_not_found' },
  { key: 'getaddrinfo failed', re: DNS, name: 'net.error', value: 'dns_not_found' },
  { key: 'errno', re: DNS_TEMPORARY, name: 'net.error', value: 'dns_temporary' },
  { key: 'temporary failure in name resolution', re: DNS_TEMPORARY, name: 'net.error', value: 'dns_temporary' },
  { key: 'errno', re: HOST_UNREACHABLE, name: 'net.error', value: 'host_unreachable' },
  { key: 'winerror', re: HOST_UNREACHABLE, name: 'net.error', value: 'host_unreachable' },
  { key: 'errno', re: NET_UNREACHABLE, name: 'net.error', value: 'network_unreachable' },
  { key: 'winerror', re: NET_UNREACHABLE, name: 'net.error', value: 'network_unreachable' },
  { key: 'errno', re: BROKEN_PIPE, name: 'net.error', value: 'broken_pipe' },
  { key: 'brokenpipeerror', re: BROKEN_PIPE, name: 'net.error', value: 'broken_pipe' },
  { key: 'errno 24', re: TOO_MANY_FILES, name: 'net.error', value: 'too_many_open_files' },
  { key: 'disconnected', re: EMPTY_REPLY, name: 'net.error', value: 'empty_reply' },
  { key: 'without response', re: EMPTY_REPLY, name: 'net.error', value: 'empty_reply' },
  { key: 'incompleteread', re: EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'prematurely', re: EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'complete message body', re: EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'contentlengtherror', re: EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'cannot connect to host', re: AIOHTTP_CONNECT, name: 'net.error', value: (m) => socketReason(m[1] ?? '') },

  { key: 'proxy', re: PROXY, name: 'proxy.forward' },
  { key: 'tunnel connection failed', re: TUNNEL, name: 'connect.status', value: num },
  { key: 'tunnel connection failed', re: TUNNEL, name: 'connect.sent' },
  { key: 'tunnel connection failed', re: TUNNEL, name: 'proxy.forward' },
  { key: 'tunnel connection failed: 407', re: TUNNEL_407, name: 'proxy.auth_required' },
  { key: 'connect tunnel', re: SCRAPY_TUNNEL, name: 'connect.status', value: num },
  { key: 'connect tunnel', re: SCRAPY_TUNNEL, name: 'connect.sent' },
  { key: 'connect tunnel', re: SCRAPY_TUNNEL, name: 'proxy.forward' },
  { key: 'connect tunnel', re: SCRAPY_TUNNEL_407, name: 'proxy.auth_required' },
  { key: 'clienthttpproxyerror', re: AIOHTTP_PROXY, name: 'connect.status', value: num },
  { key: 'clienthttpproxyerror', re: AIOHTTP_PROXY, name: 'proxy.forward' },
  { key: 'clienthttpproxyerror: 407', re: AIOHTTP_PROXY_407, name: 'proxy.auth_required' },

  { key: '[ssl: ', re: SSL, name: 'tls.error', value: (m) => sslReason(m[1] ?? '', m[2] ?? '') },
  {
    key: '[ssl: ',
    re: SSL,
    name: 'net.phase',
    value: (m) => (sslReason(m[1] ?? '', m[2] ?? '') === 'http_to_https_port' ? undefined : 'tls'),
  },
  { key: "'ssl routines'", re: PYOPENSSL, name: 'tls.error', value: (m) => codeMeans((m[1] ?? '').toUpperCase().replace(/ /g, '_')) },
  { key: 'eof occurred in violation of protocol', re: SSL_EOF, name: 'tls.error', value: 'reset_during_handshake' },
  { key: 'match', re: HOSTNAME, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'mismatch', re: HOSTNAME, name: 'tls.error', value: 'hostname_mismatch' },

  { key: 'redirects', re: REDIRECTS, name: 'http.redirect_loop' },
  { key: 'for url', re: REQUESTS_STATUS, name: 'http.status', value: num },
  { key: 'http error', re: URLLIB_STATUS, name: 'http.status', value: num },
  { key: 'for url', re: HTTPX_STATUS, name: 'http.status', value: num },
  { key: 'clientresponseerror', re: AIOHTTP_STATUS, name: 'http.status', value: num },
  { key: 'csrf', re: CSRF, name: 'access.csrf' },
  { key: 'referer checking failed', re: CSRF, name: 'access.csrf' },
  { key: 'pid:', re: GUNICORN, name: 'http.server', value: 'gunicorn' },
  { key: 'uwsgi', re: UWSGI_PIPE, name: 'http.server', value: 'uwsgi' },
  { key: 'uwsgi', re: UWSGI_PIPE, name: 'client.closed' },
  { key: 'client disconnected', re: UWSGI_PIPE, name: 'http.server', value: 'uwsgi' },
  { key: 'client disconnected', re: UWSGI_PIPE, name: 'client.closed' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const PYTHON_PATTERNS: readonly RegExp[] = [...new Set(RULES.map((r) => r.re))];

/** The `ssl` module's `[SSL: REASON] message` → tls.error. */
function sslReason(code: string, message: string): string | undefined {
  // The verify string says why (OpenSSL's wording); without one, all that is known is that verification failed.
  if (code === 'CERTIFICATE_VERIFY_FAILED') return tlsReason(message) ?? 'cert_invalid';
  return codeMeans(code);
}

/** An OpenSSL reason code as Python reports it (`WRONG_VERSION_NUMBER`) → tls.error. */
function codeMeans(code: string): string | undefined {
  if (code in SSL_CODE_MEANS) return SSL_CODE_MEANS[code];
  // A reason code is OpenSSL's words in capitals: the one table of those words says what it means.
  return SSL_CODES.has(code) ? tlsReason(code.replace(/_/g, ' ')) : undefined;
}

/** The `ssl` module's reason codes read here. */
const SSL_CODES = new Set([
  'WRONG_VERSION_NUMBER',
  'PACKET_LENGTH_TOO_LONG',
  'SSLV3_ALERT_HANDSHAKE_FAILURE',
  'TLSV1_ALERT_PROTOCOL_VERSION',
  'UNSUPPORTED_PROTOCOL',
  'NO_PROTOCOLS_AVAILABLE',
  'NO_CIPHERS_AVAILABLE',
  'NO_SHARED_CIPHER',
  'TLSV1_UNRECOGNIZED_NAME',
  'TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'SSLV3_ALERT_BAD_CERTIFICATE',
  'TLSV1_ALERT_UNKNOWN_CA',
  'PEER_DID_NOT_RETURN_A_CERTIFICATE',
  'UNEXPECTED_EOF_WHILE_READING',
]);
/** Reason codes whose words the TLS table does not read: what they mean as Python reports them. */
const SSL_CODE_MEANS: Readonly<Record<string, string>> = {
  RECORD_LAYER_FAILURE: 'wrong_version_number',
  TLSV1_ALERT_INTERNAL_ERROR: 'handshake_failure',
  HTTP_REQUEST: 'http_to_https_port',
};

/** aiohttp's bracketed OS message (`[Connection refused]`, `[Name or service not known]`). */
function socketReason(text: string): string | undefined {
  const l = text.toLowerCase();
  if (/refused|connect call failed/.test(l)) return 'connection_refused';
  if (/name or service not known|nodename nor servname|no address associated|getaddrinfo failed/.test(l)) return 'dns_not_found';
  if (l.includes('temporary failure in name resolution')) return 'dns_temporary';
  if (l.includes('no route to host')) return 'host_unreachable';
  if (l.includes('network is unreachable')) return 'network_unreachable';
  if (/timed out|timeout/.test(l)) return 'connect_timeout';
  if (l.includes('reset by peer')) return 'connection_reset';
  return undefined;
}
