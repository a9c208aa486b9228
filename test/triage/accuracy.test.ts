import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/triage/engine.js';
import { readCorpus, readJsonl, SAMPLE_FILE, type Snippet } from '../support/corpus.js';

const engine = createEngine();
const causeIds = [...readFileSync(new URL('../../../shared/causes.md', import.meta.url), 'utf8').matchAll(/^\| ([a-z0-9-]+) \|/gm)]
  .map((m) => m[1]!)
  .filter((id) => id !== 'id');

function score(snippets: Snippet[]) {
  let top1 = 0;
  let top3 = 0;
  const misses: string[] = [];
  for (const s of snippets) {
    const ids = engine.explain(s.text).causes.map((c) => c.id);
    const accept = new Set([s.expect, ...(s.accept ?? [])]);
    if (ids[0] !== undefined && accept.has(ids[0])) top1++;
    else misses.push(`${s.id}: expected ${s.expect}, got ${ids.slice(0, 3).join(', ') || '(none)'}`);
    if (ids.slice(0, 3).some((id) => accept.has(id))) top3++;
  }
  return { n: snippets.length, top1: top1 / snippets.length, top3: top3 / snippets.length, misses };
}

describe('the labeled corpus', () => {
  const corpus = readCorpus();

  it('has at least 300 real snippets, 5 per cause, 30 in Chinese, each with its source', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    for (const id of causeIds) {
      expect(corpus.filter((s) => s.expect === id).length, id).toBeGreaterThanOrEqual(5);
    }
    expect(corpus.filter((s) => s.lang === 'zh').length).toBeGreaterThanOrEqual(30);
    for (const s of corpus) {
      expect(s.source, s.id).toMatch(/^https?:\/\/\S+$/);
      expect(causeIds, s.id).toContain(s.expect);
      for (const a of s.accept) expect(causeIds, s.id).toContain(a);
    }
    expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
    expect(new Set(corpus.map((s) => s.text)).size).toBe(corpus.length);
  });

  it('ranks the right cause first in 85 % and in the top 3 in 95 % (corpus + shared sample)', () => {
    const sample = existsSync(SAMPLE_FILE) ? readJsonl(SAMPLE_FILE) : [];
    const all = score([...corpus, ...sample]);
    const c = score(corpus);
    const s = score(sample);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `accuracy: all n=${all.n} top1=${pct(all.top1)} top3=${pct(all.top3)}; corpus n=${c.n} top1=${pct(c.top1)} top3=${pct(c.top3)}; sample n=${s.n} top1=${pct(s.top1)} top3=${pct(s.top3)}`,
    );
    expect(sample.length, 'the shared sample is read').toBeGreaterThan(0);
    expect(all.top1, all.misses.join('\n')).toBeGreaterThanOrEqual(0.85);
    expect(all.top3, all.misses.join('\n')).toBeGreaterThanOrEqual(0.95);
  });
});
