import { describe, expect, it } from 'vitest';
import { CURL_PATTERNS, curlExtractor } from '../../src/evidence/curl.js';
import { TextDoc } from '../../src/evidence/text.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(curlExtractor, text);

const PROXY_407 = `$ curl -v -x http://proxy.corp.example:8080 https://api.example.com/v1/health
*   Trying 10.20.0.5:8080...
* Connected to proxy.corp.example (10.20.0.5) port 8080 (#0)
* CONNECT tunnel: HTTP/1.1 negotiated
* allocate connect buffer
* Establish HTTP proxy tunnel to api.example.com:443
> CONNECT api.example.com:443 HTTP/1.1
> Host: api.example.com:443
> User-Agent: curl/8.5.0
> Proxy-Connection: Keep-Alive
>
< HTTP/1.1 407 Proxy Authentication Required
< Proxy-Authenticate: Basic realm="corp"
< Content-Length: 0
<
* CONNECT tunnel failed, response 407
* Closing connection
curl: (56) CONNECT tunnel failed, response 407`;

const ORIGIN_502 = `*   Trying 203.0.113.7:443...
* Connected to shop.example.org (203.0.113.7) port 443
* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384
> GET /checkout HTTP/2
> Host: shop.example.org
>
< HTTP/2 502
< server: cloudflare
< content-type: text/html`;

const SAMPLES = [
  PROXY_407,
  ORIGIN_502,
  'curl: (7) Failed to connect to localhost port 3000 after 0 ms: Connection refused',
  'curl: (28) Connection timed out after 10001 milliseconds',
  'curl: (28) Operation timed out after 30000 milliseconds with 0 bytes received',
  'curl: (6) Could not resolve host: api.internal.example',
  'curl: (60) SSL certificate problem: certificate has expired',
  'curl: (52) Empty reply from server',
];

describe('curl extractor', () => {
  it('reads the exit code and a refused connect', () => {
    expect(keys('curl: (7) Failed to connect to localhost port 3000 after 0 ms: Connection refused')).toEqual(
      expect.arrayContaining(['curl.exit=7', 'net.phase=connect', 'net.error=connection_refused', 'timing.duration_s=0']),
    );
  });

  it('does not guess a reason curl did not give', () => {
    const k = keys("curl: (7) Failed to connect to 10.0.0.8 port 443 after 2 ms: Couldn't connect to server");
    expect(k).toContain('curl.exit=7');
    expect(k.filter((x) => x.startsWith('net.error'))).toEqual([]);
  });

  it('tells the timeout phases apart', () => {
    expect(keys('curl: (28) Connection timed out after 10001 milliseconds')).toEqual(
      expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect', 'timing.duration_s=10.001']),
    );
    expect(keys('curl: (28) Operation timed out after 30000 milliseconds with 0 bytes received')).toEqual(
      expect.arrayContaining(['net.error=read_timeout', 'net.phase=response_header', 'timing.duration_s=30']),
    );
    expect(keys('curl: (28) Operation timed out after 60000 milliseconds with 1048576 out of 5242880 bytes received')).toEqual(
      expect.arrayContaining(['net.error=read_timeout', 'net.phase=response_body']),
    );
    expect(keys("curl: (28) Failed to connect to registry.example.com port 443 after 129870 ms: Couldn't connect to server")).toEqual(
      expect.arrayContaining(['curl.exit=28', 'net.error=connect_timeout', 'timing.duration_s=129.87']),
    );
    expect(keys('curl: (28) Resolving timed out after 5000 milliseconds')).toEqual(
      expect.arrayContaining(['net.error=timeout', 'net.phase=dns']),
    );
  });

  it('reads localised OS reasons', () => {
    expect(keys('curl: (7) Failed connect to 10.244.1.12:80; 没有到主机的路由')).toContain('net.error=host_unreachable');
    expect(keys('curl: (56) Recv failure: 连接被对方重设')).toContain('net.error=connection_reset');
  });

  it('reads DNS, reset, empty reply, truncated body and redirect loops', () => {
    expect(keys('curl: (6) Could not resolve host: api.internal.example')).toEqual(
      expect.arrayContaining(['curl.exit=6', 'net.error=dns_not_found', 'net.phase=dns']),
    );
    expect(keys('curl: (5) Could not resolve proxy: proxy.corp.example')).toEqual(
      expect.arrayContaining(['net.error=dns_not_found', 'proxy.forward']),
    );
    expect(keys('curl: (56) Recv failure: Connection reset by peer')).toContain('net.error=connection_reset');
    expect(keys('curl: (52) Empty reply from server')).toEqual(
      expect.arrayContaining(['net.error=empty_reply', 'net.phase=response_header']),
    );
    expect(keys('curl: (18) transfer closed with 3210 bytes remaining to read')).toContain('net.error=unexpected_eof');
    expect(keys('curl: (47) Maximum (50) redirects followed')).toEqual(['curl.exit=47', 'http.redirect_loop']);
    expect(keys('curl: (22) The requested URL returned error: 504')).toContain('http.status=504');
  });

  it('normalises TLS failures', () => {
    expect(keys('curl: (60) SSL certificate problem: certificate has expired')).toEqual(
      expect.arrayContaining(['curl.exit=60', 'tls.error=cert_expired', 'net.phase=tls']),
    );
    expect(keys('curl: (60) SSL certificate problem: self-signed certificate in certificate chain')).toContain('tls.error=self_signed');
    expect(keys('curl: (60) SSL certificate problem: unable to get local issuer certificate')).toContain('tls.error=unknown_issuer');
    expect(keys("curl: (60) SSL: no alternative certificate subject name matches target host name 'api.example.net'")).toContain(
      'tls.error=hostname_mismatch',
    );
    expect(keys("curl: (51) SSL: certificate subject name 'www.example.com' does not match target host name 'example.com'")).toContain(
      'tls.error=hostname_mismatch',
    );
    expect(keys('curl: (35) OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number')).toContain(
      'tls.error=wrong_version_number',
    );
    expect(keys('curl: (35) error:0A000410:SSL routines::sslv3 alert handshake failure')).toContain('tls.error=handshake_failure');
    expect(keys('curl: (35) error:0A00042E:SSL routines::tlsv1 alert protocol version')).toContain('tls.error=protocol_version');
    expect(keys('curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to api.example.com:443')).toContain(
      'tls.error=reset_during_handshake',
    );
    expect(keys('* SSL certificate verify result: certificate has expired (10), continuing anyway.')).toContain('tls.error=cert_expired');
    expect(keys('* SSL certificate verify result: ok (0)')).toEqual([]);
    expect(keys('cURL error 35: error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure')).toEqual(
      expect.arrayContaining(['curl.exit=35', 'tls.error=handshake_failure']),
    );
  });

  it('leaves TLS library wording on non-curl lines to the other extractors', () => {
    const nginx =
      '2024/05/01 10:00:00 [crit] 12#12: *5 SSL_do_handshake() failed (SSL: error:0A000410:SSL routines::sslv3 alert handshake failure) while SSL handshaking to upstream';
    expect(keys(nginx)).toEqual([]);
  });

  it('follows a CONNECT to a forward proxy and its 407', () => {
    const k = keys(PROXY_407);
    expect(k).toEqual(
      expect.arrayContaining([
        'proxy.forward',
        'connect.sent',
        'connect.status=407',
        'proxy.auth_required',
        'curl.exit=56',
        'http.method=CONNECT',
      ]),
    );
    expect(k.filter((x) => x.startsWith('http.status'))).toEqual([]);
    expect(k).not.toContain('connect.target_form');
  });

  it('reads the proxy reply lines without a transcript', () => {
    expect(keys('curl: (56) Received HTTP code 403 from proxy after CONNECT')).toEqual(
      expect.arrayContaining(['connect.status=403', 'connect.sent', 'proxy.forward']),
    );
    expect(keys('curl: (56) Received HTTP code 407 from proxy after CONNECT')).toContain('proxy.auth_required');
    expect(keys('curl: (56) Proxy CONNECT aborted')).toEqual(expect.arrayContaining(['connect.reset_after', 'connect.sent']));
    expect(keys('curl: (28) Proxy CONNECT aborted due to timeout')).toEqual(expect.arrayContaining(['net.error=timeout']));
    expect(keys('curl: (28) Proxy CONNECT aborted due to timeout')).not.toContain('connect.reset_after');
  });

  it('sees a reset right after CONNECT, and a CONNECT target that is not host:port', () => {
    const reset = `> CONNECT git.example.com:443 HTTP/1.1
> Host: git.example.com:443
>
* Recv failure: Connection reset by peer
curl: (56) Recv failure: Connection reset by peer`;
    expect(keys(reset)).toEqual(expect.arrayContaining(['connect.sent', 'connect.reset_after', 'net.error=connection_reset']));
    expect(keys('> CONNECT https://git.example.com/ HTTP/1.1\n> Host: git.example.com')).toContain('connect.target_form');
    expect(keys('> CONNECT git.example.com HTTP/1.1')).toContain('connect.target_form');
    expect(keys('> CONNECT [2001:db8::1]:443 HTTP/1.1')).not.toContain('connect.target_form');
  });

  it('reads the origin status, method and server of a transcript', () => {
    expect(keys(ORIGIN_502)).toEqual(expect.arrayContaining(['http.method=GET', 'http.status=502', 'http.server=cloudflare']));
  });

  it('sees a forward proxy on the command line or in the environment', () => {
    expect(keys("* Uses proxy env variable HTTPS_PROXY == 'http://10.0.0.1:3128'")).toContain('proxy.forward');
    expect(keys('$ curl -vx 127.0.0.1:3128 https://example.com')).toContain('proxy.forward');
    expect(keys('$ curl --proxy http://10.1.1.1:8080 https://example.com')).toContain('proxy.forward');
    expect(keys('$ https_proxy=http://10.1.1.1:3128 curl https://example.com')).toContain('proxy.forward');
    expect(keys('$ curl -sSL https://example.com/x.tgz | tar -xzf -')).not.toContain('proxy.forward');
    expect(keys('$ curl -sv -X CONNECT http://127.0.0.1:8081/web')).not.toContain('proxy.forward');
  });

  it('keeps one signal per name, value and line', () => {
    const k = curlExtractor.extract(TextDoc.from('curl: (52) Empty reply from server'));
    expect(k.filter((s) => s.name === 'net.error')).toHaveLength(1);
  });
});

describeConformance(curlExtractor, CURL_PATTERNS, SAMPLES);

describe('curl extractor: a redirect back to the same URL', () => {
  it('reads a 30x whose Location is the URL that was asked for as a loop, and a redirect elsewhere as nothing', async () => {
    const { curlExtractor } = await import('../../src/evidence/curl.js');
    const { keysOf } = await import('./conformance-kit.js');
    const transcript = (location: string) =>
      `$ curl -I https://claycss.com/\nHTTP/2 302\ncontent-length: 0\nlocation: ${location}\nserver: cloudflare`;
    expect(keysOf(curlExtractor, transcript('https://claycss.com/'))).toContain('http.redirect_loop');
    expect(keysOf(curlExtractor, transcript('https://claycss.com/login'))).not.toContain('http.redirect_loop');
  });
});
