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

/** The text with each whitespace run as one space, and where each of its characters stands in the original. */
function reflow(lower: string): { text: string; from: Int32Array } | undefined {
  if (lower.length > REFLOW_MAX || !/\s\s|[\n\t\r]/.test(lower)) return undefined;
  const from = new Int32Array(lower.length);
  const out: string[] = [];
  let space = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      if (space) continue;
      space = true;
      from[out.length] = i;
      out.push(' ');
      continue;
    }
    space = false;
    from[out.length] = i;
    out.push(c);
  }
  return { text: out.join(''), from };
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
  lex.scan(flowed.text, MAX_PER_TEXT).forEach((at, id) => {
    // Found as it stands already: the wrapped reading adds nothing.
    if (at === null || found.has(id)) return;
    for (const start of at) add(id, flowed.from[start]!, flowed.from[start + LOCALIZED[id]![0].length - 1]! + 1);
  });
  return sink;
}

export const localizedExtractor: Extractor = {
  name: 'localized',
  reads: 'failure messages in other languages, from the translation catalogues of glibc, Firefox, Chromium, APT, wget and git',
  patterns: [],
  extract: (doc) => extract(doc).signals,
};
