import type { Extractor } from './extractor.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/** Most signals kept: a long text that names a code many times says no more than once. */
const MAX = 8;
const NAME = 'mention';

/**
 * The codes whose symptom has a differential of its own (knowledge/symptoms/symptoms.yaml), standing
 * alone: not inside a word, a longer number, a version, a time, an address, a path or brackets (a
 * `[403]` is a list or a repr; the extractors read `<Response [403]>`), and not followed
 * by a unit ("took 504 ms", "403 KB"; "502 forks" is left to the model). Chinese and Japanese write a
 * number against the words around it ("好多499的错误"), so only Latin and Cyrillic letters count.
 */
const STATUS =
  /(?:^|[^a-z\u00c0-\u024f\u0400-\u04ff\p{N}_.:/,#@$=<[-])(40[137]|413|429|499|50[234])(?![\p{N}_.:/,%>\]-]|[ \t]?(?:ms|s|kb|mb|gb|px|bytes?)\b)/gimu;

/**
 * A timeout in words, as a word of its own ("timed out", "timeout", not `proxy_read_timeout` or
 * `ReadTimeout`, which the extractors and patterns read when they mean something), and in the
 * languages of the corpus.
 */
const TIMEOUT =
  /(?:^|[^\p{L}\p{N}_])(?:timed[ -]?out|time[ -]?out|timeout)(?![\p{L}\p{N}_])|超时|超時|タイムアウト|시간 ?초과|тайм-?аут|превышено время ожидания|tiempo de espera (?:agotado|excedido)|délai d'attente|zeitüberschreitung|tempo limite|zaman aşımı|limit czasu|hết thời gian chờ/gimu;

/**
 * The last resort: a failure named in passing, with no format around it that another extractor
 * reads. A status code alone ("hit consistent 502 on every call", "nginx 日志出现好多 499") and a
 * timeout said in words, in the languages people report in.
 *
 * The engine reads it only for a text in which nothing that the extractors and the knowledge patterns
 * read shows a symptom, and keeps its signals only when the discourse rules and the report model both take the text for a
 * failure report (`MENTION_REPORT_AT` in src/triage/engine.ts). The ranking then shows the symptom's
 * differential at low confidence: the guide's list, which is what a thin report deserves. It is not in
 * the registry (src/evidence/index.ts): a probe's response body is never read by it.
 */
export const mentionExtractor: Extractor = {
  name: NAME,
  reads: 'a status code or a timeout named in passing, where nothing else read shows a symptom',
  patterns: [STATUS, TIMEOUT],
  keys: [],
  extract(doc: TextDoc): Signal[] {
    const out: Signal[] = [];
    for (const m of doc.matches(STATUS)) {
      const code = m[1] ?? '';
      out.push(doc.signal('http.status', code, m.index + m[0].length - code.length, m.index + m[0].length, NAME));
      if (out.length >= MAX) return out;
    }
    for (const m of doc.matches(TIMEOUT)) {
      out.push(doc.signal('net.error', 'timeout', m.index, m.index + m[0].length, NAME));
      if (out.length >= MAX) return out;
    }
    return out;
  },
};
