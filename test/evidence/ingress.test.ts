import { describe, expect, it } from 'vitest';
import { INGRESS_PATTERNS, ingressExtractor } from '../../src/evidence/ingress.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(ingressExtractor, text);
const ingress = (status: string, requestTime: string, upstream: string) =>
  `10.42.0.1 - - [12/Jun/2025:10:41:07 +0000] "POST /api/report HTTP/1.1" ${status} 0 "-" "python-requests/2.32.3" 1834 ${requestTime} [shop-api-8080] [] ${upstream} 7c1f0e9a3b2d4c5e6f708192a3b4c5d6`;

const SAMPLES = [
  ingress('504', '60.003', '10.42.1.17:8080 0 60.001 504'),
  '203.0.113.5 - - [12/Jun/2025:10:41:07 +0000] "GET /index.php HTTP/1.1" 499 0 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
  'W0612 10:41:07.118342       7 controller.go:1214] Service "shop/api" does not have any active Endpoint.',
];

proxyConformance(ingressExtractor, INGRESS_PATTERNS, SAMPLES);

describe('ingress extractor', () => {
  it('reads the ingress-nginx access log', () => {
    expect(keys(ingress('504', '60.003', '10.42.1.17:8080 0 60.001 504'))).toEqual([
      'http.server=ingress-nginx',
      'http.status=504',
      'timing.duration_s=60.003',
      'timing.near_timeout=nginx_proxy_read_60s',
    ]);
    expect(keys(ingress('499', '12.441', '10.42.1.17:8080 0 12.440 -'))).toEqual([
      'client.closed',
      'http.server=ingress-nginx',
      'http.status=499',
      'timing.duration_s=12.441',
    ]);
  });

  it('reads upstream lists (retries) and internal redirects', () => {
    expect(keys(ingress('502', '30.512', '10.42.1.17:8080, 10.42.2.9:8080 0, 0 0.510, 30.001 502, 502'))).toContain(
      'timing.near_timeout=timeout_30s',
    );
    expect(keys(ingress('200', '0.120', '10.42.1.17:8080 : 10.42.2.9:8080 12 : 44 0.010 : 0.110 401 : 200'))).toEqual([
      'http.server=ingress-nginx',
      'http.status=200',
      'timing.duration_s=0.12',
    ]);
  });

  it('reads the plain combined log, naming nginx only when the text does', () => {
    const combined = '203.0.113.5 - - [12/Jun/2025:10:41:07 +0000] "GET /index.php HTTP/1.1" 502 157 "-" "Mozilla/5.0 (X11; Linux x86_64)"';
    expect(keys(combined)).toEqual(['http.status=502']);
    expect(keys(`$ tail /var/log/nginx/access.log\n${combined}`)).toEqual(['http.server=nginx', 'http.status=502']);
    expect(keys(combined.replace('502 157', '499 0'))).toEqual(['client.closed', 'http.server=nginx', 'http.status=499']);
  });

  it('reads named durations in custom and JSON formats', () => {
    expect(keys('{"status": "504", "request_time": "100.002", "upstream_response_time": "100.001"}')).toEqual([
      'timing.duration_s=100.001',
      'timing.duration_s=100.002',
      'timing.near_timeout=cloudflare_100s',
    ]);
    expect(keys('10.0.0.1 - - [12/Jun/2025:10:41:07 +0000] "GET / HTTP/1.1" 504 167 "-" "curl/8.5.0" rt=120.004 urt="120.001"')).toEqual(
      expect.arrayContaining(['timing.duration_s=120.004', 'timing.near_timeout=timeout_120s']),
    );
    expect(keys('set rt=60.001 in the router config')).toEqual([]);
  });

  it('reads the controller warning about a Service without endpoints', () => {
    expect(keys('W0612 10:41:07.118342       7 controller.go:1214] Service "shop/api" does not have any active Endpoint.')).toEqual([
      'http.server=ingress-nginx',
      'proxy.upstream_error=no_live_upstreams',
    ]);
  });
});
