import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Extractor } from '../../src/evidence/extractor.js';
import type { Signal } from '../../src/evidence/signal.js';
import { TextDoc } from '../../src/evidence/text.js';
import { auditPatterns, structuralProblem } from '../../src/knowledge/regex-safety.js';
import { readCorpus, ROOT } from '../support/corpus.js';

/** Shared checks for the rule-table extractors: one suite, every implementation. */

interface SignalDecl {
  values?: string[];
  open?: boolean;
}

/** The catalogue, read once per test file (it was read again for every text of the corpus). */
let catalogued: Map<string, SignalDecl> | undefined;
function catalogue(): Map<string, SignalDecl> {
  return (catalogued ??= readCatalogue());
}

function readCatalogue(): Map<string, SignalDecl> {
  const dir = join(ROOT, 'knowledge/signals');
  const out = new Map<string, SignalDecl>();
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
    const data = parse(readFileSync(join(dir, f), 'utf8')) as Record<string, SignalDecl>;
    for (const [name, decl] of Object.entries(data ?? {})) out.set(name, decl ?? {});
  }
  return out;
}

/** Problems with signals against the catalogue (unknown names, undeclared values, flags with values). */
export function undeclared(signals: readonly Signal[]): string[] {
  const cat = catalogue();
  const bad: string[] = [];
  for (const s of signals) {
    const d = cat.get(s.name);
    if (!d) bad.push(`unknown signal ${s.name}`);
    else if (s.value !== undefined && d.values && !d.values.includes(s.value)) bad.push(`${s.name}=${s.value} not declared`);
    else if (s.value !== undefined && !d.values && !d.open) bad.push(`${s.name} is a flag but got ${JSON.stringify(s.value)}`);
    else if (s.value === undefined && (d.values || d.open) && !s.name.startsWith('jwt.')) bad.push(`${s.name} needs a value`);
  }
  return bad;
}

/** `name` or `name=value` of every signal, in order. */
export function keysOf(x: Extractor, text: string, now?: Date): string[] {
  return x.extract(TextDoc.from(text, now ? { now } : {})).map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));
}

export const PROSE = [
  'Morning all! standup in 5 minutes, who is taking notes today?',
  'I pushed the new README, can someone review the PR before lunch?',
  'The quarterly report is attached; numbers look good, 502 customers signed up.',
  'We moved the proxy settings page to the admin console; the certificate of appreciation is on my desk.',
  'Please read the design doc before Friday, then we can connect and decide on the timeline.',
  '今天下午三点开会，请大家准时参加。',
  '新版本已经发布，请大家更新文档并检查测试用例。',
];

/** Strings that make backtracking regexes blow up: long runs of one class, with a near-miss tail. */
function hostile(n: number): string[] {
  const base = ['a', ' ', '(', '"', '1', ':', '\t', '/', '.', '-', '=', 'x ', 'ab', '\\', '<', '连', 'eyJ-', 'curl ', '* ', 'E', 'error: '];
  return base.map((c) => c.repeat(Math.ceil(n / c.length)) + '!');
}

function plainLog(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2024-05-01T10:${String(i % 60).padStart(2, '0')}:00Z INFO request id=${i} GET /api/items/${i} 200 12ms ua="Mozilla/5.0" took=${i % 97}ms`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * The conformance suite: declared signals only (on the given samples and the whole corpus),
 * nothing from prose, linear-time regexes (structure and the recheck ReDoS checker), a few ms per
 * megabyte of ordinary log, no token in any excerpt.
 */
export function describeConformance(
  x: Extractor,
  patterns: readonly RegExp[],
  samples: readonly string[],
  opts: {
    /** False for an extractor that reads words prose uses too (src/evidence/mention.ts): its test file shows the engine's gates keep prose silent. */
    readonly prose?: boolean;
  } = {},
): void {
  describe(`${x.name} extractor: conformance`, () => {
    it('emits only signals and values declared in knowledge/signals', () => {
      const texts = [...samples, ...readCorpus().map((s) => s.text)];
      const bad = new Set(texts.flatMap((t) => undeclared(x.extract(TextDoc.from(t)))));
      expect([...bad]).toEqual([]);
    });

    if (opts.prose !== false)
      it('emits nothing for ordinary prose', () => {
        for (const text of PROSE) expect(keysOf(x, text), text).toEqual([]);
      });

    it('gives every signal an excerpt, a line and its source', () => {
      for (const text of samples) {
        for (const s of x.extract(TextDoc.from(text))) {
          expect(s.source).toBe(x.name);
          expect(s.excerpt.length).toBeGreaterThan(0);
          expect(s.line).toBeGreaterThan(0);
        }
      }
    });

    it('uses global regexes without backreferences, lookbehind or nested quantifiers', () => {
      for (const re of patterns) {
        expect(re.global, re.source).toBe(true);
        expect(structuralProblem(re.source), re.source).toBeUndefined();
      }
    });

    it('uses only regexes that the recheck ReDoS checker proves safe', async () => {
      const verdicts = await auditPatterns(patterns.map((re) => ({ regex: re.source, flags: re.flags })));
      expect(verdicts.filter((v) => v.status !== 'safe').map((v) => `${v.status}: ${v.regex} ${v.detail ?? ''}`)).toEqual([]);
    }, 180_000);

    it('emits nothing on 1 MB of ordinary application log', () => {
      expect(x.extract(TextDoc.from(plainLog(1_000_000)))).toEqual([]);
    });

    it('survives pathological input', () => {
      for (const s of hostile(300_000)) {
        const t = performance.now();
        x.extract(TextDoc.from(s));
        expect(performance.now() - t, JSON.stringify(s.slice(0, 12))).toBeLessThan(1000);
      }
    });

    it('never shows a JWT or a bearer token in an excerpt', () => {
      const jwt =
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl';
      for (const text of samples) {
        const withSecrets = text
          .split('\n')
          .map((l) => `${l} Authorization: Bearer ${jwt}`)
          .join('\n');
        for (const s of x.extract(TextDoc.from(withSecrets))) {
          expect(s.excerpt).not.toContain('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9');
          expect(s.excerpt).not.toContain('c2lnbmF0dXJl');
        }
      }
    });
  });
}
