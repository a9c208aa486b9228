import { IN_PASSING, parseSignalRef, signalKey, type Signal } from '../evidence/signal.js';
import { answerSignal, type Entry, type I18n, type KnowledgeBase, type Question, type Symptom, type Weighted } from '../knowledge/types.js';

/** Scoring settings. */
export const MATCH_DEFAULTS = {
  /** Causes below this score are not reported. @defaultValue 0.2 */
  minScore: 0.2,
  /** At or above: "high" confidence. @defaultValue 0.75 */
  high: 0.75,
  /** At or above: "medium" confidence; below: "low". @defaultValue 0.45 */
  medium: 0.45,
  /**
   * A failure shows at least this many causes when its symptoms list that many: causes under
   * `minScore` that a present symptom lists fill the ranking up to it. @defaultValue 3
   */
  minShown: 3,
  /** Top causes closer than this get a "what would separate them" step. @defaultValue 0.15 */
  closeGap: 0.15,
  /**
   * A question is offered between the top two when one of its answers moves them apart by at
   * least this much (the difference of its weights for the two). @defaultValue 0.3
   */
  questionGap: 0.3,
  /**
   * The prior a symptom gives the causes it lists: `first` for the first, `step` less for each
   * place after it, never below `floor`. Kept low, so that a thin paste gets the guide's ordered
   * list with a low confidence and evidence decides the rest.
   * @defaultValue { first: 0.34, step: 0.04, floor: 0.1 }
   */
  prior: { first: 0.34, step: 0.04, floor: 0.1 },
} as const;

/** The signals of answers to questions (knowledge/questions/). */
const ANSWER_PREFIX = 'answer.';

/** The prior of the cause at `place` (0-based) in a symptom's list. */
export function priorAt(place: number): number {
  const { first, step, floor } = MATCH_DEFAULTS.prior;
  return Math.max(floor, round(first - step * place));
}

export type Confidence = 'high' | 'medium' | 'low';

/** One indicator or contra-indicator that fired, with the signals that made it fire. */
export interface Hit {
  /** The indicator's references, joined with " + ". */
  readonly ref: string;
  readonly weight: number;
  /** Up to three of the signals that matched, first seen first. */
  readonly signals: readonly Signal[];
  /** How many signals matched in all. */
  readonly count: number;
  /** Set when this hit is a symptom's prior rather than an indicator: the symptom's id. */
  readonly symptom?: string;
}

/** A symptom present in the signals, with the signals that showed it. */
export interface SymptomHit {
  readonly symptom: Symptom;
  /** Up to three of the signals that showed it, first seen first. */
  readonly signals: readonly Signal[];
}

export interface ScoredCause {
  readonly entry: Entry;
  readonly score: number;
  readonly confidence: Confidence;
  readonly support: readonly Hit[];
  readonly against: readonly Hit[];
}

/** A next step that would tell two close causes apart. */
export interface SeparatingStep {
  /** The cause this step would confirm. */
  readonly cause: string;
  /** The signal that would confirm it. */
  readonly signal: string;
  /** The probe that observes it, when one does. */
  readonly probe?: string;
  /** The question to ask, when no probe observes it. */
  readonly ask?: I18n;
  readonly description: string;
}

export interface Ranking {
  /** The symptoms present, in the knowledge base's order. None: no failure, and no cause. */
  readonly symptoms: readonly SymptomHit[];
  /** Causes at or above the minimum score, best first. */
  readonly causes: readonly ScoredCause[];
  /** When the top two are close: what would separate them. */
  readonly separation?: {
    readonly between: readonly [string, string];
    readonly steps: readonly SeparatingStep[];
    /** A question (knowledge/questions/) whose answers move the two apart, not answered yet. */
    readonly question?: Question;
  };
}

export interface RankOptions {
  /**
   * A factor per cause id applied to its score (e.g. from a workspace's feedback); 1 = neutral.
   * The result is clamped to [0, 1].
   */
  readonly adjust?: (causeId: string) => number;
  readonly minScore?: number;
}

export class SignalIndex {
  private readonly byKey = new Map<string, Signal[]>();
  private readonly byName = new Map<string, Signal[]>();

  constructor(signals: readonly Signal[]) {
    for (const s of signals) {
      push(this.byKey, signalKey(s), s);
      push(this.byName, s.name, s);
    }
  }

  find(ref: string): Signal[] {
    // A reference with a value is looked up by name=value, one without by name: the key itself decides.
    return (ref.includes('=') ? this.byKey.get(ref) : this.byName.get(ref)) ?? [];
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function hitOf(w: Weighted, index: SignalIndex): Hit | undefined {
  const found: Signal[] = [];
  let count = 0;
  for (const ref of w.all) {
    const got = index.find(ref);
    if (got.length === 0) return undefined;
    count += got.length;
    found.push(...got.slice(0, 3));
  }
  found.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ref: w.all.join(' + '), weight: w.weight, signals: found.slice(0, 3), count };
}

/**
 * Symptoms first: no symptom, no cause. Each symptom present gives the causes it lists a prior by
 * their place (combined as a noisy-OR when several symptoms list the same cause); then each cause's
 * indicators that fired combine with its prior as a noisy-OR, and each contra-indicator that fired
 * lowers the result. A failure that only signals named in passing show ({@link IN_PASSING}) gets
 * the same ranking at low confidence: the words said what failed, not how.
 */
export function rank(kb: KnowledgeBase, signals: readonly Signal[], opts: RankOptions = {}): Ranking {
  const index = new SignalIndex(signals);
  const symptoms = symptomsOf(kb, index);
  if (symptoms.length === 0) return { symptoms, causes: [] };
  const inPassing =
    signals.some((s) => s.source === IN_PASSING) &&
    symptomsOf(kb, new SignalIndex(signals.filter((s) => s.source !== IN_PASSING))).length === 0;
  const priors = priorsOf(symptoms);
  const minScore = opts.minScore ?? MATCH_DEFAULTS.minScore;
  const scored: ScoredCause[] = [];
  const listedBelow: ScoredCause[] = [];
  for (const entry of kb.entries.values()) {
    const support = entry.indicators.map((w) => hitOf(w, index)).filter((h): h is Hit => h !== undefined);
    const prior = priors.get(entry.id);
    if (prior) support.push(prior);
    // An answer to a question moves causes that something else points to; alone it brings in none.
    if (support.every((h) => h.ref.startsWith(ANSWER_PREFIX))) continue;
    const against = entry.against.map((w) => hitOf(w, index)).filter((h): h is Hit => h !== undefined);
    let score = 1 - support.reduce((p, h) => p * (1 - h.weight), 1);
    score *= against.reduce((p, h) => p * (1 - h.weight), 1);
    if (opts.adjust) score = Math.min(1, Math.max(0, score * opts.adjust(entry.id)));
    score = round(score);
    support.sort((a, b) => b.weight - a.weight);
    against.sort((a, b) => b.weight - a.weight);
    const cause = { entry, score, confidence: inPassing ? ('low' as const) : confidenceOf(score), support, against };
    if (score >= minScore) scored.push(cause);
    else if (prior && score > 0) listedBelow.push(cause);
  }
  scored.sort(byScore);
  if (scored.length < MATCH_DEFAULTS.minShown) scored.push(...listedBelow.sort(byScore).slice(0, MATCH_DEFAULTS.minShown - scored.length));
  const separation = separate(kb, scored, index);
  return separation ? { symptoms, causes: scored, separation } : { symptoms, causes: scored };
}

/** The symptoms whose conditions hold, in the knowledge base's order. */
export function symptomsOf(kb: KnowledgeBase, index: SignalIndex): SymptomHit[] {
  const out: SymptomHit[] = [];
  for (const symptom of kb.symptoms.values()) {
    const seen: Signal[] = [];
    for (const all of symptom.when) {
      const hit = hitOf({ all, weight: 1 }, index);
      if (hit) seen.push(...hit.signals);
    }
    if (seen.length === 0) continue;
    seen.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    out.push({ symptom, signals: seen.slice(0, 3) });
  }
  return out;
}

/** Each listed cause's prior, as a hit that names the symptom(s) behind it. */
function priorsOf(symptoms: readonly SymptomHit[]): Map<string, Hit> {
  const out = new Map<string, Hit>();
  for (const { symptom, signals } of symptoms) {
    symptom.causes.forEach((cause, place) => {
      const w = priorAt(place);
      const prev = out.get(cause);
      const hit: Hit = prev
        ? {
            ...prev,
            weight: round(1 - (1 - prev.weight) * (1 - w)),
            ref: `${prev.ref} + symptom:${symptom.id}`,
            count: prev.count + signals.length,
          }
        : { ref: `symptom:${symptom.id}`, weight: w, signals, count: signals.length, symptom: symptom.id };
      out.set(cause, hit);
    });
  }
  return out;
}

function byScore(a: ScoredCause, b: ScoredCause): number {
  return b.score - a.score || strongest(b) - strongest(a) || a.entry.id.localeCompare(b.entry.id);
}

function strongest(c: ScoredCause): number {
  return c.support[0]?.weight ?? 0;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function confidenceOf(score: number): Confidence {
  return score >= MATCH_DEFAULTS.high ? 'high' : score >= MATCH_DEFAULTS.medium ? 'medium' : 'low';
}

function separate(kb: KnowledgeBase, causes: readonly ScoredCause[], index: SignalIndex): Ranking['separation'] {
  const [a, b] = causes;
  if (!a || !b || a.score - b.score >= MATCH_DEFAULTS.closeGap) return undefined;
  const steps = [stepFor(kb, a.entry, b.entry, index), stepFor(kb, b.entry, a.entry, index)].filter(
    (s): s is SeparatingStep => s !== undefined,
  );
  const question = questionFor(kb, a.entry.id, b.entry.id, index);
  if (steps.length === 0 && !question) return undefined;
  return { between: [a.entry.id, b.entry.id], steps, ...(question ? { question } : {}) };
}

/**
 * The unanswered question whose answers move `a` and `b` furthest apart (at least
 * {@link MATCH_DEFAULTS.questionGap}); the first in file order on a tie.
 */
export function questionFor(kb: KnowledgeBase, a: string, b: string, index: SignalIndex): Question | undefined {
  let best: { q: Question; gap: number } | undefined;
  for (const q of kb.questions.values()) {
    if (index.find(answerSignal(q.id)).length > 0) continue;
    const gap = Math.max(...q.answers.map((x) => Math.abs((x.weights[a] ?? 0) - (x.weights[b] ?? 0))));
    if (gap >= MATCH_DEFAULTS.questionGap && (!best || gap > best.gap + 1e-9)) best = { q, gap };
  }
  return best?.q;
}

/** The strongest unobserved indicator of `of` that does not also point to `other`. */
function stepFor(kb: KnowledgeBase, of: Entry, other: Entry, index: SignalIndex): SeparatingStep | undefined {
  const otherWeight = (ref: string) => other.indicators.find((w) => w.all.length === 1 && w.all[0] === ref)?.weight ?? 0;
  const candidates = of.indicators
    .filter((w) => w.all.length === 1)
    .map((w) => ({ ref: w.all[0]!, gain: w.weight - otherWeight(w.all[0]!) }))
    .filter((c) => c.gain > 0.2 && index.find(c.ref).length === 0)
    .map((c) => ({ ...c, def: kb.signals.get(parseSignalRef(c.ref).name) }))
    .filter((c) => c.def && (c.def.probe || c.def.ask))
    .sort((x, y) => y.gain - x.gain);
  const best = candidates[0];
  if (!best?.def) return undefined;
  return {
    cause: of.id,
    signal: best.ref,
    description: best.def.description,
    ...(best.def.probe ? { probe: best.def.probe } : {}),
    ...(best.def.ask ? { ask: best.def.ask } : {}),
  };
}
