// Mechanisms added in session 27 from the fifteenth fresh round (after it was scored): WebException's messages in
// the languages Windows prints them, WinHTTP's TLS codes, IIS stopping an application pool, and texts that tell of
// failures that are over (a postmortem) or being edited (a diff). The cases are other wordings than the corpus texts.
import { describe, expect, it } from 'vitest';
import { classifyLine, diffShown, retrospective } from '../../src/evidence/discourse.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const explain = (text: string) => engine.explain(text);
const signals = (text: string) => explain(text).signals.map((s) => s.signal);
const causes = (text: string) => explain(text).causes.map((c) => c.id);
const top = (text: string) => causes(text)[0];

describe("WebException's NameResolutionFailure and ConnectFailure, in the display language", () => {
  it('reads the remote name that did not resolve', () => {
    expect(top("Invoke-WebRequest : Der Remotename konnte nicht aufgelöst werden: 'nuget.example.org'")).toBe('dns-failure');
    expect(top("System.Net.WebException: O nome remoto não pôde ser resolvido: 'api.example.com.br'")).toBe('dns-failure');
    expect(signals("irm : 未能解析此远程名称: 'raw.githubusercontent.com'")).toContain('net.error=dns_not_found');
  });

  it('reads the remote server that could not be reached as a connection that failed', () => {
    expect(signals('Invoke-RestMethod : No es posible conectar con el servidor remoto')).toContain('net.error=connect_failed');
    expect(signals('curl : Невозможно соединиться с удаленным сервером')).toContain('net.error=connect_failed');
    expect(causes('Invoke-WebRequest : リモート サーバーに接続できません。').slice(0, 3)).toContain('upstream-refused');
  });
});

describe("WinHTTP's and WinINet's TLS errors", () => {
  it('reads them by name, by HRESULT and by number beside a WinHTTP word', () => {
    expect(top('WinHttpSendRequest failed: ERROR_WINHTTP_SECURE_CERT_DATE_INVALID')).toBe('tls-cert-expired');
    expect(top('Windows Update error 0x80072F8F: the secure connection failed')).toMatch(/^tls-/);
    expect(signals('Download failed with 0x80072F06')).toContain('tls.error=hostname_mismatch');
    expect(signals('WinHttpReceiveResponse returned 12157')).toContain('tls.error=handshake_failure');
    // A bare 12xxx is not WinHTTP's: Oracle's ORA-12157 is something else.
    expect(signals('ORA-12157: TNS:internal network communication error')).not.toContain('tls.error=handshake_failure');
  });
});

describe('IIS stopping an application pool', () => {
  it('reads the pool disabled after its worker failed, and HTTP.sys answering 503 for it, as a backend that is down', () => {
    const text =
      "Event 5002, WAS: Application pool 'Intranet' is being automatically disabled due to a series of failures in the process(es) serving that application pool.";
    expect(signals(text)).toContain('proxy.upstream_error=connection_refused');
    expect(top('Service Unavailable\n\nHTTP Error 503. The service is unavailable.')).toBe('upstream-refused');
  });
});

describe('failures that are over, or being edited', () => {
  it('reads a postmortem or an incident report as over', () => {
    expect(retrospective('Postmortem: elevated 502s on the checkout API')).toBe(true);
    expect(retrospective('The outage was caused by an expired certificate on the internal load balancer.')).toBe(true);
    expect(causes('Incident Report\n\nBetween 09:10 and 09:52 UTC our gateway answered 504 Gateway Time-out to 30 % of requests.')).toEqual(
      [],
    );
    // A live report that only says what it thinks the cause is still gets its answer.
    expect(retrospective('Our site returns 502 since the deploy, I think the root cause is the upstream')).toBe(false);
  });

  it('reads a line taken out and a line put in as a change shown, not a failure', () => {
    const diff =
      '-Requests fail with 504 Gateway Timeout after 60 s.\n+Requests fail with 504 Gateway Timeout after the proxy read timeout.';
    expect(diffShown(diff)).toBe(true);
    expect(causes(diff)).toEqual([]);
    // Markdown bullets are not a diff.
    expect(diffShown('- nginx returns 502\n+ 1 more')).toBe(false);
  });

  it("hears a blog's 'I'll show below' as its voice, not a report", () => {
    expect(
      classifyLine("When you get this error it usually means the upstream is slow, and there are easy fixes which I'll show below"),
    ).toBe('description');
  });
});

// From the sixteenth round (after it was scored): Kubernetes and CDN texts.
describe('a health check that says how it failed, and Kubernetes names', () => {
  it('ranks a probe refused as nothing listening and a probe timed out as a slow app, before "marked down"', () => {
    expect(
      top(
        'Warning  Unhealthy  kubelet  Readiness probe failed: Get "http://10.1.2.3:9000/ready": dial tcp 10.1.2.3:9000: connect: connection refused',
      ),
    ).toBe('upstream-refused');
    // A check that fails without saying how is still a backend marked down.
    expect(top('Warning  Unhealthy  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 503')).toBe('upstream-unhealthy');
  });

  it("reads kube-proxy's 'has no endpoints' rule and Go's DNS lookup timeout", () => {
    expect(top('-A KUBE-SERVICES -d 10.0.0.12/32 -p tcp -m comment --comment "shop/cart:http has no endpoints" -j REJECT')).toBe(
      'upstream-unhealthy',
    );
    expect(top('Get "https://api.internal/v1": dial tcp: lookup api.internal: i/o timeout')).toBe('dns-failure');
    expect(signals(';; connection timed out; no servers could be reached')).toContain('net.error=dns_temporary');
  });
});

describe("Cloudflare's own pages and codes", () => {
  it('reads its error page as a failure shown, however much it explains', () => {
    // The page as Cloudflare serves it, with its three-hop diagram (visitor, Cloudflare, origin).
    const page = [
      'Invalid SSL certificate Error code 526',
      'Visit cloudflare.com for more information.',
      '2025-11-02 08:14:55 UTC',
      'You',
      'Browser',
      'Working',
      'Frankfurt',
      'Cloudflare',
      'Working',
      'shop.example.com',
      'Host',
      'Error',
      'What happened?',
      'The origin web server does not have a valid SSL certificate.',
      'What can I do?',
      "If you're the owner of this website:",
      'Check your SSL configuration.',
      'Cloudflare Ray ID: 8a1b2c3d4e5f6a7b • Your IP: Click to reveal • Performance & security by Cloudflare',
    ].join('\n');
    expect(signals(page)).toContain('http.body.error_page');
    expect(causes(page)).not.toEqual([]);
  });

  it('reads "a 1020 error" as its WAF', () => {
    expect(top('Since this morning every POST returns a 1020 cloudflare error from the API')).toBe('waf-block');
  });
});
