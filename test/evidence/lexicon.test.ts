import { describe, expect, it } from 'vitest';
import { Lexicon } from '../../src/evidence/lexicon.js';
import { LOCALIZED } from '../../src/evidence/vocab/localized.gen.js';

/** Every start of every literal, by plain search: what the automaton must find. */
function naive(literals: readonly string[], lower: string, cap: number): Map<number, number[] | null> {
  const found = new Map<number, number[] | null>();
  literals.forEach((lit, id) => {
    const at: number[] = [];
    for (let i = lower.indexOf(lit); i >= 0; i = lower.indexOf(lit, i + 1)) at.push(i);
    if (at.length > 0) found.set(id, at.length > cap ? null : at);
  });
  return found;
}

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => (x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

describe('Lexicon (Aho–Corasick, table rows filled on first visit)', () => {
  it('finds what plain search finds: overlapping, nested, shared prefixes, non-ASCII sharing a column', () => {
    const literals = [
      'he',
      'she',
      'his',
      'hers',
      'ushers',
      'a',
      'aa',
      'aaa',
      'connection refused',
      'connection reset',
      'отказано',
      'отказ',
      '拒绝连接',
      '连接',
      'ﬁle',
      'x'.repeat(30),
    ];
    const lex = new Lexicon(literals);
    for (const text of [
      'ushers',
      'aaaaaa',
      'she sells his hers',
      'connection refused; connection reset',
      'в соединении отказано',
      '连接被拒绝，拒绝连接',
      'x'.repeat(61),
      '',
    ]) {
      const sorted = (m: Map<number, number[] | null>) => new Map([...m].sort((a, b) => a[0] - b[0]));
      expect(sorted(lex.scan(text, 100)), text).toEqual(sorted(naive(lex.literals, text, 100)));
    }
  });

  it('agrees with plain search on random texts over the localized vocabulary, however the rows were filled', () => {
    const literals = LOCALIZED.map((r) => r[0]);
    const lex = new Lexicon(literals);
    const rand = random(20261207);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    for (let round = 0; round < 40; round++) {
      let text = '';
      while (text.length < 400) {
        const lit = pick(literals);
        // Whole literals, their prefixes and suffixes, and noise: the automaton's failure paths.
        const r = rand();
        text +=
          r < 0.4
            ? lit
            : r < 0.7
              ? lit.slice(0, Math.max(1, Math.floor(rand() * lit.length)))
              : r < 0.85
                ? lit.slice(Math.floor(rand() * lit.length))
                : ' zq ';
      }
      const got = lex.scan(text, 5);
      const want = naive(lex.literals, text, 5);
      expect(new Map([...got].sort((a, b) => a[0] - b[0])), `round ${round}`).toEqual(new Map([...want].sort((a, b) => a[0] - b[0])));
    }
  });
});
