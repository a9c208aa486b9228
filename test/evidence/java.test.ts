import { describe, expect, it } from 'vitest';
import { JAVA_PATTERNS, javaExtractor } from '../../src/evidence/java.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(javaExtractor, text);

const PKIX = `org.springframework.web.client.ResourceAccessException: I/O error on GET request for "https://billing.internal/api": PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
	at java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)`;

const TOMCAT_HEADER = `2024-05-01T10:00:00.000Z  INFO 1 --- [nio-8080-exec-3] o.apache.coyote.http11.Http11Processor   : Error parsing HTTP request header
 Note: further occurrences of HTTP request parsing errors will be logged at DEBUG level.
java.lang.IllegalArgumentException: Request header is too large
	at org.apache.coyote.http11.Http11InputBuffer.fill(Http11InputBuffer.java:782)`;

const SAMPLES = [
  PKIX,
  TOMCAT_HEADER,
  'java.net.ConnectException: Connection refused (Connection refused)',
  'java.net.SocketTimeoutException: connect timed out',
  'java.net.SocketTimeoutException: Read timed out',
  'java.io.IOException: Unable to tunnel through proxy. Proxy returns "HTTP/1.1 407 Proxy Authentication Required"',
];

describe('java extractor', () => {
  it('reads java.net failures with their phase', () => {
    expect(keys('java.net.ConnectException: Connection refused (Connection refused)')).toEqual(['net.error=connection_refused']);
    expect(keys('java.net.ConnectException: Connection timed out: connect')).toEqual(['net.error=connect_timeout']);
    expect(keys('java.net.SocketTimeoutException: connect timed out')).toEqual(
      expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect']),
    );
    expect(keys('java.net.SocketTimeoutException: Read timed out')).toEqual(['net.error=read_timeout']);
    expect(keys('feign.RetryableException: Read timed out executing GET http://orders/api/orders')).toEqual(['net.error=read_timeout']);
    expect(keys('java.net.http.HttpConnectTimeoutException: HTTP connect timed out')).toContain('net.error=connect_timeout');
    expect(keys('java.net.UnknownHostException: payments.internal: Name or service not known')).toEqual(
      expect.arrayContaining(['net.error=dns_not_found', 'net.phase=dns']),
    );
    expect(keys('java.net.UnknownHostException: repo.maven.apache.org: Temporary failure in name resolution')).toContain(
      'net.error=dns_temporary',
    );
    expect(keys('java.net.NoRouteToHostException: No route to host (Host unreachable)')).toContain('net.error=host_unreachable');
    expect(keys('java.net.SocketException: Network is unreachable (connect failed)')).toContain('net.error=network_unreachable');
    expect(keys('java.net.SocketException: Connection reset')).toEqual(['net.error=connection_reset']);
    expect(keys('org.apache.http.NoHttpResponseException: api.example.com:443 failed to respond')).toEqual(['net.error=empty_reply']);
    expect(keys('java.io.IOException: unexpected end of stream on http://10.0.0.4:8080/...')).toEqual(['net.error=unexpected_eof']);
    expect(keys('reactor.netty.http.client.PrematureCloseException: Connection prematurely closed BEFORE response')).toEqual([
      'net.error=empty_reply',
    ]);
  });

  it('reads Spring and HttpClient wrappers', () => {
    expect(
      keys(
        'org.springframework.web.reactive.function.client.WebClientRequestException: Connection refused: localhost/127.0.0.1:8081; nested exception is io.netty.channel.AbstractChannel$AnnotatedConnectException',
      ),
    ).toContain('net.error=connection_refused');
    expect(
      keys(
        'org.apache.http.conn.HttpHostConnectException: Connect to api.example.com:443 [api.example.com/203.0.113.5] failed: Connection timed out',
      ),
    ).toContain('net.error=connect_timeout');
    expect(
      keys(
        'org.springframework.web.reactive.function.client.WebClientResponseException$BadGateway: 502 Bad Gateway from GET http://inventory/items',
      ),
    ).toEqual(['http.status=502']);
    expect(keys('feign.FeignException$ServiceUnavailable: [503 Service Unavailable] during [GET] to [http://x/y]')).toEqual([
      'http.status=503',
    ]);
    expect(keys('feign.FeignException: status 404 reading OrdersClient#get(String)')).toEqual(['http.status=404']);
    expect(keys('feign.FeignException$TooManyRequests: [429] during [GET] to [http://x/y]')).toEqual(['http.status=429']);
    expect(keys('Response{protocol=http/1.1, code=413, message=Request Entity Too Large, url=https://upload.example.com/files}')).toEqual([
      'http.status=413',
    ]);
  });

  it('normalises JSSE failures', () => {
    expect(keys(PKIX)).toContain('tls.error=unknown_issuer');
    expect(keys('java.security.cert.CertificateExpiredException: NotAfter: Sat Mar 02 12:00:00 UTC 2024')).toEqual([
      'tls.error=cert_expired',
    ]);
    expect(
      keys(
        'sun.security.validator.ValidatorException: PKIX path validation failed: java.security.cert.CertPathValidatorException: timestamp check failed',
      ),
    ).toContain('tls.error=cert_expired');
    expect(keys('javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching api.example.com found.')).toEqual([
      'tls.error=hostname_mismatch',
    ]);
    expect(keys('javax.net.ssl.SSLPeerUnverifiedException: Hostname api.example.com not verified:')).toEqual([
      'tls.error=hostname_mismatch',
    ]);
    expect(keys('javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure')).toEqual(['tls.error=handshake_failure']);
    expect(keys('javax.net.ssl.SSLHandshakeException: Received fatal alert: protocol_version')).toEqual(['tls.error=protocol_version']);
    expect(keys('javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate')).toEqual(['tls.error=client_cert_required']);
    expect(
      keys('javax.net.ssl.SSLHandshakeException: No appropriate protocol (protocol is disabled or cipher suites are inappropriate)'),
    ).toEqual(['tls.error=protocol_version']);
    expect(keys('javax.net.ssl.SSLHandshakeException: Remote host terminated the handshake')).toEqual(['tls.error=reset_during_handshake']);
    expect(keys('javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?')).toEqual(
      expect.arrayContaining(['tls.error=wrong_version_number', 'net.phase=tls']),
    );
  });

  it('reads a TLS listener that received plain HTTP as http_to_https_port', () => {
    const server = `javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?
	at sun.security.ssl.SSLEngineImpl.unwrap(SSLEngineImpl.java:624)
	at sun.net.httpserver.SSLStreams$EngineWrapper.recvAndUnwrap(SSLStreams.java:338)`;
    const k = keys(server);
    expect(k).toContain('tls.error=http_to_https_port');
    expect(k).not.toContain('tls.error=wrong_version_number');
  });

  it('reads the JDK proxy tunnel error', () => {
    expect(keys('java.io.IOException: Unable to tunnel through proxy. Proxy returns "HTTP/1.1 407 Proxy Authentication Required"')).toEqual(
      expect.arrayContaining(['connect.status=407', 'connect.sent', 'proxy.forward', 'proxy.auth_required']),
    );
    expect(keys('java.io.IOException: Unable to tunnel through proxy. Proxy returns "HTTP/1.1 403 Forbidden"')).not.toContain(
      'proxy.auth_required',
    );
  });

  it('reads Tomcat limits, client aborts, circuit breakers and CSRF', () => {
    expect(keys(TOMCAT_HEADER)).toEqual(expect.arrayContaining(['http.server=tomcat', 'limit.header']));
    expect(keys(TOMCAT_HEADER).filter((k) => k === 'http.server=tomcat')).toHaveLength(1);
    expect(keys('org.apache.catalina.connector.ClientAbortException: java.io.IOException: Broken pipe')).toEqual(
      expect.arrayContaining(['client.closed', 'http.server=tomcat', 'net.error=broken_pipe']),
    );
    expect(keys('org.springframework.web.multipart.MaxUploadSizeExceededException: Maximum upload size exceeded')).toContain('limit.body');
    expect(
      keys(
        "io.github.resilience4j.circuitbreaker.CallNotPermittedException: CircuitBreaker 'inventory' is OPEN and does not permit further calls",
      ),
    ).toEqual(['limit.overload']);
    expect(keys("Invalid CSRF Token 'null' was found on the request parameter '_csrf' or header 'X-CSRF-TOKEN'.")).toEqual(['access.csrf']);
    expect(keys('Handshake failed due to invalid Upgrade header: null')).toEqual(['ws.upgrade_failed']);
  });
});

describeConformance(javaExtractor, JAVA_PATTERNS, SAMPLES);
