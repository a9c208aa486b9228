import { describe, expect, it } from 'vitest';
import { browserExtractor } from '../../src/evidence/browser.js';
import { genericExtractor } from '../../src/evidence/generic.js';
import { httpExtractor } from '../../src/evidence/http.js';
import { pingExtractor } from '../../src/evidence/ping.js';
import { createEngine } from '../../src/triage/engine.js';
import { keysOf } from './conformance-kit.js';

const engine = createEngine();
const top = (text: string) => engine.explain(text).causes[0]?.id;

describe('what monitors post when a check fails', () => {
  it("reads a down alert's reason and a certificate said to be expired in plain words", () => {
    expect(keysOf(genericExtractor, 'Website Down: Example (https://example.com) Status Code: 0 Reason: Connection timeout')).toContain(
      'net.error=connect_timeout',
    );
    expect(keysOf(genericExtractor, 'Incident started: https://example.com is down. Cause: Timeout (no headers received)')).toContain(
      'net.error=timeout',
    );
    expect(keysOf(genericExtractor, 'Monitor is DOWN: Blog ( https://blog.example.com ) - Reason: SSL Expired')).toContain(
      'tls.error=cert_expired',
    );
    expect(keysOf(genericExtractor, '[FIRING:1] BlackboxSslCertificateExpired\nSSL certificate has expired already')).toContain(
      'tls.error=cert_expired',
    );
    expect(keysOf(genericExtractor, 'Problem: Web scenario "Homepage" failed: Timeout was reached')).toContain('net.error=timeout');
    // A setting is not a reason.
    expect(keysOf(genericExtractor, 'connection timeout: 30s')).toEqual([]);
  });

  it("reads Nagios' ping and host checks", () => {
    expect(keysOf(pingExtractor, 'PING CRITICAL - Packet loss = 100%')).toEqual(['net.loss_seen', 'net.packet_loss=100', 'net.all_lost']);
    expect(keysOf(pingExtractor, 'PING WARNING - Packet loss = 30%, RTA = 250.32 ms')).toContain('net.packet_loss=30');
    expect(keysOf(pingExtractor, 'PING OK - Packet loss = 0%, RTA = 0.32 ms')).toEqual([]);
    expect(keysOf(pingExtractor, 'CRITICAL - Host Unreachable (10.0.0.5)')).toEqual(['net.error=host_unreachable']);
  });

  it("ranks a load balancer's latency alarm and a Cloudflare-only status without more words", () => {
    expect(
      top(
        'ALARM: "TargetResponseTime-high" in US East (N. Virginia)\nThreshold Crossed: 1 datapoint [12.5 (01/01/23 10:00:00)] was greater than the threshold (10.0).',
      ),
    ).toBe('upstream-slow');
    expect(keysOf(httpExtractor, 'Could not contact entitlement service. Status code: 522, error message: 0/')).toEqual([
      'http.status=522',
      'cloudflare.error=522',
    ]);
  });
});

describe("browsers' own error texts", () => {
  it("reads NSPR's error codes from Firefox's error page", () => {
    expect(keysOf(browserExtractor, 'An error occurred during a connection to freebee.fun. PR_CONNECT_RESET_ERROR')).toContain(
      'net.error=connection_reset',
    );
    expect(keysOf(browserExtractor, 'Error code: PR_END_OF_FILE_ERROR')).toContain('tls.error=reset_during_handshake');
    expect(keysOf(browserExtractor, 'pr_number_error is a field')).toEqual([]);
  });

  it("keeps Chrome's interstitial in Chinese from silencing its certificate error", () => {
    expect(top('攻击者可能会试图从www.google.com窃取您的信息（例如：密码、通讯内容或信用卡信息）。 NET::ERR_CERT_AUTHORITY_INVALID')).toBe(
      'tls-cert-untrusted',
    );
  });
});

describe('mechanisms in plain words, whatever program wrote them', () => {
  it('reads names that would not resolve, callers without rights, unusable responses and answers that took too long', () => {
    expect(keysOf(genericExtractor, 'DNS lookup failed for api.example.com')).toContain('net.error=dns_not_found');
    expect(keysOf(genericExtractor, 'Error: failed to resolve host api.internal')).toContain('net.error=dns_not_found');
    expect(keysOf(genericExtractor, "Module not found: Error: Can't resolve './Button'")).toEqual([]);
    expect(keysOf(genericExtractor, 'The client does not have sufficient permission')).toContain('auth.forbidden_role');
    expect(keysOf(genericExtractor, 'Error: insufficient permissions to perform this action')).toContain('auth.forbidden_role');
    expect(keysOf(genericExtractor, 'server returned a malformed response')).toContain('net.error=proto_error');
    expect(keysOf(genericExtractor, 'The request took too long to complete')).toContain('net.error=timeout');
    expect(keysOf(httpExtractor, 'Gateway timeout from upstream')).toContain('http.status=504');
    // A kind of timeout named as the failure, and the same words as a setting.
    expect(keysOf(genericExtractor, 'ERROR connection timeout after 30000 ms')).toContain('net.error=connect_timeout');
    expect(keysOf(genericExtractor, 'java.lang.RuntimeException: connection timeout')).toContain('net.error=connect_timeout');
    expect(keysOf(genericExtractor, 'level=error msg="request timeout"')).toContain('net.error=timeout');
    expect(keysOf(genericExtractor, 'connection timeout: 30s')).toEqual([]);
    expect(keysOf(genericExtractor, 'Set the connection timeout to 30 seconds.')).toEqual([]);
    // sshd's pre-authentication noise is about SSH sessions, not HTTP.
    expect(keysOf(genericExtractor, 'Jan 10 10:00:00 host sshd[1234]: Connection closed by 203.0.113.5 port 51234 [preauth]')).toEqual([]);
    expect(keysOf(genericExtractor, 'upstream: connection closed unexpectedly')).toContain('net.error=unexpected_eof');
  });

  it('ranks overload, down backends, bad credentials and oversized headers said in plain words', () => {
    expect(top('fatal: remote error: Server is busy, please try again later')).toBe('upstream-overloaded');
    expect(top('All backends are down')).toBe('upstream-unhealthy');
    expect(top('Error: Invalid credentials')).toBe('token-invalid');
    expect(top('Cookie too large')).toBe('header-too-large');
    expect(top('too many redirects')).toBe('redirect-loop');
  });
});

describe('bot-protection block pages', () => {
  it('reads HUMAN, DataDome, Vercel, Radware and FortiWeb pages as a WAF block', () => {
    for (const page of [
      'Access to this page has been denied because we believe you are using automation tools to browse the website.',
      'Please enable JS and disable any ad blocker',
      "Vercel Security Checkpoint\nWe're verifying your browser",
      'Unauthorized Activity Has Been Detected\nCase Number: 123456',
      'Web Page Blocked!\nAttack ID: 20000051\nMessage ID: 000012345',
    ])
      expect(top(page), page).toBe('waf-block');
  });
});

describe("Akamai's error pages", () => {
  it('reads its reference as the product: a block when it denies access, not when the origin failed', () => {
    expect(
      top(
        '<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\nYou don\'t have permission to access "http&#58;&#47;&#47;example&#46;com&#47;" on this server.<P>\nReference&#32;&#35;18&#46;44db1cb8&#46;1564180069&#46;52c1fda\n</BODY>\n</HTML>',
      ),
    ).toBe('waf-block');
    expect(top('An error occurred while processing your request.\nReference #97.a1b2c3d4.1700000000.12345678')).not.toBe('waf-block');
  });
});

describe('cloud load balancers and IIS in their own words', () => {
  it("reads GCP's failed_to_connect_to_backend as its 502 and IIS's bare 503 sentence", () => {
    expect(keysOf(httpExtractor, 'HTTP Error 503. The service is unavailable.')).toContain('http.status=503');
    expect(engine.explain('"statusDetails": "failed_to_connect_to_backend"').symptoms.map((s) => s.id)).toContain('bad-gateway');
  });
});
