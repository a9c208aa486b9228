import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/triage/engine.js';

/**
 * Product vocabularies: messages that products and runtimes print for one mechanism (quoted as data
 * from their documentation and their own output), each ranked to its cause first. Not taken from the
 * corpus: they check that evidence is keyed on the product's fixed wording and codes.
 */
const engine = createEngine();

const CASES: readonly [string, string][] = [
  ['upstream-slow|upstream-connect-timeout', '{"message": "Endpoint request timed out"}'],
  [
    'upstream-bad-response|upstream-closed-early|upstream-refused',
    '{"message": "Internal server error"}\nHTTP/1.1 502 Bad Gateway\nx-amzn-ErrorType: InternalServerErrorException',
  ],
  ['rate-limited', '{"message":"Too Many Requests"}'],
  ['rate-limited', 'Rate exceeded'],
  [
    'upstream-slow',
    'at=error code=H12 desc="Request timeout" method=GET path="/" host=myapp.herokuapp.com request_id=8601b555 fwd="204.204.204.204" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0',
  ],
  [
    'upstream-refused|upstream-closed-early|upstream-unhealthy',
    'at=error code=H10 desc="App crashed" method=GET path="/" host=myapp.herokuapp.com request_id=x fwd="1.2.3.4" dyno= connect= service= status=503 bytes=',
  ],
  [
    'upstream-closed-early',
    'at=error code=H13 desc="Connection closed without response" method=GET path="/" host=myapp.herokuapp.com dyno=web.1 connect=1ms service=3ms status=503',
  ],
  [
    'upstream-overloaded',
    'at=error code=H11 desc="Backlog too deep" method=GET path="/" host=myapp.herokuapp.com dyno= connect= service= status=503',
  ],
  [
    'client-closed',
    'at=error code=H27 desc="Client Request Interrupted" method=POST path="/submit" host=myapp.herokuapp.com dyno=web.1 connect=0ms service=80ms status=499',
  ],
  [
    'upstream-unhealthy',
    'at=error code=H14 desc="No web processes running" method=GET path="/" host=myapp.herokuapp.com dyno= connect= service= status=503',
  ],
  ['upstream-slow', '504: GATEWAY_TIMEOUT\nCode: FUNCTION_INVOCATION_TIMEOUT\nID: cdg1::abcde-1700000000000'],
  ['upstream-slow', 'Task timed out after 30.03 seconds'],
  ['upstream-refused|upstream-unhealthy', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure'],
  ['upstream-slow', 'upstream request timeout'],
  ['upstream-unhealthy', 'no healthy upstream'],
  [
    'upstream-closed-early|idle-timeout-mismatch',
    'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  ],
  [
    'upstream-overloaded|upstream-socket-permission',
    '2024/01/01 10:00:00 [error] 12#12: *345 connect() to unix:/run/php/php8.1-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 10.0.0.1',
  ],
  [
    'upstream-tls-failure',
    '2024/01/01 10:00:00 [error] 12#12: *345 peer closed connection in SSL handshake while SSL handshaking to upstream, client: 10.0.0.1',
  ],
  [
    'client-closed',
    '2024/01/01 10:00:00 [info] 12#12: *345 epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while sending request to upstream, client: 10.0.0.1',
  ],
  [
    'upstream-refused',
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1 (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))",
  ],
  [
    'upstream-slow',
    "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=10)",
  ],
  ['proxy-auth-required', "ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 407 Proxy Authentication Required'))"],
  ['idle-timeout-mismatch|upstream-closed-early', 'http.client.RemoteDisconnected: Remote end closed connection without response'],
  ['idle-timeout-mismatch|upstream-closed-early', 'aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected'],
  ['idle-timeout-mismatch|upstream-closed-early', 'org.apache.http.NoHttpResponseException: api.example.com:443 failed to respond'],
  ['idle-timeout-mismatch|upstream-closed-early', 'java.io.IOException: unexpected end of stream on https://api.example.com/...'],
  [
    'idle-timeout-mismatch|upstream-closed-early',
    'reactor.netty.http.client.PrematureCloseException: Connection prematurely closed BEFORE response',
  ],
  ['upstream-slow', 'feign.RetryableException: Read timed out executing GET http://user-service/users/1'],
  ['upstream-slow', 'io.netty.handler.timeout.ReadTimeoutException: null'],
  ['idle-timeout-mismatch|upstream-closed-early', 'Post "https://api.example.com/v1/items": EOF'],
  ['idle-timeout-mismatch', 'http: server closed idle connection'],
  [
    'upstream-slow|firewall-drop',
    'net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
  ],
  ['tls-wrong-version', 'http: server gave HTTP response to HTTPS client'],
  ['http-to-https-port|tls-wrong-version', 'tls: first record does not look like a TLS handshake'],
  [
    'permission-denied',
    'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:app" cannot list resource "pods" in API group "" in the namespace "default"',
  ],
  ['auth-missing|token-expired|token-invalid', 'error: You must be logged in to the server (Unauthorized)'],
  ['firewall-drop|host-unreachable', 'Unable to connect to the server: dial tcp 10.0.0.10:6443: i/o timeout'],
  [
    'tls-cert-expired',
    'Unable to connect to the server: x509: certificate has expired or is not yet valid: current time 2024-01-01T00:00:00Z is after 2023-12-31T00:00:00Z',
  ],
  [
    'upstream-unhealthy|upstream-overloaded',
    'Error from server (ServiceUnavailable): the server is currently unable to handle the request',
  ],
  [
    'upstream-slow',
    'Error from server (Timeout): the server was unable to return a response in the time allotted, but may still be processing the request',
  ],
  [
    'rate-limited',
    'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
  ],
  [
    'auth-missing',
    'Error response from daemon: Head "https://registry.example.com/v2/app/manifests/latest": unauthorized: authentication required',
  ],
  [
    'firewall-drop|upstream-connect-timeout|host-unreachable',
    "fatal: unable to access 'https://github.com/org/repo.git/': Failed to connect to github.com port 443 after 21045 ms: Connection timed out",
  ],
  ['body-too-large', 'error: RPC failed; HTTP 413 curl 22 The requested URL returned error: 413'],
  [
    'upstream-closed-early|network-unstable|idle-timeout-mismatch',
    'error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly: CANCEL (err 8)',
  ],
  ['network-unstable|upstream-closed-early', 'gnutls_handshake() failed: The TLS connection was non-properly terminated.'],
  [
    'upstream-closed-early|network-unstable|idle-timeout-mismatch',
    'npm ERR! code ECONNRESET\nnpm ERR! network aborted\nnpm ERR! network This is a problem related to network connectivity.',
  ],
  [
    'firewall-drop|network-unstable',
    'npm ERR! network request to https://registry.npmjs.org/express failed, reason: connect ETIMEDOUT 104.16.0.35:443',
  ],
  ['proxy-auth-required', 'npm ERR! code E407\nnpm ERR! 407 Proxy Authentication Required - GET https://registry.npmjs.org/express'],
  ['rate-limited', 'npm ERR! code E429\nnpm ERR! 429 Too Many Requests - GET https://registry.npmjs.org/express'],
  [
    'proxy-auth-required',
    'E: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/jammy/InRelease  407  Proxy Authentication Required [IP: 10.0.0.1 3128]',
  ],
  ['dns-failure', "Temporary failure resolving 'archive.ubuntu.com'"],
  ['firewall-drop|host-unreachable', 'Could not connect to archive.ubuntu.com:80 (91.189.91.83), connection timed out'],
  [
    'tls-cert-untrusted',
    'Certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown.  Could not handshake: Error in the certificate verification.',
  ],
  [
    'firewall-drop|upstream-connect-timeout',
    'Could not transfer artifact org.example:lib:pom:1.0 from/to central (https://repo.maven.apache.org/maven2): Connect to repo.maven.apache.org:443 [repo.maven.apache.org/151.101.0.215] failed: Connect timed out',
  ],
  [
    'websocket-upgrade-missing',
    "WebSocket connection to 'wss://app.example.com/socket' failed: Error during WebSocket handshake: 'Connection' header value must contain 'Upgrade'",
  ],
  ['upstream-refused', 'GET http://localhost:3000/api net::ERR_CONNECTION_REFUSED'],
  ['upstream-closed-early|network-unstable', 'GET https://app.example.com/api net::ERR_EMPTY_RESPONSE'],
  ['proxy-exhausted|connect-unsupported|proxy-auth-required', 'net::ERR_TUNNEL_CONNECTION_FAILED'],
  ['upstream-bad-response|upstream-closed-early', 'GET https://app.example.com/api net::ERR_HTTP2_PROTOCOL_ERROR 200'],
  ['upstream-closed-early|network-unstable', 'GET https://app.example.com/big.js net::ERR_INCOMPLETE_CHUNKED_ENCODING 200 (OK)'],
  [
    'rate-limited',
    '{"error":{"code":429,"message":"Quota exceeded for quota metric \'Requests\' and limit \'Requests per minute\'","status":"RESOURCE_EXHAUSTED"}}',
  ],
  ['rate-limited|upstream-overloaded', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
  [
    'rate-limited',
    '{"error":{"message":"Rate limit reached for gpt-4 in organization org-x on tokens per min (TPM): Limit 10000, Used 9000, Requested 2000.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}',
  ],
  [
    'token-not-yet-valid',
    '<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>',
  ],
  [
    'permission-denied',
    '{"error":{"code":"AuthorizationFailed","message":"The client \'x\' with object id \'y\' does not have authorization to perform action \'Microsoft.Compute/virtualMachines/read\' over scope \'/subscriptions/z\'"}}',
  ],
  [
    'rate-limited|upstream-overloaded',
    '{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}],"status":429}}',
  ],
  ['upstream-overloaded|rate-limited', 'HTTP/1.1 503 Service Unavailable\nRetry-After: 120'],
  [
    'idle-timeout-mismatch|upstream-closed-early',
    'Error: read ECONNRESET\n    at TLSWrap.onStreamRead (node:internal/stream_base_commons:217:20)',
  ],
  [
    'firewall-drop|upstream-connect-timeout',
    'TypeError: fetch failed\n  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: api.example.com:443, timeout: 10000ms)',
  ],
  [
    'tls-cert-untrusted',
    'Error: self-signed certificate in certificate chain\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34) { code: "SELF_SIGNED_CERT_IN_CHAIN" }',
  ],
  [
    'upstream-unhealthy|upstream-refused',
    "Our services aren't available right now\nWe're working to restore all services as soon as possible. Please check back soon.\n0aBc1234567890",
  ],
  [
    'upstream-bad-response|upstream-refused|upstream-unhealthy',
    '502 - Web server received an invalid response while acting as a gateway or proxy server.\nThere is a problem with the page you are looking for, and it cannot be displayed.',
  ],
  [
    'upstream-refused|upstream-unhealthy|upstream-closed-early',
    'Service Unavailable\nThe request failed because either the HTTP response was malformed or connection to the instance had an error.',
  ],
];

describe('product vocabularies', () => {
  it.each(CASES)('ranks %s first', (expected, text) => {
    const top = engine.explain(text).causes[0]?.id;
    expect(expected.split('|'), text).toContain(top);
  });
});
