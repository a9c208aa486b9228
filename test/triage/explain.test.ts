import { describe, expect, it } from 'vitest';
import { requiredLiterals } from '../../src/evidence/literals.js';
import { createEngine } from '../../src/triage/engine.js';
import { readJsonl, SAMPLE_FILE } from '../support/corpus.js';

const engine = createEngine();

describe('explain', () => {
  it('ranks each of several independent problems in one paste', () => {
    const paste = [
      '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop, request: "GET /api HTTP/1.1", upstream: "http://10.0.3.4:8080/api", host: "shop"',
      'curl: (60) SSL certificate problem: certificate has expired',
      '2024/03/01 10:00:05 [error] 31#31: *9 access forbidden by rule, client: 203.0.113.7, server: shop, request: "GET /admin HTTP/1.1", host: "shop"',
    ].join('\n');
    const ids = engine.explain(paste).causes.map((c) => c.id);
    expect(ids.slice(0, 3).sort()).toEqual(['acl-deny', 'tls-cert-expired', 'upstream-refused']);
  });

  it('explains each score with the signals and the lines that produced them', () => {
    const d = engine.explain(
      'line one\n2024/03/01 10:00:00 [error] 1#1: *1 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 1.2.3.4',
    );
    const top = d.causes[0]!;
    expect(top.id).toBe('upstream-slow');
    expect(top.evidence.length).toBeGreaterThan(0);
    expect(top.evidence[0]).toEqual(expect.objectContaining({ line: 2, excerpt: expect.stringContaining('upstream timed out') }));
  });

  it('says what would separate two close causes', () => {
    const d = engine.explain(
      'HTTP/1.1 502 Bad Gateway\nServer: nginx/1.25.3\n\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>',
    );
    expect(d.causes.length).toBeGreaterThan(1);
    expect(d.causes[0]!.confidence).not.toBe('high');
    expect(d.next?.steps.length).toBeGreaterThan(0);
  });

  it('answers in Chinese with lang zh', () => {
    const d = engine.explain('curl: (60) SSL certificate problem: certificate has expired', { lang: 'zh' });
    expect(d.causes[0]!.title).toMatch(/[\u4e00-\u9fff]/);
    expect(d.causes[0]!.fixes[0]!.title).toMatch(/[\u4e00-\u9fff]/);
  });

  it('judges a JWT in the text against the clock it is given', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(Date.parse('2025-01-01T00:00:00Z') / 1000);
    const token = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'x', exp, iss: 'https://auth.example.com' })}.c2lnbmF0dXJl`;
    const text = `HTTP/1.1 401 Unauthorized\nAuthorization: Bearer ${token}`;
    const after = engine.explain(text, { now: new Date('2025-01-01T03:00:00Z') });
    expect(after.causes[0]!.id).toBe('token-expired');
    expect(JSON.stringify(after)).not.toContain(token.split('.')[1]);
    const before = engine.explain(text, { now: new Date('2024-12-31T23:00:00Z') });
    expect(before.causes[0]?.id).not.toBe('token-expired');
  });
});

describe('knowledge patterns generalise', () => {
  // A pattern may match a product's fixed wording ("connect() failed (111: Connection refused) while
  // connecting to upstream"), which every report of that error contains; it may not be one user's line.
  it('copies no line of the shared evaluation sample verbatim', () => {
    const lines = readJsonl(SAMPLE_FILE).flatMap((s) =>
      s.text
        .toLowerCase()
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length >= 50),
    );
    const copied: string[] = [];
    for (const e of engine.kb.entries.values()) {
      for (const p of e.patterns) {
        const pieces = [...(requiredLiterals(p.regex, false) ?? []), ...(p.sample ? [p.sample.toLowerCase()] : [])];
        for (const piece of pieces) {
          const line = lines.find((l) => l.includes(piece) && piece.length >= 0.8 * l.length);
          if (line) copied.push(`${e.id}#${p.id}: "${piece}" is most of the sample line "${line}"`);
        }
      }
    }
    expect(copied).toEqual([]);
  });
});

describe('explain: mechanisms named by products and tools, whatever the sentence around them', () => {
  const top = (text: string) => engine.explain(text).causes[0]?.id;
  it.each([
    // cURL 28 says which phase timed out; PHP's GuzzleHttp\Exception\ConnectException is no JVM ConnectException.
    ['GuzzleHttp\\Exception\\ConnectException: cURL error 28: Resolving timed out after 2514 milliseconds', 'dns-failure'],
    ['GuzzleHttp\\Exception\\ConnectException: cURL error 28: Operation timed out after 67171 milliseconds', 'upstream-slow'],
    // Laravel's 419 view before and after Laravel 6.
    ['419\n“Sorry, your session has expired. Please refresh and try again.”', 'csrf-failure'],
    ['419 | Page Expired', 'csrf-failure'],
    // URL filters and Chinese cloud WAFs.
    ['Unable to tunnel through proxy. Proxy returns "HTTP/1.1 403 Request blocked by Privoxy"', 'acl-deny'],
    ['当前访问疑似黑客攻击，已被网站管理员设置为拦截', 'waf-block'],
    // A certificate-expiry alert firing.
    ['[FIRING:1] CertManagerCertExpirySoon (jellyfin/jellyfin-tls warning)', 'tls-cert-expired'],
    // Winsock 10060 is a connect timeout, not a stale pooled connection.
    [
      'dial tcp 112.19.5.225:443: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.',
      'firewall-drop',
    ],
    // Fly.io's proxy, in its own words.
    ['proxy[e784] fra [error] instance refused connection. is your app listening on 0.0.0.0:8080?', 'upstream-refused'],
    [
      '[error] could not find a good candidate within 90 attempts at load balancing. last error: no known healthy instances found for route tcp/443.',
      'upstream-unhealthy',
    ],
    // Cloudflare's plain-text body, and a 52x with Cloudflare's own title.
    ['error code: 522', 'upstream-connect-timeout'],
    ['Error 525 SSL handshake failed', 'upstream-tls-failure'],
    // grpc-js prints the number and the name; git prints curl's exit code its own way.
    ['Error: 14 UNAVAILABLE: No connection established', 'upstream-refused'],
    ['error: RPC failed; curl 56 GnuTLS recv error (-9): A TLS packet with unexpected length was received.', 'network-unstable'],
    // Hystrix giving up; Maven quoting the JVM's "Connection reset"; nginx's 414.
    ['com.netflix.hystrix.exception.HystrixRuntimeException: OrderClient#get() timed-out and no fallback available.', 'upstream-slow'],
    [
      '[ERROR] Could not transfer artifact org:x:pom:1.0 from/to central (https://repo.maven.apache.org/maven2): transfer failed for https://repo.maven.apache.org/maven2/org/x.pom: Connection reset',
      'upstream-closed-early',
    ],
    ['414 Request-URI Too Large', 'header-too-large'],
    // A proxy's 5xx-rate alert firing.
    ['[FIRING:1] NginxHighHttp5xxErrorRate (nginx-ingress warning) Too many HTTP requests with status 5xx (> 5%)', 'upstream-unhealthy'],
  ])('%s → %s', (text, cause) => {
    expect(top(text)).toBe(cause);
  });

  it('gives no cause to a pipe that broke on a full disk, nor to an alert rule being defined', () => {
    expect(
      engine.explain(
        '- alert: NginxHighHttp5xxErrorRate\n  expr: sum(rate(nginx_http_requests_total{status=~"^5.."}[1m])) > 5\n  labels:\n    severity: critical',
      ).causes,
    ).toEqual([]);
    // The same definition as lines of a diff.
    expect(
      engine.explain(
        '+      - alert: HAProxyHighRoute5xxResp\n+        expr: sum by (route) (irate(haproxy_server_http_responses_total{code="5xx"}[5m])) > 5\n+        for: 5m',
      ).causes,
    ).toEqual([]);
    expect(engine.explain('gzip: write error: No space left on device\ntar: write error: Broken pipe').causes).toEqual([]);
    expect(
      engine.explain("  alert: 'BlackboxSslCertificateWillExpireSoon',\n  expr: probe_ssl_earliest_cert_expiry - time() < 86400 * 14")
        .causes,
    ).toEqual([]);
  });
});

describe('explain: statuses and losses whatever language the tool printed them in', () => {
  it("reads .NET's WebException status in any language, and Windows ping's loss wrapped to the next line", () => {
    expect(
      engine
        .explain('System.Net.WebException: El servidor remoto devolvió un error: (502) Puerta de enlace no válida.')
        .signals.map((s) => s.signal),
    ).toContain('http.status=502');
    const ping = engine.explain(
      'Estadísticas de ping para 8.8.8.8:\n    Paquetes: enviados = 4, recibidos = 2, perdidos = 2\n    (50% perdidos),',
    );
    expect(ping.causes[0]?.id).toBe('network-unstable');
  });
});
