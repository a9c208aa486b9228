import type { Redis } from 'ioredis';
import type { SlackMessage } from '../slack/blocks.js';
import { StoreError } from './diagnosis-store.js';

/*
 * Which Alertmanager alert groups were answered, so that each group gets one answer per window
 * (Alertmanager re-sends a firing group every repeat_interval, and every replica may receive it),
 * and so that a resolved notification can find the answer to update. Keys are hashes of groupKey.
 */

/** The answer posted for a group: where it is, and the message to rewrite when it resolves. */
export interface AlertAnswer {
  readonly channel: string;
  readonly ts: string;
  readonly message: SlackMessage;
}

/** 'pending': claimed, the answer is still being prepared. */
type AlertEntry = { readonly state: 'pending' } | ({ readonly state: 'answered' } & AlertAnswer);

/** Every method throws {@link StoreError} when Redis does not answer. */
export interface AlertStore {
  /** True for exactly one caller per group and window (atomic across replicas): that caller answers. */
  claim(group: string, windowSec: number): Promise<boolean>;
  /** Remember the posted answer for the rest of the window. */
  saveAnswer(group: string, answer: AlertAnswer, windowSec: number): Promise<void>;
  /** Forget a claim whose answer could not be posted, so the next notification tries again. */
  release(group: string): Promise<void>;
  /**
   * Remove and return the group's posted answer, so its next firing is answered afresh. A group
   * still pending is left alone (its answer is on the way) and gives undefined.
   */
  takeAnswer(group: string): Promise<AlertAnswer | undefined>;
}

/** In-process memory of groups (a single replica without Redis), bounded. */
export function memoryAlertStore(maxEntries = 10_000, now: () => number = Date.now): AlertStore {
  const entries = new Map<string, { entry: AlertEntry; expires: number }>();
  const live = (group: string) => {
    const e = entries.get(group);
    if (e && e.expires <= now()) entries.delete(group);
    return entries.get(group);
  };
  const set = (group: string, entry: AlertEntry, windowSec: number) => {
    entries.delete(group);
    entries.set(group, { entry, expires: now() + windowSec * 1000 });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };
  return {
    async claim(group, windowSec) {
      if (live(group)) return false;
      set(group, { state: 'pending' }, windowSec);
      return true;
    },
    async saveAnswer(group, answer, windowSec) {
      set(group, { state: 'answered', ...answer }, windowSec);
    },
    async release(group) {
      entries.delete(group);
    },
    async takeAnswer(group) {
      const e = live(group)?.entry;
      if (e?.state !== 'answered') return undefined;
      entries.delete(group);
      return { channel: e.channel, ts: e.ts, message: e.message };
    },
  };
}

/** GET and DEL in one step, only for an answered entry (stored JSON starts with its state). */
const TAKE_ANSWERED = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 20) == '{"state":"answered",' then
  redis.call('DEL', KEYS[1])
  return v
end
return false`;

/** Groups in Redis (`${prefix}:api:alert:<hash>`), so replicas share the windows. */
export function redisAlertStore(redis: Redis, prefix = 'triage'): AlertStore {
  const key = (group: string) => `${prefix}:api:alert:${group}`;
  const guard = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new StoreError(operation, err);
    }
  };
  return {
    claim: (group, windowSec) =>
      guard('claim', async () => (await redis.set(key(group), JSON.stringify({ state: 'pending' }), 'EX', windowSec, 'NX')) === 'OK'),
    saveAnswer: (group, answer, windowSec) =>
      guard('saveAnswer', async () => {
        await redis.set(key(group), JSON.stringify({ state: 'answered', ...answer }), 'EX', windowSec);
      }),
    release: (group) =>
      guard('release', async () => {
        await redis.del(key(group));
      }),
    takeAnswer: (group) =>
      guard('takeAnswer', async () => {
        const json = (await redis.eval(TAKE_ANSWERED, 1, key(group))) as string | null;
        if (typeof json !== 'string') return undefined;
        try {
          const e = JSON.parse(json) as AlertEntry;
          return e.state === 'answered' ? { channel: e.channel, ts: e.ts, message: e.message } : undefined;
        } catch {
          return undefined;
        }
      }),
  };
}
