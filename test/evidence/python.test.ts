import { describe, expect, it } from 'vitest';
import { PYTHON_PATTERNS, pythonExtractor } from '../../src/evidence/python.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(pythonExtractor, text);

const REQUESTS_REFUSED = `Traceback (most recent call last):
  File "/app/venv/lib/python3.11/site-packages/urllib3/connection.py", line 203, in _new_conn
    sock = connection.create_connection(
ConnectionRefusedError: [Errno 111] Connection refused
requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries exceeded with url: /api/v1/items (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a2c1d0>: Failed to establish a new connection: [Errno 111] Connection refused'))`;

const SSL_EXPIRED = `requests.exceptions.SSLError: HTTPSConnectionPool(host='legacy.example.com', port=443): Max retries exceeded with url: / (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))`;

const PROXY_407 = `requests.exceptions.ProxyError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with url: /simple/ (Caused by ProxyError('Unable to connect to proxy', OSError('Tunnel connection failed: 407 Proxy Authentication Required')))`;

const SAMPLES = [
  REQUESTS_REFUSED,
  SSL_EXPIRED,
  PROXY_407,
  "urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=10)",
  "urllib3.exceptions.ProtocolError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
  'socket.gaierror: [Errno -3] Temporary failure in name resolution',
];

describe('python extractor', () => {
  it('reads errno numbers, whatever the language of the message', () => {
    expect(keys(REQUESTS_REFUSED)).toContain('net.error=connection_refused');
    expect(
      keys(
        "NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -2] 未知的名称或服务')",
      ),
    ).toContain('net.error=dns_not_found');
    expect(keys('socket.gaierror: [Errno -3] Temporary failure in name resolution')).toEqual(['net.error=dns_temporary']);
    expect(keys('ConnectionResetError: [Errno 104] Connection reset by peer')).toContain('net.error=connection_reset');
    expect(keys('OSError: [Errno 113] No route to host')).toContain('net.error=host_unreachable');
    expect(keys('OSError: [Errno 101] Network is unreachable')).toContain('net.error=network_unreachable');
    expect(keys('BrokenPipeError: [Errno 32] Broken pipe')).toContain('net.error=broken_pipe');
    expect(keys('ConnectionRefusedError: [WinError 10061] 由于目标计算机积极拒绝，无法连接。')).toContain('net.error=connection_refused');
    expect(keys('[WinError 10054] An existing connection was forcibly closed by the remote host')).toContain('net.error=connection_reset');
    expect(keys('OSError: [Errno 8] Exec format error')).toEqual([]);
  });

  it('tells connect and read timeouts apart', () => {
    expect(
      keys(
        "urllib3.exceptions.ConnectTimeoutError: (<urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to api.example.com timed out. (connect timeout=5)')",
      ),
    ).toEqual(expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect']));
    expect(keys("HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=10)")).toEqual([
      'net.error=read_timeout',
    ]);
    expect(keys('httpx.ReadTimeout: The read operation timed out')).toEqual(['net.error=read_timeout']);
    expect(keys('httpx.PoolTimeout')).toEqual(['net.error=timeout']);
    expect(keys('TimeoutError: [Errno 110] Connection timed out')).toContain('net.error=connect_timeout');
  });

  it('reads disconnects and truncated bodies', () => {
    expect(keys("ProtocolError('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")).toContain(
      'net.error=empty_reply',
    );
    expect(keys('httpx.RemoteProtocolError: Server disconnected without sending a response.')).toContain('net.error=empty_reply');
    expect(
      keys(
        "ChunkedEncodingError: ('Connection broken: IncompleteRead(0 bytes read, 512 more expected)', IncompleteRead(0 bytes read, 512 more expected))",
      ),
    ).toContain('net.error=unexpected_eof');
    expect(
      keys('httpcore.RemoteProtocolError: peer closed connection without sending complete message body (incomplete chunked read)'),
    ).toContain('net.error=unexpected_eof');
  });

  it('reads aiohttp connector errors', () => {
    expect(
      keys('aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host api.example.com:443 ssl:default [Connection refused]'),
    ).toContain('net.error=connection_refused');
    expect(keys('ClientConnectorError: Cannot connect to host db.internal:5432 ssl:False [Name or service not known]')).toContain(
      'net.error=dns_not_found',
    );
    expect(keys("ClientHttpProxyError: 407, message='Proxy Authentication Required', url='http://proxy:3128'")).toEqual(
      expect.arrayContaining(['connect.status=407', 'proxy.forward', 'proxy.auth_required']),
    );
  });

  it('reads proxy tunnel failures', () => {
    expect(keys(PROXY_407)).toEqual(expect.arrayContaining(['proxy.forward', 'connect.sent', 'connect.status=407', 'proxy.auth_required']));
    expect(keys("OSError('Tunnel connection failed: 403 Forbidden')")).toEqual(expect.arrayContaining(['connect.status=403']));
    expect(keys("OSError('Tunnel connection failed: 403 Forbidden')")).not.toContain('proxy.auth_required');
  });

  it('normalises ssl module errors', () => {
    expect(keys(SSL_EXPIRED)).toEqual(expect.arrayContaining(['tls.error=cert_expired', 'net.phase=tls']));
    expect(
      keys('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)'),
    ).toContain('tls.error=self_signed');
    expect(
      keys('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:992)'),
    ).toContain('tls.error=unknown_issuer');
    expect(
      keys(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'api.example.com'. (_ssl.c:1006)",
      ),
    ).toContain('tls.error=hostname_mismatch');
    expect(keys("ssl.CertificateError: hostname 'api.example.com' doesn't match 'www.example.com'")).toContain(
      'tls.error=hostname_mismatch',
    );
    expect(keys('ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1131)')).toContain(
      'tls.error=wrong_version_number',
    );
    expect(keys('ssl.SSLError: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1007)')).toContain(
      'tls.error=handshake_failure',
    );
    expect(keys('ssl.SSLError: [SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1129)')).toContain(
      'tls.error=protocol_version',
    );
    expect(keys('ssl.SSLError: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)')).toContain(
      'tls.error=client_cert_required',
    );
    expect(keys('ssl.SSLEOFError: EOF occurred in violation of protocol (_ssl.c:2393)')).toContain('tls.error=reset_during_handshake');
    expect(keys("OpenSSL.SSL.Error: [('SSL routines', 'ssl_choose_client_version', 'unsupported protocol')]")).toContain(
      'tls.error=protocol_version',
    );
    expect(keys('ssl.SSLError: [SSL: HTTP_REQUEST] http request (_ssl.c:1000)')).toEqual(['tls.error=http_to_https_port']);
  });

  it('reads redirect loops, HTTP errors, CSRF and app servers', () => {
    expect(keys('requests.exceptions.TooManyRedirects: Exceeded 30 redirects.')).toEqual(['http.redirect_loop']);
    expect(keys('requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.example.com/v1')).toEqual([
      'http.status=503',
    ]);
    expect(keys('urllib.error.HTTPError: HTTP Error 429: Too Many Requests')).toEqual(['http.status=429']);
    expect(keys("httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://api.example.com/me'")).toEqual([
      'http.status=401',
    ]);
    expect(keys('Forbidden (CSRF cookie not set.): /accounts/login/')).toContain('access.csrf');
    expect(keys('[2024-05-01 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:42)')).toEqual(['http.server=gunicorn']);
    expect(keys('uwsgi_response_writev_headers_and_body_do(): Broken pipe [core/writer.c line 306] during GET /report')).toEqual(
      expect.arrayContaining(['http.server=uwsgi', 'client.closed']),
    );
  });
});

describeConformance(pythonExtractor, PYTHON_PATTERNS, SAMPLES);
