import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as JsYaml from 'js-yaml';
import { TriageError } from '../errors.js';
import { parseSignalRef } from '../evidence/signal.js';
import { structuralProblem } from './regex-safety.js';
import { requiredLiterals } from '../evidence/literals.js';
import {
  answerSignal,
  FIX_TARGETS,
  type Entry,
  type Fix,
  type FixConfig,
  type I18n,
  type KnowledgeBase,
  type PatternDef,
  type Question,
  type QuestionAnswer,
  type Reference,
  type SignalDef,
  type Symptom,
  type Weighted,
} from './types.js';

/**
 * The package's root: the nearest folder at or above `from` that holds package.json and knowledge/.
 * This module runs from src/knowledge/, dist/knowledge/ or wherever the CLI bundle put it
 * (scripts/bundle-cli.js), so the root is found rather than assumed one or two levels up.
 */
export function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'knowledge'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '../..');
  }
}

/** The package's root folder (see {@link packageRoot}). */
export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** The knowledge/ folder shipped with the package. */
export const BUILTIN_KNOWLEDGE_DIR = join(PACKAGE_ROOT, 'knowledge');

/** js-yaml, loaded on the first full load only: a start from the snapshot parses no YAML. */
let yamlModule: typeof JsYaml | undefined;
const yaml = (): typeof JsYaml => (yamlModule ??= createRequire(import.meta.url)('js-yaml') as typeof JsYaml);

/** Largest knowledge file read, in bytes. */
const MAX_FILE_BYTES = 256 * 1024;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SIGNAL_NAME = /^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/;

/** One problem found while loading: the file, the field path and what to do. */
export interface Problem {
  readonly file: string;
  readonly field: string;
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}: ${p.field}: ${p.message}`;
}

/** Result of loading: the knowledge base when there were no problems. */
export type LoadResult = { kb: KnowledgeBase; problems: [] } | { kb?: undefined; problems: Problem[] };

/**
 * Load and validate knowledge directories. Later directories override earlier ones by entry id
 * (the built-in folder first, then KNOWLEDGE_DIRS). Every problem is collected; none stops the walk.
 */
export function loadKnowledge(dirs: readonly string[] = [BUILTIN_KNOWLEDGE_DIR]): LoadResult {
  const problems: Problem[] = [];
  const signals = new Map<string, SignalDef>();
  const raw: { file: string; dir: string; data: unknown }[] = [];
  const rawSymptoms: { file: string; data: unknown }[] = [];
  const rawQuestions: { file: string; data: unknown }[] = [];

  const signalDir = new Map<string, number>();
  for (const [dirIndex, dir] of dirs.entries()) {
    const files = walkYaml(dir, problems);
    for (const file of files) {
      const shown = relative(process.cwd(), file) || file;
      let data: unknown;
      try {
        const size = statSync(file).size;
        if (size > MAX_FILE_BYTES) {
          problems.push({ file: shown, field: '(file)', message: `is ${size} bytes; the limit is ${MAX_FILE_BYTES}: split it` });
          continue;
        }
        data = yaml().load(readFileSync(file, 'utf8'), { schema: yaml().CORE_SCHEMA, filename: shown });
      } catch (err) {
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        problems.push({ file: shown, field: '(yaml)', message: `does not parse: ${msg}` });
        continue;
      }
      const rel = relative(dir, file).split(/[\\/]/);
      if (rel[0] === 'signals') readSignals(shown, data, signals, problems, (name) => {
        const prev = signalDir.get(name);
        signalDir.set(name, dirIndex);
        return prev === dirIndex;
      });
      else if (rel[0] === 'symptoms') rawSymptoms.push({ file: shown, data });
      else if (rel[0] === 'questions') rawQuestions.push({ file: shown, data });
      else raw.push({ file: shown, dir: rel.length === 2 ? rel[0]! : '', data });
    }
  }

  // An unreadable signal catalogue would make every reference look unknown: report it alone.
  const catalogueBroken = problems.find((p) => p.field === '(yaml)' && /[\\/]signals[\\/]/.test(p.file));
  if (catalogueBroken) {
    return { problems: [...problems, { file: catalogueBroken.file, field: '(references)', message: 'not checked: the signal catalogue must parse first' }] };
  }

  const entries = new Map<string, Entry>();
  const seenIn = new Map<string, { file: string; dirIndex: number }>();
  for (const { file, dir, data } of raw) {
    const entry = readEntry(file, dir, data, signals, problems);
    if (!entry) continue;
    const dirIndex = dirs.findIndex((d) => resolve(file).startsWith(resolve(d)));
    const prev = seenIn.get(entry.id);
    if (prev && prev.dirIndex === dirIndex) {
      problems.push({ file, field: 'id', message: `duplicate id "${entry.id}" (also in ${prev.file}): give each cause one file` });
      continue;
    }
    seenIn.set(entry.id, { file, dirIndex });
    entries.set(entry.id, entry);
  }
  checkPatternIds(entries, problems);
  const symptoms = new Map<string, Symptom>();
  for (const { file, data } of rawSymptoms) readSymptoms(file, data, signals, entries, symptoms, problems);
  const questions = new Map<string, Question>();
  for (const { file, data } of rawQuestions) readQuestions(file, data, signals, entries, questions, problems);
  if (problems.length > 0) return { problems };
  addAnswerWeights(questions, signals, entries);
  return { kb: { entries, signals, symptoms, questions }, problems: [] };
}

/** Load or throw a {@link TriageError} listing every problem. */
export function loadKnowledgeOrThrow(dirs?: readonly string[]): KnowledgeBase {
  const result = loadKnowledge(dirs);
  if (result.kb) return result.kb;
  throw new TriageError(
    'KNOWLEDGE_INVALID',
    `the knowledge base has ${result.problems.length} problem(s); run "triage kb check" to see them`,
    result.problems.map(formatProblem),
  );
}

function walkYaml(dir: string, problems: Problem[]): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    problems.push({ file: dir, field: '(dir)', message: 'cannot be read: check the path in KNOWLEDGE_DIRS' });
    return out;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walkYaml(p, problems));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

// ---- small typed readers that record problems instead of throwing ----

type Obj = Record<string, unknown>;

class Reader {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {}

  problem(field: string, message: string): void {
    this.problems.push({ file: this.file, field, message });
  }

  obj(v: unknown, field: string, keys: { required: readonly string[]; optional: readonly string[] }): Obj | undefined {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.problem(field, `must be a mapping, got ${describe(v)}`);
      return undefined;
    }
    const o = v as Obj;
    const allowed = new Set([...keys.required, ...keys.optional]);
    for (const k of Object.keys(o)) {
      if (!allowed.has(k)) this.problem(`${field}.${k}`, `unknown key; allowed: ${[...allowed].join(', ')}`);
    }
    for (const k of keys.required) {
      if (o[k] === undefined || o[k] === null) this.problem(`${field}.${k}`, 'is required');
    }
    return o;
  }

  str(v: unknown, field: string, opts: { pattern?: RegExp; hint?: string; optional?: boolean; max?: number } = {}): string | undefined {
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      if (v !== undefined) this.problem(field, `must be a non-empty string, got ${describe(v)}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problem(field, `"${v}" is not valid${opts.hint ? `: ${opts.hint}` : ''}`);
      return undefined;
    }
    if (opts.max && v.length > opts.max) {
      this.problem(field, `is ${v.length} characters; at most ${opts.max}`);
      return undefined;
    }
    return v;
  }

  list(v: unknown, field: string, opts: { optional?: boolean; min?: number } = {}): unknown[] {
    if (v === undefined && opts.optional) return [];
    if (!Array.isArray(v)) {
      if (v !== undefined) this.problem(field, `must be a list, got ${describe(v)}`);
      return [];
    }
    if (opts.min !== undefined && v.length < opts.min) this.problem(field, `needs at least ${opts.min} item(s)`);
    return v;
  }

  i18n(v: unknown, field: string): I18n | undefined {
    const o = this.obj(v, field, { required: ['en', 'zh'], optional: [] });
    if (!o) return undefined;
    const en = this.str(o.en, `${field}.en`, { max: 2000 });
    const zh = this.str(o.zh, `${field}.zh`, { max: 2000 });
    if (zh !== undefined && !/[\u4e00-\u9fff]/.test(zh)) this.problem(`${field}.zh`, 'must be written in Chinese');
    return en !== undefined && zh !== undefined ? { en, zh } : undefined;
  }

  weight(v: unknown, field: string): number | undefined {
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
      this.problem(field, `must be a number in (0, 1], got ${describe(v)}`);
      return undefined;
    }
    return v;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

/** Signals: a later directory may redeclare (override) a signal; one directory may not declare it twice. */
function readSignals(file: string, data: unknown, into: Map<string, SignalDef>, problems: Problem[], sameDirTwice: (name: string) => boolean): void {
  const r = new Reader(file, problems);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    r.problem('(root)', 'must be a mapping of signal name to definition');
    return;
  }
  for (const [name, def] of Object.entries(data as Obj)) {
    if (!SIGNAL_NAME.test(name)) {
      r.problem(name, 'signal names are dotted lower_snake_case, e.g. net.error');
      continue;
    }
    if (sameDirTwice(name)) {
      r.problem(name, `declared twice (also in ${into.get(name)?.file ?? 'this folder'})`);
      continue;
    }
    const o = r.obj(def, name, { required: ['description'], optional: ['values', 'open', 'probe', 'ask'] });
    if (!o) continue;
    const description = r.str(o.description, `${name}.description`) ?? '';
    const values = o.values === undefined ? undefined : r.list(o.values, `${name}.values`, { min: 1 }).map((v, i) => r.str(v, `${name}.values[${i}]`, { pattern: /^[A-Za-z0-9_.:-]+$/ }) ?? '');
    if (o.open !== undefined && typeof o.open !== 'boolean') r.problem(`${name}.open`, 'must be true or false');
    const open = o.open === true;
    if (open && values) r.problem(`${name}.open`, 'a signal with a closed list of values cannot also be open');
    const probe = r.str(o.probe, `${name}.probe`, { optional: true, pattern: /^[a-z][a-z0-9-]*$/ });
    const ask = o.ask === undefined ? undefined : r.i18n(o.ask, `${name}.ask`);
    into.set(name, { name, description, open, file, ...(values ? { values } : {}), ...(probe ? { probe } : {}), ...(ask ? { ask } : {}) });
  }
}

const ENTRY_KEYS = {
  required: ['id', 'family', 'title', 'summary', 'indicators', 'fixes', 'references'],
  optional: ['patterns', 'against'],
} as const;

function readEntry(file: string, dir: string, data: unknown, signals: Map<string, SignalDef>, problems: Problem[]): Entry | undefined {
  const r = new Reader(file, problems);
  const before = problems.length;
  const o = r.obj(data, '(root)', ENTRY_KEYS);
  if (!o) return undefined;
  const id = r.str(o.id, 'id', { pattern: KEBAB, hint: 'ids are kebab-case' });
  const family = r.str(o.family, 'family', { pattern: KEBAB, hint: 'families are kebab-case' });
  const stem = basename(file).replace(/\.ya?ml$/, '');
  if (id && stem !== id) r.problem('id', `"${id}" does not match the file name "${stem}": name the file ${id}.yaml`);
  if (family && dir && dir !== family) r.problem('family', `"${family}" does not match the folder "${dir}": move the file to knowledge/${family}/`);
  const title = r.i18n(o.title, 'title');
  const summary = r.i18n(o.summary, 'summary');

  const patterns = r.list(o.patterns, 'patterns', { optional: true }).map((p, i) => readPattern(r, p, `patterns[${i}]`, signals));
  const indicators = r.list(o.indicators, 'indicators', { min: 1 }).map((w, i) => readWeighted(r, w, `indicators[${i}]`, signals));
  const against = r.list(o.against, 'against', { optional: true }).map((w, i) => readWeighted(r, w, `against[${i}]`, signals));
  const fixes = r.list(o.fixes, 'fixes', { min: 1 }).map((f, i) => readFix(r, f, `fixes[${i}]`));
  const references = r.list(o.references, 'references', { min: 1 }).map((x, i) => readReference(r, x, `references[${i}]`));

  const fixIds = new Set<string>();
  fixes.forEach((f, i) => {
    if (!f) return;
    if (fixIds.has(f.id)) r.problem(`fixes[${i}].id`, `duplicate fix id "${f.id}"`);
    fixIds.add(f.id);
  });
  if (problems.length > before || !id || !family || !title || !summary) return undefined;
  return {
    id,
    family,
    title,
    summary,
    patterns: patterns.filter(isDefined),
    indicators: indicators.filter(isDefined),
    against: against.filter(isDefined),
    fixes: fixes.filter(isDefined),
    references: references.filter(isDefined),
    file,
  };
}

function isDefined<T>(v: T | undefined): v is T {
  return v !== undefined;
}

/** Check a `name` / `name=value` reference against the catalogue; returns a problem or undefined. */
function refProblem(ref: string, signals: Map<string, SignalDef>, allowCapture: boolean): string | undefined {
  const { name, value } = parseSignalRef(ref);
  const def = signals.get(name);
  if (!def) return `unknown signal "${name}": declare it in knowledge/signals/ or use a declared one`;
  if (value === undefined) return undefined;
  if (allowCapture && /^\$\w+$/.test(value)) {
    return def.values ? `"${name}" has a closed list of values; a captured value cannot be checked: emit a fixed value` : def.open ? undefined : `"${name}" is a flag and takes no value`;
  }
  if (def.values) return def.values.includes(value) ? undefined : `"${value}" is not a value of ${name}; it takes: ${def.values.join(', ')}`;
  if (!def.open) return `"${name}" is a flag and takes no value: write just "${name}"`;
  return undefined;
}

function readPattern(r: Reader, v: unknown, field: string, signals: Map<string, SignalDef>): PatternDef | undefined {
  const o = r.obj(v, field, { required: ['id', 'regex', 'emit'], optional: ['case_sensitive', 'sample'] });
  if (!o) return undefined;
  const id = r.str(o.id, `${field}.id`, { pattern: KEBAB, hint: 'pattern ids are kebab-case' });
  const regex = r.str(o.regex, `${field}.regex`, { max: 2000 });
  const emit = r.str(o.emit, `${field}.emit`);
  const sample = r.str(o.sample, `${field}.sample`, { optional: true });
  if (o.case_sensitive !== undefined && typeof o.case_sensitive !== 'boolean') r.problem(`${field}.case_sensitive`, 'must be true or false');
  const caseSensitive = o.case_sensitive === true;
  if (emit) {
    const p = refProblem(emit, signals, true);
    if (p) r.problem(`${field}.emit`, p);
  }
  if (!id || !regex || !emit) return undefined;
  let compiled: RegExp;
  try {
    compiled = new RegExp(regex, caseSensitive ? 'gm' : 'gim');
  } catch (err) {
    r.problem(`${field}.regex`, `does not compile: ${(err as Error).message}`);
    return undefined;
  }
  const unsafe = structuralProblem(regex);
  if (unsafe) {
    r.problem(`${field}.regex`, `may take super-linear time: it ${unsafe}`);
    return undefined;
  }
  if (compiled.test('')) {
    r.problem(`${field}.regex`, 'matches the empty string, so it would match every text');
    return undefined;
  }
  const value = parseSignalRef(emit).value;
  const cap = value && /^\$(\w+)$/.exec(value)?.[1];
  if (cap && !/^\d+$/.test(cap) && !regex.includes(`(?<${cap}>`)) r.problem(`${field}.emit`, `refers to capture group "${cap}", which the regex does not define`);
  if (sample !== undefined) {
    compiled.lastIndex = 0;
    if (!compiled.test(sample)) r.problem(`${field}.sample`, 'is not matched by the regex: fix one of them');
  }
  // The literals a match needs, found once here (and kept in the build's snapshot), not at every start.
  const literals = requiredLiterals(regex, caseSensitive);
  return { id, regex, emit, caseSensitive, ...(literals ? { literals } : {}), ...(sample !== undefined ? { sample } : {}) };
}

function readWeighted(r: Reader, v: unknown, field: string, signals: Map<string, SignalDef>): Weighted | undefined {
  const o = r.obj(v, field, { required: ['weight'], optional: ['signal', 'all'] });
  if (!o) return undefined;
  const weight = r.weight(o.weight, `${field}.weight`);
  let refs: string[] = [];
  if ((o.signal === undefined) === (o.all === undefined)) {
    r.problem(field, 'needs exactly one of "signal" (one reference) or "all" (a list that must all be present)');
    return undefined;
  }
  if (o.signal !== undefined) {
    const s = r.str(o.signal, `${field}.signal`);
    if (s) refs = [s];
  } else {
    refs = r.list(o.all, `${field}.all`, { min: 2 }).map((x, i) => r.str(x, `${field}.all[${i}]`) ?? '');
  }
  let ok = refs.length > 0 && weight !== undefined;
  refs.forEach((ref, i) => {
    if (!ref) return void (ok = false);
    const p = refProblem(ref, signals, false);
    if (p) {
      r.problem(o.signal !== undefined ? `${field}.signal` : `${field}.all[${i}]`, p);
      ok = false;
    }
  });
  return ok ? { all: refs, weight: weight! } : undefined;
}

/**
 * A file that is a list of items with kebab-case ids (symptoms, questions): each item is read by
 * `read` with its field path and id; an id twice in one file is a problem. `read` returns whether
 * the item is complete; nothing is kept from an item that added a problem.
 */
function eachListed(
  r: Reader,
  data: unknown,
  kind: string,
  keys: { required: readonly string[]; optional: readonly string[] },
  read: (o: Obj, field: string, id: string | undefined, r: Reader) => (() => void) | undefined,
): void {
  const inFile = new Set<string>();
  r.list(data, '(root)', { min: 1 }).forEach((v, i) => {
    const field = `[${i}]`;
    const before = r.problems.length;
    const o = r.obj(v, field, keys);
    if (!o) return;
    const id = r.str(o.id, `${field}.id`, { pattern: KEBAB, hint: `${kind} ids are kebab-case` });
    if (id && inFile.has(id)) r.problem(`${field}.id`, `duplicate ${kind} id "${id}" in this file`);
    if (id) inFile.add(id);
    const keep = read(o, field, id, r);
    if (r.problems.length === before && id && keep) keep();
  });
}

const SYMPTOM_KEYS = { required: ['id', 'title', 'when', 'causes'], optional: [] } as const;

/**
 * Symptoms: a list per file. A symptom id may be redefined by a later file (a KNOWLEDGE_DIRS
 * override); twice in one file is a problem. Causes must be loaded entries, listed once.
 */
function readSymptoms(
  file: string,
  data: unknown,
  signals: Map<string, SignalDef>,
  entries: ReadonlyMap<string, Entry>,
  into: Map<string, Symptom>,
  problems: Problem[],
): void {
  eachListed(new Reader(file, problems), data, 'symptom', SYMPTOM_KEYS, (o, field, id, r) => {
    const title = r.i18n(o.title, `${field}.title`);
    const when = r.list(o.when, `${field}.when`, { min: 1 }).map((c, j) => readCondition(r, c, `${field}.when[${j}]`, signals));
    const causes = r.list(o.causes, `${field}.causes`, { min: 1 }).map((c, j) => {
      const cause = r.str(c, `${field}.causes[${j}]`, { pattern: KEBAB, hint: 'a cause id' });
      if (cause && !entries.has(cause)) r.problem(`${field}.causes[${j}]`, `"${cause}" is not a cause in the knowledge base: use an id of knowledge/<family>/<id>.yaml`);
      return cause;
    });
    const dup = causes.find((c, j) => c !== undefined && causes.indexOf(c) !== j);
    if (dup) r.problem(`${field}.causes`, `"${dup}" is listed twice: list each cause once, at its place in the guide's order`);
    if (!id || !title) return undefined;
    return () => into.set(id, { id, title, when: when.filter(isDefined), causes: causes.filter(isDefined), file });
  });
}

const QUESTION_KEYS = { required: ['id', 'ask', 'answers'], optional: [] } as const;
const ANSWER_KEYS = { required: ['id', 'label', 'weights'], optional: ['replies'] } as const;

/**
 * Questions: a list per file. Each answer states a weight in [-1, 1] (not 0) for each cause it
 * speaks to; the causes must be loaded entries. A later file may redefine a question by id.
 */
function readQuestions(
  file: string,
  data: unknown,
  signals: Map<string, SignalDef>,
  entries: ReadonlyMap<string, Entry>,
  into: Map<string, Question>,
  problems: Problem[],
): void {
  eachListed(new Reader(file, problems), data, 'question', QUESTION_KEYS, (o, field, id, r) => {
    const ask = r.i18n(o.ask, `${field}.ask`);
    const answers = r.list(o.answers, `${field}.answers`, { min: 2 }).map((a, j) => readAnswer(r, a, `${field}.answers[${j}]`, entries));
    const ids = answers.map((a) => a?.id);
    const dup = ids.find((a, j) => a !== undefined && ids.indexOf(a) !== j);
    if (dup) r.problem(`${field}.answers`, `answer id "${dup}" is used twice: give each answer its own id`);
    const signal = id ? signals.get(answerSignal(id)) : undefined;
    if (id && signal && !signal.file.includes('questions'))
      r.problem(`${field}.id`, `its answers' signal "${answerSignal(id)}" is already declared in ${signal.file}: pick another id`);
    if (!id || !ask) return undefined;
    return () => {
      into.set(id, { id, ask, answers: answers.filter(isDefined), file });
      signals.set(answerSignal(id), {
        name: answerSignal(id),
        description: `the answer to "${ask.en}"`,
        values: answers.filter(isDefined).map((a) => a.id),
        open: false,
        ask,
        file,
      });
    };
  });
}

function readAnswer(r: Reader, v: unknown, field: string, entries: ReadonlyMap<string, Entry>): QuestionAnswer | undefined {
  const before = r.problems.length;
  const o = r.obj(v, field, ANSWER_KEYS);
  if (!o) return undefined;
  const id = r.str(o.id, `${field}.id`, { pattern: /^[a-z0-9_]+$/, hint: 'answer ids are lower_snake_case' });
  const label = r.i18n(o.label, `${field}.label`);
  const weights: Record<string, number> = {};
  const w = r.obj(o.weights, `${field}.weights`, { required: [], optional: [...entries.keys()] });
  if (w) {
    for (const [cause, value] of Object.entries(w)) {
      if (typeof value !== 'number' || !(value >= -1 && value <= 1) || value === 0) {
        r.problem(`${field}.weights.${cause}`, `must be a number in [-1, 1] other than 0 (negative argues against), got ${describe(value)}`);
        continue;
      }
      weights[cause] = value;
    }
    if (Object.keys(w).length === 0) r.problem(`${field}.weights`, 'names no cause: give the weight this answer has for each cause it separates');
  }
  // Typed replies that count as this answer: short words or phrases, matched as whole words.
  const replies = r
    .list(o.replies, `${field}.replies`, { optional: true })
    .map((x, i) => r.str(x, `${field}.replies[${i}]`, { max: 40, pattern: /^[^\n]{1,40}$/ })?.toLowerCase())
    .filter(isDefined);
  if (r.problems.length > before || !id || !label) return undefined;
  return { id, label, weights, replies };
}

/** Each answer's weights become the causes' indicators (positive) and contra-indicators (negative). */
function addAnswerWeights(questions: ReadonlyMap<string, Question>, signals: ReadonlyMap<string, SignalDef>, entries: Map<string, Entry>): void {
  for (const q of questions.values()) {
    const name = answerSignal(q.id);
    if (!signals.has(name)) continue;
    for (const a of q.answers) {
      for (const [cause, weight] of Object.entries(a.weights)) {
        const e = entries.get(cause);
        if (!e) continue;
        const w: Weighted = { all: [`${name}=${a.id}`], weight: Math.abs(weight) };
        entries.set(cause, weight > 0 ? { ...e, indicators: [...e.indicators, w] } : { ...e, against: [...e.against, w] });
      }
    }
  }
}

/** A `when` item: one reference, or `{all: [refs]}`. */
function readCondition(r: Reader, v: unknown, field: string, signals: Map<string, SignalDef>): readonly string[] | undefined {
  let refs: (string | undefined)[];
  if (typeof v === 'string') refs = [r.str(v, field)];
  else {
    const o = r.obj(v, field, { required: ['all'], optional: [] });
    if (!o) return undefined;
    refs = r.list(o.all, `${field}.all`, { min: 2 }).map((x, i) => r.str(x, `${field}.all[${i}]`));
  }
  let ok = refs.length > 0;
  refs.forEach((ref, i) => {
    if (!ref) return void (ok = false);
    const p = refProblem(ref, signals, false);
    if (p) {
      r.problem(typeof v === 'string' ? field : `${field}.all[${i}]`, p);
      ok = false;
    }
  });
  return ok ? (refs as string[]) : undefined;
}

function readFix(r: Reader, v: unknown, field: string): Fix | undefined {
  const o = r.obj(v, field, { required: ['id', 'title'], optional: ['steps', 'commands', 'config', 'refs'] });
  if (!o) return undefined;
  const id = r.str(o.id, `${field}.id`, { pattern: KEBAB, hint: 'fix ids are kebab-case' });
  const title = r.i18n(o.title, `${field}.title`);
  let steps: Fix['steps'];
  if (o.steps !== undefined) {
    const s = r.obj(o.steps, `${field}.steps`, { required: ['en', 'zh'], optional: [] });
    if (s) {
      const en = r.list(s.en, `${field}.steps.en`, { min: 1 }).map((x, i) => r.str(x, `${field}.steps.en[${i}]`) ?? '');
      const zh = r.list(s.zh, `${field}.steps.zh`, { min: 1 }).map((x, i) => r.str(x, `${field}.steps.zh[${i}]`) ?? '');
      steps = { en, zh };
    }
  }
  const commands = r.list(o.commands, `${field}.commands`, { optional: true }).map((x, i) => r.str(x, `${field}.commands[${i}]`) ?? '');
  const config = r.list(o.config, `${field}.config`, { optional: true }).map((x, i) => readConfig(r, x, `${field}.config[${i}]`));
  const refs = r.list(o.refs, `${field}.refs`, { optional: true }).map((x, i) => r.str(x, `${field}.refs[${i}]`, { pattern: /^https?:\/\/\S+$/, hint: 'a refs item is a URL' }) ?? '');
  if (commands.length === 0 && config.length === 0 && !steps) r.problem(field, 'a fix needs commands, config lines or steps');
  if (!id || !title) return undefined;
  return { id, title, ...(steps ? { steps } : {}), commands, config: config.filter(isDefined), refs };
}

function readConfig(r: Reader, v: unknown, field: string): FixConfig | undefined {
  const o = r.obj(v, field, { required: ['for', 'lines'], optional: ['file'] });
  if (!o) return undefined;
  const target = r.str(o.for, `${field}.for`);
  if (target && !(FIX_TARGETS as readonly string[]).includes(target)) r.problem(`${field}.for`, `"${target}" is not a known target; use one of: ${FIX_TARGETS.join(', ')}`);
  const lines = r.str(o.lines, `${field}.lines`, { max: 4000 });
  const file = r.str(o.file, `${field}.file`, { optional: true });
  if (!target || !lines || !(FIX_TARGETS as readonly string[]).includes(target)) return undefined;
  return { for: target as FixConfig['for'], lines: lines.replace(/\s+$/, ''), ...(file ? { file } : {}) };
}

function readReference(r: Reader, v: unknown, field: string): Reference | undefined {
  const o = r.obj(v, field, { required: ['title', 'url'], optional: [] });
  if (!o) return undefined;
  const title = r.str(o.title, `${field}.title`);
  const url = r.str(o.url, `${field}.url`, { pattern: /^https:\/\/\S+$/, hint: 'references are https URLs' });
  return title && url ? { title, url } : undefined;
}

function checkPatternIds(entries: Map<string, Entry>, problems: Problem[]): void {
  for (const e of entries.values()) {
    const seen = new Set<string>();
    e.patterns.forEach((p, i) => {
      if (seen.has(p.id)) problems.push({ file: e.file, field: `patterns[${i}].id`, message: `duplicate pattern id "${p.id}"` });
      seen.add(p.id);
    });
  }
}
