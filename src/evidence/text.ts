import { redact, type Masked } from '../security/redact.js';
import { TriageError } from '../errors.js';
import type { Lexicon } from './lexicon.js';
import { requiredLiterals } from './literals.js';
import type { Signal } from './signal.js';

/** Limits on pasted text. */
export const TEXT_LIMITS = {
  /** Largest input accepted, in bytes (decoded text is about the same). @defaultValue 50 MiB */
  maxBytes: 50 * 1024 * 1024,
  /** Longest excerpt kept for one signal, in characters. @defaultValue 240 */
  excerptChars: 240,
} as const;

const ANSI = /\x1b(?:\[[0-?]{0,32}[ -/]{0,8}[@-~]|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/**
 * Terraform's (and OpenTofu's) diagnostics: a box opened by a `╷` line and closed by `╵`, each line
 * `│ ` and the message hard-wrapped at the terminal's width, so a Go error such as "(Client.Timeout
 * exceeded while awaiting headers)" arrives in two pieces. Each paragraph of a box is joined onto
 * its first line (the wrap is at a space) and the lines it came from are left empty, so line
 * numbers stay those of the paste.
 */
function unboxDiagnostics(text: string): string {
  // A rewritten text is a second copy of it: a paste of a tool's output is small, a log of many megabytes is
  // read as it is.
  if (text.length > MAX_UNBOX_CHARS || !text.includes('\u2577')) return text;
  // Only the boxes are touched (a 50 MB log with one box is not split into lines).
  let out = '';
  let last = 0;
  let from = 0;
  for (;;) {
    const open = text.indexOf('\u2577', from);
    if (open < 0) break;
    const openEnd = text.indexOf('\n', open);
    if (openEnd < 0) break;
    from = openEnd + 1;
    if (text.slice(text.lastIndexOf('\n', open) + 1, openEnd).trim() !== '\u2577') continue;
    const lines: string[] = [];
    let pos = openEnd + 1;
    let end = pos;
    while (pos < text.length && lines.length < MAX_BOX_LINES) {
      const nl = text.indexOf('\n', pos);
      const e = nl < 0 ? text.length : nl;
      const t = text.slice(pos, e).trim();
      if (!t.startsWith('\u2502')) break;
      lines.push(t.slice(1).trim());
      end = e;
      pos = e + 1;
    }
    if (lines.length === 0) continue;
    let para = -1;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') para = -1;
      else if (para < 0) para = i;
      else {
        lines[para] = `${lines[para]!} ${lines[i]!}`;
        lines[i] = '';
      }
    }
    out += text.slice(last, openEnd + 1) + lines.join('\n');
    last = end;
    from = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Lines of one boxed diagnostic read at most; Terraform's are a few dozen. */
const MAX_BOX_LINES = 500;
/** Texts longer than this keep their boxes as they are (see unboxDiagnostics). */
const MAX_UNBOX_CHARS = 4 * 1024 * 1024;

/**
 * Pasted text, normalised for matching: decoded (UTF-8, or UTF-16 with a BOM; invalid bytes become
 * U+FFFD), ANSI escapes removed, NUL bytes removed and other control characters turned into spaces
 * (with a note), CRLF and CR turned into LF.
 */
export class TextDoc {
  readonly text: string;
  /** Things the reader should know about the input (truncation, replaced bytes). */
  readonly notes: string[] = [];
  private starts: number[] | undefined;
  private lowered: string | undefined;
  private trigrams: Uint32Array | undefined;
  private readonly contains = new Map<string, boolean>();
  private readonly found = new Map<string, readonly number[] | 'dense'>();
  private lexicon: Lexicon | undefined;
  private lexiconHits: Map<number, number[] | null> | undefined;

  /** The clock to compare dates in the text with (JWT exp, certificate dates). */
  readonly now: Date;

  private constructor(text: string, notes: string[], now: Date) {
    this.text = text;
    this.now = now;
    this.notes.push(...notes);
  }

  /** Build a document from user input. Throws {@link TriageError} `INPUT_EMPTY`, `INPUT_BINARY`, `INPUT_TOO_LARGE`. */
  static from(input: string | Uint8Array, opts: { now?: Date } = {}): TextDoc {
    const notes: string[] = [];
    let raw: string;
    if (typeof input === 'string') {
      if (input.length > TEXT_LIMITS.maxBytes) throw tooLarge(input.length);
      raw = input;
    } else {
      if (input.byteLength > TEXT_LIMITS.maxBytes) throw tooLarge(input.byteLength);
      raw = decode(input, notes);
    }
    if ((typeof input !== 'string' && binaryMagic(input)) || looksBinary(raw)) {
      throw new TriageError(
        'INPUT_BINARY',
        'the input looks like binary data, not text: paste the error message or log lines as text (for a compressed log: zcat file.gz | triage explain)',
      );
    }
    let removed = 0;
    let nul = 0;
    const text = raw
      .replace(ANSI, '')
      .replace(/\r\n?/g, '\n')
      .replace(CONTROL, (c) => {
        removed++;
        if (c === '\0') nul++;
        return c === '\0' ? '' : ' ';
      });
    if (removed > 0)
      notes.push(
        `${removed} control character(s)${nul > 0 ? `, ${nul} of them NUL bytes,` : ''} were removed from the text (a log written while its file was truncated or rotated often holds NULs)`,
      );
    if (text.trim() === '') {
      throw new TriageError('INPUT_EMPTY', 'there is no text to explain: paste an error message, a log line or a curl -v transcript');
    }
    return new TextDoc(unboxDiagnostics(text), notes, opts.now ?? new Date());
  }

  /** Large enough that indexing literals ({@link useLexicon}) pays off; smaller texts are searched directly. */
  get large(): boolean {
    return this.text.length >= TRIGRAM_MIN_TEXT;
  }

  /** The text in lower case, for case-insensitive prefilters (computed once). */
  get lower(): string {
    return (this.lowered ??= this.text.toLowerCase());
  }

  /**
   * Whether the lower-cased text may contain `lowerLiteral`: false means it certainly does not.
   * On large texts it first consults a bitmap of the text's character trigrams (built once, one
   * pass), so that checking hundreds of literals costs a few hash lookups each instead of a scan of
   * the whole text each; a literal whose trigrams are all present is then searched for.
   */
  mayContain(lowerLiteral: string): boolean {
    const indexed = this.indexed(lowerLiteral);
    if (indexed !== undefined) return indexed === null || indexed.length > 0;
    const lower = this.lower;
    if (lower.length < TRIGRAM_MIN_TEXT) return lower.includes(lowerLiteral);
    const known = this.contains.get(lowerLiteral);
    if (known !== undefined) return known;
    const bits = (this.trigrams ??= trigramBits(lower));
    let maybe = true;
    for (let i = 0; maybe && i + 2 < lowerLiteral.length; i++) {
      const h = trigramHash(lowerLiteral.charCodeAt(i), lowerLiteral.charCodeAt(i + 1), lowerLiteral.charCodeAt(i + 2));
      maybe = (bits[h >>> 5]! & (1 << (h & 31))) !== 0;
    }
    const found = maybe && lower.includes(lowerLiteral);
    this.contains.set(lowerLiteral, found);
    return found;
  }

  /**
   * Every match of a global regex, in text order, like repeated `re.exec(doc.text)`. On large texts
   * the regex runs only over the lines around occurrences of its required literals (a few lines
   * either side; {@link requiredLiterals}), so that hundreds of regexes over a megabyte of log cost
   * about what the relevant lines cost; where a literal is frequent, or the regex requires none, it
   * runs over the whole text. Each match's `index` and `input` refer to the whole text.
   */
  *matches(re: RegExp): Generator<RegExpExecArray> {
    const text = this.text;
    const windows = text.length < SCAN.minText ? undefined : this.windowsFor(re);
    if (!windows) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) re.lastIndex++;
        yield m;
      }
      return;
    }
    for (const [from, to] of windows) {
      const part = text.slice(from, to);
      re.lastIndex = 0;
      for (let m = re.exec(part); m !== null; m = re.exec(part)) {
        if (m[0].length === 0) re.lastIndex++;
        m.index += from;
        m.input = text;
        yield m;
      }
    }
  }

  /**
   * Index a large document with a lexicon: one pass finds every occurrence of the lexicon's literals,
   * so that {@link mayContain} and {@link matches} answer for them without scanning again. Literals
   * outside the lexicon are still answered, by a scan of their own.
   */
  useLexicon(lexicon: Lexicon): this {
    if (this.lexicon !== lexicon) {
      this.lexicon = lexicon;
      this.lexiconHits = undefined;
    }
    return this;
  }

  /** The ids of the lexicon's literals found in the text, when a lexicon indexes it (for {@link PatternSet}). */
  literalsFound(lexicon: Lexicon): ReadonlyMap<number, number[] | null> | undefined {
    if (this.lexicon !== lexicon) return undefined;
    return (this.lexiconHits ??= lexicon.scan(this.lower, SCAN.maxOccurrences));
  }

  /** The lexicon's occurrences of a literal (null: dense), or undefined when it is not in the lexicon. */
  private indexed(lowerLiteral: string): readonly number[] | null | undefined {
    const id = this.lexicon?.idOf(lowerLiteral);
    if (id === undefined) return undefined;
    this.lexiconHits ??= this.lexicon!.scan(this.lower, SCAN.maxOccurrences);
    const at = this.lexiconHits.get(id);
    return at === undefined ? [] : at;
  }

  /** Offsets where a lower-case literal occurs in {@link lower}; 'dense' past {@link SCAN.maxOccurrences}. */
  private occurrences(lowerLiteral: string): readonly number[] | 'dense' {
    let got = this.found.get(lowerLiteral);
    if (got !== undefined) return got;
    const indexed = this.indexed(lowerLiteral);
    if (indexed !== undefined) return indexed ?? 'dense';
    const at: number[] = [];
    if (this.mayContain(lowerLiteral)) {
      const lower = this.lower;
      for (let i = lower.indexOf(lowerLiteral); i >= 0; i = lower.indexOf(lowerLiteral, i + 1)) {
        if (at.length === SCAN.maxOccurrences) {
          got = 'dense';
          break;
        }
        at.push(i);
      }
    }
    got ??= at;
    this.found.set(lowerLiteral, got);
    return got;
  }

  /** Merged [from, to) windows of whole lines around the regex's literals, or undefined for a full scan. */
  private windowsFor(re: RegExp): [number, number][] | undefined {
    const literals = literalsOf(re);
    if (!literals) return undefined;
    const starts: number[] = [];
    for (const l of literals) {
      const at = this.occurrences(l);
      if (at === 'dense') return undefined;
      for (const i of at) starts.push(i);
    }
    starts.sort((a, b) => a - b);
    const text = this.text;
    const out: [number, number][] = [];
    let covered = 0;
    for (const i of starts) {
      const from = linesBack(text, i, SCAN.contextLines, SCAN.contextChars);
      const to = linesAhead(text, i, SCAN.contextLines, SCAN.contextChars);
      if (from < 0 || to < 0) return undefined;
      const last = out[out.length - 1];
      if (last && from <= last[1]) {
        covered += Math.max(0, to - last[1]);
        last[1] = Math.max(last[1], to);
      } else {
        out.push([from, to]);
        covered += to - from;
      }
      if (covered > text.length * SCAN.maxCoverage) return undefined;
    }
    return out;
  }

  /** The lines in order, lazily. */
  *lines(): Generator<string> {
    for (let from = 0; from <= this.text.length;) {
      const nl = this.text.indexOf('\n', from);
      yield this.text.slice(from, nl < 0 ? this.text.length : nl);
      if (nl < 0) return;
      from = nl + 1;
    }
  }

  /** 1-based line number of a character offset. */
  lineOf(index: number): number {
    const starts = (this.starts ??= lineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The masked excerpt around [start, end): the line it is on, cut to {@link TEXT_LIMITS.excerptChars}. */
  excerpt(start: number, end: number): Masked {
    const lineStart = this.text.lastIndexOf('\n', start - 1) + 1;
    let lineEnd = this.text.indexOf('\n', end);
    if (lineEnd < 0) lineEnd = this.text.length;
    const max = TEXT_LIMITS.excerptChars;
    // Mask a region well beyond the window first, so that a secret cut by the window's edge is
    // masked whole rather than half-printed; then cut the window out of the masked region.
    const regionStart = Math.max(lineStart, start - 4096);
    const regionEnd = Math.min(lineEnd, end + 4096);
    const region: string = redact(this.text.slice(regionStart, regionEnd));
    if (region.length <= max && regionStart === lineStart && regionEnd === lineEnd) return redact(region.trim());
    const needle = this.text.slice(start, Math.min(end, start + 32));
    const guess = start - regionStart;
    const after = region.indexOf(needle, Math.max(0, guess - 64));
    const at = after >= 0 ? after : Math.min(guess, region.length);
    const from = Math.max(0, Math.min(at - Math.floor((max - Math.min(end - start, max)) / 2), region.length - max));
    const to = Math.min(region.length, from + max);
    let s = region.slice(from, to).trim();
    if (from > 0 || regionStart > lineStart) s = `…${s}`;
    if (to < region.length || regionEnd < lineEnd) s = `${s}…`;
    return redact(s);
  }

  /**
   * Make a signal from a match at [start, end). The excerpt is masked when first read: most signals
   * of a large log are de-duplicated away before anything shows them, and masking is the costly part.
   */
  signal(name: string, value: string | undefined, start: number, end: number, source: string): Signal {
    let excerpt: Masked | undefined;
    const cut = () => this.excerpt(start, end);
    const base = {
      name,
      get excerpt(): Masked {
        return (excerpt ??= cut());
      },
      source,
      line: this.lineOf(start),
    };
    if (value !== undefined) Object.defineProperty(base, 'value', { value, enumerable: true });
    return base;
  }
}

function tooLarge(bytes: number): TriageError {
  const mb = (bytes / 1024 / 1024).toFixed(1);
  const limit = TEXT_LIMITS.maxBytes / 1024 / 1024;
  return new TriageError(
    'INPUT_TOO_LARGE',
    `the input is ${mb} MB, more than the ${limit} MB limit: pass the relevant part, e.g. tail -n 20000 error.log | triage explain`,
  );
}

function decode(bytes: Uint8Array, notes: string[]): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes);
  let bad = 0;
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) bad++;
  if (bad > 0) notes.push(`${bad} invalid UTF-8 byte sequence(s) were replaced with U+FFFD`);
  return text;
}

/** The first bytes of compressed, image and executable files: never text, however few control bytes they hold. */
const MAGIC: readonly (readonly number[])[] = [
  [0x1f, 0x8b], // gzip
  [0x50, 0x4b, 0x03, 0x04], // zip
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], // xz
  [0x28, 0xb5, 0x2f, 0xfd], // zstd
  [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], // 7z
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x7f, 0x45, 0x4c, 0x46], // ELF
];

function binaryMagic(bytes: Uint8Array): boolean {
  return MAGIC.some((m) => m.length <= bytes.length && m.every((b, i) => bytes[i] === b));
}

/**
 * Binary when the first 64 KiB hold more than 10 % control characters (NUL included), or (in texts
 * long enough to judge) more than 30 % undecodable bytes. A few NULs in a text log (a file
 * truncated while written) do not make it binary: they are removed, with a note.
 */
function looksBinary(text: string): boolean {
  const head = text.slice(0, 65536);
  if (head.length === 0) return false;
  let control = 0;
  let replaced = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 27) control++;
    else if (c === 0xfffd) replaced++;
  }
  return control / head.length > 0.1 || (head.length >= 64 && replaced / head.length > 0.3);
}

/** How {@link TextDoc.matches} narrows a regex's work on large texts. */
const SCAN = {
  /** Below this many characters every regex runs over the whole text. */
  minText: 64 * 1024,
  /** Lines kept before and after the line of each literal occurrence (a match may span a few lines). */
  contextLines: 2,
  /** …and at most this many characters either way. */
  contextChars: 4096,
  /** A literal seen more often than this is "dense": the regex runs over the whole text. */
  maxOccurrences: 2000,
  /** When the windows would cover more than this share of the text, the whole text is cheaper. */
  maxCoverage: 0.3,
} as const;

const LITERALS = new WeakMap<RegExp, readonly string[] | null>();

/** The lower-case literals one of which every match of `re` contains (cached per regex). */
function literalsOf(re: RegExp): readonly string[] | undefined {
  let got = LITERALS.get(re);
  if (got === undefined) {
    got = requiredLiterals(re.source, false) ?? null;
    LITERALS.set(re, got);
  }
  return got ?? undefined;
}

/**
 * Start of the line `n` lines before the one holding `i`, at most `max` characters back; -1 when the
 * line holding `i` itself starts further back than that (one huge line: scan the whole text).
 */
function linesBack(text: string, i: number, n: number, max: number): number {
  const floor = i - max;
  let start = text.lastIndexOf('\n', i - 1) + 1;
  if (start < floor) return -1;
  for (let k = 0; k < n && start > 0; k++) {
    const prev = text.lastIndexOf('\n', start - 2) + 1;
    if (prev < floor) break;
    start = prev;
  }
  return start;
}

/** End of the line `n` lines after the one holding `i`, at most `max` characters on; -1 as above. */
function linesAhead(text: string, i: number, n: number, max: number): number {
  const ceil = i + max;
  const eol = (from: number) => {
    const nl = text.indexOf('\n', from);
    return nl < 0 ? text.length : nl;
  };
  let end = eol(i);
  if (end > ceil) return -1;
  for (let k = 0; k < n && end < text.length; k++) {
    const next = eol(end + 1);
    if (next > ceil) break;
    end = next;
  }
  return end;
}

/** Below this many characters a plain search is cheaper than building the trigram bitmap. */
const TRIGRAM_MIN_TEXT = 64 * 1024;
const TRIGRAM_BITS = 1 << 22;

function trigramHash(a: number, b: number, c: number): number {
  return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35)) >>> 10;
}

function trigramBits(text: string): Uint32Array {
  const bits = new Uint32Array(TRIGRAM_BITS / 32);
  let a = text.charCodeAt(0);
  let b = text.charCodeAt(1);
  for (let i = 2; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const h = trigramHash(a, b, c);
    bits[h >>> 5]! |= 1 << (h & 31);
    a = b;
    b = c;
  }
  return bits;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
