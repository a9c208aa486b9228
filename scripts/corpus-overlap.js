// node scripts/corpus-overlap.js FILE.jsonl: which snippets of a new corpus file must not go into
// test/corpus/dev because the held-out split already has their thread or (nearly) their text.
// Prints the new file's ids only, never held-out text, so running it keeps the held-out split unseen.
//
// Near = the same source URL (without fragment), or ≥ 60 % of the new text's word 3-grams in one
// held-out snippet, or the same text after lower-casing and collapsing whitespace.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJsonl, readSplit } from './lib/evaluate.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/corpus-overlap.js FILE.jsonl');
  process.exit(2);
}
const norm = (t) => t.toLowerCase().replace(/\s+/g, ' ').trim();
const url = (u) => String(u).replace(/#.*$/, '').replace(/\/+$/, '');
const grams = (t) => {
  const w = norm(t)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const out = new Set();
  for (let i = 0; i + 2 < w.length; i++) out.add(`${w[i]} ${w[i + 1]} ${w[i + 2]}`);
  if (out.size === 0 && w.length > 0) out.add(w.join(' '));
  return out;
};
const held = readSplit('test/corpus', 'heldout').map((s) => ({ src: url(s.source), text: norm(s.text), g: grams(s.text) }));
// The dev split without the file being checked, which may already sit in it.
const dev = readdirSync('test/corpus/dev')
  .filter((f) => f.endsWith('.jsonl') && resolve('test/corpus/dev', f) !== resolve(file))
  .flatMap((f) => readJsonl(join('test/corpus/dev', f)));
const devIds = new Set(dev.map((s) => s.id));
const devTexts = new Set(dev.map((s) => norm(s.text)));
let bad = 0;
for (const s of readJsonl(file)) {
  const why = [];
  if (devIds.has(s.id)) why.push('id already in dev');
  if (devTexts.has(norm(s.text))) why.push('text already in dev');
  const g = grams(s.text);
  const before = why.length;
  for (const h of held) {
    if (h.src === url(s.source)) why.push('source thread is in the held-out split');
    else if (h.text === norm(s.text)) why.push('same text as a held-out snippet');
    else if (g.size >= 3) {
      let n = 0;
      for (const x of g) if (h.g.has(x)) n++;
      if (n / g.size >= 0.6) why.push('text nearly that of a held-out snippet');
    }
    if (why.length > before) break;
  }
  if (why.length) {
    bad++;
    console.log(`${s.id}: ${why.join('; ')}`);
  }
}
console.log(bad === 0 ? 'no overlap' : `${bad} snippet(s) to drop`);
process.exitCode = bad === 0 ? 0 : 1;
