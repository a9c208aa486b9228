import { describe, expect, it } from 'vitest';
import { CLOUD_PATTERNS, cloudExtractor } from '../../src/evidence/cloud.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(cloudExtractor, text);

/** An ALB log line (fields per the ALB access-log documentation). */
function alb(o: { times: string; elb: string; target: string; end: string; created?: string; error?: string; type?: string }): string {
  const tail = o.created ? ` 1 ${o.created} "forward" "-" "${o.error ?? '-'}" "10.2.3.4:8080" "-" "-" "-"` : '';
  return `${o.type ?? 'https'} ${o.end} app/prod-web/5f2a1c0d9e8b7a6c 198.51.100.7:53122 10.2.3.4:8080 ${o.times} ${o.elb} ${o.target} 512 203 "POST https://shop.example.com:443/api/checkout HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0a1b2c3d "Root=1-66696b13-0123456789abcdef" "shop.example.com" "arn:aws:acm:eu-west-1:111122223333:certificate/abc"${tail}`;
}

const SAMPLES = [
  alb({ times: '0.001 -1 -1', elb: '504', target: '-', end: '2025-06-12T10:42:07.120000Z', created: '2025-06-12T10:41:07.118000Z' }),
  '<title>shop.example.com | 522: Connection timed out</title>',
  '"statusDetails": "backend_timeout"',
  '{"message": "Endpoint request timed out"}',
];

proxyConformance(cloudExtractor, CLOUD_PATTERNS, SAMPLES);

describe('cloud extractor', () => {
  it('reads ALB 504s: connect timeout vs idle timeout, with the duration', () => {
    expect(
      keys(alb({ times: '-1 -1 -1', elb: '504', target: '-', end: '2025-06-12T10:41:17.119000Z', created: '2025-06-12T10:41:07.118000Z' })),
    ).toEqual([
      'alb.error=target_no_response',
      'http.server=aws-alb',
      'http.status=504',
      'timing.duration_s=10.001',
      'timing.near_timeout=alb_connect_10s',
    ]);
    expect(
      keys(
        alb({ times: '0.001 -1 -1', elb: '504', target: '-', end: '2025-06-12T10:42:07.120000Z', created: '2025-06-12T10:41:07.118000Z' }),
      ),
    ).toEqual([
      'alb.error=target_timeout',
      'http.server=aws-alb',
      'http.status=504',
      'timing.duration_s=60.002',
      'timing.near_timeout=alb_idle_60s',
    ]);
  });

  it('reads ALB 502 / 503 / 460 and Lambda errors', () => {
    expect(keys(alb({ times: '0.000 3.118 -1', elb: '502', target: '-', end: '2025-06-12T10:41:07.118000Z' }))).toContain(
      'alb.error=target_closed',
    );
    expect(keys(alb({ times: '-1 -1 -1', elb: '502', target: '-', end: '2025-06-12T10:41:07.118000Z' }))).toContain(
      'alb.error=target_refused',
    );
    expect(keys(alb({ times: '-1 -1 -1', elb: '503', target: '-', end: '2025-06-12T10:41:07.118000Z' }))).toContain('alb.error=no_targets');
    expect(keys(alb({ times: '0.000 -1 -1', elb: '460', target: '-', end: '2025-06-12T10:41:07.118000Z' }))).toEqual(
      expect.arrayContaining(['alb.error=client_closed_460', 'client.closed']),
    );
    expect(
      keys(
        alb({
          times: '0.000 0.120 -1',
          elb: '502',
          target: '-',
          end: '2025-06-12T10:41:07.238000Z',
          created: '2025-06-12T10:41:07.118000Z',
          error: 'LambdaUnhandled',
        }),
      ),
    ).toContain('alb.error=lambda_error');
    // The target answered 502 itself: not an ALB-generated error.
    expect(keys(alb({ times: '0.000 0.120 0.000', elb: '502', target: '502', end: '2025-06-12T10:41:07.238000Z' }))).not.toContain(
      'alb.error=target_closed',
    );
  });

  it('reads classic ELB logs', () => {
    expect(
      keys(
        '2025-06-12T10:41:07.118000Z legacy-lb 198.51.100.7:53122 10.2.3.4:80 0.000041 -1 -1 504 0 0 0 "GET http://legacy.example.com:80/ HTTP/1.1" "curl/8.5.0" - -',
      ),
    ).toEqual(['alb.error=target_timeout', 'http.server=aws-elb', 'http.status=504']);
  });

  it('reads Cloudflare error pages', () => {
    expect(keys('<title>shop.example.com | 522: Connection timed out</title>')).toEqual([
      'cloudflare.error=522',
      'http.server=cloudflare',
      'proxy.upstream_error=connect_timeout',
    ]);
    expect(keys('A timeout occurred\nError code 524\nVisit cloudflare.com for more information.')).toEqual([
      'cloudflare.error=524',
      'http.server=cloudflare',
      'proxy.upstream_error=read_timeout',
      'timing.near_timeout=cloudflare_100s',
    ]);
    expect(keys('Access denied\nError code 1020\nRay ID: 8a1b2c3d4e5f6a7b')).toEqual([
      'access.waf',
      'cloudflare.error=1020',
      'http.server=cloudflare',
    ]);
    expect(keys('Error 1015\nYou are being rate limited\nCloudflare Ray ID: 8a1b2c3d4e5f6a7b')).toEqual([
      'cloudflare.error=1015',
      'http.server=cloudflare',
      'limit.rate',
    ]);
    expect(keys('< HTTP/2 521\n< server: cloudflare')).toContain('proxy.upstream_error=connection_refused');
    expect(keys('<title>Attention Required! | Cloudflare</title>')).toEqual(['access.waf', 'http.server=cloudflare']);
    expect(keys('Error 522 in our own app, see ticket')).toEqual([]);
  });

  it('reads Google Cloud load balancer statusDetails and its 502 page', () => {
    expect(keys('"statusDetails": "backend_connection_closed_before_data_sent_to_client"')).toEqual([
      'http.server=gcp-lb',
      'proxy.upstream_error=prematurely_closed',
    ]);
    expect(keys('jsonPayload.statusDetails="failed_to_pick_backend"')).toContain('proxy.upstream_error=no_live_upstreams');
    expect(keys('"statusDetails": "backend_timeout"')).toContain('proxy.upstream_error=read_timeout');
    expect(
      keys(
        'Error: Server Error\nThe server encountered a temporary error and could not complete your request.\nPlease try again in 30 seconds.',
      ),
    ).toEqual(['http.body.error_page', 'http.server=gcp-lb', 'http.status=502']);
  });

  it("reads a load balancer's own metrics in alerts, as CloudWatch and Datadog name them", () => {
    // CloudWatch's alarm e-mail/SNS text (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html) with the ALB's metric names.
    expect(
      keys(
        'ALARM: "shop-alb-unhealthy" in US East (N. Virginia)\nThreshold Crossed: 1 out of the last 1 datapoints [2.0 (06/12/26 10:00:00)] was greater than the threshold (0.0)\nMetricName: UnHealthyHostCount\nNamespace: AWS/ApplicationELB',
      ),
    ).toEqual(['http.server=aws-alb', 'lb.metric=unhealthy_hosts']);
    expect(keys('ALARM: "api-504" MetricName: HTTPCode_ELB_504_Count > 10')).toEqual([
      'http.server=aws-alb',
      'http.status=504',
      'lb.metric=elb_504',
    ]);
    expect(keys('ALARM: TargetConnectionErrorCount > 0 on app/shop-alb/0a1b2c')).toContain('lb.metric=target_connection_errors');
    // Datadog's metric names (docs.datadoghq.com/integrations/amazon_elb/).
    expect(keys('Triggered: sum:aws.applicationelb.httpcode_elb_5xx{loadbalancer:app/shop-alb/0a1b2c} > 50 for the last 5m')).toEqual([
      'http.server=aws-alb',
      'lb.metric=lb_5xx',
    ]);
    expect(keys('Triggered: avg:aws.elb.surge_queue_length{*} > 100')).toEqual(['http.server=aws-elb', 'lb.metric=surge_queue']);
    expect(keys('[P2] ALB 5XX above threshold on shop-alb')).toEqual(['lb.metric=lb_5xx']);
  });

  it('takes a metric named outside an alert (a runbook, a dashboard list) for no failure', () => {
    expect(keys('We alert on HTTPCode_ELB_5XX_Count and UnHealthyHostCount; see the runbook.')).toEqual([]);
    expect(keys('Our dashboards show ALB 5XX per target group.')).toEqual([]);
  });

  it('reads API Gateway integration timeouts', () => {
    expect(keys('{"message": "Endpoint request timed out"}')).toEqual([
      'http.server=aws-apigateway',
      'proxy.upstream_error=read_timeout',
      'timing.near_timeout=aws_apigateway_29s',
    ]);
  });
});
