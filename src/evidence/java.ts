import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineBefore, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Java / JVM: java.net exceptions (ConnectException, SocketTimeoutException connect vs read,
 * UnknownHostException, NoRouteToHostException, SocketException: Connection reset), JSSE
 * (SSLHandshakeException: PKIX path building failed, CertificateExpiredException, "No subject
 * alternative names matching", "Received fatal alert: …", "Unrecognized SSL message"), the JDK's
 * proxy tunnel error, Apache HttpClient, OkHttp, Netty / Reactor Netty, Spring WebClient and
 * RestTemplate, Feign, Tomcat (http.server=tomcat) and circuit breakers.
 */
export const javaExtractor: Extractor = {
  name: 'java',
  reads: 'Java exceptions and stack traces (java.net, javax.net.ssl, HttpClient, OkHttp, Netty, Spring, Tomcat)',
  get patterns() {
    return JAVA_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return refine(doc, runRules(doc, active(doc), 'java'));
  },
};

/** Exceptions whose message says why a connect failed. */
const CONNECT_EXCEPTION =
  /\b(?:ConnectException|HttpHostConnectException|AnnotatedConnectException|WebClientRequestException|ResourceAccessException|RetryableException)(?::| \[| -)[^\n]{1,300}/g;
const CONNECT_TIMED_OUT =
  /\bSocketTimeoutException: (?:[Cc]onnect timed out|failed to connect to )|\bHttpConnectTimeoutException\b|\bio\.netty\.channel\.ConnectTimeoutException\b|\bConnectTimeoutException: connection timed out/g;
const READ_TIMED_OUT =
  /\bSocketTimeoutException: (?:Read timed out|timeout)\b|\b(?:Exception|Error): Read timed out\b|\bHttpTimeoutException: request timed out\b|\bio\.netty\.handler\.timeout\.ReadTimeoutException\b/g;
/**
 * Reactor's timeout operator; Hystrix and resilience4j giving up on a call that took too long; the
 * AWS SDKs' client-side limits on a whole call (v1 ClientExecutionTimeoutException, v2
 * ApiCallTimeoutException and ApiCallAttemptTimeoutException).
 */
const TIMEOUT =
  /\b(?:ClientExecution|ApiCall|ApiCallAttempt)TimeoutException\b|\bTimeoutException: Did not observe any item or terminal signal within\b|\bHystrixRuntimeException: [^\s]{1,200} timed-out and (?:no )?fallback\b|\bTimeLimiter '[^'\n]{1,100}' recorded a timeout exception\b/g;
const UNKNOWN_HOST = /\bUnknownHostException\b[^\n]{0,300}/g;
/** Also Netty's wrapper of it, `AbstractChannel$AnnotatedNoRouteToHostException`. */
const NO_ROUTE = /\b(?:Annotated)?NoRouteToHostException\b/g;
const NET_UNREACHABLE = /\bSocketException: Network is unreachable\b/g;
const RESET = /\b(?:SocketException|SSLException|IOException|ConnectionResetException)(?:: [A-Za-z.]{0,60}Exception)?: Connection reset\b/g;
/** The JVM's own message at the end of a wrapper's line: Maven's "transfer failed for https://…: Connection reset". */
const RESET_TAIL = /: Connection reset[ \t]*$/gm;
const BROKEN_PIPE = /\b(?:SocketException|IOException)(?:: [A-Za-z.]{0,60}Exception)?: Broken pipe\b/g;
const CLIENT_ABORT = /\bClientAbortException\b/g;
const NO_RESPONSE =
  /\bNoHttpResponseException: [^\s]{1,255} failed to respond\b|\bPrematureCloseException: Connection prematurely closed BEFORE response\b/g;
const UNEXPECTED_EOF =
  /\bunexpected end of stream on\b|\bEOFException: \\n not found\b|\bPrematureCloseException: Connection prematurely closed DURING response\b/g;

const PKIX =
  /\bTrust anchor for certification path not found\b|\bPKIX path building failed\b|\bunable to find valid certification path to requested target\b|\bSunCertPathBuilderException\b/g;
const EXPIRED =
  /\bCertificateExpiredException\b|\bPKIX path validation failed: [^\n]{0,120}?(?:timestamp check failed|validity check failed)/g;
const NOT_YET_VALID = /\bCertificateNotYetValidException\b/g;
const NAME_MISMATCH =
  /\bNo subject alternative (?:DNS )?names?(?: (?:matching|present))?\b|\bNo name matching [^\s]{1,255} found\b|\bdoesn't match any of the subject alternative names\b|\bCertificate for <[^>\s]{1,255}> doesn't\s{1,8}match any of the subject\b|\bdoes not match the certificate subject provided by the peer\b|\bSSLPeerUnverifiedException: Hostname [^\s]{1,255}[ \t]{1,3}not verified\b/g;
/** Also as Android and some loggers print it, without the space: `Received fatal alert:handshake_failure`. */
const FATAL_ALERT = /\b(?:Received fatal alert|handshake alert):[ \t]{0,2}([a-z_]{3,40})/g;
const NO_PROTOCOL = /\bNo appropriate protocol \(protocol is disabled or cipher suites are inappropriate\)/g;
const NO_CIPHER = /\bno cipher suites in common\b/g;
const HANDSHAKE_CLOSED = /\bRemote host (?:terminated the handshake|closed connection during handshake)\b/g;
const PLAINTEXT = /\bUnrecognized SSL message, plaintext connection\?|\bUnsupported or unrecognized SSL message\b/g;
const TUNNEL = /\bUnable to tunnel through proxy\. Proxy returns "HTTP\/\d(?:\.\d)? (\d{3})/g;
const TUNNEL_407 = /\bUnable to tunnel through proxy\. Proxy returns "HTTP\/\d(?:\.\d)? 407\b/g;
const SPRING_STATUS =
  /\b(?:WebClientResponseException|HttpServerErrorException|HttpClientErrorException|UnknownHttpStatusCodeException)(?:\$[A-Za-z]{1,40})?: (\d{3})\b/g;
const FEIGN_STATUS = /\bFeignException(?:\$[A-Za-z]{1,40})?: (?:\[(\d{3})[\] ]|status (\d{3}) reading )/g;
const OKHTTP_STATUS = /\bResponse\{protocol=[^,\n]{1,20}, code=(\d{3}),/g;
const TOMCAT = /\borg\.apache\.(?:coyote|catalina|tomcat)\.|\bApache Tomcat\/\d/g;
const HEADER_TOO_LARGE = /\bRequest header is too large\b/g;
const BODY_TOO_LARGE =
  /\b(?:MaxUploadSizeExceededException|SizeLimitExceededException|FileSizeLimitExceededException)\b|\bMaximum upload size exceeded\b/g;
const CIRCUIT_OPEN =
  /\bshort-circuited and (?:no )?fallback\b|\bcould not be queued for execution\b|\bcould not acquire a semaphore for execution\b|\bHystrix circuit short-circuited and is OPEN\b|\bRejectedExecutionException\b|\bBulkheadFullException\b/g;
const BREAKER_OPEN = /\bCallNotPermittedException: CircuitBreaker '[^'\n]{1,60}' is (?:OPEN|FORCED_OPEN)\b/g;
const WS_UPGRADE = /\bHandshake failed due to invalid Upgrade header\b|\bInvalid 'Upgrade' header\b|\bCan "Upgrade" only to "WebSocket"/g;
const CSRF =
  /\bInvalid CSRF [Tt]oken\b|\bCould not verify the provided CSRF token\b|\bMissingCsrfTokenException\b|\bInvalidCsrfTokenException\b/g;
const RATE_LIMITER = /\bRequestNotPermitted: RateLimiter '[^'\n]{1,60}' does not permit further calls\b/g;

const num = (m: RegExpExecArray) => m[1];

const ALERTS: Readonly<Record<string, string>> = {
  handshake_failure: 'handshake_failure',
  protocol_version: 'protocol_version',
  bad_certificate: 'client_cert_required',
  certificate_required: 'client_cert_required',
  unrecognized_name: 'sni_required',
  insufficient_security: 'no_shared_cipher',
  certificate_revoked: 'revoked',
};

const RULES: readonly Rule[] = [
  // PHP's GuzzleHttp\Exception\ConnectException is no JVM class: its cURL message is read by the curl extractor.
  {
    key: 'exception',
    re: CONNECT_EXCEPTION,
    name: 'net.error',
    value: (m) => (m.input[m.index - 1] === '\\' ? undefined : connectReason(m[0])),
  },
  { key: 'timed out', re: CONNECT_TIMED_OUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'failed to connect to', re: CONNECT_TIMED_OUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'connecttimeoutexception', re: CONNECT_TIMED_OUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'timeout', re: CONNECT_TIMED_OUT, name: 'net.phase', value: 'connect' },
  { key: 'timed out', re: READ_TIMED_OUT, name: 'net.error', value: 'read_timeout' },
  { key: 'sockettimeoutexception: timeout', re: READ_TIMED_OUT, name: 'net.error', value: 'read_timeout' },
  { key: 'readtimeoutexception', re: READ_TIMED_OUT, name: 'net.error', value: 'read_timeout' },
  { key: 'did not observe any item', re: TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'timeoutexception', re: TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'timed-out and', re: TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'recorded a timeout exception', re: TIMEOUT, name: 'net.error', value: 'timeout' },
  {
    key: 'unknownhostexception',
    re: UNKNOWN_HOST,
    name: 'net.error',
    value: (m) => (/temporary failure in name resolution/i.test(m[0]) ? 'dns_temporary' : 'dns_not_found'),
  },
  { key: 'unknownhostexception', re: UNKNOWN_HOST, name: 'net.phase', value: 'dns' },
  { key: 'noroutetohostexception', re: NO_ROUTE, name: 'net.error', value: 'host_unreachable' },
  { key: 'network is unreachable', re: NET_UNREACHABLE, name: 'net.error', value: 'network_unreachable' },
  { key: 'connection reset', re: RESET, name: 'net.error', value: 'connection_reset' },
  { key: 'broken pipe', re: BROKEN_PIPE, name: 'net.error', value: 'broken_pipe' },
  { key: 'clientabortexception', re: CLIENT_ABORT, name: 'client.closed' },
  {
    key: ': connection reset',
    re: RESET_TAIL,
    name: 'net.error',
    value: (m) => (/\b(?:failed|failure|error)\b/i.test(lineBefore(m)) ? 'connection_reset' : undefined),
  },
  { key: 'clientabortexception', re: CLIENT_ABORT, name: 'http.server', value: 'tomcat' },
  { key: 'failed to respond', re: NO_RESPONSE, name: 'net.error', value: 'empty_reply' },
  { key: 'before response', re: NO_RESPONSE, name: 'net.error', value: 'empty_reply' },
  { key: 'end of stream on', re: UNEXPECTED_EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'eofexception', re: UNEXPECTED_EOF, name: 'net.error', value: 'unexpected_eof' },
  { key: 'during response', re: UNEXPECTED_EOF, name: 'net.error', value: 'unexpected_eof' },

  { key: 'pkix', re: PKIX, name: 'tls.error', value: 'unknown_issuer' },
  { key: 'certification path', re: PKIX, name: 'tls.error', value: 'unknown_issuer' },
  { key: 'certificateexpiredexception', re: EXPIRED, name: 'tls.error', value: 'cert_expired' },
  { key: 'pkix path validation failed', re: EXPIRED, name: 'tls.error', value: 'cert_expired' },
  { key: 'certificatenotyetvalidexception', re: NOT_YET_VALID, name: 'tls.error', value: 'cert_not_yet_valid' },
  { key: 'subject alternative', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'no name matching', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'certificate subject', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: "doesn't match any of the subject", re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'not verified', re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'alert', re: FATAL_ALERT, name: 'tls.error', value: (m) => ALERTS[m[1] ?? ''] },
  { key: 'no appropriate protocol', re: NO_PROTOCOL, name: 'tls.error', value: 'protocol_version' },
  { key: 'no cipher suites in common', re: NO_CIPHER, name: 'tls.error', value: 'no_shared_cipher' },
  { key: 'remote host', re: HANDSHAKE_CLOSED, name: 'tls.error', value: 'reset_during_handshake' },
  { key: 'ssl message', re: PLAINTEXT, name: 'tls.error', value: 'wrong_version_number' },
  { key: 'ssl message', re: PLAINTEXT, name: 'net.phase', value: 'tls' },

  { key: 'unable to tunnel through proxy', re: TUNNEL, name: 'connect.status', value: num },
  { key: 'unable to tunnel through proxy', re: TUNNEL, name: 'connect.sent' },
  { key: 'unable to tunnel through proxy', re: TUNNEL, name: 'proxy.forward' },
  { key: 'unable to tunnel through proxy', re: TUNNEL_407, name: 'proxy.auth_required' },
  { key: 'exception', re: SPRING_STATUS, name: 'http.status', value: num },
  { key: 'feignexception', re: FEIGN_STATUS, name: 'http.status', value: (m) => m[1] ?? m[2] },
  { key: 'response{protocol=', re: OKHTTP_STATUS, name: 'http.status', value: num },
  { key: 'org.apache.', re: TOMCAT, name: 'http.server', value: 'tomcat' },
  { key: 'apache tomcat/', re: TOMCAT, name: 'http.server', value: 'tomcat' },
  { key: 'request header is too large', re: HEADER_TOO_LARGE, name: 'limit.header' },
  { key: 'exceeded', re: BODY_TOO_LARGE, name: 'limit.body' },
  { key: 'short-circuited', re: CIRCUIT_OPEN, name: 'limit.overload' },
  { key: 'for execution', re: CIRCUIT_OPEN, name: 'limit.overload' },
  { key: 'circuitbreaker', re: BREAKER_OPEN, name: 'limit.overload' },
  { key: 'rejectedexecutionexception', re: CIRCUIT_OPEN, name: 'limit.overload' },
  { key: 'bulkheadfullexception', re: CIRCUIT_OPEN, name: 'limit.overload' },
  { key: 'ratelimiter', re: RATE_LIMITER, name: 'limit.rate' },
  { key: 'upgrade', re: WS_UPGRADE, name: 'ws.upgrade_failed' },
  { key: 'csrf', re: CSRF, name: 'access.csrf' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const JAVA_PATTERNS: readonly RegExp[] = [...new Set(RULES.map((r) => r.re))];

function connectReason(text: string): string | undefined {
  const l = text.toLowerCase();
  if (/refused|拒绝/.test(l)) return 'connection_refused';
  if (/no route to host|没有到主机的路由/.test(l)) return 'host_unreachable';
  if (/network is unreachable|网络不可达/.test(l)) return 'network_unreachable';
  // a read that waited too long (Reactor's "Timeout on blocking read for 5000000000 NANOSECONDS"), not a connect
  if (/read timed out|timeout on blocking read|read timeout/.test(l)) return 'read_timeout';
  if (/timed out|timeout/.test(l)) return 'connect_timeout';
  if (l.includes('connection reset')) return 'connection_reset';
  if (/unknownhostexception|name or service not known|nodename nor servname/.test(l)) return 'dns_not_found';
  return undefined;
}

/**
 * "Unrecognized SSL message" on a server (a TLS listener that received plain HTTP) means
 * http_to_https_port rather than a client talking TLS to a plain port.
 */
const SERVER_SIDE_TLS =
  /sun\.net\.httpserver|SSLEngineImpl\.unwrap|Could not send response to the client|NanoHTTPD|org\.apache\.tomcat\.util\.net/;

function refine(doc: TextDoc, signals: Signal[]): Signal[] {
  const serverSide = signals.some((s) => s.name === 'tls.error' && s.value === 'wrong_version_number') && SERVER_SIDE_TLS.test(doc.text);
  const out = serverSide
    ? signals.map((s) => (s.name === 'tls.error' && s.value === 'wrong_version_number' ? { ...s, value: 'http_to_https_port' } : s))
    : signals;
  return tidy(out, { oncePerText: ['http.server'] });
}
