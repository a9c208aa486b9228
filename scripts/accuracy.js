// Developer tool: accuracy over test/corpus and the shared sample, with every miss.
// Usage: npm run build && node scripts/accuracy.js [--misses] [--cause ID]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createEngine } from '../dist/triage/engine.js';

const args = process.argv.slice(2);
const only = args.includes('--cause') ? args[args.indexOf('--cause') + 1] : undefined;
const read = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const corpus = readdirSync('test/corpus')
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => read(`test/corpus/${f}`));
const sample = existsSync('../shared/eval/sample.jsonl') ? read('../shared/eval/sample.jsonl') : [];
const engine = createEngine();
for (const [name, set] of [
  ['corpus', corpus],
  ['sample', sample],
  ['all', [...corpus, ...sample]],
]) {
  let t1 = 0,
    t3 = 0;
  const misses = [];
  for (const s of set) {
    if (only && s.expect !== only) continue;
    const d = engine.explain(s.text);
    const ids = d.causes.map((c) => c.id);
    const ok = new Set([s.expect, ...(s.accept ?? [])]);
    if (ok.has(ids[0])) t1++;
    else misses.push({ s, d });
    if (ids.slice(0, 3).some((i) => ok.has(i))) t3++;
  }
  const n = only ? set.filter((s) => s.expect === only).length : set.length;
  console.log(`${name}: n=${n} top1=${((100 * t1) / n).toFixed(1)}% top3=${((100 * t3) / n).toFixed(1)}%`);
  if (name === 'all' && args.includes('--misses')) {
    for (const { s, d } of misses) {
      console.log(
        `\n--- ${s.id} expect=${s.expect} got=${
          d.causes
            .slice(0, 3)
            .map((c) => `${c.id}:${c.score}`)
            .join(' ') || '(none)'
        }`,
      );
      console.log(`    text: ${s.text.slice(0, 300).replace(/\n/g, ' ⏎ ')}`);
      console.log(`    signals: ${d.signals.map((x) => x.signal).join(', ')}`);
    }
  }
}
