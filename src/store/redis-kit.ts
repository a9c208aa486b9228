import { createHash } from 'node:crypto';
import { redact } from '../security/redact.js';

/*
 * What the bot's Redis stores share (dedupe, answers, feedback, alert windows): key parts that
 * cannot collide, TTL checks, JSON that is masked once more on the way in, and one error type.
 *
 * Failures: Redis errors throw a {@link StoreError} naming the operation (`reason: 'redis'`);
 * misuse (an empty id, a bad TTL) throws with `'invalid'`; stored JSON that does not parse with
 * `'corrupt'`. "Soft" reads (see {@link soft}) report to `onError` and answer a neutral value, so
 * a Redis outage never blocks an answer. Data too large to store is a value, `{ ok: false }`.
 */

/** A store failure, naming the operation. Its message never holds stored data. */
export class StoreError extends Error {
  constructor(
    readonly op: string,
    readonly reason: 'redis' | 'invalid' | 'corrupt',
    detail: string,
    cause?: unknown,
  ) {
    super(`store: ${op} failed: ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'StoreError';
  }
}

export type SaveResult =
  { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly reason: 'too_large'; readonly bytes: number };

const MAX_PART = 200;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A key part that cannot contain ':' or '{' (no collisions, no cluster hash tags); long ones hashed. */
export function part(op: string, what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new StoreError(op, 'invalid', `${what} must be a non-empty string`);
  const enc = encodeURIComponent(value);
  return enc.length <= MAX_PART ? enc : `h.${sha256(value).slice(0, 32)}`;
}

export function ttl(op: string, sec: number): number {
  if (!Number.isInteger(sec) || sec < 1) throw new StoreError(op, 'invalid', `ttl must be a whole number of seconds ≥ 1, got ${sec}`);
  return sec;
}

/** Run a Redis operation; anything it throws becomes a StoreError naming `op`. */
export async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(op, 'redis', err instanceof Error ? err.message : String(err), err);
  }
}

/** A read whose failure must not block an answer: Redis trouble is reported and `fallback` returned. */
export async function soft<T>(op: string, fallback: T, onError: (err: StoreError) => void, fn: () => Promise<T>): Promise<T> {
  try {
    return await call(op, fn);
  } catch (err) {
    if (!(err instanceof StoreError) || err.reason === 'invalid') throw err;
    onError(err);
    return fallback;
  }
}

/** JSON with every string masked once more (a safety net: callers pass masked data). */
export function toJson(op: string, data: unknown): string {
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'string' ? redact(v) : v));
  if (json === undefined) throw new StoreError(op, 'invalid', 'data is not JSON-serialisable');
  return json;
}

export function parseJson<T>(op: string, json: string | null | undefined): T | undefined {
  if (json === null || json === undefined) return undefined;
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new StoreError(op, 'corrupt', 'stored JSON does not parse');
  }
}

/** A bounded, most-recently-set map for the in-memory stores (one replica without Redis). */
export function boundedMap<V>(max: number) {
  const m = new Map<string, V>();
  return {
    get: (k: string) => m.get(k),
    has: (k: string) => m.has(k),
    delete: (k: string) => m.delete(k),
    set(k: string, v: V) {
      m.delete(k);
      m.set(k, v);
      if (m.size > max) m.delete(m.keys().next().value!);
    },
  };
}
