// Trains src/evidence/report-model.gen.ts: the weights of the "is this a failure that happened?"
// model (src/evidence/report-model.ts) from the dev split of test/corpus only. Deterministic: the
// files are read in name order, the examples shuffled by a seeded generator.
//
// Usage (after npm run build, which compiles the features the model reads):
//   node scripts/train-report-model.js            write the file (npm run gen:model)
//   node scripts/train-report-model.js --check    exit 1 when it is stale (test/evidence/report-model.test.ts runs it)
//   node scripts/train-report-model.js --eval R[,R2…]   for each round R (e.g. s24: collected-s24-*), train
//     without it and print, per threshold, how many of its texts that the rules would answer the model silences
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { featuresToJudge, notAFailure, reportFeatures } from '../dist/evidence/report-model.js';
import { TextDoc } from '../dist/evidence/text.js';
import { IN_PASSING } from '../dist/evidence/signal.js';
import { createEngine, mayBeSilenced } from '../dist/triage/engine.js';

const OUT = fileURLToPath(new URL('../src/evidence/report-model.gen.ts', import.meta.url));
const DEV = fileURLToPath(new URL('../test/corpus/dev/', import.meta.url));
/** Weights kept: the largest in magnitude. */
const KEEP = 6000;
const EPOCHS = 20;
const RATE = 0.3;
const L2 = 1e-4;
/** A feature must occur in this many training texts to get a weight. */
const MIN_DF = 2;

const args = process.argv.slice(2);
const without = args.includes('--eval') ? args[args.indexOf('--eval') + 1] : undefined;

const examples = [];
for (const file of readdirSync(DEV)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()) {
  const round = /^collected-(s\d\d)-/.exec(file)?.[1];
  for (const line of readFileSync(DEV + file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const s = JSON.parse(line);
    examples.push({ id: s.id, round, text: s.text, expect: s.expect, accept: s.accept ?? [], y: s.expect === 'none' ? 1 : 0 });
  }
}

function train(docs) {
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const features = docs.map((d) => reportFeatures(d.text));
  const df = new Map();
  for (const f of features) for (const k of f.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  const w = new Map();
  const g2 = new Map();
  let bias = 0;
  let biasG2 = 1e-8;
  const order = docs.map((_, i) => i);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) {
      const f = features[i];
      let z = bias;
      for (const [k, x] of f) if (df.get(k) >= MIN_DF) z += (w.get(k) ?? 0) * x;
      const grad = 1 / (1 + Math.exp(-z)) - docs[i].y;
      biasG2 += grad * grad;
      bias -= (RATE * grad) / Math.sqrt(biasG2);
      for (const [k, x] of f) {
        if (df.get(k) < MIN_DF) continue;
        const wk = w.get(k) ?? 0;
        const gk = grad * x + L2 * wk;
        const acc = (g2.get(k) ?? 1e-8) + gk * gk;
        g2.set(k, acc);
        w.set(k, wk - (RATE * gk) / Math.sqrt(acc));
      }
    }
  }
  const kept = [...w].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, KEEP);
  return {
    bias: Math.round(bias * 1000) / 1000,
    weights: Object.fromEntries(kept.map(([k, v]) => [k, Math.round(v * 1000) / 1000]).sort((a, b) => (a[0] < b[0] ? -1 : 1))),
  };
}

if (without) {
  // The engine's own reading of each text, once: what the rules read, whether only a mention shows the symptom,
  // and the features the model judges it by (none for a text longer than it reads).
  const engine = createEngine();
  const read = examples.map((e) => ({ e, ...engine.ruled(TextDoc.from(e.text)), features: featuresToJudge(e.text) }));
  for (const round of without.split(',')) {
    const model = train(examples.filter((e) => e.round !== round));
    const scored = read
      .filter(({ e, features }) => e.round === round && features)
      .map((r) => ({ ...r, p: notAFailure(r.features, model) }));
    // Only the texts the model may silence matter here: the engine asks it about no other.
    const test = scored.filter(({ signals, mentioned, features }) => !mentioned && mayBeSilenced(signals, features));
    const negatives = test.filter(({ e }) => e.y).length;
    const figures = [0.7, 0.75, 0.8, 0.85, 0.9].map((at) => {
      const flagged = test.filter(({ p }) => p >= at);
      return `${at}: ${flagged.filter(({ e }) => e.y).length} / ${flagged.filter(({ e }) => !e.y).length}`;
    });
    console.log(
      `${round}, trained without it: the rules answer ${negatives} negatives and ${test.length - negatives} failures; silenced (negatives / failures) at ${figures.join(', ')}`,
    );
    // Texts whose symptom shows only in a mention (src/evidence/mention.ts): answered below MENTION_REPORT_AT.
    const mentioned = scored.filter((r) => r.mentioned && r.signals.some((x) => x.source === IN_PASSING));
    const answered = [0.2, 0.3, 0.4].map((at) => {
      const kept = mentioned.filter(({ p }) => p < at);
      const failures = kept.filter(({ e }) => !e.y);
      const right = failures.filter(({ e, signals }) =>
        engine
          .rankSignals(signals)
          .causes.slice(0, 3)
          .some((c) => (e.accept.length > 0 ? e.accept : [e.expect]).includes(c.id)),
      );
      return `${at}: ${kept.length - failures.length} / ${failures.length} (${right.length} right in the first three)`;
    });
    console.log(`  a symptom only in a mention in ${mentioned.length} texts; answered (negatives / failures) below ${answered.join(', ')}`);
  }
  process.exit(0);
}

const model = train(examples);
const source = await prettier.format(
  `// Generated by scripts/train-report-model.js from test/corpus/dev (${examples.length} texts): do not edit.
// npm run gen:model writes it again; test/evidence/report-model.test.ts fails when the corpus moved on.
import type { ReportModel } from './report-model.js';

export const REPORT_MODEL: ReportModel = ${JSON.stringify(model)};
`,
  { ...(await prettier.resolveConfig(OUT)), filepath: OUT },
);
if (args.includes('--check')) {
  const now = readFileSync(OUT, 'utf8');
  if (now !== source) {
    console.error('src/evidence/report-model.gen.ts is stale (test/corpus/dev changed): run npm run gen:model');
    process.exit(1);
  }
  console.log('src/evidence/report-model.gen.ts is up to date');
} else {
  writeFileSync(OUT, source);
  console.log(`src/evidence/report-model.gen.ts: ${Object.keys(model.weights).length} weights from ${examples.length} texts`);
}
