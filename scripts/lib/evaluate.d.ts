// Types of scripts/lib/evaluate.js for the tests.
export interface LabeledSnippet {
  id: string;
  text: string;
  expect: string;
  accept: string[];
  lang?: string;
  kind?: string;
  source: string;
}
interface DiagnosisLike {
  readonly causes: readonly { id: string; score: number; confidence: 'high' | 'medium' | 'low' }[];
  readonly symptoms: readonly { id: string; evidence: readonly { signal: string }[] }[];
  readonly signals: readonly { signal: string }[];
  /** How many causes the present symptoms list (at most 3): fewer shown is a failure of the differential. */
  readonly listed?: number;
}
export interface Report {
  n: number;
  top1: number;
  top3: number;
  silent: number;
  negatives: number;
  negativesAnswered: number;
  bands: Record<'high' | 'medium' | 'low', { n: number; right: number }>;
  misses: { snippet: LabeledSnippet; diagnosis: DiagnosisLike }[];
  answered: { snippet: LabeledSnippet; diagnosis: DiagnosisLike }[];
  thin: string[];
}
export const SPLITS: readonly ['dev', 'heldout'];
export const TARGETS: { top1: number; top3: number; negativesAnswered: number; high: number; medium: number };
export const FLOORS: Record<'heldout' | 'dev' | 'shared', { top1: number; top3: number; negativesAnswered: number }>;
export function readJsonl(file: string): LabeledSnippet[];
export function readSplit(corpusDir: string, split: string): LabeledSnippet[];
export function evaluate(snippets: readonly LabeledSnippet[], explain: (text: string) => DiagnosisLike): Report;
export function formatReport(name: string, r: Report): string;
export function formatMisses(r: Report): string;
