import type { Masked } from '../security/redact.js';
import { signalKey, type Signal } from '../evidence/signal.js';
import { answerSignal, type FixConfig, type Lang, type Question } from '../knowledge/types.js';
import type { Confidence, Hit, Ranking, ScoredCause } from '../match/score.js';

/**
 * The answer every entry point renders (CLI, Slack, HTTP API). Plain JSON: this is the `--json`
 * contract of ../shared/design.md, `{"causes": [...], "signals": [...]}`, extended only by adding
 * fields. Every string in it that came from outside is masked.
 */
export interface Diagnosis {
  /**
   * What failed, as a user would say it (502 from a proxy, connection reset, 401 …), each with the
   * signals that showed it. Empty: the input shows no failure, and `causes` is empty too.
   */
  readonly symptoms: readonly SymptomResult[];
  readonly causes: readonly CauseResult[];
  readonly signals: readonly SignalResult[];
  /** Set when the top causes are close: the next step that would tell them apart. */
  readonly next?: NextStep;
  /** Remarks about the input (replaced bytes, truncation). */
  readonly notes: readonly string[];
  readonly lang: Lang;
  /** An investigation of several items (Engine.investigate): each item and how many signals it gave. */
  readonly items?: readonly ItemResult[];
}

/** One item of an investigation; the `origin` of evidence names it by `id`. */
export interface ItemResult {
  readonly id: string;
  readonly kind?: string;
  readonly signals: number;
}

export interface CauseResult {
  readonly id: string;
  readonly family: string;
  readonly title: string;
  readonly summary: string;
  /** 0..1 */
  readonly score: number;
  readonly confidence: Confidence;
  readonly evidence: readonly EvidenceResult[];
  /** Signals that argued against this cause. */
  readonly against: readonly EvidenceResult[];
  readonly fixes: readonly FixResult[];
  readonly references: readonly { title: string; url: string }[];
}

export interface SymptomResult {
  readonly id: string;
  readonly title: string;
  /** The signals that showed it (up to three). */
  readonly evidence: readonly { signal: string; excerpt: Masked; line?: number; source: string; origin?: string }[];
}

export interface EvidenceResult {
  /**
   * The indicator that fired: `signal` or `signal=value`, several joined by " + "; for a symptom's
   * prior, `symptom:<id>` (the cause is one the guide lists for that symptom, and `weight` is the
   * prior its place in the list gives).
   */
  readonly signal: string;
  /** Set when this evidence is a symptom's prior: the symptom id. */
  readonly symptom?: string;
  readonly weight: number;
  /** What produced it: the masked text excerpt or measurement. */
  readonly excerpt: Masked;
  readonly line?: number;
  readonly source: string;
  /** The investigation item it came from (Diagnosis.items). */
  readonly origin?: string;
  /** How many times it was seen. */
  readonly count: number;
}

export interface FixResult {
  readonly id: string;
  readonly title: string;
  readonly steps: readonly string[];
  readonly commands: readonly string[];
  readonly config: readonly FixConfig[];
  readonly refs: readonly string[];
}

export interface SignalResult {
  readonly signal: string;
  readonly excerpt: Masked;
  readonly line?: number;
  readonly source: string;
  readonly origin?: string;
  readonly count: number;
}

export interface NextStep {
  readonly between: readonly [string, string];
  readonly steps: readonly { cause: string; signal: string; probe?: string; question?: string; description: string }[];
  /** A question whose answers move the two apart (knowledge/questions/), with its answers. */
  readonly ask?: AskResult;
}

export interface AskResult {
  readonly id: string;
  readonly text: string;
  /** Each answer with the signal it adds (`answer.<question>=<answer>`). */
  readonly answers: readonly { id: string; label: string; signal: string }[];
}

export function toDiagnosis(ranking: Ranking, signals: readonly Signal[], lang: Lang, notes: readonly string[]): Diagnosis {
  const causes = ranking.causes.map((c) => toCause(c, lang));
  const symptoms = ranking.symptoms.map((h): SymptomResult => ({
    id: h.symptom.id,
    title: h.symptom.title[lang],
    evidence: h.signals.map((s) => ({
      signal: signalKey(s),
      excerpt: s.excerpt,
      ...(s.line !== undefined ? { line: s.line } : {}),
      source: s.source,
      ...(s.origin !== undefined ? { origin: s.origin } : {}),
    })),
  }));
  const base = { symptoms, causes, signals: summariseSignals(signals), notes: [...notes], lang };
  if (!ranking.separation) return base;
  return {
    ...base,
    next: {
      between: ranking.separation.between,
      steps: ranking.separation.steps.map((s) => ({
        cause: s.cause,
        signal: s.signal,
        description: s.description,
        ...(s.probe ? { probe: s.probe } : {}),
        ...(s.ask ? { question: s.ask[lang] } : {}),
      })),
      ...(ranking.separation.question ? { ask: askOf(ranking.separation.question, lang) } : {}),
    },
  };
}

function askOf(q: Question, lang: Lang): AskResult {
  const name = answerSignal(q.id);
  return { id: q.id, text: q.ask[lang], answers: q.answers.map((a) => ({ id: a.id, label: a.label[lang], signal: `${name}=${a.id}` })) };
}

function toCause(c: ScoredCause, lang: Lang): CauseResult {
  const e = c.entry;
  return {
    id: e.id,
    family: e.family,
    title: e.title[lang],
    summary: e.summary[lang],
    score: c.score,
    confidence: c.confidence,
    evidence: c.support.map(toEvidence),
    against: c.against.map(toEvidence),
    fixes: e.fixes.map((f) => ({
      id: f.id,
      title: f.title[lang],
      steps: f.steps ? f.steps[lang] : [],
      commands: f.commands,
      config: f.config,
      refs: f.refs,
    })),
    references: e.references,
  };
}

function toEvidence(h: Hit): EvidenceResult {
  const first = h.signals[0]!;
  return {
    signal: h.ref,
    ...(h.symptom ? { symptom: h.symptom } : {}),
    weight: h.weight,
    excerpt: first.excerpt,
    ...(first.line !== undefined ? { line: first.line } : {}),
    source: first.source,
    ...(first.origin !== undefined ? { origin: first.origin } : {}),
    count: h.count,
  };
}

/** One row per distinct signal key, in order of first appearance. */
export function summariseSignals(signals: readonly Signal[]): SignalResult[] {
  const rows = new Map<string, { first: Signal; count: number }>();
  for (const s of signals) {
    const k = signalKey(s);
    const row = rows.get(k);
    if (row) row.count++;
    else rows.set(k, { first: s, count: 1 });
  }
  return [...rows.entries()]
    .map(([k, { first, count }]) => ({
      signal: k,
      excerpt: first.excerpt,
      ...(first.line !== undefined ? { line: first.line } : {}),
      source: first.source,
      ...(first.origin !== undefined ? { origin: first.origin } : {}),
      count,
    }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
