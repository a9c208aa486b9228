// Accuracy of the text engine over labeled snippets: shared by `npm run accuracy`
// (scripts/accuracy.js, on dist/) and test/triage/accuracy.test.ts (on src/). No imports of the
// engine here: the caller passes `explain(text) → Diagnosis`.
//
// A snippet is {id, text, expect, accept, lang?, kind?, source}; `expect: "none"` marks a negative
// (text that is not a failure: the engine must give no cause). A failure is right at top-1 when the
// first cause is one of `accept` (which includes `expect`), and within the top 3 when any of the
// first three is.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The splits of test/corpus: dev (rules, weights and symptom orders may be written from it) and heldout (never). */
export const SPLITS = ['dev', 'heldout'];

/** The targets the held-out split must meet (issue: differential diagnosis). */
export const TARGETS = { top1: 0.92, top3: 0.98, negativesAnswered: 0.03, high: 0.95, medium: 0.75 };
/**
 * What each split measures today, less a small margin: test/triage/accuracy.test.ts fails below
 * these (a regression). Raise them as the figures rise; the targets above are the goal, and the
 * report says which of them are not met yet.
 */
export const FLOORS = {
  // Session 25: 86.4 -> 87.1 % top-1, 88.9 -> 89.6 % top-3, negatives answered 14 -> 15 of 209 (the mention
  // reader; the report model retrained with three more rounds and no longer asked about a text too short to
  // judge: see the note of stop 23), so the negatives' floor was 0.075. Session 26: a mechanism named in words
  // (mention.ts: "证书错误", "CORS ... blocked", "Cloudflare 521") answers one held-out failure more in the first
  // three and one held-out negative more (15 -> 16, counted only); trained without each fresh round in turn it
  // answered 12 more failures and 2 more negatives on five rounds, and an unseen eleventh round gained 0.9
  // points for no negative. The model retrained with that round: 86.8 / 89.6 %, negatives 13 (6.2 %), so the
  // negatives' floor was 0.065. Retrained with rounds 12 and 13 (counted only): 86.8 / 89.6 %, negatives 14
  // (6.7 %): one failure and one negative from 87.1 / 89.9 % and 13, the size of the swing one duplicate text more
  // or less in the training set gave this session. The negatives' floor was 0.07. Session 27: Apple's URL codes,
  // gRPC numbers, description in more languages (round 14, written after it was scored) and the model retrained
  // with that round: 86.8 / 89.6 %, negatives 12 (5.7 %, counted only). Round 15's mechanisms (.NET's localized
  // WebException messages, WinHTTP's TLS codes, postmortems and diffs) took it to 87.3 / 90.1 %, 35 silent, 12; the
  // model retrained with round 15 (as its staleness test requires) gave back two failures and one negative:
  // 86.8 / 89.6 %, 37 silent, 13 (6.2 %). The negatives' floor is 0.065. The model averaged over five seeds with
  // 10,000 weights: 87.5 / 90.6 %, 33 silent, 13; retrained with round 16: 87.3 / 90.1 %, 35 silent, 13.
  heldout: { top1: 0.865, top3: 0.895, negativesAnswered: 0.065 },
  // The dev split grows with data collected to find what the engine misses (2026-12-07: +315 failures and
  // +292 negatives; session 20: +740 failures and +401 negatives; session 21: two fresh rounds, +690
  // failures and +364 negatives; session 23: a sixth and a seventh round, +496 failures and +273
  // negatives, 20.7 % and 25.0 % of them answered when they came; session 25: an eighth round, +231
  // failures and +135 negatives, 69.7 % / 76.6 % and 10.4 % when they came; and a ninth, +272 failures and +129
  // negatives, 72.8 % / 78.3 % and 22.5 %; and a tenth, +285 failures and +165 negatives, 75.4 % / 81.8 % and
  // 17.0 % at the session's start, 78.6 % / 85.6 % and 17.0 % at its end; session 26: an eleventh, +229 failures
  // and +137 negatives, 78.6 % / 81.2 % and 10.9 % at the session's start; and a twelfth, +270 failures and +152
  // negatives, 80.4 % / 83.0 % and 9.9 % at the session's start; and a thirteenth, +201 failures and +179
  // negatives, 61.7 % / 64.7 % and 10.1 % at the session's start; session 27: a fourteenth, +184 failures and
  // +128 negatives, 72.3 % / 76.6 % and 16.4 % at the session's start; and a fifteenth, +184 failures and +149
  // negatives, 81.0 % / 87.0 % and 21.5 % at the session's start; and a sixteenth, +189 failures and +118
  // negatives, 82.6 % / 90.0 % and 6.8 % at the session's start), so its floors follow its new figures.
  dev: { top1: 0.845, top3: 0.89, negativesAnswered: 0.065 },
  shared: { top1: 0.95, top3: 0.95, negativesAnswered: 0 },
};

export function readJsonl(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not JSON: ${err.message}`);
      }
    });
}

/** Every snippet of one split folder (test/corpus/<split>/*.jsonl), files in name order. */
export function readSplit(corpusDir, split) {
  const dir = join(corpusDir, split);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(dir, f)));
}

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—');

/**
 * Score one set. Returns counts and rates, the reliability of each confidence band (how often the
 * top cause shown with that confidence is right), the failures that show fewer than three causes
 * although a symptom present lists three or more, and the misses.
 */
export function evaluate(snippets, explain) {
  const failures = snippets.filter((s) => s.expect !== 'none');
  const negatives = snippets.filter((s) => s.expect === 'none');
  let top1 = 0;
  let top3 = 0;
  let silent = 0;
  const bands = { high: { n: 0, right: 0 }, medium: { n: 0, right: 0 }, low: { n: 0, right: 0 } };
  const misses = [];
  const thin = [];
  for (const s of failures) {
    const d = explain(s.text);
    const ids = d.causes.map((c) => c.id);
    const ok = new Set([s.expect, ...(s.accept ?? [])]);
    const right = ids[0] !== undefined && ok.has(ids[0]);
    if (right) top1++;
    if (ids.slice(0, 3).some((i) => ok.has(i))) top3++;
    if (ids.length === 0) silent++;
    const top = d.causes[0];
    if (top) {
      bands[top.confidence].n++;
      if (right) bands[top.confidence].right++;
    }
    if (!right) misses.push({ snippet: s, diagnosis: d });
    if (ids.length < 3 && ids.length < (d.listed ?? 0)) thin.push(s.id);
  }
  const answered = [];
  for (const s of negatives) {
    const d = explain(s.text);
    if (d.causes.length > 0) answered.push({ snippet: s, diagnosis: d });
  }
  return {
    n: failures.length,
    top1: top1 / failures.length,
    top3: top3 / failures.length,
    silent,
    negatives: negatives.length,
    negativesAnswered: negatives.length ? answered.length / negatives.length : 0,
    bands: Object.fromEntries(Object.entries(bands).map(([k, v]) => [k, { n: v.n, right: v.n ? v.right / v.n : NaN }])),
    misses,
    answered,
    thin,
  };
}

/** The report as text: one block per set. */
export function formatReport(name, r) {
  const lines = [
    `${name}: failures n=${r.n} top-1 ${pct(r.top1)} top-3 ${pct(r.top3)} (silent on ${r.silent}); negatives n=${r.negatives} answered ${pct(r.negativesAnswered)} (${r.answered.length})`,
    `  confidence  shown  right`,
  ];
  for (const [band, v] of Object.entries(r.bands))
    lines.push(`  ${band.padEnd(10)} ${String(v.n).padStart(6)}  ${pct(v.right).padStart(6)}`);
  if (r.thin.length > 0) lines.push(`  fewer than three causes although the symptom lists three: ${r.thin.join(', ')}`);
  return lines.join('\n');
}

/** One line per miss or answered negative, for tuning on the dev split. */
export function formatMisses(r) {
  const out = [];
  for (const { snippet: s, diagnosis: d } of r.misses) {
    const got =
      d.causes
        .slice(0, 3)
        .map((c) => `${c.id}:${c.score}`)
        .join(' ') || '(none)';
    out.push(
      `--- ${s.id} [${s.kind ?? '?'}/${s.lang ?? '?'}] expect=${[s.expect, ...(s.accept ?? []).filter((a) => a !== s.expect)].join('|')} got=${got}`,
    );
    out.push(`    symptoms: ${d.symptoms.map((x) => x.id).join(', ') || '(none)'}`);
    out.push(`    text: ${s.text.slice(0, 300).replace(/\n/g, ' ⏎ ')}`);
    out.push(`    signals: ${d.signals.map((x) => x.signal).join(', ')}`);
  }
  for (const { snippet: s, diagnosis: d } of r.answered) {
    out.push(
      `--- NEGATIVE ${s.id} [${s.kind ?? '?'}] got=${d.causes
        .slice(0, 2)
        .map((c) => `${c.id}:${c.score}`)
        .join(' ')}`,
    );
    out.push(`    symptoms: ${d.symptoms.map((x) => `${x.id} (${x.evidence.map((e) => e.signal).join(', ')})`).join('; ')}`);
    out.push(`    text: ${s.text.slice(0, 300).replace(/\n/g, ' ⏎ ')}`);
  }
  return out.join('\n');
}
