import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One labeled snippet (test/corpus/*.jsonl and ../shared/eval/sample.jsonl). */
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
export const CORPUS_DIR = join(ROOT, 'test/corpus');
export const SAMPLE_FILE = resolve(ROOT, '../shared/eval/sample.jsonl');

export function readJsonl(file: string): Snippet[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Snippet);
}

export function readCorpus(): Snippet[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(CORPUS_DIR, f)));
}
