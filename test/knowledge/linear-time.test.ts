import { describe, expect, it } from 'vitest';
import { loadKnowledgeOrThrow } from '../../src/knowledge/load.js';
import { auditPatterns } from '../../src/knowledge/regex-safety.js';
import { createEngine } from '../../src/triage/engine.js';
import { TriageError } from '../../src/errors.js';

const kb = loadKnowledgeOrThrow();
const patterns = [...kb.entries.values()].flatMap((e) => e.patterns.map((p) => ({ where: `${e.id}#${p.id}`, ...p })));

/** Strings that make backtracking regexes blow up: long runs of one class, with a near-miss tail. */
function hostile(sample: string | undefined, n: number): string[] {
  const base = ['a', ' ', '(', '"', '1', ':', '\t', '/', '.', '-', '=', 'x ', 'ab', '\\', '<', '连', '\u00e9'];
  const out = base.map((c) => c.repeat(Math.ceil(n / c.length)) + '!');
  if (sample) {
    const cut = sample.slice(0, Math.max(1, sample.length - 1));
    out.push(cut.repeat(Math.ceil(n / cut.length)));
    for (const ch of new Set(sample)) out.push(ch.repeat(n) + '\u0000');
    out.push(sample.replace(/\s/g, ' '.repeat(200)).repeat(Math.ceil(n / (sample.length + 200))));
  }
  return out;
}

describe('patterns are linear-time', () => {
  it(
    'every knowledge pattern is proven safe by the recheck ReDoS checker',
    async () => {
      const verdicts = await auditPatterns(patterns.map((p) => ({ regex: p.regex, flags: p.caseSensitive ? 'gm' : 'gim' })));
      const bad = verdicts.map((v, i) => ({ ...v, where: patterns[i]!.where })).filter((v) => v.status !== 'safe');
      expect(bad.map((b) => `${b.where}: ${b.status} ${b.detail ?? ''}`)).toEqual([]);
    },
    120_000,
  );

  it('every knowledge pattern runs over pathological 20 kB strings without blowing up', () => {
    let worst = { where: '', ms: 0 };
    for (const p of patterns) {
      const re = new RegExp(p.regex, p.caseSensitive ? 'gm' : 'gim');
      for (const s of hostile(p.sample, 20_000)) {
        const t = performance.now();
        re.lastIndex = 0;
        let guard = 0;
        while (re.exec(s) !== null && ++guard < 1000) {
          if (re.lastIndex === 0) break;
        }
        const ms = performance.now() - t;
        if (ms > worst.ms) worst = { where: p.where, ms };
      }
    }
    // A quadratic pattern takes about a second on 20 kB (4e8 steps); a linear one, well under 10 ms.
    expect(worst.ms, `slowest: ${worst.where}`).toBeLessThan(400);
  });

  it('the whole engine (extractors and patterns) survives pathological input', () => {
    const engine = createEngine();
    const inputs = [...hostile('connect() failed (111: Connection refused) while connecting to upstream', 300_000), 'x'.repeat(1_000_000)];
    for (const s of inputs) {
      const t = performance.now();
      try {
        expect(Array.isArray(engine.explain(s).causes)).toBe(true);
      } catch (err) {
        // Unusable input (all blank once control bytes go, binary) is refused with a message, not a crash.
        expect(err).toBeInstanceOf(TriageError);
      }
      expect(performance.now() - t, JSON.stringify(s.slice(0, 20))).toBeLessThan(3000);
    }
  });
});
