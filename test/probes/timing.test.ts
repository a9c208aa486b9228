import { describe, expect, it } from 'vitest';
import { isNear, longerIdleTimeouts, nearTimeout, nearTimeoutSignal, TYPICAL_TIMEOUTS } from '../../src/probes/timing.js';

describe('nearTimeout', () => {
  it.each([
    [60_020, undefined, 'nginx_proxy_read_60s'],
    [61_400, undefined, 'nginx_proxy_read_60s'],
    [57_100, undefined, 'nginx_proxy_read_60s'],
    [60_000, 'aws-alb', 'alb_idle_60s'],
    [60_000, 'ingress-nginx', 'nginx_proxy_read_60s'],
    [100_300, undefined, 'cloudflare_100s'],
    [97_000, 'cloudflare', 'cloudflare_100s'],
    [30_050, 'haproxy', 'haproxy_timeout_server'],
    [50_400, undefined, 'haproxy_timeout_server'],
    [30_050, 'gcp-lb', 'gcp_lb_backend_30s'],
    [15_010, undefined, 'envoy_route_15s'],
    [15_400, 'istio', 'envoy_route_15s'],
    [29_020, undefined, 'aws_apigateway_29s'],
    [20_300, undefined, 'azure_appgw_20s'],
  ])('%d ms (server %s) lands on %s', (ms, server, name) => {
    expect(nearTimeout(ms, server ? { server } : {})?.mark.name).toBe(name);
  });

  it.each([0, -5, Number.NaN, 5_000, 42_000, 75_000, 120_000, 14_000])('%d ms lands on nothing', (ms) => {
    expect(nearTimeout(ms)).toBeUndefined();
  });

  it('the tolerance is ±5 % of the mark, or ±0.5 s for short marks', () => {
    const fifteen = TYPICAL_TIMEOUTS.find((m) => m.seconds === 15)!;
    expect(isNear(15.74, fifteen)).toBe(true);
    expect(isNear(15.76, fifteen)).toBe(false);
    expect(isNear(10.5, { seconds: 10, name: 'x', label: 'x' })).toBe(true);
    expect(isNear(10.51, { seconds: 10, name: 'x', label: 'x' })).toBe(false);
  });

  it('29.5 s is closer to API Gateway (29 s) than to the 30 s marks', () => {
    expect(nearTimeout(29_400)?.mark.name).toBe('aws_apigateway_29s');
    expect(nearTimeout(29_600)?.mark.name).toBe('haproxy_timeout_server');
  });

  it('a timeout measured in this run wins', () => {
    const measured = [{ seconds: 45, name: 'measured_proxy_45s', label: 'the proxy timeout measured in this run' }];
    expect(nearTimeout(45_300, { measured })?.mark.name).toBe('measured_proxy_45s');
    expect(nearTimeout(60_000, { measured })?.mark.name).toBe('nginx_proxy_read_60s');
  });

  it('says what it lands on, and what else has the same value', () => {
    const near = nearTimeout(60_020, { what: '504' });
    expect(near?.excerpt).toBe(
      "504 after 60.02 s: lands on nginx's default proxy_read_timeout (60 s); also ingress-nginx's default proxy-read-timeout (60 s), the AWS ALB's default idle timeout (60 s)",
    );
    expect(nearTimeoutSignal(100_000, 'http', { what: '504' })).toEqual({
      name: 'timing.near_timeout',
      value: 'cloudflare_100s',
      excerpt: "504 after 100 s: lands on Cloudflare's proxy read timeout (100 s)",
      source: 'http',
    });
    expect(nearTimeoutSignal(3_000, 'http')).toBeUndefined();
  });
});

describe('longerIdleTimeouts', () => {
  it('lists the proxy idle timeouts a backend idle timeout is shorter than, shortest first', () => {
    expect(longerIdleTimeouts(5_000).map((m) => m.seconds)).toEqual([10, 60, 60, 90, 600, 3600]);
    expect(longerIdleTimeouts(65_000).map((m) => m.seconds)).toEqual([90, 600, 3600]);
    expect(longerIdleTimeouts(4_000_000)).toEqual([]);
  });
});
