import { describe, expect, it } from 'vitest';
import { trusted } from '../../src/security/redact.js';
import type { Signal } from '../../src/evidence/signal.js';
import type { Entry, KnowledgeBase, SignalDef } from '../../src/knowledge/types.js';
import { rank } from '../../src/match/score.js';

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
const kb: KnowledgeBase = {
  signals: new Map([def('a.x'), def('b.y', { probe: 'upstream' }), def('c.z', { ask: i18n('question?') }), def('d.w')]),
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

  it('applies a per-cause adjustment (workspace feedback)', () => {
    const r = rank(kb, [sig('a.x', '1')], { adjust: (id) => (id === 'beta' ? 1.5 : 1) });
    expect(r.causes[0]?.entry.id).toBe('beta');
  });
});
