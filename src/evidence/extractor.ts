import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Reads one source format (nginx error.log, curl -v, a Node.js stack …) and emits signals.
 * Extractors are pure, synchronous and linear in the size of the text: they first look for
 * their format's keywords in `doc.lower` and return [] when the text is not theirs.
 *
 * Signal names and values must be declared in knowledge/signals/*.yaml (a test enforces it).
 */
export interface Extractor {
  /** Short name, used as the signals' `source`. @example 'nginx' */
  readonly name: string;
  /** What it reads, one line for docs. */
  readonly reads: string;
  /** Every regex it runs over the text: the conformance suite proves them linear-time, and the engine indexes their required literals. */
  readonly patterns: readonly RegExp[];
  /** Lower-case keywords it checks with `doc.mayContain` (indexed with the patterns' literals). */
  readonly keys?: readonly string[];
  /**
   * A fallback reads generic wording: its signals on a line are dropped when another extractor or a
   * knowledge pattern read that line (the product's own wording is the better evidence). @defaultValue false
   */
  readonly fallback?: boolean;
  extract(doc: TextDoc): Signal[];
}

/**
 * Helper for the common case: run a table of regexes (each global, linear-time, with a keyword
 * that must be present in the lower-cased text) and emit a signal per match.
 */
export interface Rule {
  /** Lower-case substring that must occur for the rule to run. */
  readonly key: string;
  readonly re: RegExp;
  readonly name: string;
  /** A fixed value, or a function of the match (return undefined to skip the match). */
  readonly value?: string | ((m: RegExpExecArray) => string | undefined);
}

/** Most matches kept per rule. */
const MAX_PER_RULE = 20;

export function runRules(doc: TextDoc, rules: readonly Rule[], source: string): Signal[] {
  const out: Signal[] = [];
  for (const r of rules) {
    if (!doc.mayContain(r.key)) continue;
    let n = 0;
    for (const m of doc.matches(r.re)) {
      if (n >= MAX_PER_RULE) break;
      if (m[0].length === 0) continue;
      const value = typeof r.value === 'function' ? r.value(m) : r.value;
      if (typeof r.value === 'function' && value === undefined) continue;
      out.push(doc.signal(r.name, value, m.index, m.index + m[0].length, source));
      n++;
    }
  }
  return out;
}
