import type { Lang } from '../knowledge/types.js';
import { ApiError } from './errors.js';
import { POOL_NAME } from '../queue/jobs.js';

/*
 * Request bodies are hostile until checked here, once, against the shapes of openapi.yaml. Every
 * problem is named by its field (`headers[2]: must be a string`) and reported together.
 */

/** Most problems listed in one answer; the rest are counted. */
const MAX_PROBLEMS = 20;

/** Collects problems for one body. */
export class Problems {
  readonly list: string[] = [];

  add(field: string, message: string): void {
    this.list.push(`${field}: ${message}`);
  }

  /** Throw INVALID_REQUEST naming every field, if there is any problem. */
  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const shown = this.list.slice(0, MAX_PROBLEMS);
    if (this.list.length > MAX_PROBLEMS) shown.push(`… and ${this.list.length - MAX_PROBLEMS} more`);
    throw new ApiError('INVALID_REQUEST', `${what} has ${this.list.length} problem(s): ${shown.slice(0, 3).join('; ')}`, shown);
  }
}

export type Obj = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The body as an object whose keys are all in `allowed` (unknown keys are typos or misuse: refused). */
export function objectBody(body: unknown, allowed: readonly string[], p: Problems): Obj {
  if (!isObject(body)) {
    p.add('(body)', 'must be a JSON object');
    p.throwIfAny('the request');
    return {};
  }
  for (const k of Object.keys(body))
    if (!allowed.includes(k)) p.add(JSON.stringify(k).slice(0, 66), `unknown field: use ${allowed.join(', ')}`);
  return body;
}

export function optString(o: Obj, key: string, max: number, p: Problems, field = key): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') p.add(field, 'must be a string');
  else if (v.length > max) p.add(field, `must be at most ${max} characters`);
  else return v;
  return undefined;
}

export function reqString(o: Obj, key: string, max: number, p: Problems, field = key): string | undefined {
  if (o[key] === undefined) p.add(field, 'is required');
  return optString(o, key, max, p, field);
}

function optLang(o: Obj, p: Problems): Lang | undefined {
  const v = o.lang;
  if (v === undefined) return undefined;
  if (v !== 'en' && v !== 'zh') p.add('lang', 'must be "en" or "zh"');
  else return v;
  return undefined;
}

function optStrings(
  o: Obj,
  key: string,
  maxItems: number,
  maxChars: number,
  p: Problems,
  re?: RegExp,
  hint?: string,
): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    p.add(key, 'must be an array of strings');
    return undefined;
  }
  if (v.length > maxItems) p.add(key, `must hold at most ${maxItems} items`);
  const out: string[] = [];
  v.slice(0, maxItems).forEach((item: unknown, i) => {
    if (typeof item !== 'string') p.add(`${key}[${i}]`, 'must be a string');
    else if (item.length > maxChars) p.add(`${key}[${i}]`, `must be at most ${maxChars} characters`);
    else if (re && !re.test(item)) p.add(`${key}[${i}]`, hint ?? 'has an invalid format');
    else out.push(item);
  });
  return out;
}

/** Most texts in one investigation (POST /v1/explain `texts`). */
export const MAX_EXPLAIN_TEXTS = 20;
const ITEM_ID = /^[^\u0000-\u001f\u007f]{1,200}$/;

/** A checked POST /v1/explain body: one text, or several (`texts`) ranked as one investigation. */
export type ExplainInput =
  | { readonly text: string; readonly texts?: undefined; readonly lang?: Lang }
  | { readonly text?: undefined; readonly texts: readonly { id: string; text: string }[]; readonly lang?: Lang };

/** Check a POST /v1/explain body. The texts' size is bounded by the body limit (1 MiB in all). */
export function parseExplainRequest(body: unknown): ExplainInput {
  const p = new Problems();
  const o = objectBody(body, ['text', 'texts', 'lang'], p);
  const lang = optLang(o, p);
  if ((o.text === undefined) === (o.texts === undefined)) {
    p.add('text', 'give either "text" (one text) or "texts" (several, ranked as one investigation)');
    p.throwIfAny('the request');
  }
  if (o.text !== undefined) {
    const text = reqString(o, 'text', Number.MAX_SAFE_INTEGER, p);
    p.throwIfAny('the request');
    return { text: text!, ...(lang ? { lang } : {}) };
  }
  const texts: { id: string; text: string }[] = [];
  if (!Array.isArray(o.texts) || o.texts.length === 0) p.add('texts', 'must be a non-empty array of {"id", "text"} objects');
  else if (o.texts.length > MAX_EXPLAIN_TEXTS)
    p.add('texts', `must hold at most ${MAX_EXPLAIN_TEXTS} items: put related lines in one text`);
  else {
    const seen = new Set<string>();
    o.texts.forEach((item: unknown, i) => {
      const field = `texts[${i}]`;
      if (!isObject(item)) return void p.add(field, 'must be an object {"id", "text"}');
      for (const k of Object.keys(item)) if (k !== 'id' && k !== 'text') p.add(`${field}.${k.slice(0, 40)}`, 'unknown field: use id, text');
      const text = reqString(item, 'text', Number.MAX_SAFE_INTEGER, p, `${field}.text`);
      const id = item.id === undefined ? `text ${i + 1}` : optString(item, 'id', 200, p, `${field}.id`);
      if (id !== undefined && !ITEM_ID.test(id)) p.add(`${field}.id`, 'must be 1 to 200 characters without control characters');
      else if (id !== undefined && seen.has(id)) p.add(`${field}.id`, `"${id.slice(0, 40)}" is used twice: give each text its own id`);
      if (id !== undefined) seen.add(id);
      if (id !== undefined && text !== undefined) texts.push({ id, text });
    });
  }
  p.throwIfAny('the request');
  return { texts, ...(lang ? { lang } : {}) };
}

/** A checked POST /v1/diagnoses body (the target itself is checked next, by parseTarget). */
export interface DiagnosisInput {
  readonly url: string;
  readonly proxy?: string;
  readonly upstream?: string;
  readonly headers: readonly string[];
  readonly origin?: string;
  readonly pools: readonly string[];
  readonly timeoutMs: number;
  readonly repeat: boolean;
  readonly lang?: Lang;
}

const DIAGNOSIS_FIELDS = ['url', 'proxy', 'upstream', 'headers', 'origin', 'from', 'timeoutMs', 'repeat', 'lang'] as const;

export function parseDiagnosisRequest(body: unknown): DiagnosisInput {
  const p = new Problems();
  const o = objectBody(body, DIAGNOSIS_FIELDS, p);
  const url = reqString(o, 'url', 4096, p);
  const proxy = optString(o, 'proxy', 4096, p);
  const upstream = optString(o, 'upstream', 300, p);
  const origin = optString(o, 'origin', 4096, p);
  const headers = optStrings(o, 'headers', 32, 8400, p, /^[^:]{1,128}:/, 'must be "Name: value", e.g. "Authorization: Bearer <token>"');
  const pools = optStrings(o, 'from', 8, 63, p, POOL_NAME, 'must be a pool name: lower-case letters, digits, - and _ (e.g. eu-west)');
  let timeoutMs = 10_000;
  if (o.timeoutMs !== undefined) {
    const t = o.timeoutMs;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 100 || t > 120_000)
      p.add('timeoutMs', 'must be a whole number of milliseconds from 100 to 120000');
    else timeoutMs = t;
  }
  if (o.repeat !== undefined && typeof o.repeat !== 'boolean') p.add('repeat', 'must be true or false');
  const lang = optLang(o, p);
  p.throwIfAny('the request');
  return {
    url: url!,
    ...(proxy !== undefined ? { proxy } : {}),
    ...(upstream !== undefined ? { upstream } : {}),
    ...(origin !== undefined ? { origin } : {}),
    headers: headers ?? [],
    pools: [...new Set(pools ?? [])],
    timeoutMs,
    repeat: o.repeat === true,
    ...(lang ? { lang } : {}),
  };
}
