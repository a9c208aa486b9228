import type { Extractor } from './extractor.js';
import { Lexicon } from './lexicon.js';
import { addStatus, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';
import { PARSER_TOKEN } from './jwt.js';
import { lineAround } from './rule-kit.js';
import { LOCALIZED, LOCALIZED_SIGNALS } from './vocab/localized.gen.js';

/**
 * Failure messages as programs print them in other languages, from their translation catalogues
 * (glibc's strerror and gai_strerror, Firefox's and Chromium's error pages and CORS console messages,
 * APT, wget, git: src/evidence/vocab/localized.gen.ts, with the file each text comes from). One
 * automaton finds all of them in one pass over the text.
 */

let lexicon: Lexicon | undefined;
const lexiconOf = () => (lexicon ??= new Lexicon(LOCALIZED.map((r) => r[0])));

/** Most signals per text from one message. */
const MAX_PER_TEXT = 5;

/**
 * Pages, e-mails and chat clients wrap a message anywhere ("Il server proxy ha ricevuto una risposta\n    non
 * valida dal server precedente."): a text up to this size is read a second time with each run of whitespace as
 * one space, as the catalogue texts are kept.
 */
const REFLOW_MAX = 256 * 1024;

const WHITESPACE_RUN = /[ \t\r\n]+/g;

/** The text with each whitespace run as one space, or undefined when that changes nothing or the text is too large. */
function reflow(lower: string): string | undefined {
  if (lower.length > REFLOW_MAX) return undefined;
  const text = lower.replace(WHITESPACE_RUN, ' ');
  return text === lower ? undefined : text;
}

/** Where the character at `at` of {@link reflow}'s text stands in `lower`: found only for a hit, which is rare. */
function originalAt(lower: string, at: number): number {
  let shift = 0;
  for (const m of lower.matchAll(WHITESPACE_RUN)) {
    const run = m.index - shift;
    if (at <= run) return at + shift;
    shift += m[0].length - 1;
  }
  return at + shift;
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'localized');
  const lex = lexiconOf();
  const add = (id: number, start: number, end: number) => {
    const row = LOCALIZED[id]!;
    for (const [name, value] of LOCALIZED_SIGNALS[row[2]] ?? []) {
      // A parser's "invalid token" (JSON, YAML, a template) is about syntax, not credentials.
      if (value === 'invalid_token' && PARSER_TOKEN.test(lineAround(doc.text, start, end))) continue;
      // A status comes with what it implies (a 429 is a rate limit), as from every other extractor.
      if (name === 'http.status') addStatus(sink, value, start, end);
      else sink.add(name, value, start, end);
    }
  };
  const found = lex.scan(doc.lower, MAX_PER_TEXT);
  found.forEach((at, id) => {
    if (at === null) return;
    for (const start of at) add(id, start, start + LOCALIZED[id]![0].length);
  });
  const flowed = reflow(doc.lower);
  if (!flowed) return sink;
  lex.scan(flowed, MAX_PER_TEXT).forEach((at, id) => {
    // Found as it stands already: the wrapped reading adds nothing.
    if (at === null || found.has(id)) return;
    const last = LOCALIZED[id]![0].length - 1;
    for (const start of at) add(id, originalAt(doc.lower, start), originalAt(doc.lower, start + last) + 1);
  });
  return sink;
}

export const localizedExtractor: Extractor = {
  name: 'localized',
  reads: 'failure messages in other languages, from the translation catalogues of glibc, Firefox, Chromium, APT, wget and git',
  patterns: [],
  extract: (doc) => extract(doc).signals,
};
