/**
 * Secret masking. Everything that leaves the process (a log line, a stored record, a Slack post,
 * a CLI line, a metrics label) is built from {@link Masked} strings, which only {@link redact} can
 * make, so a raw token cannot reach an output by accident.
 *
 * Masking runs in three steps, so that no rule can hide a secret from another: every detector of
 * secret-rules.ts (secretlint's preset, as data, and the rules for logs) finds its spans in the
 * original text; the spans are merged; each merged span is replaced by {@link MASK}.
 */
import { DETECTORS, type Detector, type Span } from './secret-rules.js';
import { RULE_SET } from './secret-rules.gen.js';

declare const maskedBrand: unique symbol;

/** A string whose secrets have been masked. Obtain one from {@link redact} (or {@link trusted}). */
export type Masked = string & { readonly [maskedBrand]: true };

/** The text that stands in for a masked secret; a kind may follow it: `[masked](jwt)`. */
export const MASK = '[masked]';

/** A mask already in the text, with its kind: masking it again changes nothing. */
const MASKED_AT = /^\[masked\](?:\([a-z-]{1,20}\))?/;

/**
 * Which detectors a text needs, in one pass: a regex of every detector's literals finds where one
 * may start; each literal starting there turns its detectors on. Detectors without literals always run.
 */
const ALWAYS: readonly Detector[] = DETECTORS.filter((d) => !d.literals);
const BY_LITERAL = new Map<string, number[]>();
DETECTORS.forEach((d, i) => d.literals?.forEach((l) => BY_LITERAL.set(l, [...(BY_LITERAL.get(l) ?? []), i])));
const LITERALS_BY_FIRST = new Map<string, string[]>();
for (const l of BY_LITERAL.keys()) LITERALS_BY_FIRST.set(l[0]!, [...(LITERALS_BY_FIRST.get(l[0]!) ?? []), l]);
const TRIGGER = new RegExp(
  [...BY_LITERAL.keys()]
    .sort((a, b) => b.length - a.length)
    .map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
  'g',
);

function detectorsFor(lower: string): Detector[] {
  const on = new Uint8Array(DETECTORS.length);
  TRIGGER.lastIndex = 0;
  for (let m = TRIGGER.exec(lower); m !== null; m = TRIGGER.exec(lower)) {
    // Every literal starting here (a shorter one may hide behind a longer one), then look again one on.
    for (const l of LITERALS_BY_FIRST.get(m[0][0]!) ?? []) if (lower.startsWith(l, m.index)) for (const i of BY_LITERAL.get(l)!) on[i] = 1;
    TRIGGER.lastIndex = m.index + 1;
  }
  const out = [...ALWAYS];
  on.forEach((v, i) => v && out.push(DETECTORS[i]!));
  return out;
}

/** Mask every secret in `text`. Idempotent: masking masked text changes nothing. Linear in the text's length. */
export function redact(text: string): Masked {
  if (text.length === 0) return text as Masked;
  const lower = text.toLowerCase();
  const spans: Span[] = [];
  for (const d of detectorsFor(lower)) d.find(text, lower, spans);
  if (spans.length === 0) return text as Masked;
  return mask(text, merge(text, spans)) as Masked;
}

/** Spans sorted, overlapping or touching ones joined, masks already in the text left out. */
function merge(text: string, spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    let start = s.start;
    // Skip a mask that is already there ("token=[masked](jwt)" is found again as a value).
    while (start < s.end && text.charCodeAt(start) === 91) {
      const m = MASKED_AT.exec(text.slice(start, start + 32));
      if (!m) break;
      start += m[0].length;
    }
    if (start >= s.end) continue;
    const last = out[out.length - 1];
    if (last && start <= last.end) {
      if (s.end > last.end) last.end = s.end;
      if (s.label && s.label !== last.label) last.label = last.label === undefined ? s.label : '';
      continue;
    }
    out.push({ start, end: s.end, ...(s.label ? { label: s.label } : {}) });
  }
  return out;
}

function mask(text: string, spans: readonly Span[]): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + MASK + (s.label ? `(${s.label})` : '');
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Mark a string that cannot hold a secret (a number, an enum value, text the program wrote) as
 * masked without scanning it. Use only for program-made text.
 */
export function trusted(text: string): Masked {
  return text as Masked;
}

/** The kinds of secret the detectors recognise, for documentation and tests. */
export const SECRET_KINDS: readonly string[] = [...new Set(DETECTORS.map((d) => d.kind))];

/** The maintained rule set detection is based on: its npm name, version, license and source. */
export { RULE_SET };
