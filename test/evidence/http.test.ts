import { describe, expect, it } from 'vitest';
import { HTTP_PATTERNS, httpExtractor } from '../../src/evidence/http.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(httpExtractor, text);

const SAMPLES = [
  '< HTTP/1.1 502 Bad Gateway',
  '< HTTP/1.1 502 Bad Gateway\n< Server: nginx/1.24.0\n< Retry-After: 30\n<html><center>nginx/1.24.0</center></html>',
  'AxiosError: Request failed with status code 401',
  '> CONNECT api.example.com:443 HTTP/1.1',
];

proxyConformance(httpExtractor, HTTP_PATTERNS, SAMPLES);

describe('http extractor: error pages that name their status only in words', () => {
  it("reads Apache's 401 page, Heroku's application-error page and Google's 403 page", () => {
    expect(keys('Unauthorized\nThis server could not verify that you are authorized to access the document requested.')).toEqual(
      expect.arrayContaining(['http.status=401', 'http.server=apache']),
    );
    expect(keys('Application Error\nAn error occurred in the application and your page could not be served.')).toEqual(
      expect.arrayContaining(['http.status=503', 'http.server=heroku']),
    );
    expect(keys('Error: Forbidden\nYour client does not have permission to get URL /admin from this server.')).toEqual(
      expect.arrayContaining(['http.status=403', 'http.server=gcp-lb']),
    );
  });
});

describe('http extractor: IIS sub-status codes', () => {
  it('reads the mechanism from the sub-status of a W3C log line and of the error page', () => {
    expect(keys('2011-06-02 17:59:05 192.168.0.211 POST /msdeploy.axd site=default 8172 - 192.168.0.203 - 403 6 5 1669')).toEqual(
      expect.arrayContaining(['http.status=403', 'http.server=iis', 'access.denied_rule']),
    );
    expect(keys('2011-05-12 15:55:38 192.168.0.211 POST /msdeploy.axd site=default 8172 - 192.168.0.203 - 401 2 5 0')).toEqual(
      expect.arrayContaining(['http.status=401', 'auth.error=missing_credentials']),
    );
    expect(keys('HTTP Error 403.14 - Forbidden\nThe Web server is configured to not list the contents of this directory.')).toEqual(
      expect.arrayContaining(['http.server=iis', 'access.file_permission']),
    );
    // Four numbers at the end of a line that is not a W3C log line are nothing.
    expect(keys('totals: 403 6 5 1669')).toEqual([]);
  });
});

describe('http extractor', () => {
  it('reads status lines, raw and from curl -v', () => {
    expect(keys('< HTTP/1.1 504 Gateway Time-out\n< Server: openresty')).toEqual(['http.server=openresty', 'http.status=504']);
    expect(keys('< HTTP/2 403 \n< content-type: text/html')).toEqual(['http.status=403']);
    expect(keys('HTTP/1.0\t403\tForbidden')).toEqual(['http.status=403']);
  });

  it('pairs a code with its own reason phrase only', () => {
    expect(keys('<html><head><title>503 Service Temporarily Unavailable</title></head>')).toContain('http.status=503');
    expect(keys('<h1>504 Gateway Timeout</h1>')).toContain('http.status=504');
    expect(keys('Error: 413: Request Entity Too Large')).toEqual(['http.status=413', 'limit.body']);
    expect(keys('we saw 404 Bad Gateway in the notes')).toEqual([]);
    // The phrase first, then its own code: pnpm, .NET, many CLIs.
    expect(keys(' ERR_PNPM_META_FETCH_FAIL  GET https://registry.npmjs.org/react: Service Unavailable - 503')).toContain('http.status=503');
    expect(keys('request failed: Forbidden (403)')).toContain('http.status=403');
    expect(keys('Bad Gateway: 504')).toEqual([]);
    expect(keys('the build took 300 seconds')).toEqual([]);
  });

  it('reads plain-text bodies that are only a reason phrase', () => {
    expect(keys('$ curl http://app.internal/\nBad Gateway')).toEqual(['http.status=502']);
    expect(keys('the Bad Gateway album is great')).toEqual([]);
  });

  it('reads status codes quoted by clients and logs', () => {
    expect(keys('AxiosError: Request failed with status code 401')).toEqual(['http.status=401']);
    expect(keys('urllib.error.HTTPError: HTTP Error 403: Forbidden')).toEqual(['http.status=403']);
    expect(keys('requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.example.com/v1')).toEqual([
      'http.status=429',
      'limit.rate',
    ]);
    expect(keys('Response{protocol=h2, code=502, message=, url=https://api.example.com/}')).toEqual(['http.status=502']);
    expect(keys('{"timestamp":"2025-01-01T00:00:00Z","status":503,"error":"Service Unavailable"}')).toContain('http.status=503');
    expect(keys("':status', '431'")).toEqual(['http.status=431', 'limit.header']);
    expect(keys('the upstream returned 503 twice, then got 429')).toEqual(['http.status=429', 'http.status=503', 'limit.rate']);
    expect(keys('WebSocket connection failed: Error during WebSocket handshake: Unexpected response code: 426')).toEqual([
      'http.status=426',
    ]);
    expect(keys('上传大文件时接口返回 413，请求失败')).toEqual(['http.status=413', 'limit.body']);
  });

  it('reads a status reported in chat, in the words on-call engineers use', () => {
    expect(keys('getting 502s from the ALB since the deploy')).toEqual(['http.status=502']);
    expect(keys('nginx is throwing 504s on checkout')).toEqual(['http.status=504']);
    expect(keys('we see 503 from envoy on half the requests')).toEqual(['http.status=503']);
    expect(keys('seeing intermittent 502 errors behind the ingress')).toContain('http.status=502');
    expect(keys('the gateway was serving 429s for every request')).toContain('http.status=429');
  });

  it('does not take counts for statuses', () => {
    expect(keys('the query returned 500 rows and got 404 results')).toEqual([]);
    expect(keys('I saw 500 people at the conference; we are seeing 404 new signups a day')).toEqual([]);
    expect(keys('process exited with exit status 127')).toEqual([]);
  });

  it('derives what a status implies', () => {
    expect(keys('HTTP/1.1 407 Proxy Authentication Required')).toEqual(['http.status=407', 'proxy.auth_required']);
    expect(keys('HTTP/1.1 499 Client Closed Request')).toEqual(['client.closed', 'http.status=499']);
  });

  it('names products from headers and footers', () => {
    expect(keys('< server: istio-envoy\n< x-envoy-upstream-service-time: 12')).toEqual(['http.server=istio']);
    expect(keys('Server: cloudflare\nCF-RAY: 8a1b2c3d4e5f6a7b-FRA')).toEqual(['http.server=cloudflare']);
    expect(keys('< Server: awselb/2.0')).toEqual(['http.server=aws-alb']);
    expect(keys('< Server: Microsoft-IIS/10.0')).toEqual(['http.server=iis']);
    expect(keys('X-Squid-Error: ERR_ACCESS_DENIED 0')).toEqual(['http.server=squid']);
    expect(keys('X-Kong-Upstream-Latency: 3')).toEqual(['http.server=kong']);
    expect(keys('<hr><center>nginx/1.25.4</center>')).toEqual(['http.body.error_page', 'http.server=nginx']);
    expect(keys('404 Not Found\nopenresty/1.21.4.1')).toEqual(['http.body.error_page', 'http.server=openresty', 'http.status=404']);
    expect(keys('we run nginx behind the firewall')).toEqual([]);
  });

  it('reads Via as a hop, and a forward proxy when it names no CDN', () => {
    expect(keys('< Via: 1.1 proxy01.corp.example (squid/5.7)')).toEqual(['http.server=squid', 'proxy.forward']);
    expect(keys('< Via: 1.1 bluecoat-sg')).toEqual(['proxy.forward']);
    expect(keys('via: 1.1 google')).toEqual(['http.server=gcp-lb']);
  });

  it('reads Retry-After', () => {
    expect(keys('HTTP/1.1 503 Service Unavailable\nRetry-After: 120')).toEqual(['http.retry_after=120', 'http.status=503']);
    expect(keys('< retry-after: Wed, 21 Oct 2026 07:28:00 GMT')).toEqual(['http.retry_after=date']);
  });

  it('reads default error pages of Apache, IIS and Go', () => {
    expect(
      keys(
        'Proxy Error\nThe proxy server received an invalid\nresponse from an upstream server.\nApache/2.4.58 (Ubuntu) Server at www.example.org Port 443',
      ),
    ).toEqual(['http.body.error_page', 'http.server=apache', 'http.status=502']);
    expect(keys('Reason: DNS lookup failure for: backend.local')).toEqual(['proxy.upstream_error=host_not_found']);
    expect(keys('HTTP Error 503. The service is unavailable.')).toEqual(['http.body.error_page', 'http.server=iis', 'http.status=503']);
    expect(keys('Client sent an HTTP request to an HTTPS server.')).toEqual(['http.status=400', 'tls.error=http_to_https_port']);
    expect(
      keys(
        "Bad Request\nYour browser sent a request that this server could not understand.\nReason: You're speaking plain HTTP to an SSL-enabled server port.",
      ),
    ).toEqual(expect.arrayContaining(['http.server=apache', 'tls.error=http_to_https_port']));
  });

  it('reads CONNECT and OPTIONS request lines', () => {
    expect(keys('> CONNECT api.example.com:443 HTTP/1.1\n> Host: api.example.com:443')).toEqual(['http.method=CONNECT']);
    expect(keys('10.0.0.1 - - [01/Jan/2025:00:00:00 +0000] "OPTIONS /v1/items HTTP/1.1" 401 0')).toEqual(['http.method=OPTIONS']);
  });

  it('names Traefik and Caddy from their log wording', () => {
    expect(
      keys(`time="2025-06-12T10:41:07Z" level=debug msg="'504 Gateway Timeout' caused by: dial tcp 10.0.0.5:80: i/o timeout"`),
    ).toEqual(['http.server=traefik', 'http.status=504']);
    expect(
      keys(
        '{"level":"error","ts":1718187667.1,"logger":"http.log.error","msg":"dial tcp 127.0.0.1:3000: connect: connection refused","status":502}',
      ),
    ).toEqual(['http.server=caddy', 'http.status=502']);
  });

  it('reads Traefik JSON access logs', () => {
    expect(keys('{"DownstreamStatus": 499, "RequestMethod": "GET", "Duration": 30000412}')).toEqual([
      'client.closed',
      'http.server=traefik',
      'http.status=499',
    ]);
  });
});

describe('http extractor: a status quoted in other languages', () => {
  it('reads "status code N" and IIS\'s "HTTP error N" as programs print them in other languages', () => {
    const cases: readonly [string, string][] = [
      ['HTTP-Fehler 503. Der Dienst ist nicht verfügbar.', '503'],
      ['Falha na requisição com código de status 502', '502'],
      ["La requête a échoué avec le code d'état 504", '504'],
      ['Запрос завершился с кодом ответа 403', '403'],
      ['リクエストがステータスコード 401 で失敗しました', '401'],
      ['요청이 상태 코드 429로 실패했습니다', '429'],
    ];
    for (const [text, code] of cases) expect(keys(text), text).toContain(`http.status=${code}`);
    // Spring's RestTemplate: a logged request that resulted in a status (but "this results in a 502" describes).
    expect(keys('GET request for "http://auth/validate" resulted in 401 (Unauthorized); invoking error handler')).toContain(
      'http.status=401',
    );
  });
});
