import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineOf, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Node.js: system errors (`Error: connect ECONNREFUSED 127.0.0.1:3000`, `code: 'ETIMEDOUT'`),
 * `socket hang up`, TLS verification codes (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID …),
 * undici (`UND_ERR_CONNECT_TIMEOUT`, `other side closed`), axios, got and the request library's
 * tunnel errors, and http-proxy-middleware / webpack-dev-server proxy errors (a Node proxy whose
 * upstream failed: proxy.upstream_error + http.server=node).
 */
export const nodeExtractor: Extractor = {
  name: 'node',
  reads: 'Node.js error messages and stacks (errno codes, TLS codes, undici, axios, got, http-proxy-middleware)',
  get patterns() {
    return NODE_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy(runRules(doc, active(doc), 'node'));
  },
};

/** http-proxy-middleware, CRA and webpack-dev-server report the upstream's error code in brackets. */
const PROXY_ERROR =
  /\b(?:Error occurred while (?:trying to proxy request|proxying request)|Proxy error: Could not proxy request) [^[(\n]{0,300}[[(]([A-Z][A-Z_]{3,40})[\])]/g;
/** The error page http-proxy-middleware answers with. */
const PROXY_ERROR_PAGE = /\bError occurred while trying to proxy: [^\s]{1,300}/g;

const ERRNO_UPSTREAM: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'reset',
  ETIMEDOUT: 'connect_timeout',
  ESOCKETTIMEDOUT: 'read_timeout',
  ENOTFOUND: 'host_not_found',
  EAI_AGAIN: 'host_not_found',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'network_unreachable',
  EACCES: 'permission_denied',
  ENOENT: 'no_such_file',
  EPROTO: 'tls_handshake',
  HPE_INVALID_CONSTANT: 'invalid_header',
  HPE_HEADER_OVERFLOW: 'too_big_header',
  CERT_HAS_EXPIRED: 'tls_verify',
  CERT_NOT_YET_VALID: 'tls_verify',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls_verify',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls_verify',
  UNABLE_TO_GET_ISSUER_CERT: 'tls_verify',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls_verify',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls_verify',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls_verify',
};

const ECONNREFUSED = /\bECONNREFUSED\b/g;
const ECONNRESET = /\bECONNRESET\b/g;
const HANG_UP = /\bsocket hang up\b/gi;
const CONNECT_ETIMEDOUT = /\bconnect ETIMEDOUT\b/g;
const READ_ETIMEDOUT = /\bread ETIMEDOUT\b/g;
const ETIMEDOUT = /\bETIMEDOUT\b/g;
const ESOCKETTIMEDOUT = /\bESOCKETTIMEDOUT\b/g;
const ENOTFOUND = /\bENOTFOUND\b/g;
const EAI_AGAIN = /\bEAI_AGAIN\b/g;
const EHOSTUNREACH = /\bEHOSTUNREACH\b/g;
const ENETUNREACH = /\bENETUNREACH\b/g;
const EPIPE = /\bEPIPE\b/g;
const EPROTO = /\bEPROTO\b/g;
const EMFILE = /\bE[MN]FILE\b/g;
const CONNECT_EACCES = /\bconnect EACCES\b/g;
const CONNECT_ENOENT = /\bconnect ENOENT\b/g;

/** Prefixes under which Node prints an OpenSSL verify message. */
const P = `(?:Error: |reason: |message"?: ?['"]|Error \\[[A-Z_]{3,40}\\]: |\\[cause\\]: )`;
const CERT_EXPIRED = new RegExp(`\\bCERT_HAS_EXPIRED\\b|${P}certificate has expired`, 'g');
const CERT_NOT_YET_VALID = new RegExp(`\\bCERT_NOT_YET_VALID\\b|${P}certificate is not yet valid`, 'g');
const SELF_SIGNED = new RegExp(`\\b(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\\b|${P}self[- ]signed certificate`, 'g');
const UNKNOWN_ISSUER = new RegExp(`\\bUNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?\\b|${P}unable to get (?:local )?issuer certificate`, 'g');
const MISSING_INTERMEDIATE = new RegExp(`\\bUNABLE_TO_VERIFY_LEAF_SIGNATURE\\b|${P}unable to verify the first certificate`, 'g');
const ALTNAME = /\bERR_TLS_CERT_ALTNAME_INVALID\b|\bHostname\/IP does(?: not|n't) match certificate's altnames/g;
const REVOKED = /\bCERT_REVOKED\b/g;
const TLS_DISCONNECTED = /\bClient network socket disconnected before secure TLS connection was established/g;
const WRONG_VERSION = /\bwrong version number\b|\bERR_SSL_WRONG_VERSION_NUMBER\b/gi;
const HANDSHAKE_FAILURE = /\bsslv3 alert handshake failure\b|\bERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE\b/gi;
const PROTOCOL_VERSION =
  /\b(?:tlsv1 alert protocol version|unsupported protocol|no protocols available)\b|\bERR_SSL_(?:TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE)\b/gi;
const NO_CIPHER = /\bno (?:shared cipher|ciphers available)\b|\bERR_SSL_NO_(?:SHARED_CIPHER|CIPHERS_AVAILABLE)\b/gi;
const CLIENT_CERT =
  /\b(?:tlsv13 alert certificate required|sslv3 alert bad certificate|tlsv1 alert unknown ca)\b|\bERR_SSL_(?:TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_UNKNOWN_CA)\b/gi;
const SNI = /\btlsv1 unrecognized name\b|\bERR_SSL_TLSV1_UNRECOGNIZED_NAME\b/gi;

const UNDICI_CONNECT_TIMEOUT = /\bUND_ERR_CONNECT_TIMEOUT\b|\bConnect ?Timeout ?Error\b/g;
const UNDICI_HEADERS_TIMEOUT = /\bUND_ERR_HEADERS_TIMEOUT\b|\bHeaders ?Timeout ?Error\b/g;
const UNDICI_BODY_TIMEOUT = /\bUND_ERR_BODY_TIMEOUT\b|\bBody ?Timeout ?Error\b/g;
const UNDICI_CLOSED = /\bUND_ERR_SOCKET\b|\bSocketError: other side closed\b/g;
const AXIOS_TIMEOUT = /\btimeout of \d{1,9}ms exceeded\b/g;
const ECONNABORTED = /\bECONNABORTED\b/g;
const FETCH_TIMEOUT = /\bnetwork timeout at: /g;
const GOT_TIMEOUT = /\bTimeout awaiting '(\w{1,20})' for \d{1,9}ms/g;
const STATUS = /\bRequest failed with status code (\d{3})\b/g;
const STATUS_407 = /\bRequest failed with status code 407\b/g;
const TUNNEL = /\btunneling socket could not be established, (?:statusCode=(\d{3})|cause=)/g;
const TUNNEL_407 = /\btunneling socket could not be established, statusCode=407\b/g;
const CSRF = /\bEBADCSRFTOKEN\b|\bForbiddenError: invalid csrf token\b/g;
const BODY_TOO_LARGE = /\bPayloadTooLargeError: request entity too large\b|\bError: request entity too large\b/g;

const GOT_PHASE: Readonly<Record<string, string>> = {
  lookup: 'timeout',
  connect: 'connect_timeout',
  secureConnect: 'timeout',
  response: 'read_timeout',
};

const num = (m: RegExpExecArray) => m[1];

/** net.error for a match, unless the line is a proxy reporting its upstream's failure. */
const client = (value: string) => (m: RegExpExecArray) => (isProxyLine(m) ? undefined : value);

const RULES: readonly Rule[] = [
  { key: 'econnrefused', re: ECONNREFUSED, name: 'net.error', value: client('connection_refused') },
  { key: 'econnrefused', re: ECONNREFUSED, name: 'net.phase', value: client('connect') },
  { key: 'econnreset', re: ECONNRESET, name: 'net.error', value: client('connection_reset') },
  { key: 'socket hang up', re: HANG_UP, name: 'net.error', value: client('socket_hang_up') },
  { key: 'connect etimedout', re: CONNECT_ETIMEDOUT, name: 'net.error', value: client('connect_timeout') },
  { key: 'connect etimedout', re: CONNECT_ETIMEDOUT, name: 'net.phase', value: client('connect') },
  { key: 'read etimedout', re: READ_ETIMEDOUT, name: 'net.error', value: client('read_timeout') },
  { key: 'etimedout', re: ETIMEDOUT, name: 'net.error', value: client('timeout') },
  { key: 'esockettimedout', re: ESOCKETTIMEDOUT, name: 'net.error', value: client('read_timeout') },
  { key: 'enotfound', re: ENOTFOUND, name: 'net.error', value: client('dns_not_found') },
  { key: 'enotfound', re: ENOTFOUND, name: 'net.phase', value: client('dns') },
  { key: 'eai_again', re: EAI_AGAIN, name: 'net.error', value: client('dns_temporary') },
  { key: 'eai_again', re: EAI_AGAIN, name: 'net.phase', value: client('dns') },
  { key: 'ehostunreach', re: EHOSTUNREACH, name: 'net.error', value: client('host_unreachable') },
  { key: 'enetunreach', re: ENETUNREACH, name: 'net.error', value: client('network_unreachable') },
  { key: 'epipe', re: EPIPE, name: 'net.error', value: client('broken_pipe') },
  { key: 'eproto', re: EPROTO, name: 'net.error', value: client('proto_error') },
  { key: 'file', re: EMFILE, name: 'net.error', value: 'too_many_open_files' },
  { key: 'connect eacces', re: CONNECT_EACCES, name: 'net.error', value: client('permission_denied') },
  { key: 'connect enoent', re: CONNECT_ENOENT, name: 'net.error', value: client('no_such_file') },

  { key: 'expired', re: CERT_EXPIRED, name: 'tls.error', value: 'cert_expired' },
  { key: 'valid', re: CERT_NOT_YET_VALID, name: 'tls.error', value: 'cert_not_yet_valid' },
  { key: 'self', re: SELF_SIGNED, name: 'tls.error', value: 'self_signed' },
  { key: 'issuer', re: UNKNOWN_ISSUER, name: 'tls.error', value: 'unknown_issuer' },
  { key: 'first certificate', re: MISSING_INTERMEDIATE, name: 'tls.error', value: 'missing_intermediate' },
  { key: 'unable_to_verify_leaf_signature', re: MISSING_INTERMEDIATE, name: 'tls.error', value: 'missing_intermediate' },
  { key: 'altname', re: ALTNAME, name: 'tls.error', value: 'hostname_mismatch' },
  { key: 'cert_revoked', re: REVOKED, name: 'tls.error', value: 'revoked' },
  { key: 'before secure tls connection', re: TLS_DISCONNECTED, name: 'tls.error', value: 'reset_during_handshake' },
  { key: 'before secure tls connection', re: TLS_DISCONNECTED, name: 'net.phase', value: 'tls' },
  { key: 'wrong', re: WRONG_VERSION, name: 'tls.error', value: (m) => (nodeContext(m) ? 'wrong_version_number' : undefined) },
  { key: 'handshake', re: HANDSHAKE_FAILURE, name: 'tls.error', value: (m) => (nodeContext(m) ? 'handshake_failure' : undefined) },
  { key: 'protocol', re: PROTOCOL_VERSION, name: 'tls.error', value: (m) => (nodeContext(m) ? 'protocol_version' : undefined) },
  { key: 'cipher', re: NO_CIPHER, name: 'tls.error', value: (m) => (nodeContext(m) ? 'no_shared_cipher' : undefined) },
  { key: 'alert', re: CLIENT_CERT, name: 'tls.error', value: (m) => (nodeContext(m) ? 'client_cert_required' : undefined) },
  { key: 'unrecognized name', re: SNI, name: 'tls.error', value: (m) => (nodeContext(m) ? 'sni_required' : undefined) },
  { key: 'err_ssl_tlsv1_unrecognized_name', re: SNI, name: 'tls.error', value: 'sni_required' },

  { key: 'timeout', re: UNDICI_CONNECT_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { key: 'timeout', re: UNDICI_CONNECT_TIMEOUT, name: 'net.phase', value: 'connect' },
  { key: 'timeout', re: UNDICI_HEADERS_TIMEOUT, name: 'net.error', value: 'read_timeout' },
  { key: 'timeout', re: UNDICI_HEADERS_TIMEOUT, name: 'net.phase', value: 'response_header' },
  { key: 'timeout', re: UNDICI_BODY_TIMEOUT, name: 'net.error', value: 'read_timeout' },
  { key: 'timeout', re: UNDICI_BODY_TIMEOUT, name: 'net.phase', value: 'response_body' },
  { key: 'und_err_socket', re: UNDICI_CLOSED, name: 'net.error', value: 'socket_hang_up' },
  { key: 'other side closed', re: UNDICI_CLOSED, name: 'net.error', value: 'socket_hang_up' },
  { key: 'ms exceeded', re: AXIOS_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'econnaborted', re: ECONNABORTED, name: 'net.error', value: 'timeout' },
  { key: 'network timeout at', re: FETCH_TIMEOUT, name: 'net.error', value: 'timeout' },
  { key: 'timeout awaiting', re: GOT_TIMEOUT, name: 'net.error', value: (m) => GOT_PHASE[m[1] ?? ''] ?? 'timeout' },
  { key: 'request failed with status code', re: STATUS, name: 'http.status', value: num },
  { key: 'status code 407', re: STATUS_407, name: 'proxy.auth_required' },
  { key: 'tunneling socket', re: TUNNEL, name: 'proxy.forward' },
  { key: 'tunneling socket', re: TUNNEL, name: 'connect.sent' },
  { key: 'tunneling socket', re: TUNNEL, name: 'connect.status', value: num },
  { key: 'statuscode=407', re: TUNNEL_407, name: 'proxy.auth_required' },
  { key: 'csrf', re: CSRF, name: 'access.csrf' },
  { key: 'request entity too large', re: BODY_TOO_LARGE, name: 'limit.body' },
  { key: 'request entity too large', re: BODY_TOO_LARGE, name: 'http.server', value: 'node' },

  { key: 'proxy', re: PROXY_ERROR, name: 'proxy.upstream_error', value: (m) => ERRNO_UPSTREAM[m[1] ?? ''] },
  { key: 'proxy', re: PROXY_ERROR, name: 'http.server', value: 'node' },
  { key: 'trying to proxy:', re: PROXY_ERROR_PAGE, name: 'http.server', value: 'node' },
  { key: 'trying to proxy:', re: PROXY_ERROR_PAGE, name: 'http.body.error_page' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const NODE_PATTERNS: readonly RegExp[] = [...new Set(RULES.map((r) => r.re))];

const NODE_HINT = /\b(?:EPROTO|ERR_SSL_|TLSSocket|_tls_wrap|node:internal|AxiosError|FetchError|code: '|reason: )/;

/** OpenSSL wording is shared by many clients; take it only when the line looks like Node's. */
function nodeContext(m: RegExpExecArray): boolean {
  return m[0].startsWith('ERR_SSL_') || NODE_HINT.test(lineOf(m));
}

function isProxyLine(m: RegExpExecArray): boolean {
  const line = lineOf(m);
  return line.includes('trying to proxy') || line.includes('proxying request') || line.includes('Could not proxy request');
}
