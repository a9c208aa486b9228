import { describe, expect, it } from 'vitest';
import { NGINX_PATTERNS, nginxExtractor } from '../../src/evidence/nginx.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(nginxExtractor, text);
const line = (msg: string) =>
  `2025/03/02 09:14:07 [error] 1187#1187: *5521 ${msg}, client: 203.0.113.9, server: shop.example.org, request: "GET /cart HTTP/2.0", upstream: "http://10.20.0.7:8081/cart", host: "shop.example.org"`;

const SAMPLES = [
  line('connect() failed (111: Connection refused) while connecting to upstream'),
  line('upstream timed out (110: Connection timed out) while reading response header from upstream'),
  '[crit] 311#311: *9 connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1',
  '[error] 31#31: *77 limiting requests, excess: 20.440 by zone "api", client: 10.0.0.1',
  '400 Bad Request\nThe plain HTTP request was sent to HTTPS port\nnginx/1.25.3',
];

proxyConformance(nginxExtractor, NGINX_PATTERNS, SAMPLES);

describe('nginx extractor', () => {
  it('reads errno failures with their phase', () => {
    expect(keys(line('connect() failed (111: Connection refused) while connecting to upstream'))).toEqual([
      'http.server=nginx',
      'proxy.upstream_error=connection_refused',
      'proxy.upstream_phase=connecting',
    ]);
    expect(keys(line('recv() failed (104: Connection reset by peer) while reading response header from upstream'))).toContain(
      'proxy.upstream_error=reset',
    );
    expect(keys(line('writev() failed (32: Broken pipe) while sending request to upstream'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=reset', 'proxy.upstream_phase=sending_request']),
    );
    expect(keys(line('connect() to 10.20.0.7:8081 failed (113: Host is unreachable) while connecting to upstream'))).toContain(
      'proxy.upstream_error=host_unreachable',
    );
    expect(keys(line('connect() to [2001:db8::7]:8081 failed (101: Network is unreachable) while connecting to upstream'))).toContain(
      'proxy.upstream_error=network_unreachable',
    );
  });

  it('tells connect, send and read timeouts apart by the phase', () => {
    expect(keys(line('upstream timed out (110: Connection timed out) while connecting to upstream'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=connect_timeout', 'proxy.upstream_phase=connecting']),
    );
    expect(keys(line('upstream timed out (110: Connection timed out) while sending request to upstream'))).toContain(
      'proxy.upstream_error=send_timeout',
    );
    expect(keys(line('upstream timed out (110: Operation timed out) while reading response header from upstream'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=read_timeout', 'proxy.upstream_phase=reading_response_header']),
    );
    expect(keys(line('upstream timed out (110: Connection timed out) while reading upstream'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=read_timeout', 'proxy.upstream_phase=reading_response_body']),
    );
  });

  it('reads Unix-socket upstreams (php-fpm, gunicorn)', () => {
    expect(
      keys(
        '[crit] 311#311: *9 connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream, client: 127.0.0.1',
      ),
    ).toContain('proxy.upstream_error=permission_denied');
    expect(
      keys(
        '[crit] 311#311: *9 connect() to unix:/srv/app/gunicorn.sock failed (2: No such file or directory) while connecting to upstream, client: 127.0.0.1',
      ),
    ).toContain('proxy.upstream_error=no_such_file');
  });

  it('follows a message that the paste wrapped before "while"', () => {
    const text =
      '[error] 88#88: *3 recv() failed (104: Connection reset by peer)\nwhile reading response header from upstream, client: 10.0.0.2';
    expect(keys(text)).toEqual(expect.arrayContaining(['proxy.upstream_error=reset', 'proxy.upstream_phase=reading_response_header']));
  });

  it('reads upstream messages without an errno', () => {
    expect(keys(line('upstream prematurely closed connection while reading response header from upstream'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=prematurely_closed', 'proxy.upstream_phase=reading_response_header']),
    );
    expect(keys(line('upstream prematurely closed FastCGI stdout while reading response header from upstream'))).toContain(
      'proxy.upstream_error=prematurely_closed',
    );
    expect(keys(line('no live upstreams while connecting to upstream'))).toContain('proxy.upstream_error=no_live_upstreams');
    expect(keys(line('upstream server temporarily disabled while connecting to upstream'))).toContain(
      'proxy.upstream_error=no_live_upstreams',
    );
    expect(keys(line('upstream sent too big header while reading response header from upstream'))).toContain(
      'proxy.upstream_error=too_big_header',
    );
    expect(keys(line('upstream sent invalid header: "X-Foo\\x0D..." while reading response header from upstream'))).toContain(
      'proxy.upstream_error=invalid_header',
    );
    expect(keys(line('upstream sent no valid HTTP/1.0 header while reading response header from upstream'))).toContain(
      'proxy.upstream_error=invalid_header',
    );
  });

  it('reads TLS to the upstream, and leaves client-side handshakes alone', () => {
    expect(
      keys(line('SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream')),
    ).toEqual(expect.arrayContaining(['proxy.upstream_error=tls_handshake', 'proxy.upstream_phase=tls_handshake']));
    expect(keys(line('upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream'))).toContain(
      'proxy.upstream_error=tls_verify',
    );
    expect(
      keys(
        '[info] 9#9: *2 SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca) while SSL handshaking, client: 198.51.100.3',
      ),
    ).not.toContain('proxy.upstream_error=tls_handshake');
  });

  it('reads name resolution failures', () => {
    expect(keys('nginx: [emerg] host not found in upstream "api:8080" in /etc/nginx/conf.d/app.conf:14')).toContain(
      'proxy.upstream_error=host_not_found',
    );
    expect(keys('[error] 7#7: *1 no resolver defined to resolve auth.internal, client: 10.1.0.4')).toContain(
      'proxy.upstream_error=no_resolver',
    );
    expect(keys('[error] 7#7: *1 backend.svc could not be resolved (3: Host not found), client: 10.1.0.4')).toContain(
      'proxy.upstream_error=no_resolver',
    );
    expect(keys('[error] 7#7: send() failed (111: Connection refused) while resolving, resolver: 127.0.0.11:53')).toEqual([
      'http.server=nginx',
      'proxy.upstream_error=no_resolver',
    ]);
  });

  it('reads access and file-permission denials', () => {
    expect(keys(line('access forbidden by rule'))).toContain('access.denied_rule');
    expect(keys('[error] 5#5: *4 open() "/var/www/site/index.html" failed (13: Permission denied), client: 10.0.0.9')).toContain(
      'access.file_permission',
    );
    expect(keys('[error] 5#5: *4 directory index of "/var/www/site/" is forbidden, client: 10.0.0.9')).toContain('access.file_permission');
    expect(keys('[error] 5#5: *4 open() "/var/www/site/favicon.ico" failed (2: No such file or directory)')).not.toContain(
      'access.file_permission',
    );
  });

  it('reads limits', () => {
    expect(keys('[error] 31#31: *77 limiting requests, excess: 20.440 by zone "api", client: 10.0.0.1')).toContain('limit.rate');
    expect(keys('[error] 31#31: *77 limiting connections by zone "perip", client: 10.0.0.1')).toContain('limit.rate');
    expect(keys('[alert] 31#31: 4096 worker_connections are not enough')).toContain('limit.connections');
    expect(keys('[crit] 31#31: accept4() failed (24: Too many open files)')).toContain('limit.connections');
    expect(keys('[error] 31#31: *8 client intended to send too large body: 10485761 bytes, client: 10.0.0.1')).toContain('limit.body');
    expect(keys('[info] 31#31: *8 client sent too long header line: "Cookie: a=b..." while reading client request headers')).toContain(
      'limit.header',
    );
  });

  it('reads TLS errors on the client side and nginx error pages', () => {
    expect(keys('[info] 4#4: *1 client sent plain HTTP request to HTTPS port while reading client request headers')).toContain(
      'tls.error=http_to_https_port',
    );
    expect(keys('400 Bad Request\nThe plain HTTP request was sent to HTTPS port\nnginx/1.25.3')).toContain('tls.error=http_to_https_port');
    expect(keys('400 Bad Request\nNo required SSL certificate was sent\nnginx')).toContain('tls.error=client_cert_required');
    expect(keys('400 Bad Request\nRequest Header Or Cookie Too Large')).toContain('limit.header');
  });

  it('reads clients that went away, not idle keep-alive closes', () => {
    expect(keys(line('client prematurely closed connection while reading upstream'))).toContain('client.closed');
    expect(keys('[info] 3#3: *41 client closed connection while waiting for request, client: 10.0.0.5')).not.toContain('client.closed');
  });

  it('names the product', () => {
    expect(
      keys('[error] 1#1: *2 [lua] access.lua:12: x; upstream prematurely closed connection while reading response header from upstream'),
    ).toContain('http.server=openresty');
    expect(
      keys(
        '[error] 1#0: *9 upstream prematurely closed connection while reading response header from upstream, client: 10.0.0.1, server: kong, request: "GET / HTTP/1.1"',
      ),
    ).toEqual(expect.arrayContaining(['http.server=nginx', 'http.server=kong']));
  });

  it('ignores errno failures that are not about the upstream', () => {
    expect(keys('[error] 12#12: *3 [lua] redis.lua:40: connect() failed (111: Connection refused)')).not.toContain(
      'proxy.upstream_error=connection_refused',
    );
    expect(keys('[info] 12#12: *3 writev() failed (32: Broken pipe) while sending to client, client: 10.0.0.5')).toEqual([
      'http.server=nginx',
    ]);
  });
});
