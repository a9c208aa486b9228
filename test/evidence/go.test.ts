import { describe, expect, it } from 'vitest';
import { GO_PATTERNS, goExtractor } from '../../src/evidence/go.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(goExtractor, text);

const SAMPLES = [
  'Get "https://10.0.0.1:443/healthz": dial tcp 10.0.0.1:443: connect: connection refused',
  'Post "https://api.example.com/v1/events": dial tcp 203.0.113.9:443: i/o timeout',
  'Get "https://api.example.com/v1/items": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
  'Get "https://registry.example.com/v2/": x509: certificate signed by unknown authority',
  'dial tcp: lookup payments.svc.cluster.local on 10.96.0.10:53: no such host',
  '2024/05/01 10:00:00 http: proxy error: dial tcp 127.0.0.1:9000: connect: connection refused',
  'Post "http://localhost:8080/api": EOF',
];

describe('go extractor', () => {
  it('reads dial errors with their phase', () => {
    expect(keys('Get "https://10.0.0.1:443/healthz": dial tcp 10.0.0.1:443: connect: connection refused')).toEqual([
      'net.error=connection_refused',
      'net.phase=connect',
    ]);
    expect(keys('dial tcp 10.2.3.4:443: connect: no route to host')).toContain('net.error=host_unreachable');
    expect(keys('dial tcp [2001:db8::1]:443: connect: network is unreachable')).toContain('net.error=network_unreachable');
    expect(keys('dial unix /run/php/php-fpm.sock: connect: no such file or directory')).toContain('net.error=no_such_file');
    expect(keys('dial unix /run/app.sock: connect: permission denied')).toContain('net.error=permission_denied');
  });

  it('tells a dial timeout from a read timeout', () => {
    expect(keys('Post "https://api.example.com/v1/events": dial tcp 203.0.113.9:443: i/o timeout')).toEqual([
      'net.error=connect_timeout',
      'net.phase=connect',
    ]);
    expect(keys('read tcp 10.0.0.5:51234->10.0.0.9:5432: i/o timeout')).toEqual(['net.error=read_timeout']);
    expect(
      keys('Get "https://api.example.com/v1/items": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'),
    ).toEqual(['net.error=read_timeout']);
    expect(
      keys(
        'Get "https://api.example.com/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
      ),
    ).toEqual(['net.error=connect_timeout']);
    expect(keys('net/http: timeout awaiting response headers')).toEqual(['net.error=read_timeout']);
    expect(keys('Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout')).toEqual(['net.error=timeout', 'net.phase=tls']);
    expect(keys('rpc error: code = DeadlineExceeded desc = context deadline exceeded')).toEqual(['net.error=timeout']);
  });

  it('reads DNS failures', () => {
    expect(keys('dial tcp: lookup payments.svc.cluster.local on 10.96.0.10:53: no such host')).toEqual([
      'net.error=dns_not_found',
      'net.phase=dns',
    ]);
    expect(keys('dial tcp: lookup api.example.com on 127.0.0.53:53: server misbehaving')).toContain('net.error=dns_temporary');
    expect(keys('dial tcp: lookup api.example.com on 10.0.0.2:53: read udp 10.0.0.5:40000->10.0.0.2:53: i/o timeout')).toEqual(
      expect.arrayContaining(['net.error=dns_temporary', 'net.phase=dns']),
    );
  });

  it('reads resets, EOF on a reused connection and client cancellation', () => {
    expect(keys('read tcp 10.0.0.5:40000->10.0.0.9:443: read: connection reset by peer')).toEqual(['net.error=connection_reset']);
    expect(keys('write tcp 10.0.0.5:40000->10.0.0.9:443: write: broken pipe')).toEqual(['net.error=broken_pipe']);
    expect(keys('Post "http://localhost:8080/api": EOF')).toEqual(['net.error=unexpected_eof']);
    expect(keys('Get "https://api.example.com/": http: server closed idle connection')).toEqual([
      'net.error=unexpected_eof',
      'net.intermittent',
    ]);
    expect(keys('ssl.SSLEOFError: EOF occurred in violation of protocol')).toEqual([]);
    expect(keys('httputil: ReverseProxy read error during body copy: context canceled')).toEqual(['client.closed']);
  });

  it('normalises crypto/tls and x509 errors', () => {
    expect(
      keys('x509: certificate has expired or is not yet valid: current time 2024-05-01T10:00:00Z is after 2024-04-01T00:00:00Z'),
    ).toEqual(['tls.error=cert_expired']);
    expect(
      keys('x509: certificate has expired or is not yet valid: current time 2023-01-01T10:00:00Z is before 2023-02-01T00:00:00Z'),
    ).toEqual(['tls.error=cert_not_yet_valid']);
    expect(keys('tls: failed to verify certificate: x509: certificate signed by unknown authority')).toEqual(['tls.error=unknown_issuer']);
    expect(keys('x509: certificate is valid for *.example.net, example.net, not api.example.com')).toEqual(['tls.error=hostname_mismatch']);
    expect(keys('remote error: tls: handshake failure')).toEqual(['tls.error=handshake_failure']);
    expect(keys('remote error: tls: bad certificate')).toEqual(['tls.error=client_cert_required']);
    expect(keys('remote error: tls: unrecognized name')).toEqual(['tls.error=sni_required']);
    expect(keys('tls: server selected unsupported protocol version 301')).toEqual(['tls.error=protocol_version']);
    expect(keys('Get "https://10.0.0.3:8080/": tls: first record does not look like a TLS handshake')).toEqual([
      'tls.error=wrong_version_number',
    ]);
    expect(keys('Get "https://localhost:8080/": http: server gave HTTP response to HTTPS client')).toEqual([
      'tls.error=wrong_version_number',
    ]);
  });

  it('reads the server side of a plain-HTTP request to a TLS port', () => {
    expect(
      keys('2024/05/01 10:00:00 http: TLS handshake error from 10.0.0.7:51544: tls: first record does not look like a TLS handshake'),
    ).toEqual(['tls.error=http_to_https_port']);
    expect(keys('2024/05/01 10:00:00 http: TLS handshake error from 10.0.0.7:51544: EOF')).toEqual([]);
    expect(keys('Client sent an HTTP request to an HTTPS server.')).toEqual(['tls.error=http_to_https_port']);
    expect(
      keys(
        'Get "http://api.example.com:443/": net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x01\\x00\\x02\\x02"',
      ),
    ).toEqual(['tls.error=http_to_https_port']);
  });

  it('reads forward proxy failures', () => {
    expect(keys('Get "https://proxy.golang.org/": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused')).toEqual(
      expect.arrayContaining(['proxy.forward', 'net.error=connection_refused']),
    );
    expect(keys('Get "https://api.github.com/": Proxy Authentication Required')).toEqual(
      expect.arrayContaining(['connect.status=407', 'connect.sent', 'proxy.forward', 'proxy.auth_required']),
    );
    expect(keys('Get "https://api.github.com/": Forbidden')).toEqual(expect.arrayContaining(['connect.status=403']));
    expect(keys('Get "https://api.github.com/": Forbidden')).not.toContain('proxy.auth_required');
    expect(keys('level=warning msg="[TCP] dial 10.1.1.1:8443: HTTP connect status: 403 Forbidden"')).toEqual(
      expect.arrayContaining(['connect.status=403', 'connect.sent']),
    );
  });

  it('reads a reverse proxy reporting its upstream, not the client failing', () => {
    const k = keys('2024/05/01 10:00:00 http: proxy error: dial tcp 127.0.0.1:9000: connect: connection refused');
    expect(k).toContain('proxy.upstream_error=connection_refused');
    expect(k).not.toContain('net.error=connection_refused');
    expect(
      keys(`time="2024-05-01T10:00:00Z" level=debug msg="'504 Gateway Timeout' caused by: dial tcp 172.18.0.4:80: i/o timeout"`),
    ).toEqual(['proxy.upstream_error=connect_timeout', 'http.server=traefik']);
    expect(
      keys('level=warning msg="Error forwarding to https://10.0.0.9:8443, err: x509: certificate signed by unknown authority"'),
    ).toEqual(expect.arrayContaining(['proxy.upstream_error=tls_verify', 'http.server=traefik']));
    expect(keys('2024/05/01 10:00:00 http: proxy error: context canceled')).toContain('client.closed');
  });

  it('reads registry rate limits and WebSocket handshakes without Upgrade', () => {
    expect(keys('toomanyrequests: You have reached your pull rate limit.')).toEqual(['limit.rate']);
    expect(keys('denied: requested access to the resource is denied')).toEqual(['auth.forbidden_role']);
    expect(keys('http2: timeout awaiting response headers')).toContain('net.error=read_timeout');
    expect(keys('open /etc/app.conf: permission denied: requested by user')).toEqual([]);
    expect(keys("websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header")).toEqual([
      'ws.upgrade_failed',
    ]);
  });
});

describe('go extractor: which end of a connection printed the error', () => {
  it('reads it from the two ports Go names', () => {
    // A service port (8080, 443) talking to an ephemeral one: this process was the server, its client left.
    expect(keys('write tcp 10.0.0.5:8080->10.0.0.9:51234: write: broken pipe')).toEqual(['client.closed']);
    expect(keys('read tcp [::1]:443->[::1]:40522: read: connection reset by peer')).toEqual(['client.closed']);
    // An ephemeral port talking to a service port: this process was the client, its upstream reset.
    expect(keys('read tcp 10.0.0.9:51234->10.0.0.5:443: read: connection reset by peer')).toEqual(['net.error=connection_reset']);
    // With the local address Go prints when it has one (or <nil>).
    expect(keys('dial tcp <nil>->10.20.33.66:80: i/o timeout')).toEqual(['net.error=connect_timeout', 'net.phase=connect']);
  });
});

describeConformance(goExtractor, GO_PATTERNS, SAMPLES);
