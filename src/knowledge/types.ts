/** The shapes of knowledge/ files, after validation. See docs/knowledge-format.md. */

/** A text in every language the product answers in. */
export interface I18n {
  readonly en: string;
  readonly zh: string;
}

export type Lang = keyof I18n;
export const LANGS: readonly Lang[] = ['en', 'zh'];

/** Where a config snippet applies. */
export const FIX_TARGETS = [
  'nginx',
  'haproxy',
  'squid',
  'envoy',
  'istio',
  'traefik',
  'aws-alb',
  'cloudflare',
  'ingress-nginx',
  'kubernetes',
  'apache',
  'tinyproxy',
  'caddy',
  'node',
  'python',
  'java',
  'go',
  'browser',
  'shell',
  'any',
] as const;
export type FixTarget = (typeof FIX_TARGETS)[number];

/** A declared signal (knowledge/signals/*.yaml). */
export interface SignalDef {
  readonly name: string;
  readonly description: string;
  /** Closed set of values; undefined with `open` false means a flag. */
  readonly values?: readonly string[];
  readonly open: boolean;
  /** The probe that observes it. */
  readonly probe?: string;
  /** A question for a person, when no probe observes it. */
  readonly ask?: I18n;
  readonly file: string;
}

export interface PatternDef {
  readonly id: string;
  readonly regex: string;
  /** Signal reference `name` or `name=value`. A value of `$1` (or `$name`) takes a capture group. */
  readonly emit: string;
  readonly caseSensitive: boolean;
  readonly sample?: string;
  /** Literals every match contains (src/evidence/literals.ts), found at load; absent when none is certain. */
  readonly literals?: readonly string[];
}

/** One indicator or contra-indicator: a signal reference, or all of several together. */
export interface Weighted {
  /** The references that must all be present. */
  readonly all: readonly string[];
  readonly weight: number;
}

export interface FixConfig {
  readonly for: FixTarget;
  readonly file?: string;
  readonly lines: string;
}

export interface Fix {
  readonly id: string;
  readonly title: I18n;
  readonly steps?: { readonly en: readonly string[]; readonly zh: readonly string[] };
  readonly commands: readonly string[];
  readonly config: readonly FixConfig[];
  readonly refs: readonly string[];
}

export interface Reference {
  readonly title: string;
  readonly url: string;
}

export interface Entry {
  readonly id: string;
  readonly family: string;
  readonly title: I18n;
  readonly summary: I18n;
  readonly patterns: readonly PatternDef[];
  readonly indicators: readonly Weighted[];
  readonly against: readonly Weighted[];
  readonly fixes: readonly Fix[];
  readonly references: readonly Reference[];
  /** The file it was loaded from. */
  readonly file: string;
}

/**
 * A symptom: what failed, as a user would say it (knowledge/symptoms/*.yaml). When any of its
 * conditions holds, the causes it lists get a prior by their place in the list (the guide's order).
 */
export interface Symptom {
  readonly id: string;
  readonly title: I18n;
  /** Any one of these present → the symptom is present. Each is a set of references that must all be present. */
  readonly when: readonly (readonly string[])[];
  /** Cause ids, most usual first. */
  readonly causes: readonly string[];
  readonly file: string;
}

/**
 * A question for a person that separates causes (knowledge/questions/*.yaml). Each answer is
 * evidence: the signal `answer.<question id>=<answer id>`, with the stated weight for each cause
 * it speaks to (positive: supports, negative: argues against). The loader adds those weights to
 * the causes' indicators and contra-indicators, so an answer ranks like any other evidence.
 */
export interface Question {
  readonly id: string;
  readonly ask: I18n;
  readonly answers: readonly QuestionAnswer[];
  readonly file: string;
}

export interface QuestionAnswer {
  readonly id: string;
  readonly label: I18n;
  /** Cause id → weight in [-1, 1], never 0. */
  readonly weights: Readonly<Record<string, number>>;
  /** Typed replies (lower case, any language) that count as this answer, besides its labels. */
  readonly replies: readonly string[];
}

/** The signal an answer emits: `answer.<question>` with the answer's id as value. */
export function answerSignal(questionId: string): string {
  return `answer.${questionId.replace(/-/g, '_')}`;
}

/** A loaded, validated knowledge base. */
export interface KnowledgeBase {
  readonly entries: ReadonlyMap<string, Entry>;
  readonly signals: ReadonlyMap<string, SignalDef>;
  /** Symptoms by id, in file order. */
  readonly symptoms: ReadonlyMap<string, Symptom>;
  /** Questions by id, in file order. */
  readonly questions: ReadonlyMap<string, Question>;
}
