import { describesOnly } from '../evidence/discourse.js';
import { EXTRACTORS } from '../evidence/index.js';
import type { Extractor } from '../evidence/extractor.js';
import { Lexicon } from '../evidence/lexicon.js';
import { requiredLiterals } from '../evidence/literals.js';
import { PatternSet } from '../evidence/patterns.js';
import type { Signal } from '../evidence/signal.js';
import { TextDoc } from '../evidence/text.js';
import { BUILTIN_KNOWLEDGE_DIR } from '../knowledge/load.js';
import { loadKnowledgeBase } from '../knowledge/snapshot.js';
import type { KnowledgeBase, Lang } from '../knowledge/types.js';
import { rank, type RankOptions } from '../match/score.js';
import { toDiagnosis, type Diagnosis } from './result.js';

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
  readonly patterns: PatternSet;
  private lexicon: Lexicon | undefined;
  private texts = 0;

  constructor(
    readonly kb: KnowledgeBase,
    readonly extractors: readonly Extractor[] = EXTRACTORS,
  ) {
    this.patterns = new PatternSet(kb);
  }

  /**
   * All signals in a text: every extractor plus every knowledge pattern; none when the whole text
   * describes failures without showing one (documentation, a changelog: src/evidence/discourse.ts).
   */
  signalsOf(doc: TextDoc): Signal[] {
    // The lexicon pays for itself on a large text, or from the second text on (a server, a batch):
    // a one-shot CLI run on a short paste does not build it.
    if (doc.large || ++this.texts > 1) doc.useLexicon(this.lexiconOf());
    const out: Signal[] = [];
    const fallback: Signal[] = [];
    for (const x of this.extractors) (x.fallback ? fallback : out).push(...x.extract(doc));
    out.push(...this.patterns.run(doc));
    const read = new Set(out.map((s) => s.line));
    for (const s of fallback) if (!read.has(s.line)) out.push(s);
    return out.length === 0 || describesOnly(doc.lines()) ? [] : out;
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

  /** Signals (from text, probes or both) → ranked causes. */
  rankSignals(signals: readonly Signal[], opts: ExplainOptions = {}, notes: readonly string[] = []): Diagnosis {
    return toDiagnosis(rank(this.kb, signals, opts), signals, opts.lang ?? 'en', notes);
  }
}

/**
 * Load the built-in knowledge plus `extraDirs` (later directories override by id) and build an
 * engine: from the build's snapshot when it matches, else with the full validation.
 */
export function createEngine(extraDirs: readonly string[] = []): Engine {
  return new Engine(loadKnowledgeBase([BUILTIN_KNOWLEDGE_DIR, ...extraDirs]));
}
