import { describe, expect, it } from 'vitest';
import { trusted } from '../../src/security/redact.js';
import type { Signal } from '../../src/evidence/signal.js';
import type { Entry, KnowledgeBase, SignalDef, Symptom } from '../../src/knowledge/types.js';
import { priorAt, rank } from '../../src/match/score.js';

const i18n = (s: string) => ({ en: s, zh: `中${s}` });
function entry(id: string, indicators: [string[], number][], against: [string[], number][] = []): Entry {
  return {
    id,
    family: 'f',
    title: i18n(id),
    summary: i18n(id),
    patterns: [],
    indicators: indicators.map(([all, weight]) => ({ all, weight })),
    against: against.map(([all, weight]) => ({ all, weight })),
    fixes: [],
    references: [],
    file: `${id}.yaml`,
  };
}
const def = (name: string, extra: Partial<SignalDef> = {}): [string, SignalDef] => [
  name,
  { name, description: name, open: true, file: 'x', ...extra },
];
const symptom = (id: string, when: string[][], causes: string[]): [string, Symptom] => [
  id,
  { id, title: i18n(id), when, causes, file: 's.yaml' },
];
const kb: KnowledgeBase = {
  questions: new Map(),
  signals: new Map([
    def('a.x'),
    def('b.y', { probe: 'upstream' }),
    def('c.z', { ask: i18n('question?') }),
    def('d.w'),
    def('s.one'),
    def('s.two'),
  ]),
  // a.x=1 is a failure (symptom "fails"); d.w alone is only context. s.one and s.two are bare symptoms.
  symptoms: new Map([
    symptom('fails', [['a.x=1']], []),
    symptom('one', [['s.one'], ['s.two', 'd.w']], ['beta', 'alpha', 'gamma', 'delta']),
    symptom('two', [['s.two']], ['gamma']),
  ]),
  entries: new Map(
    [
      entry(
        'alpha',
        [
          [['a.x=1'], 0.6],
          [['b.y'], 0.8],
        ],
        [[['d.w'], 0.5]],
      ),
      entry('beta', [
        [['a.x=1'], 0.55],
        [['c.z'], 0.9],
      ]),
      entry('gamma', [[['a.x=1', 'd.w'], 0.9]]),
      entry('delta', [[['zzz.never'], 0.9]], [[['b.y'], 0.95]]),
    ].map((e) => [e.id, e]),
  ),
};
const sig = (name: string, value?: string, line = 1): Signal => ({
  name,
  ...(value ? { value } : {}),
  excerpt: trusted(`${name} seen`),
  source: 'test',
  line,
});

describe('rank', () => {
  it('combines indicators as a noisy-OR and explains each score', () => {
    const r = rank(kb, [sig('a.x', '1'), sig('b.y', 'v')]);
    expect(r.causes.map((c) => c.entry.id)).toEqual(['alpha', 'beta']);
    const alpha = r.causes[0]!;
    expect(alpha.score).toBeCloseTo(1 - 0.4 * 0.2, 3);
    expect(alpha.confidence).toBe('high');
    expect(alpha.support.map((h) => h.ref)).toEqual(['b.y', 'a.x=1']);
  });

  it('lowers a cause for each contra-indicator and records it', () => {
    const r = rank(kb, [sig('a.x', '1'), sig('b.y', 'v'), sig('d.w')]);
    const alpha = r.causes.find((c) => c.entry.id === 'alpha')!;
    expect(alpha.score).toBeCloseTo((1 - 0.4 * 0.2) * 0.5, 3);
    expect(alpha.against[0]?.ref).toBe('d.w');
  });

  it('needs every signal of an "all" indicator', () => {
    expect(rank(kb, [sig('d.w')]).causes.map((c) => c.entry.id)).toEqual([]);
    expect(rank(kb, [sig('a.x', '1'), sig('d.w')]).causes[0]?.entry.id).toBe('gamma');
  });

  it('says what would separate two close causes', () => {
    const r = rank(kb, [sig('a.x', '1')]);
    expect(r.causes.map((c) => c.entry.id)).toEqual(['alpha', 'beta']);
    expect(r.separation?.between).toEqual(['alpha', 'beta']);
    expect(r.separation?.steps).toEqual([
      expect.objectContaining({ cause: 'alpha', signal: 'b.y', probe: 'upstream' }),
      expect.objectContaining({ cause: 'beta', signal: 'c.z', ask: i18n('question?') }),
    ]);
  });

  it('returns no cause rather than inventing one', () => {
    expect(rank(kb, []).causes).toEqual([]);
    expect(rank(kb, [sig('zzz.unknown')]).causes).toEqual([]);
  });

  it('gives no cause without a symptom, whatever the context signals say', () => {
    expect(rank(kb, [sig('b.y', 'v'), sig('c.z', 'v')]).causes).toEqual([]);
    expect(rank(kb, [sig('b.y', 'v')]).symptoms).toEqual([]);
  });

  it("ranks a bare symptom's causes in the guide's order, with low confidence", () => {
    const r = rank(kb, [sig('s.one')]);
    expect(r.symptoms.map((h) => h.symptom.id)).toEqual(['one']);
    expect(r.causes.map((c) => [c.entry.id, c.score])).toEqual([
      ['beta', priorAt(0)],
      ['alpha', priorAt(1)],
      ['gamma', priorAt(2)],
      ['delta', priorAt(3)],
    ]);
    expect(r.causes.every((c) => c.confidence === 'low')).toBe(true);
    expect(r.causes[0]!.support[0]).toEqual(expect.objectContaining({ ref: 'symptom:one', symptom: 'one' }));
  });

  it('lets evidence move a listed cause up, and combines the priors of several symptoms', () => {
    const withEvidence = rank(kb, [sig('s.one'), sig('b.y', 'v')]);
    expect(withEvidence.causes[0]!.entry.id).toBe('alpha');
    expect(withEvidence.causes[0]!.score).toBeCloseTo(1 - (1 - priorAt(1)) * (1 - 0.8), 3);
    const both = rank(kb, [sig('s.two'), sig('d.w')]);
    expect(both.symptoms.map((h) => h.symptom.id)).toEqual(['one', 'two']);
    // gamma: third for "one", first for "two"
    expect(both.causes[0]!.entry.id).toBe('gamma');
    expect(both.causes[0]!.score).toBeCloseTo(1 - (1 - priorAt(2)) * (1 - priorAt(0)), 3);
  });

  it('still shows three causes when evidence argues against the listed ones', () => {
    const r = rank(kb, [sig('s.one'), sig('b.y', 'v')]);
    // delta is listed fourth and strongly contradicted by b.y: it is not needed to make three.
    expect(r.causes.map((c) => c.entry.id)).toEqual(['alpha', 'beta', 'gamma']);
    const thin: KnowledgeBase = { ...kb, symptoms: new Map([symptom('one', [['s.one']], ['delta', 'beta'])]) };
    const r2 = rank(thin, [sig('s.one'), sig('b.y', 'v')]);
    // beta ranks by its prior; delta, under the minimum score, fills the list up.
    expect(r2.causes.map((c) => c.entry.id)).toEqual(['alpha', 'beta', 'delta']);
    expect(r2.causes[2]!.score).toBeLessThan(0.2);
  });

  it('applies a per-cause adjustment (workspace feedback)', () => {
    const r = rank(kb, [sig('a.x', '1')], { adjust: (id) => (id === 'beta' ? 1.5 : 1) });
    expect(r.causes[0]?.entry.id).toBe('beta');
  });
});
