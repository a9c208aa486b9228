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

/** Check a POST /v1/explain body. The text's size is bounded by the body limit (1 MiB). */
export function parseExplainRequest(body: unknown): { text: string; lang?: Lang } {
  const p = new Problems();
  const o = objectBody(body, ['text', 'lang'], p);
  const text = reqString(o, 'text', Number.MAX_SAFE_INTEGER, p);
  const lang = optLang(o, p);
  p.throwIfAny('the request');
  return { text: text!, ...(lang ? { lang } : {}) };
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
