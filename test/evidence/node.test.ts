import { describe, expect, it } from 'vitest';
import { NODE_PATTERNS, nodeExtractor } from '../../src/evidence/node.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(nodeExtractor, text);

const REFUSED_STACK = `node:internal/process/promises:288
            triggerUncaughtException(err, true /* fromPromise */);
            ^

Error: connect ECONNREFUSED 127.0.0.1:5432
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {
  errno: -111,
  code: 'ECONNREFUSED',
  syscall: 'connect',
  address: '127.0.0.1',
  port: 5432
}`;

const UNDICI = `TypeError: fetch failed
    at node:internal/deps/undici/undici:12618:11
  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: api.example.com:443, timeout: 10000ms)
      at onConnectTimeout (node:internal/deps/undici/undici:7760:28) {
    code: 'UND_ERR_CONNECT_TIMEOUT'
  }`;

const HPM = `[HPM] Error occurred while proxying request localhost:5173/api/orders to http://localhost:8080/ [ECONNREFUSED] (https://nodejs.org/api/errors.html#errors_common_system_errors)`;

const SAMPLES = [
  REFUSED_STACK,
  UNDICI,
  HPM,
  'Error: socket hang up\n    at connResetException (node:internal/errors:720:14)',
  'Error: getaddrinfo ENOTFOUND payments.internal',
  "AxiosError: timeout of 5000ms exceeded\n  code: 'ECONNABORTED'",
  'Error: certificate has expired\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)',
];

describe('node extractor', () => {
  it('reads errno codes with their phase', () => {
    expect(keys(REFUSED_STACK)).toEqual(expect.arrayContaining(['net.error=connection_refused', 'net.phase=connect']));
    expect(keys('Error: connect ETIMEDOUT 52.10.1.4:443')).toEqual(
      expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect']),
    );
    expect(keys('Error: connect ETIMEDOUT 52.10.1.4:443')).not.toContain('net.error=timeout');
    expect(keys('Error: read ETIMEDOUT')).toContain('net.error=read_timeout');
    expect(keys("{ code: 'ETIMEDOUT' }")).toEqual(['net.error=timeout']);
    expect(keys('Error: ESOCKETTIMEDOUT')).toContain('net.error=read_timeout');
    expect(keys('Error: read ECONNRESET')).toContain('net.error=connection_reset');
    expect(keys('Error: socket hang up')).toContain('net.error=socket_hang_up');
    expect(keys('Error: getaddrinfo ENOTFOUND payments.internal')).toEqual(
      expect.arrayContaining(['net.error=dns_not_found', 'net.phase=dns']),
    );
    expect(keys('Error: getaddrinfo EAI_AGAIN registry.npmjs.org')).toContain('net.error=dns_temporary');
    expect(keys('Error: connect EHOSTUNREACH 192.168.1.20:8080')).toContain('net.error=host_unreachable');
    expect(keys('Error: connect ENETUNREACH 2606:4700::1:443')).toContain('net.error=network_unreachable');
    expect(keys('Error: write EPIPE')).toContain('net.error=broken_pipe');
    expect(keys('Error: connect EACCES /var/run/app.sock')).toContain('net.error=permission_denied');
    expect(keys('Error: connect ENOENT /tmp/missing.sock')).toContain('net.error=no_such_file');
    expect(keys('Error: EMFILE: too many open files, open /app/data.json')).toContain('net.error=too_many_open_files');
  });

  it('normalises TLS verification codes and messages', () => {
    expect(keys("Error: certificate has expired\n  code: 'CERT_HAS_EXPIRED'")).toContain('tls.error=cert_expired');
    expect(keys("code: 'DEPTH_ZERO_SELF_SIGNED_CERT'")).toContain('tls.error=self_signed');
    expect(keys('Error: self-signed certificate in certificate chain')).toContain('tls.error=self_signed');
    expect(keys('FetchError: request to https://x.example/ failed, reason: unable to get local issuer certificate')).toContain(
      'tls.error=unknown_issuer',
    );
    expect(keys('Error: unable to verify the first certificate')).toContain('tls.error=missing_intermediate');
    expect(
      keys(
        "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: a.example. is not in the cert's altnames: DNS:b.example",
      ),
    ).toContain('tls.error=hostname_mismatch');
    expect(keys('Error: Client network socket disconnected before secure TLS connection was established')).toEqual(
      expect.arrayContaining(['tls.error=reset_during_handshake', 'net.phase=tls']),
    );
    expect(keys('Error: write EPROTO 4057A6F3F87F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number')).toEqual(
      expect.arrayContaining(['net.error=proto_error', 'tls.error=wrong_version_number']),
    );
    expect(keys("code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'")).toContain('tls.error=protocol_version');
  });

  it('takes shared OpenSSL wording only from Node-looking lines', () => {
    expect(keys('ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1131)')).toEqual([]);
    expect(keys('curl: (35) error:0A000410:SSL routines::sslv3 alert handshake failure')).toEqual([]);
  });

  it('reads undici, axios and got timeouts', () => {
    expect(keys(UNDICI)).toEqual(expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect']));
    expect(keys("[cause]: HeadersTimeoutError: Headers Timeout Error\n  code: 'UND_ERR_HEADERS_TIMEOUT'")).toEqual(
      expect.arrayContaining(['net.error=read_timeout', 'net.phase=response_header']),
    );
    expect(keys("[cause]: SocketError: other side closed\n  code: 'UND_ERR_SOCKET'")).toContain('net.error=socket_hang_up');
    expect(keys('AxiosError: timeout of 5000ms exceeded')).toEqual(['net.error=timeout']);
    expect(keys("RequestError: Timeout awaiting 'connect' for 2000ms")).toContain('net.error=connect_timeout');
    expect(keys("TimeoutError: Timeout awaiting 'response' for 30000ms")).toContain('net.error=read_timeout');
  });

  it('reads HTTP status and proxy tunnel errors', () => {
    expect(keys('AxiosError: Request failed with status code 502')).toEqual(['http.status=502']);
    expect(keys('AxiosError: Request failed with status code 407')).toEqual(
      expect.arrayContaining(['http.status=407', 'proxy.auth_required']),
    );
    expect(keys('Error: tunneling socket could not be established, statusCode=407')).toEqual(
      expect.arrayContaining(['proxy.forward', 'connect.sent', 'connect.status=407', 'proxy.auth_required']),
    );
    expect(keys('Error: tunneling socket could not be established, cause=connect ECONNREFUSED 10.0.0.3:3128')).toEqual(
      expect.arrayContaining(['proxy.forward', 'net.error=connection_refused']),
    );
  });

  it('reads a dev-server proxy error as its upstream failing, not the client', () => {
    const k = keys(HPM);
    expect(k).toEqual(expect.arrayContaining(['proxy.upstream_error=connection_refused', 'http.server=node']));
    expect(k).not.toContain('net.error=connection_refused');
    expect(keys('Proxy error: Could not proxy request /api/users from localhost:3000 to http://localhost:5000/ (ECONNRESET).')).toContain(
      'proxy.upstream_error=reset',
    );
    expect(
      keys('[HPM] Error occurred while proxying request localhost:3000/x to https://api.example.org/ [UNABLE_TO_GET_ISSUER_CERT_LOCALLY]'),
    ).toContain('proxy.upstream_error=tls_verify');
    expect(keys('Error occurred while trying to proxy: localhost:3000/api/login')).toEqual(
      expect.arrayContaining(['http.server=node', 'http.body.error_page']),
    );
  });

  it('reads express body limits and csurf', () => {
    expect(keys('PayloadTooLargeError: request entity too large\n    at readStream (/app/node_modules/raw-body/index.js:156:17)')).toEqual(
      expect.arrayContaining(['limit.body', 'http.server=node']),
    );
    expect(keys("ForbiddenError: invalid csrf token\n  code: 'EBADCSRFTOKEN'")).toContain('access.csrf');
  });
});

describeConformance(nodeExtractor, NODE_PATTERNS, SAMPLES);
