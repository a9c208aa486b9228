import type { Redis } from 'ioredis';
import { boundedMap, call, parseJson, part, toJson, ttl } from './redis-kit.js';

/**
 * Alert windows: which alerts were answered, so each alert gets one answer per window wherever
 * it came from (a Slack alert channel, the Alertmanager webhook), its repeats update that answer,
 * and its resolution finds it. A window opens with the alert's first firing and lasts `windowSec`;
 * resolving closes it, so the next firing is answered afresh. Atomic across replicas with Redis.
 */
export interface AlertWindows {
  /** Count a firing of `fingerprint` in `scope` (a channel); exactly one caller per window gets `first`. */
  note(scope: string, fingerprint: string, windowSec: number): Promise<WindowNote>;
  /** Keep the posted answer for the rest of the window; false when the window closed meanwhile (it resolved). */
  setAnswer(scope: string, fingerprint: string, answer: PostedAnswer): Promise<boolean>;
  /** Forget a window whose answer could not be posted, so the next firing answers again. */
  release(scope: string, fingerprint: string): Promise<void>;
  /** Close the window; its answer, when one was posted. */
  resolve(scope: string, fingerprint: string): Promise<PostedAnswer | undefined>;
}

export interface WindowNote {
  /** True for exactly one firing per window: answer it, then call setAnswer (or release). */
  readonly first: boolean;
  /** Firings in the window so far, this one included. */
  readonly count: number;
  /** The answer, once posted (the first firing's answer may still be on its way). */
  readonly answer?: PostedAnswer;
}

/** Where an alert's answer is, and the message as posted (to rewrite it on a repeat or resolve). */
export interface PostedAnswer {
  readonly channel: string;
  readonly ts: string;
  readonly message: unknown;
}

/** Alert window settings. */
export const ALERT_WINDOW_DEFAULTS = {
  /** An alert is answered at most once per window; its repeats update that answer. @defaultValue 3600 */
  windowSec: 3_600,
  /** Windows kept in memory without Redis. @defaultValue 10000 */
  memoryEntries: 10_000,
} as const;

/** KEYS: window. ARGV: windowSec. Returns { count, answer JSON | false }. */
const NOTE = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('HGET', KEYS[1], 'answer') }
`;

/** KEYS: window. ARGV: answer JSON. */
const SET_ANSWER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'answer', ARGV[1])
return 1
`;

/** KEYS: window. Returns the answer JSON and deletes the window. */
const RESOLVE = `
local answer = redis.call('HGET', KEYS[1], 'answer')
redis.call('DEL', KEYS[1])
return answer
`;

/** Windows in Redis: a hash `${prefix}:alert:<scope>:<fingerprint>` {count, answer}, expiring with the window. */
export function redisAlertWindows(redis: Redis, prefix = 'triage'): AlertWindows {
  const key = (op: string, scope: string, fp: string) => `${prefix}:alert:${part(op, 'scope', scope)}:${part(op, 'fingerprint', fp)}`;
  const answerOf = (json: unknown) => (typeof json === 'string' ? parseJson<PostedAnswer>('alert window', json) : undefined);
  return {
    async note(scope, fp, windowSec) {
      const k = key('note', scope, fp);
      const [count, json] = await call(
        'note',
        async () => (await redis.eval(NOTE, 1, k, ttl('note', windowSec))) as [number, string | null],
      );
      const answer = answerOf(json);
      return { first: count === 1, count, ...(answer ? { answer } : {}) };
    },
    async setAnswer(scope, fp, answer) {
      const k = key('setAnswer', scope, fp);
      const json = toJson('setAnswer', answer);
      return call('setAnswer', async () => (await redis.eval(SET_ANSWER, 1, k, json)) === 1);
    },
    async release(scope, fp) {
      const k = key('release', scope, fp);
      await call('release', () => redis.del(k));
    },
    async resolve(scope, fp) {
      const k = key('resolve', scope, fp);
      return answerOf(await call('resolve', () => redis.eval(RESOLVE, 1, k)));
    },
  };
}

/** Windows in process memory, bounded (a single replica without Redis). */
export function memoryAlertWindows(max: number = ALERT_WINDOW_DEFAULTS.memoryEntries, now: () => number = Date.now): AlertWindows {
  const windows = boundedMap<{ count: number; expires: number; answer?: PostedAnswer }>(max);
  const live = (k: string) => {
    const w = windows.get(k);
    if (w && w.expires <= now()) windows.delete(k);
    return windows.get(k);
  };
  const k = (scope: string, fp: string) => `${scope}\u0000${fp}`;
  return {
    async note(scope, fp, windowSec) {
      const w = live(k(scope, fp)) ?? { count: 0, expires: now() + ttl('note', windowSec) * 1000 };
      w.count += 1;
      windows.set(k(scope, fp), w);
      return { first: w.count === 1, count: w.count, ...(w.answer ? { answer: w.answer } : {}) };
    },
    async setAnswer(scope, fp, answer) {
      const w = live(k(scope, fp));
      if (!w) return false;
      w.answer = structuredClone(answer);
      return true;
    },
    async release(scope, fp) {
      windows.delete(k(scope, fp));
    },
    async resolve(scope, fp) {
      const w = live(k(scope, fp));
      windows.delete(k(scope, fp));
      return w?.answer;
    },
  };
}
