import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, FLOORS, formatReport, TARGETS, type Report } from '../../scripts/lib/evaluate.js';
import { createEngine } from '../../src/triage/engine.js';
import { NEGATIVES_SAMPLE_FILE, readCorpus, readJsonl, readShared, SAMPLE_FILE, type Snippet } from '../support/corpus.js';

const engine = createEngine();
const causeIds = [...readShared('causes.md').matchAll(/^\| ([a-z0-9-]+) \|/gm)].map((m) => m[1]!).filter((id) => id !== 'id');

/** explain, plus how many causes the symptoms present list (capped at three): the differential owed. */
function explain(text: string) {
  const d = engine.explain(text);
  const listed = Math.max(0, ...d.symptoms.map((s) => engine.kb.symptoms.get(s.id)?.causes.length ?? 0));
  return { ...d, listed: Math.min(3, listed) };
}

const failures = (set: Snippet[]) => set.filter((s) => s.expect !== 'none');
const negatives = (set: Snippet[]) => set.filter((s) => s.expect === 'none');
const misses = (r: Report) => r.misses.map((m) => m.snippet.id).join(', ');

describe('the labeled corpus', () => {
  const all = readCorpus();

  it('holds real snippets with their sources, labeled with the taxonomy', () => {
    expect(failures(all).length).toBeGreaterThanOrEqual(456 + 300);
    expect(negatives(all).length).toBeGreaterThanOrEqual(100);
    expect(failures(all).filter((s) => s.lang !== undefined && s.lang !== 'en').length).toBeGreaterThanOrEqual(58 + 40);
    for (const id of causeIds) expect(all.filter((s) => s.expect === id).length, id).toBeGreaterThanOrEqual(5);
    for (const s of all) {
      expect(s.source, s.id).toMatch(/^https?:\/\/\S+$/);
      if (s.expect === 'none') expect(s.accept, s.id).toEqual([]);
      else {
        expect(causeIds, s.id).toContain(s.expect);
        expect(s.accept, s.id).toContain(s.expect);
        for (const a of s.accept) expect(causeIds, s.id).toContain(a);
      }
    }
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    expect(new Set(all.map((s) => s.text)).size).toBe(all.length);
  });

  it('keeps every source thread in one split, so the held-out split shares no thread with dev', () => {
    const dev = new Set(readCorpus('dev').map((s) => s.source));
    const shared = readCorpus('heldout').filter((s) => dev.has(s.source));
    expect(shared.map((s) => s.id)).toEqual([]);
  });
});

describe('differential diagnosis', () => {
  // The held-out split: no pattern, weight or symptom order was written from it. Its misses are not
  // printed here on purpose (npm run accuracy prints the dev split's). Its top-1, top-3 and
  // negatives are held at the floors measured today (FLOORS): the targets (TARGETS: 92 %, 98 %,
  // 3 %) are not met yet, and the report printed above says so. Calibration is held to its targets.
  it('holds the held-out split at its floors and its confidence to the calibration targets', () => {
    const r = evaluate(readCorpus('heldout'), explain);
    console.log(formatReport('heldout', r));
    expect(r.n).toBeGreaterThanOrEqual(150);
    expect(r.negatives).toBeGreaterThanOrEqual(40);
    expect(r.top1, 'top-1').toBeGreaterThanOrEqual(FLOORS.heldout.top1);
    expect(r.top3, 'top-3').toBeGreaterThanOrEqual(FLOORS.heldout.top3);
    expect(r.negativesAnswered, 'negatives answered').toBeLessThanOrEqual(FLOORS.heldout.negativesAnswered);
    expect(r.bands.high.right, 'high confidence right').toBeGreaterThanOrEqual(TARGETS.high);
    if (r.bands.medium.n >= 10) expect(r.bands.medium.right, 'medium confidence right').toBeGreaterThanOrEqual(TARGETS.medium);
    expect(r.thin, 'failures shown fewer than three causes although their symptom lists three').toEqual([]);
  });

  // The dev split grows with fresh text collected to find what the engine misses (scored before any rule is
  // written from it), so its top-1 is held to its floor, like its top-3; calibration is held to the targets.
  it('holds the dev split at its floors, and its calibration at the targets', () => {
    const r = evaluate(readCorpus('dev'), explain);
    console.log(formatReport('dev', r));
    expect(r.top1, misses(r)).toBeGreaterThanOrEqual(FLOORS.dev.top1);
    expect(r.top3, misses(r)).toBeGreaterThanOrEqual(FLOORS.dev.top3);
    expect(r.negativesAnswered, r.answered.map((a) => a.snippet.id).join(', ')).toBeLessThanOrEqual(FLOORS.dev.negativesAnswered);
    expect(r.bands.high.right).toBeGreaterThanOrEqual(TARGETS.high);
    expect(r.thin).toEqual([]);
  });

  it('ranks the shared sample and stays silent on the shared negatives (written by others, never tuned on)', () => {
    expect(existsSync(SAMPLE_FILE), 'the shared sample is read').toBe(true);
    const r = evaluate(
      [...readJsonl(SAMPLE_FILE), ...(existsSync(NEGATIVES_SAMPLE_FILE) ? readJsonl(NEGATIVES_SAMPLE_FILE) : [])],
      explain,
    );
    console.log(formatReport('shared', r));
    expect(r.top1, misses(r)).toBeGreaterThanOrEqual(TARGETS.top1);
    expect(r.top3, misses(r)).toBeGreaterThanOrEqual(FLOORS.shared.top3);
    expect(r.answered.map((a) => a.snippet.id)).toEqual([]);
  });
});
