// npm run accuracy: how well the text engine ranks causes, per split of test/corpus and on the
// shared sample; a reliability table per confidence band; the negatives' false-positive rate.
//
//   node scripts/accuracy.js [--misses] [--split dev|heldout|shared] [--cause ID]
//
// --misses prints every miss and every answered negative of the dev split only: the held-out
// split is for judging, never for writing rules (add --show-heldout to see its misses anyway,
// after which it is no longer held out for what you change next).
import { existsSync } from 'node:fs';
import { createEngine } from '../dist/triage/engine.js';
import { evaluate, formatMisses, formatReport, readJsonl, readSplit, SPLITS, TARGETS } from './lib/evaluate.js';

const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const only = opt('--cause');
const onlySplit = opt('--split');
const engine = createEngine();
const explain = (text) => {
  const d = engine.explain(text);
  const listed = Math.max(0, ...d.symptoms.map((s) => engine.kb.symptoms.get(s.id)?.causes.length ?? 0));
  return { ...d, listed: Math.min(listed, 3) };
};

const sets = SPLITS.map((split) => [split, readSplit('test/corpus', split)]);
// The shared sample beside the checkout, else the copy kept in test/fixtures/shared/ (test/support/corpus.ts sharedFile).
const sharedFile = (rel) => (existsSync(`../shared/${rel}`) ? `../shared/${rel}` : `test/fixtures/shared/${rel}`);
const shared = ['eval/sample.jsonl', 'eval/negatives-sample.jsonl'].map(sharedFile).filter(existsSync).flatMap(readJsonl);
if (shared.length > 0) sets.push(['shared', shared]);

for (const [name, all] of sets) {
  if (onlySplit && name !== onlySplit) continue;
  const set = only ? all.filter((s) => s.expect === only) : all;
  if (set.length === 0) continue;
  const r = evaluate(set, explain);
  console.log(formatReport(name, r));
  if (name === 'heldout') {
    const fails = [];
    if (r.top1 < TARGETS.top1) fails.push(`top-1 < ${TARGETS.top1 * 100}%`);
    if (r.top3 < TARGETS.top3) fails.push(`top-3 < ${TARGETS.top3 * 100}%`);
    if (r.negativesAnswered > TARGETS.negativesAnswered) fails.push(`negatives answered > ${TARGETS.negativesAnswered * 100}%`);
    if (r.bands.high.n > 0 && r.bands.high.right < TARGETS.high) fails.push(`high right < ${TARGETS.high * 100}%`);
    if (r.bands.medium.n > 0 && r.bands.medium.right < TARGETS.medium) fails.push(`medium right < ${TARGETS.medium * 100}%`);
    console.log(`  targets: ${fails.length === 0 ? 'met' : `NOT met: ${fails.join('; ')}`}`);
  }
  const show = args.includes('--misses') && (name !== 'heldout' || args.includes('--show-heldout'));
  if (show && (r.misses.length > 0 || r.answered.length > 0)) console.log(formatMisses(r));
  console.log('');
}
