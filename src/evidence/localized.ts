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

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'localized');
  const lex = lexiconOf();
  const found = lex.scan(doc.lower, MAX_PER_TEXT);
  found.forEach((at, id) => {
    if (at === null) return;
    const row = LOCALIZED[id]!;
    for (const start of at)
      for (const [name, value] of LOCALIZED_SIGNALS[row[2]] ?? []) {
        // A parser's "invalid token" (JSON, YAML, a template) is about syntax, not credentials.
        if (value === 'invalid_token' && PARSER_TOKEN.test(lineAround(doc.text, start, start + row[0].length))) continue;
        // A status comes with what it implies (a 429 is a rate limit), as from every other extractor.
        if (name === 'http.status') addStatus(sink, value, start, start + row[0].length);
        else sink.add(name, value, start, start + row[0].length);
      }
  });
  return sink;
}

export const localizedExtractor: Extractor = {
  name: 'localized',
  reads: 'failure messages in other languages, from the translation catalogues of glibc, Firefox, Chromium, APT, wget and git',
  patterns: [],
  extract: (doc) => extract(doc).signals,
};
