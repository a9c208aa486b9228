import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineBefore, lineOf, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Go: net / net/http / crypto/tls / x509 error chains (`Get "https://x": dial tcp 10.0.0.1:443:
 * connect: connection refused`, `i/o timeout` on dial vs read, `Client.Timeout exceeded while
 * awaiting headers`, `x509: certificate signed by unknown authority`, `lookup x on 10.0.0.2:53: no
 * such host`, `proxyconnect tcp: …`, a bare `EOF`), the server-side `http: TLS handshake error`
 * and `Client sent an HTTP request to an HTTPS server.`, and httputil.ReverseProxy's
 * `http: proxy error: …` (an upstream failure, so proxy.upstream_error rather than net.error).
 */
export const goExtractor: Extractor = {
  name: 'go',
  reads: 'Go net/http, crypto/tls and x509 errors, httputil.ReverseProxy proxy errors',
  get patterns() {
    return GO_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy(runRules(doc, active(doc), 'go'), { oncePerText: ['http.server'] });
  },
};

const REFUSED = /\bconnect: connection refused\b/g;
const NO_ROUTE = /\bconnect: no route to host\b/g;
const NET_UNREACHABLE = /\bconnect: network is unreachable\b/g;
const CONNECT_TIMED_OUT = /\bconnect: connection timed out\b/g;
const SOCKET_MISSING = /\bdial unix [^\s]{1,255}: connect: no such file or directory\b/g;
const SOCKET_DENIED = /\bdial unix [^\s]{1,255}: connect: permission denied\b/g;
/**
 * `dial tcp 10.0.0.5:443: i/o timeout`, and with the local address Go prints when it has one: `dial tcp <nil>->10.0.0.5:80`;
 * on Windows the syscall's name comes between: `dial tcp 64.233.188.118:443: ConnectEx tcp: i/o timeout`.
 */
const DIAL_TIMEOUT = /\bdial tcp[46]? [0-9A-Za-z.:[\]%_<>-]{1,120}: (?:ConnectEx tcp: )?i\/o timeout\b/g;
const READ_TIMEOUT = /\bread tcp[46]? [^\s]{1,120}: i\/o timeout\b/g;
const WRITE_TIMEOUT = /\bwrite tcp[46]? [^\s]{1,120}: i\/o timeout\b/g;
const LOOKUP_NOT_FOUND = /\blookup [^\s]{1,255}(?: on [^\s]{1,100})?: no such host\b/g;
const LOOKUP_TEMPORARY =
  /\blookup [^\s]{1,255}(?: on [^\s]{1,100})?: (?:server misbehaving|Temporary failure in name resolution|(?:read udp [^\s]{1,120}: )?i\/o timeout|(?:read|write|dial) udp [^\s]{1,120}: (?:(?:read|write|connect): )?connection refused)/g;
const AWAITING_HEADERS =
  /\(Client\.Timeout exceeded while awaiting headers\)|\bnet\/http: timeout awaiting response headers\b|\bhttp2: timeout awaiting response headers\b/g;
const READING_BODY = /\(Client\.Timeout (?:exceeded )?(?:while reading body|or context cancellation while reading body)\)/g;
const TLS_HANDSHAKE_TIMEOUT = /\bnet\/http: TLS handshake timeout\b/g;
const DEADLINE = /\bcontext deadline exceeded\b/g;
const CANCELED = /\bcontext canceled\b/g;
const RESET = /\b(?:read|write|readfrom|writeto): connection reset by peer\b/g;
const BROKEN_PIPE = /\bwrite: broken pipe\b/g;
const EOF = /: (?:unexpected )?EOF(?=[ \t]{0,4}$|["'`.,;)\]}])/gm;
const IDLE_CLOSED = /\bhttp: server closed idle connection\b/g;
const MALFORMED = /\bmalformed HTTP response "([^"\n]{0,40})/g;
const PROXYCONNECT = /\bproxyconnect tcp: /g;
const CONNECT_REPLY =
  /\b(?:Get|Post|Put|Patch|Delete|Head|Options) "https:\/\/[^"\n]{1,2000}": (Proxy Authentication Required|Forbidden|Method Not Allowed|Bad Request|Not Implemented|Bad Gateway|Service Unavailable|Gateway Timeout)$/gm;
const CONNECT_STATUS = /\bconnect status: (\d{3})\b/gi;
const TOO_MANY_REQUESTS = /\btoomanyrequests: /g;
/** A registry's DENIED error (OCI distribution spec) as docker, containerd and helm print it. */
const REGISTRY_DENIED = /\bdenied: (?:requested access to the resource is denied|permission_denied\b)/g;
/** gorilla/websocket and x/net/websocket refusing a handshake that lost its Upgrade / Connection headers. */
const WS_UPGRADE =
  /\bwebsocket: the client is not using the websocket protocol\b|'upgrade' token not found in 'Connection' header|\bhandshake error: bad \\?"Upgrade\\?" header/g;

const X509_EXPIRED = /\bx509: certificate has expired or is not yet valid\b[^\n]{0,160}/g;
/** A certificate the client could not even parse (Go 1.23+ refuses negative serial numbers, bad ASN.1): it does not verify. */
const X509_UNPARSABLE = /\btls: failed to parse certificate from server: x509: [^\n]{1,120}/g;
const X509_UNKNOWN = /\bx509: certificate[ \t]{1,8}signed[ \t]{1,8}by[ \t]{1,8}unknown[ \t]{1,8}authority\b/g;
const X509_NAME =
  /\bx509: certificate is valid for |\bx509: certificate is not valid for any names\b|\bx509: cannot validate certificate for [^\s]{1,255} because it doesn't contain any IP SANs\b|\bx509: certificate relies on legacy Common Name field\b/g;
const TLS_REMOTE = /\bremote error: tls: ([a-z ]{3,60})/g;
const TLS_VERSION =
  /\btls: server selected unsupported protocol version\b|\btls: no supported versions satisfy MinVersion and MaxVersion\b/g;
const TLS_CIPHER = /\btls: no cipher suite supported by both client and server\b/g;
const TLS_FIRST_RECORD = /\bfirst record does not look like a TLS handshake\b/g;
const TLS_OVERSIZED = /\btls: oversized record received with length \d{1,9}/g;
const HTTP_TO_HTTPS_CLIENT = /\bhttp: server gave HTTP response to HTTPS client\b/g;
const HTTP_TO_HTTPS_SERVER = /\bClient sent an HTTP request to an HTTPS server\b/g;
const CLIENT_CERT = /\btls: client didn't provide a certificate\b/g;

/** A Go reverse proxy reporting its upstream's failure: httputil.ReverseProxy, Traefik, Caddy. */
const PROXY_ERROR = /\bhttp: proxy error: |' caused by: |\bError forwarding to |"logger":"http\.(?:handlers\.reverse_proxy|log\.error)"/g;
/** Caddy v1: `[ERROR 502 /path] dial tcp …`. */
const CADDY_V1_ERROR = /\[ERROR 5\d\d [^\]\s]{1,120}\] /g;
const PROXY_HINT =
  /http: proxy error: |' caused by: |Error forwarding to |\[ERROR 5\d\d |"logger":"http\.(?:handlers\.reverse_proxy|log\.error)"/;
const TRAEFIK = /'\d{3} [A-Za-z ]{2,40}' caused by: |\bError forwarding to /g;
const CADDY = /"logger":"http\.(?:handlers\.reverse_proxy|log\.error)"|^\[ERROR 5\d\d \//gm;

const REMOTE_ALERTS: Readonly<Record<string, string>> = {
  'handshake failure': 'handshake_failure',
  'protocol version not supported': 'protocol_version',
  'bad certificate': 'client_cert_required',
  'certificate required': 'client_cert_required',
  'unknown certificate authority': 'client_cert_required',
  // Alert 46 (certificate_unknown): the peer could not validate the certificate it was shown. A
  // server that logs it (a TLS-inspecting proxy's "Cannot handshake client") was not trusted.
  'unknown certificate': 'cert_invalid',
  'unrecognized name': 'sni_required',
  'insufficient security level': 'no_shared_cipher',
  'illegal parameter': 'handshake_failure',
  'internal error': 'handshake_failure',
};

const STATUS_TEXT: Readonly<Record<string, string>> = {
  'Proxy Authentication Required': '407',
  Forbidden: '403',
  'Method Not Allowed': '405',
  'Bad Request': '400',
  'Not Implemented': '501',
  'Bad Gateway': '502',
  'Service Unavailable': '503',
  'Gateway Timeout': '504',
};

/** net.error for a match, unless the line is ReverseProxy reporting its upstream's failure. */
const client = (value: string) => (m: RegExpExecArray) => (isProxyLine(m) ? undefined : value);

/** Go's socket error names both ends, local first: `write tcp 10.0.0.5:8080->10.0.0.9:51234: write: broken pipe`. */
const SOCKET_ENDS =
  /\b(?:read|write|readfrom|writeto) tcp[46]? [0-9A-Fa-f.:[\]%]{1,64}:(\d{1,5})->[0-9A-Fa-f.:[\]%]{1,64}:(\d{1,5}): [^\n]{0,40}$/;
/** Where operating systems start handing out ephemeral ports (Linux 32768, Windows and BSD 49152). */
const EPHEMERAL_FROM = 32768;

/**
 * Whether the process that printed a reset or a broken pipe was the server of that connection: its
 * own port is a service port and the peer's an ephemeral one, so the peer that went away was its
 * client (a reset or a broken pipe while answering is the client leaving, not the upstream failing).
 */
function servingSide(m: RegExpExecArray): boolean {
  const ends = SOCKET_ENDS.exec(lineBefore(m));
  if (!ends) return false;
  const [local, remote] = [Number(ends[1]), Number(ends[2])];
  return local < EPHEMERAL_FROM && remote >= EPHEMERAL_FROM;
}

/** A reset or a broken pipe: the upstream failing (net.error) seen by a client, the client leaving seen by the server. */
const bySide = (key: string, re: RegExp, value: string): Rule[] => [
  { key, re, name: 'net.error', value: (m) => (servingSide(m) ? undefined : client(value)(m)) },
  { key, re, name: 'client.closed', value: (m) => (servingSide(m) ? '' : undefined) },
];

const RULES: readonly Rule[] = [
  { key: 'connection refused', re: REFUSED, name: 'net.error', value: client('connection_refused') },
  { key: 'connection refused', re: REFUSED, name: 'net.phase', value: client('connect') },
  { key: 'no route to host', re: NO_ROUTE, name: 'net.error', value: client('host_unreachable') },
  { key: 'network is unreachable', re: NET_UNREACHABLE, name: 'net.error', value: client('network_unreachable') },
  { key: 'connect: connection timed out', re: CONNECT_TIMED_OUT, name: 'net.error', value: client('connect_timeout') },
  { key: 'dial unix', re: SOCKET_MISSING, name: 'net.error', value: client('no_such_file') },
  { key: 'dial unix', re: SOCKET_DENIED, name: 'net.error', value: client('permission_denied') },
  { key: 'i/o timeout', re: DIAL_TIMEOUT, name: 'net.error', value: client('connect_timeout') },
  { key: 'i/o timeout', re: DIAL_TIMEOUT, name: 'net.phase', value: client('connect') },
  { key: 'i/o timeout', re: READ_TIMEOUT, name: 'net.error', value: client('read_timeout') },
  { key: 'i/o timeout', re: WRITE_TIMEOUT, name: 'net.error', value: client('timeout') },
  { key: 'no such host', re: LOOKUP_NOT_FOUND, name: 'net.error', value: client('dns_not_found') },
  { key: 'no such host', re: LOOKUP_NOT_FOUND, name: 'net.phase', value: client('dns') },
  { key: 'lookup ', re: LOOKUP_TEMPORARY, name: 'net.error', value: client('dns_temporary') },
  { key: 'lookup ', re: LOOKUP_TEMPORARY, name: 'net.phase', value: client('dns') },
  { key: 'client.timeout exceeded', re: AWAITING_HEADERS, name: 'net.error', value: (m) => awaitingHeaders(m) },
  { key: 'timeout awaiting response headers', re: AWAITING_HEADERS, name: 'net.error', value: 'read_timeout' },
  { key: 'reading body', re: READING_BODY, name: 'net.error', value: 'read_timeout' },
  { key: 'reading body', re: READING_BODY, name: 'net.phase', value: 'response_body' },
  { key: 'tls handshake timeout', re: TLS_HANDSHAKE_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'tls handshake timeout', re: TLS_HANDSHAKE_TIMEOUT, name: 'net.phase', value: 'tls' },
  { key: 'context deadline exceeded', re: DEADLINE, name: 'net.error', value: 'timeout' },
  { key: 'context canceled', re: CANCELED, name: 'client.closed' },
  ...bySide('connection reset by peer', RESET, 'connection_reset'),
  ...bySide('broken pipe', BROKEN_PIPE, 'broken_pipe'),
  { key: 'eof', re: EOF, name: 'net.error', value: (m) => (isServerHandshakeLine(m) || isProxyLine(m) ? undefined : 'unexpected_eof') },
  { key: 'server closed idle connection', re: IDLE_CLOSED, name: 'net.error', value: 'unexpected_eof' },
  { key: 'server closed idle connection', re: IDLE_CLOSED, name: 'net.intermittent' },
  {
    key: 'malformed http response',
    re: MALFORMED,
    name: 'tls.error',
    value: (m) => (m[1]?.startsWith('\\x15\\x03') ? 'http_to_https_port' : undefined),
  },
  {
    key: 'malformed http response',
    re: MALFORMED,
    name: 'net.error',
    value: (m) => (m[1]?.startsWith('\\x15\\x03') ? undefined : 'proto_error'),
  },
  { key: 'proxyconnect tcp', re: PROXYCONNECT, name: 'proxy.forward' },
  { key: 'https://', re: CONNECT_REPLY, name: 'connect.status', value: (m) => STATUS_TEXT[m[1] ?? ''] },
  { key: 'https://', re: CONNECT_REPLY, name: 'connect.sent' },
  { key: 'https://', re: CONNECT_REPLY, name: 'proxy.forward' },
  {
    key: 'proxy authentication required',
    re: CONNECT_REPLY,
    name: 'proxy.auth_required',
    value: (m) => (m[1] === 'Proxy Authentication Required' ? '' : undefined),
  },
  { key: 'connect status', re: CONNECT_STATUS, name: 'connect.status', value: (m) => m[1] },
  { key: 'connect status', re: CONNECT_STATUS, name: 'connect.sent' },
  { key: 'toomanyrequests', re: TOO_MANY_REQUESTS, name: 'limit.rate' },
  { key: 'denied: ', re: REGISTRY_DENIED, name: 'auth.forbidden_role' },
  { key: 'websocket', re: WS_UPGRADE, name: 'ws.upgrade_failed' },
  { key: 'upgrade', re: WS_UPGRADE, name: 'ws.upgrade_failed' },

  {
    key: 'x509: certificate has expired',
    re: X509_EXPIRED,
    name: 'tls.error',
    value: (m) => (isProxyLine(m) ? undefined : / is before /.test(m[0]) ? 'cert_not_yet_valid' : 'cert_expired'),
  },
  { key: 'unknown authority', re: X509_UNKNOWN, name: 'tls.error', value: client('unknown_issuer') },
  { key: 'failed to parse certificate', re: X509_UNPARSABLE, name: 'tls.error', value: client('cert_invalid') },
  { key: 'x509:', re: X509_NAME, name: 'tls.error', value: client('hostname_mismatch') },
  { key: 'remote error: tls', re: TLS_REMOTE, name: 'tls.error', value: (m) => (isProxyLine(m) ? undefined : remoteAlert(m[1] ?? '')) },
  { key: 'tls:', re: TLS_VERSION, name: 'tls.error', value: 'protocol_version' },
  { key: 'no cipher suite', re: TLS_CIPHER, name: 'tls.error', value: 'no_shared_cipher' },
  {
    key: 'first record does not look like a tls handshake',
    re: TLS_FIRST_RECORD,
    name: 'tls.error',
    value: (m) => (isServerHandshakeLine(m) ? 'http_to_https_port' : 'wrong_version_number'),
  },
  {
    key: 'oversized record',
    re: TLS_OVERSIZED,
    name: 'tls.error',
    value: (m) => (isServerHandshakeLine(m) ? 'http_to_https_port' : 'wrong_version_number'),
  },
  { key: 'server gave http response to https client', re: HTTP_TO_HTTPS_CLIENT, name: 'tls.error', value: 'wrong_version_number' },
  { key: 'http request to an https server', re: HTTP_TO_HTTPS_SERVER, name: 'tls.error', value: 'http_to_https_port' },
  { key: "client didn't provide a certificate", re: CLIENT_CERT, name: 'tls.error', value: 'client_cert_required' },

  { key: 'http: proxy error', re: PROXY_ERROR, name: 'proxy.upstream_error', value: (m) => upstreamReason(lineOf(m)) },
  { key: "' caused by: ", re: PROXY_ERROR, name: 'proxy.upstream_error', value: (m) => upstreamReason(lineOf(m)) },
  { key: 'error forwarding to', re: PROXY_ERROR, name: 'proxy.upstream_error', value: (m) => upstreamReason(lineOf(m)) },
  { key: '[error 5', re: CADDY_V1_ERROR, name: 'proxy.upstream_error', value: (m) => upstreamReason(lineOf(m)) },
  { key: 'logger":"http.', re: PROXY_ERROR, name: 'proxy.upstream_error', value: (m) => upstreamReason(lineOf(m)) },
  {
    key: 'http: proxy error',
    re: PROXY_ERROR,
    name: 'client.closed',
    value: (m) => (lineOf(m).includes('context canceled') ? '' : undefined),
  },
  { key: "' caused by: ", re: TRAEFIK, name: 'http.server', value: 'traefik' },
  { key: 'error forwarding to', re: TRAEFIK, name: 'http.server', value: 'traefik' },
  { key: 'logger":"http.', re: CADDY, name: 'http.server', value: 'caddy' },
  { key: '[error 5', re: CADDY, name: 'http.server', value: 'caddy' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const GO_PATTERNS: readonly RegExp[] = [...new Set(RULES.map((r) => r.re))];

function remoteAlert(text: string): string | undefined {
  const hit = Object.keys(REMOTE_ALERTS).find((k) => text.startsWith(k));
  return hit === undefined ? undefined : REMOTE_ALERTS[hit];
}

/** "Client.Timeout exceeded while awaiting headers": while dialing or waiting for a pooled connection it is a connect timeout. */
function awaitingHeaders(m: RegExpExecArray): string {
  const line = lineOf(m);
  return /waiting for connection|dial tcp|proxyconnect/.test(line) ? 'connect_timeout' : 'read_timeout';
}

function upstreamReason(text: string): string | undefined {
  if (text.includes('connection refused')) return 'connection_refused';
  if (/dial tcp[46]? [^\s]{1,100}: i\/o timeout/.test(text)) return 'connect_timeout';
  if (/i\/o timeout|timeout awaiting response headers|context deadline exceeded/.test(text)) return 'read_timeout';
  if (text.includes('no such host')) return 'host_not_found';
  if (text.includes('no route to host')) return 'host_unreachable';
  if (text.includes('network is unreachable')) return 'network_unreachable';
  if (text.includes('connection reset by peer')) return 'reset';
  if (/: EOF\b|unexpected EOF/.test(text)) return 'prematurely_closed';
  if (text.includes('x509:')) return 'tls_verify';
  if (text.includes('tls:')) return 'tls_handshake';
  if (text.includes('permission denied')) return 'permission_denied';
  if (text.includes('no such file or directory')) return 'no_such_file';
  return undefined;
}

function isProxyLine(m: RegExpExecArray): boolean {
  return PROXY_HINT.test(lineOf(m));
}

function isServerHandshakeLine(m: RegExpExecArray): boolean {
  return lineOf(m).includes('TLS handshake error from');
}
