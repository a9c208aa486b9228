import { describesOnly, diffShown, recoveryNotice, referenceListing, retrospective } from '../evidence/discourse.js';
import { featuresToJudge, MIN_FEATURES, NOT_A_FAILURE_AT, notAFailure, READ_CHARS } from '../evidence/report-model.js';
import { EXTRACTORS } from '../evidence/index.js';
import { mentionExtractor } from '../evidence/mention.js';
import type { Extractor } from '../evidence/extractor.js';
import { Lexicon } from '../evidence/lexicon.js';
import { requiredLiterals } from '../evidence/literals.js';
import { PatternSet } from '../evidence/patterns.js';
import { IN_PASSING, type Signal } from '../evidence/signal.js';
import { TextDoc } from '../evidence/text.js';
import { BUILTIN_KNOWLEDGE_DIR } from '../knowledge/load.js';
import { loadKnowledgeBase } from '../knowledge/snapshot.js';
import type { KnowledgeBase, Lang } from '../knowledge/types.js';
import { rank, SignalIndex, symptomsOf, type RankOptions } from '../match/score.js';
import { TriageError } from '../errors.js';
import { toDiagnosis, type Diagnosis, type ItemResult } from './result.js';

/** One piece of evidence in an investigation: a text to read, signals already observed, or both. */
export interface EvidenceItem {
  /** Unique in the investigation: a file name, a Slack message ts, `probes:<run>`, `answer:<question>`. */
  readonly id: string;
  /** What it is, shown with it (`text`, `file`, `probes`, `answer`, `summary`). */
  readonly kind?: string;
  readonly text?: string | Uint8Array;
  readonly signals?: readonly Signal[];
}

export interface ExplainOptions extends RankOptions {
  /** Answer language. @defaultValue 'en' */
  readonly lang?: Lang;
  /** The clock for dates in the text (JWT exp/nbf). @defaultValue now */
  readonly now?: Date;
}

/**
 * The triage engine: a validated knowledge base, its compiled text patterns and the extractors.
 * Build one per process ({@link createEngine}) and share it; it holds no per-request state.
 */
export class Engine {
  private compiled: PatternSet | undefined;
  private lexicon: Lexicon | undefined;
  private texts = 0;
  private chars = 0;

  constructor(
    readonly kb: KnowledgeBase,
    readonly extractors: readonly Extractor[] = EXTRACTORS,
  ) {}

  /** The knowledge patterns, compiled on first use: ranking probe signals never needs them. */
  get patterns(): PatternSet {
    return (this.compiled ??= new PatternSet(this.kb));
  }

  /**
   * All signals in a text: every extractor plus every knowledge pattern; none when the whole text
   * describes failures without showing one (documentation, a changelog: src/evidence/discourse.ts),
   * or when the learned model is confident that it is not a failure report. A text in which nothing
   * read shows a symptom may still name its failure in passing (src/evidence/mention.ts): that counts
   * only when the model is as sure that the text reports a failure ({@link MENTION_REPORT_AT}).
   */
  signalsOf(doc: TextDoc): Signal[] {
    const { signals, mentioned } = this.ruled(doc);
    if (signals.length === 0) return signals;
    const features = featuresToJudge(doc.text);
    // Longer than the model reads (a log): not silenced by it (and not read for mentions: see ruled).
    if (!features) return signals;
    const notOne = notAFailure(features);
    // A mention counts only when the model is sure that the text reports a failure.
    const kept = mentioned && notOne >= MENTION_REPORT_AT ? signals.filter((s) => s.source !== IN_PASSING) : signals;
    // The learned second opinion (src/evidence/report-model.ts): a text it is confident is about failures, not one.
    return notOne >= NOT_A_FAILURE_AT && mayBeSilenced(kept, features) ? [] : kept;
  }

  /**
   * {@link signalsOf} by the extractors, the patterns and the discourse rules only, before the learned
   * second opinion; `mentioned` when what they read shows no symptom and the mentions were added.
   */
  ruled(doc: TextDoc): { signals: Signal[]; mentioned: boolean } {
    const read = this.read(doc);
    // A mention counts only when the report model vouches for the text, and it reads no further than
    // READ_CHARS: a longer text (a log) is not read for mentions at all.
    if (doc.text.length > READ_CHARS || (read.length > 0 && symptomsOf(this.kb, new SignalIndex(read)).length > 0))
      return { signals: this.discourse(doc, read), mentioned: false };
    const mentions = mentionExtractor.extract(doc);
    return { signals: this.discourse(doc, [...read, ...mentions]), mentioned: mentions.length > 0 };
  }

  /** What the extractors and the knowledge patterns read in a text. */
  private read(doc: TextDoc): Signal[] {
    // The lexicon pays for itself on a large text, or once a server or a batch has read enough
    // texts ({@link LEXICON_AFTER}); a CLI run (a paste, a diagnose's few probe texts) does not build it.
    this.chars += doc.text.length;
    if (doc.large || ++this.texts > LEXICON_AFTER.texts || this.chars > LEXICON_AFTER.chars) doc.useLexicon(this.lexiconOf());
    const out: Signal[] = [];
    const fallback: Signal[] = [];
    for (const x of this.extractors) (x.fallback ? fallback : out).push(...x.extract(doc));
    out.push(...this.patterns.run(doc));
    // The plain-words reading of a line gives way to a specific extractor's reading of the same signal on that line
    // (its tls.error, its net.error), not to anything it read there: a status code beside "tlsv1 alert protocol
    // version" does not silence the TLS evidence.
    const read = new Set(out.map((s) => `${s.line}\u0000${s.name}`));
    for (const s of fallback) if (!read.has(`${s.line}\u0000${s.name}`)) out.push(s);
    return out;
  }

  /** The discourse rules (src/evidence/discourse.ts): none of the signals when the text only talks about failures. */
  private discourse(doc: TextDoc, out: Signal[]): Signal[] {
    if (out.length === 0) return out;
    if (recoveryNotice(doc.text) || retrospective(doc.text) || diffShown(doc.text) || referenceListing(out)) return [];
    // A browser's own error page (its code alone on a line) or a forward proxy's is a failure shown, however much it explains.
    if (out.some((sig) => sig.name === 'browser.error_page' || sig.name === 'proxy.error_page')) return out;
    const errorPage = out.some((sig) => sig.name === 'http.body.error_page');
    return describesOnly(doc.lines(), errorPage) ? [] : out;
  }

  /**
   * Every literal the extractors' and the knowledge patterns' regexes require, and the extractors'
   * keys, in one automaton: a large text is scanned for all of them at once. Built on first use
   * (a small text never needs it).
   */
  private lexiconOf(): Lexicon {
    if (this.lexicon) return this.lexicon;
    const literals: string[] = [...this.patterns.literals()];
    for (const x of this.extractors) {
      for (const re of x.patterns) literals.push(...(requiredLiterals(re.source, false) ?? []));
      literals.push(...(x.keys ?? []));
    }
    this.lexicon = new Lexicon(literals.filter((l) => l.length >= 2));
    this.patterns.bind(this.lexicon);
    return this.lexicon;
  }

  /** Text → ranked causes. Throws TriageError for unusable input (empty, binary, too large). */
  explain(input: string | Uint8Array, opts: ExplainOptions = {}): Diagnosis {
    const doc = TextDoc.from(input, opts.now ? { now: opts.now } : {});
    return this.rankSignals(this.signalsOf(doc), opts, doc.notes);
  }

  /**
   * Several pieces of evidence about one failure (pastes, files, probe runs, answers to questions)
   * ranked together as one investigation. Every signal keeps the id of the item it came from
   * (`origin`), and the diagnosis lists the items. A text that cannot be read (empty, binary) adds
   * nothing and a note says so; an investigation with no item throws.
   */
  investigate(items: readonly EvidenceItem[], opts: ExplainOptions = {}): Diagnosis {
    if (items.length === 0) throw new TriageError('INPUT_EMPTY', 'no evidence: give at least one text');
    const { signals, notes, summary } = this.gather(items, opts);
    return { ...this.rankSignals(signals, opts, notes), items: summary };
  }

  /** The signals of several evidence items, each tagged with its item's id, and notes about the texts. */
  gather(
    items: readonly EvidenceItem[],
    opts: Pick<ExplainOptions, 'now'> = {},
  ): { signals: Signal[]; notes: string[]; summary: ItemResult[] } {
    const signals: Signal[] = [];
    const notes: string[] = [];
    const summary: ItemResult[] = [];
    for (const item of items) {
      let found: readonly Signal[] = item.signals ?? [];
      if (item.text !== undefined) {
        try {
          const doc = TextDoc.from(item.text, opts.now ? { now: opts.now } : {});
          found = [...found, ...this.signalsOf(doc)];
          notes.push(...doc.notes.map((n) => `${item.id}: ${n}`));
        } catch (err) {
          if (!(err instanceof TriageError)) throw err;
          notes.push(`${item.id}: ${err.message}`);
        }
      }
      for (const s of found) signals.push({ ...s, origin: item.id });
      summary.push({ id: item.id, ...(item.kind ? { kind: item.kind } : {}), signals: found.length });
    }
    return { signals, notes, summary };
  }

  /** Signals (from text, probes or both) → ranked causes. */
  rankSignals(signals: readonly Signal[], opts: ExplainOptions = {}, notes: readonly string[] = []): Diagnosis {
    return toDiagnosis(rank(this.kb, signals, opts), signals, opts.lang ?? 'en', notes);
  }
}

/**
 * Signals that show a failure rather than talk about one: a browser's, a forward proxy's or a server's
 * error page, and a packet loss that a tool measured. The discourse rules have passed them already;
 * the report model, which reads words, is not asked about them.
 */
const SHOWN: ReadonlySet<string> = new Set(['browser.error_page', 'proxy.error_page', 'http.body.error_page', 'net.packet_loss']);

/**
 * Whether the report model may take a text's signals away: not a failure shown ({@link SHOWN}), and
 * a text that gives it enough words to judge ({@link MIN_FEATURES}). `features` from featuresToJudge.
 * scripts/train-report-model.js asks the same when it chooses the threshold.
 */
export function mayBeSilenced(signals: readonly Signal[], features: ReadonlyMap<string, number>): boolean {
  return signals.length > 0 && !signals.some((s) => SHOWN.has(s.name)) && features.size >= MIN_FEATURES;
}

/**
 * A text whose failure shows only in words (src/evidence/mention.ts: a status code, a timeout, a
 * mechanism beside the word that says it failed; nothing else read there has a symptom) counts as a
 * failure report only below this probability of not being one. Chosen by training the model without
 * each fresh round in turn and scoring that round (s23–s27): at 0.3 the status codes and timeouts gave
 * 26 silent failures an answer (23 with the right cause among the first three) and one negative; at
 * 0.2, 21 failures and the same negative. With the mechanisms too: 38 failures (31) and 3 negatives.
 * Six rounds (s23–s28): at 0.3, 45 failures (38) and 5 negatives; at 0.2, 37 (30) and 3; at 0.4, 53
 * (46) and 7. Seven (s23–s29): at 0.3, 51 (42) and 5; at 0.2, 39 (32) and 3; at 0.4, 63 (54) and 7.
 * Eight (s23–s30): at 0.3, 52 (44) and 7; at 0.2, 45 (37) and 3; at 0.4, 62 (53) and 7. Ten (s23–s32, the model
 * of five seeds and 10,000 weights): at 0.3, 64 (52) and 5; at 0.2, 52 (42) and 3; at 0.4, 78 (66) and 9.
 */
const MENTION_REPORT_AT = 0.3;

/**
 * When the engine builds its lexicon for small texts. Building it costs about what 200 short texts
 * save with it (≈ 55 ms against ≈ 0.3 ms a text, measured on the dev corpus), so a one-shot run
 * never builds it and a server or a batch soon does.
 */
const LEXICON_AFTER = { texts: 64, chars: 256 * 1024 } as const;

/**
 * Load the built-in knowledge plus `extraDirs` (later directories override by id) and build an
 * engine: from the build's snapshot when it matches, else with the full validation.
 */
export function createEngine(extraDirs: readonly string[] = []): Engine {
  return new Engine(loadKnowledgeBase([BUILTIN_KNOWLEDGE_DIR, ...extraDirs]));
}
