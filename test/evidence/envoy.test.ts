import { describe, expect, it } from 'vitest';
import { ENVOY_PATTERNS, envoyExtractor } from '../../src/evidence/envoy.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(envoyExtractor, text);
const access = (rest: string) =>
  `[2025-06-12T10:41:07.118Z] "POST /v1/pay HTTP/1.1" ${rest} "10.0.0.4" "okhttp/4.12.0" "6f1c2a" "pay.internal:8080" "10.8.3.21:8080"`;

const SAMPLES = [
  access('503 UF 0 91 3 -'),
  access('504 UT 0 24 15001 -'),
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111',
  'no healthy upstream',
];

proxyConformance(envoyExtractor, ENVOY_PATTERNS, SAMPLES);

describe('envoy extractor', () => {
  it('reads the default access log: status, flags, duration', () => {
    expect(keys(access('503 UH 0 19 0 -'))).toEqual([
      'envoy.flag=UH',
      'http.server=envoy',
      'http.status=503',
      'proxy.upstream_error=no_live_upstreams',
      'timing.duration_s=0',
    ]);
    expect(keys(access('504 UT 0 24 15001 -'))).toEqual([
      'envoy.flag=UT',
      'http.server=envoy',
      'http.status=504',
      'proxy.upstream_error=read_timeout',
      'timing.duration_s=15.001',
      'timing.near_timeout=envoy_route_15s',
    ]);
    expect(keys(access('503 UO 0 81 0 -'))).toContain('limit.overload');
    expect(keys(access('0 DC 0 0 2210 -'))).toContain('client.closed');
    expect(keys(access('503 UF,URX 0 91 30 -'))).toEqual(expect.arrayContaining(['envoy.flag=UF', 'envoy.flag=URX']));
  });

  it("reads Istio's format with details and the transport failure", () => {
    const line =
      '[2025-06-12T10:41:07.118Z] "GET /health HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure|delayed_connect_error:_111} - "delayed_connect_error:_111" 0 145 1 - "-" "curl/8.5.0" "9a1" "web:80" "10.8.1.4:8080" outbound|80||web.default.svc.cluster.local - 10.96.0.12:80 10.8.2.9:51234 - default';
    expect(keys(line)).toEqual([
      'envoy.details=upstream_reset_before_response_started{connection_failure}',
      'envoy.flag=UF',
      'http.server=envoy',
      'http.status=503',
      'proxy.upstream_error=connection_refused',
      'timing.duration_s=0.001',
    ]);
    expect(keys(`${line}\nistio-proxy sidecar`)).toContain('http.server=istio');
  });

  it('reads long flag names and JSON / key=value logs', () => {
    expect(keys('{"response_code":503,"response_flags":"NoHealthyUpstream","duration":2}')).toEqual(
      expect.arrayContaining(['envoy.flag=UH', 'proxy.upstream_error=no_live_upstreams', 'timing.duration_s=0.002']),
    );
    expect(
      keys('response_code="502" response_code_details="upstream_reset_before_response_started{remote_reset}" response_flags="UR"'),
    ).toEqual(
      expect.arrayContaining([
        'envoy.details=upstream_reset_before_response_started{remote_reset}',
        'envoy.flag=UR',
        'proxy.upstream_error=reset',
      ]),
    );
  });

  it("reads Envoy's local-reply bodies", () => {
    expect(keys('upstream connect error or disconnect/reset before headers. reset reason: connection termination')).toEqual([
      'envoy.details=upstream_reset_before_response_started{connection_termination}',
      'http.server=envoy',
      'http.status=503',
      'proxy.upstream_error=prematurely_closed',
    ]);
    expect(
      keys('upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection timeout'),
    ).toContain('proxy.upstream_error=connect_timeout');
    expect(
      keys(
        'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
      ),
    ).toContain('proxy.upstream_error=tls_verify');
    expect(keys('HTTP/1.1 503 Service Unavailable\nserver: envoy\n\nno healthy upstream')).toEqual([
      'envoy.details=no_healthy_upstream',
      'http.server=envoy',
      'proxy.upstream_error=no_live_upstreams',
    ]);
    expect(keys('upstream request timeout')).toContain('proxy.upstream_error=read_timeout');
    expect(keys('RBAC: access denied')).toContain('access.denied_rule');
  });

  it('does not read an Apache or nginx access log as Envoy', () => {
    expect(keys('10.0.0.1 - - [12/Jun/2025:10:41:07 +0000] "GET / HTTP/1.1" 304 - "-" "Mozilla/5.0"')).toEqual([]);
    expect(keys('10.0.0.1 - - [12/Jun/2025:10:41:07 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.5.0"')).toEqual([]);
  });
});
