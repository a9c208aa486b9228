import { resolve } from 'node:path';
// The same reader `npm run accuracy` uses (scripts/lib/evaluate.js), so both see the same corpus.
import { readJsonl as readJsonlFile, readSplit } from '../../scripts/lib/evaluate.js';

/** One labeled snippet (test/corpus/<split>/*.jsonl and ../shared/eval/*.jsonl). `expect: "none"` marks a negative. */
export interface Snippet {
  id: string;
  text: string;
  expect: string;
  accept: string[];
  lang?: string;
  kind?: string;
  source: string;
}

export const ROOT = resolve(import.meta.dirname, '../..');
export const CORPUS_DIR = resolve(ROOT, 'test/corpus');
export const SAMPLE_FILE = resolve(ROOT, '../shared/eval/sample.jsonl');
export const NEGATIVES_SAMPLE_FILE = resolve(ROOT, '../shared/eval/negatives-sample.jsonl');

/** The corpus splits: `dev` (rules may be written from it) and `heldout` (never). */
export type Split = 'dev' | 'heldout';

export function readJsonl(file: string): Snippet[] {
  return readJsonlFile(file) as Snippet[];
}

/** The labeled corpus: one split, or both (failures and negatives alike). */
export function readCorpus(split?: Split): Snippet[] {
  const splits: Split[] = split ? [split] : ['dev', 'heldout'];
  return splits.flatMap((s) => readSplit(CORPUS_DIR, s) as Snippet[]);
}
