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
