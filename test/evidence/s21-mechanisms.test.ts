import { describe, expect, it } from 'vitest';
import { TextDoc } from '../../src/evidence/text.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const top = (text: string) => engine.explain(text).causes[0]?.id;

describe("Terraform's boxed diagnostics", () => {
  // terraform init behind a firewall (hashicorp/terraform-provider-aws issue threads): the Go error is
  // hard-wrapped inside the box, "(Client.Timeout exceeded while awaiting" / "│ headers)".
  const boxed = [
    '$ terraform init',
    '╷',
    '│ Error: Failed to query available provider packages',
    '│ ',
    '│ Could not retrieve the list of available versions for provider hashicorp/aws: could not query',
    '│ provider registry for registry.terraform.io/hashicorp/aws: the request failed after 2 attempts,',
    '│ please try again later: Get "https://registry.terraform.io/v1/providers/hashicorp/aws/versions":',
    '│ net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting',
    '│ headers)',
    '╵',
  ].join('\n');

  it('joins each wrapped paragraph onto its first line and keeps the line numbers', () => {
    const doc = TextDoc.from(boxed);
    const lines = doc.text.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[2]).toBe('Error: Failed to query available provider packages');
    expect(lines[4]).toMatch(
      /^Could not retrieve .* could not query provider registry .*\(Client\.Timeout exceeded while awaiting headers\)$/,
    );
    expect(lines.slice(5, 9)).toEqual(['', '', '', '']);
  });

  it('reads the joined Go error: a dial that timed out', () => {
    const d = engine.explain(boxed);
    expect(d.signals.map((s) => s.signal)).toContain('net.error=connect_timeout');
    expect(d.causes[0]?.id).toBe('firewall-drop');
  });

  it('leaves text without a box, and lines outside the box, as they are', () => {
    const plain = 'a │ b\n│ not a box\nc';
    expect(TextDoc.from(plain).text).toBe(plain);
    expect(TextDoc.from(`x\n${boxed}\n│ after`).text.split('\n').at(-1)).toBe('│ after');
  });
});

describe("Firefox's page for an intercepted connection", () => {
  it('is a certificate that does not verify (MOZILLA_PKIX_ERROR_MITM_DETECTED), in any language', () => {
    expect(top('Software is Preventing Firefox From Safely Connecting to This Site')).toBe('tls-cert-untrusted');
    expect(top('有软件正在阻止 Firefox 安全地连接至此网站')).toBe('tls-cert-untrusted');
  });
});
