import { describe, expect, it } from 'vitest';
import { HAPROXY_PATTERNS, haproxyExtractor } from '../../src/evidence/haproxy.js';
import { keysOf, proxyConformance } from './proxy-conformance.js';

const keys = (text: string) => keysOf(haproxyExtractor, text);
const http = (timers: string, status: string, state: string, server = 'web/app2') =>
  `Jun 12 10:41:07 lb1 haproxy[2211]: 192.0.2.44:51812 [12/Jun/2025:10:41:02.118] fe_https~ ${server} ${timers} ${status} 217 - - ${state} 12/12/3/1/0 0/0 "GET /api/orders HTTP/1.1"`;

const SAMPLES = [
  http('0/0/1/-1/30001', '504', 'sH--'),
  http('0/0/-1/-1/2', '503', 'SC--', 'web/<NOSRV>'),
  "[ALERT]    (8) : backend 'be_api' has no server available!",
  '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>',
];

proxyConformance(haproxyExtractor, HAPROXY_PATTERNS, SAMPLES);

describe('haproxy extractor: a client that left before its request was whole', () => {
  it('reads CR as the client closing', () => {
    expect(
      keys(
        'haproxy[18113]: 127.0.0.1:34548 [15/Oct/2003:15:18:55.798] px-http px-http/<NOSRV> -1/-1/-1/-1/8490 -1 0 - - CR-- 2/2/2/0/0 0/0 ""',
      ),
    ).toContain('client.closed');
  });
});

describe('haproxy extractor', () => {
  it('reads the HTTP log: status, termination state, timers', () => {
    expect(keys(http('0/0/1/-1/50002', '504', 'sH--'))).toEqual([
      'haproxy.termination=sH',
      'http.server=haproxy',
      'http.status=504',
      'proxy.upstream_error=read_timeout',
      'proxy.upstream_phase=reading_response_header',
      'timing.duration_s=50.002',
      'timing.near_timeout=haproxy_timeout_server',
    ]);
    expect(keys(http('0/0/-1/-1/2', '503', 'SC--', 'web/<NOSRV>'))).toEqual([
      'haproxy.no_server',
      'haproxy.termination=SC',
      'http.server=haproxy',
      'http.status=503',
      'proxy.upstream_error=no_live_upstreams',
      'timing.duration_s=0.002',
    ]);
    expect(keys(http('0/0/-1/-1/3003', '503', 'SC--', 'web/app3'))).toEqual(
      expect.arrayContaining(['proxy.upstream_error=connection_refused', 'proxy.upstream_phase=connecting']),
    );
    expect(keys(http('0/0/2/12/60012', '200', 'CD--'))).toContain('client.closed');
    expect(keys(http('0/0/2/-1/812', '502', 'SH--'))).toContain('proxy.upstream_error=prematurely_closed');
    expect(keys(http('0/30000/-1/-1/30000', '503', 'sQ--'))).toEqual(
      expect.arrayContaining(['limit.overload', 'timing.near_timeout=haproxy_timeout_queue']),
    );
    expect(keys(http('0/0/0/0/0', '403', 'PR--', 'fe_https/<NOSRV>'))).toContain('access.denied_rule');
  });

  it('reads the TCP log', () => {
    expect(keys('haproxy[90]: 10.0.0.8:41000 [12/Jun/2025:10:41:02.118] fe_pg be_pg/db1 1/-1/5001 0 sC 3/3/2/0/3 0/0')).toEqual(
      expect.arrayContaining(['haproxy.termination=sC', 'proxy.upstream_error=connect_timeout', 'timing.duration_s=5.001']),
    );
  });

  it('reads a termination state printed by a custom log-format when the text names HAProxy', () => {
    expect(keys('haproxy[4]: 10.0.0.2 "GET / HTTP/1.1" 502 0 "web" "app1" 0 0 -1 -1 12 SD-- 4 1 0 0 0')).toEqual(
      expect.arrayContaining(['haproxy.termination=SD', 'proxy.upstream_error=reset']),
    );
    expect(keys('With HAProxy the log shows `sQ` for those requests')).toContain('haproxy.termination=sQ');
    expect(keys('the SD-- card and the CD-- player')).toEqual([]);
  });

  it('reads server DOWN alerts and their health-check reason', () => {
    const alert =
      '[WARNING]  (8) : Server be_api/api3 is DOWN, reason: Layer4 connection problem, info: "No route to host", check duration: 3001ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
    expect(keys(alert)).toEqual([
      'haproxy.no_server',
      'http.server=haproxy',
      'proxy.upstream_error=host_unreachable',
      'proxy.upstream_error=no_live_upstreams',
    ]);
    expect(keys("[ALERT]    (8) : backend 'be_api' has no server available!")).toEqual([
      'haproxy.no_server',
      'http.server=haproxy',
      'proxy.upstream_error=no_live_upstreams',
    ]);
    expect(
      keys('Server be_api/api1 is DOWN, reason: Layer4 timeout, check duration: 2001ms. 2 active and 0 backup servers left.'),
    ).toContain('proxy.upstream_error=connect_timeout');
    expect(keys('Server be_api/api1 is DOWN, reason: Layer6 invalid response, info: "SSL handshake failure"')).toContain(
      'proxy.upstream_error=tls_handshake',
    );
  });

  it('reads resource alerts', () => {
    expect(keys("[WARNING] (1) : Proxy 'fe_main' reached process FD limit (maxsock=4096). Please check 'ulimit-n' and restart.")).toContain(
      'limit.connections',
    );
  });

  it("reads HAProxy's built-in error pages", () => {
    expect(keys('<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>')).toEqual([
      'http.body.error_page',
      'http.server=haproxy',
      'http.status=503',
      'proxy.upstream_error=no_live_upstreams',
    ]);
    expect(keys("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>")).toContain(
      'proxy.upstream_error=read_timeout',
    );
    expect(keys("The server didn't respond in time.")).toEqual([]);
  });
});
