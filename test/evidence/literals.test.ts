import { describe, expect, it } from 'vitest';
import { requiredLiterals } from '../../src/evidence/literals.js';
import { createEngine } from '../../src/triage/engine.js';
import { readCorpus } from '../support/corpus.js';

describe('requiredLiterals', () => {
  it('finds the literal runs of each branch', () => {
    expect(requiredLiterals('connect\\(\\) failed \\(111: Connection refused\\)', false)).toEqual([
      'connect() failed (111: connection refused)',
    ]);
    expect(requiredLiterals('\\bECONNREFUSED\\b|target machine actively refused it', true)).toEqual([
      'ECONNREFUSED',
      'target machine actively refused it',
    ]);
  });

  it('looks inside mandatory groups, and ignores optional ones and lookarounds', () => {
    expect(requiredLiterals('\\b(?:ThrottlingException|Rate exceeded)\\b', false)).toEqual(['throttlingexception', 'rate exceeded']);
    expect(requiredLiterals('x(?<kind>ab|cd)y', false)).toBeUndefined();
    expect(requiredLiterals('(?:error )?timed out', false)).toEqual(['timed out']);
    expect(requiredLiterals('(?=abcdef)[a-z]{1,9}', false)).toBeUndefined();
    expect(requiredLiterals('no (?:live|healthy) upstreams?', false)).toEqual([' upstream']);
    expect(requiredLiterals('(?:no live|no healthy) upstreams?', false)).toEqual([' upstream']);
    expect(requiredLiterals('(?:no live|no healthy)[ _]up', false)).toEqual(['no live', 'no healthy']);
  });

  it('gives up where nothing is required', () => {
    expect(requiredLiterals('\\d{3} [A-Z]{2,}', false)).toBeUndefined();
    expect(requiredLiterals('abc|\\d+', false)).toBeUndefined();
    expect(requiredLiterals('(?:abc|)', false)).toBeUndefined();
  });

  it('keeps two CJK characters as a literal', () => {
    expect(requiredLiterals('连接(?:被拒绝|超时)', false)).toEqual(['连接']);
  });

  // Soundness on real data: every match of every knowledge pattern, over every pattern sample and the
  // whole corpus, contains one of the pattern's required literals.
  it('never requires a literal that a real match lacks', () => {
    const engine = createEngine();
    const texts = readCorpus().map((s) => s.text);
    const bad: string[] = [];
    for (const e of engine.kb.entries.values()) {
      for (const p of e.patterns) {
        const lits = requiredLiterals(p.regex, p.caseSensitive);
        if (!lits) continue;
        const re = new RegExp(p.regex, p.caseSensitive ? 'gm' : 'gim');
        for (const t of [...texts, ...(p.sample ? [p.sample] : [])]) {
          for (const m of t.matchAll(re)) {
            const hay = p.caseSensitive ? m[0] : m[0].toLowerCase();
            if (!lits.some((l) => hay.includes(l))) bad.push(`${e.id}#${p.id}: "${m[0]}" has none of ${lits.join(' | ')}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
