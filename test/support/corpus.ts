import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// The same reader `npm run accuracy` uses (scripts/lib/evaluate.js), so both see the same corpus.
import { readJsonl as readJsonlFile, readSplit } from '../../scripts/lib/evaluate.js';

/** One labeled snippet (test/corpus/<split>/*.jsonl and the shared eval/*.jsonl). `expect: "none"` marks a negative. */
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
/**
 * A file of ../shared/ (what the team shares with this repository: the cause ids, the shared
 * evaluation sample): the live one beside the checkout when it is there, else the copy kept in
 * test/fixtures/shared/ so that `npm test` runs on a machine that has only this repository. A test
 * (test/knowledge/shared-copy.test.ts) fails when the copy and the live file differ.
 */
export function sharedFile(rel: string): string {
  const live = resolve(ROOT, '../shared', rel);
  return existsSync(live) ? live : resolve(ROOT, 'test/fixtures/shared', rel);
}

export function readShared(rel: string): string {
  return readFileSync(sharedFile(rel), 'utf8');
}

export const SAMPLE_FILE = sharedFile('eval/sample.jsonl');
export const NEGATIVES_SAMPLE_FILE = sharedFile('eval/negatives-sample.jsonl');

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
