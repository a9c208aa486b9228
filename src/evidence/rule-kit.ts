import type { Rule } from './extractor.js';
import { signalKey, type Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Helpers shared by the rule-table extractors (curl, node, python, java, go, browser, k8s, jwt, zh).
 */

/**
 * The rules whose key occurs in the text (a rule with key '' always runs). On a large document the
 * keys are answered by the engine's lexicon (one pass for every key of every extractor).
 */
export function keyGate(rules: readonly Rule[]): (doc: TextDoc) => Rule[] {
  return (doc) => rules.filter((r) => r.key === '' || doc.mayContain(r.key));
}

/** The line around a match, cut to at most 400 characters either side of it. */
export function lineOf(m: RegExpExecArray): string {
  return lineAround(m.input, m.index, m.index + m[0].length);
}

/** The line holding `text[start, end)`, cut to at most 400 characters either side of it. */
export function lineAround(text: string, start: number, end: number = start): string {
  const from = Math.max(0, start - 400);
  const to = Math.min(text.length, end + 400);
  const window = text.slice(from, to);
  const at = start - from;
  const a = window.lastIndexOf('\n', at) + 1;
  const b = window.indexOf('\n', at + (end - start));
  return window.slice(a, b < 0 ? window.length : b);
}

/** The text from the start of the match's line (at most 400 characters back) up to the match. */
export function lineBefore(m: RegExpExecArray): string {
  const before = m.input.slice(Math.max(0, m.index - 400), m.index);
  return before.slice(before.lastIndexOf('\n') + 1);
}

export interface TidyOptions {
  /** Signal names kept once per text rather than once per line. @example ['http.server'] */
  readonly oncePerText?: readonly string[];
  /** Drop net.error=timeout when net.error=connect_timeout or read_timeout was also seen. @defaultValue true */
  readonly preferPhasedTimeout?: boolean;
}

/**
 * Final pass over an extractor's signals: a rule value of '' marks a flag raised by only some
 * matches (it becomes a valueless signal), a phase-less timeout gives way to a phased one, and
 * each name=value is kept once per line.
 */
export function tidy(signals: readonly Signal[], opts: TidyOptions = {}): Signal[] {
  const once = new Set(opts.oncePerText ?? []);
  const phased =
    (opts.preferPhasedTimeout ?? true) &&
    signals.some((s) => s.name === 'net.error' && (s.value === 'connect_timeout' || s.value === 'read_timeout'));
  const seen = new Set<string>();
  const out: Signal[] = [];
  for (const s of signals) {
    const sig = s.value === '' ? withoutValue(s) : s;
    if (phased && sig.name === 'net.error' && sig.value === 'timeout') continue;
    const k = once.has(sig.name) ? signalKey(sig) : `${signalKey(sig)}@${sig.line ?? 0}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(sig);
  }
  return out;
}

function withoutValue(s: Signal): Signal {
  return { name: s.name, excerpt: s.excerpt, source: s.source, ...(s.line !== undefined ? { line: s.line } : {}) };
}
