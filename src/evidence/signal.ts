import type { Masked } from '../security/redact.js';

/**
 * A small typed fact about a failure, the one vocabulary between inputs (text, probes) and the
 * knowledge base. Names are declared in knowledge/signals/*.yaml.
 *
 * @example { name: 'http.status', value: '502', excerpt: 'HTTP/1.1 502 Bad Gateway', source: 'http' }
 */
export interface Signal {
  /** Catalogue name, e.g. `net.error`. */
  readonly name: string;
  /** The value for valued signals (`connection_refused`, `502`); absent for flags. */
  readonly value?: string;
  /** The text or measurement that produced it, masked. */
  readonly excerpt: Masked;
  /** The extractor, pattern (`<entry>#<pattern>`) or probe that produced it. */
  readonly source: string;
  /** 1-based line of the excerpt in the input text, when it came from text. */
  readonly line?: number;
  /** In an investigation of several items (texts, probe runs, answers): the id of the item it came from. */
  readonly origin?: string;
}

/**
 * The source of the signals that a text names in passing (src/evidence/mention.ts: "keep getting 502",
 * "证书错误"): they show a symptom, but a failure that only they show is answered at low confidence.
 */
export const IN_PASSING = 'mention';

/** The matching key of a signal: `name` or `name=value`. */
export function signalKey(s: { name: string; value?: string | undefined }): string {
  return s.value === undefined ? s.name : `${s.name}=${s.value}`;
}

/** Parse a `name` or `name=value` reference. */
export function parseSignalRef(ref: string): { name: string; value?: string } {
  const i = ref.indexOf('=');
  return i < 0 ? { name: ref } : { name: ref.slice(0, i), value: ref.slice(i + 1) };
}
