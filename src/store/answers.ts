import type { Redis } from 'ioredis';
import { boundedMap, call, parseJson, part, soft, toJson, ttl, type SaveResult, type StoreError } from './redis-kit.js';

/**
 * What the bot's answers need later: the state behind each answer's buttons (by request id), the
 * summary of its last probe run (Re-probe compares with it), and which of our messages answered
 * a user's message (an edit updates that answer). JSON, masked once more on the way in, bounded,
 * expiring.
 */
export interface AnswerStore {
  /** Keep an answer's state; `{ ok: false }` when it is larger than maxJsonBytes. */
  save(requestId: string, state: unknown): Promise<SaveResult>;
  load<T>(requestId: string): Promise<T | undefined>;
  saveRun(requestId: string, run: unknown): Promise<SaveResult>;
  /** Soft: Redis trouble answers undefined. */
  lastRun<T>(requestId: string): Promise<T | undefined>;
  /** Remember that `replyTs` answered the message `ts` in `channel`. */
  saveReply(channel: string, ts: string, replyTs: string): Promise<void>;
  reply(channel: string, ts: string): Promise<string | undefined>;
}

/** Answer store settings. */
export const ANSWER_STORE_DEFAULTS = {
  /** How long answers can be acted on. @defaultValue 604800 (7 days) */
  ttlSec: 7 * 86_400,
  /** Largest JSON kept for one answer. @defaultValue 16384 */
  maxJsonBytes: 16 * 1024,
  /** Answers kept in memory without Redis. @defaultValue 500 */
  memoryEntries: 500,
} as const;

export interface AnswerStoreOptions {
  readonly prefix?: string;
  readonly ttlSec?: number;
  readonly maxJsonBytes?: number;
  /** Told about the Redis errors that soft reads swallow. @defaultValue ignore */
  readonly onError?: (err: StoreError) => void;
}

/** Answers in Redis: `${prefix}:answer:req:<id>`, `…:run:<id>`, `…:reply:<channel>:<ts>`. */
export function redisAnswerStore(redis: Redis, options: AnswerStoreOptions = {}): AnswerStore {
  const prefix = options.prefix ?? 'triage';
  const ttlSec = options.ttlSec ?? ANSWER_STORE_DEFAULTS.ttlSec;
  const maxBytes = options.maxJsonBytes ?? ANSWER_STORE_DEFAULTS.maxJsonBytes;
  const onError = options.onError ?? (() => {});
  const key = (op: string, kind: string, ...ids: string[]) => `${prefix}:answer:${kind}:${ids.map((i) => part(op, kind, i)).join(':')}`;

  async function saveJson(op: string, k: string, data: unknown): Promise<SaveResult> {
    const json = toJson(op, data);
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) return { ok: false, reason: 'too_large', bytes };
    await call(op, () => redis.set(k, json, 'EX', ttl(op, ttlSec)));
    return { ok: true, bytes };
  }

  return {
    save: (id, state) => saveJson('save', key('save', 'req', id), state),
    async load<T>(id: string) {
      const k = key('load', 'req', id);
      return parseJson<T>('load', await call('load', () => redis.get(k)));
    },
    saveRun: (id, run) => saveJson('saveRun', key('saveRun', 'run', id), run),
    async lastRun<T>(id: string) {
      const k = key('lastRun', 'run', id);
      return soft<T | undefined>('lastRun', undefined, onError, async () => parseJson<T>('lastRun', await redis.get(k)));
    },
    async saveReply(channel, ts, replyTs) {
      await saveJson('saveReply', key('saveReply', 'reply', channel, ts), { ts: replyTs });
    },
    async reply(channel, ts) {
      const k = key('reply', 'reply', channel, ts);
      const v = parseJson<{ ts?: unknown }>('reply', await call('reply', () => redis.get(k)));
      return typeof v?.ts === 'string' ? v.ts : undefined;
    },
  };
}

/** Answers in process memory, bounded (a single replica without Redis; they go with a restart). */
export function memoryAnswerStore(max: number = ANSWER_STORE_DEFAULTS.memoryEntries): AnswerStore {
  const states = boundedMap<unknown>(max);
  const runs = boundedMap<unknown>(max);
  const replies = boundedMap<string>(max);
  return {
    async save(id, state) {
      states.set(id, structuredClone(state));
      return { ok: true, bytes: 0 };
    },
    load: async <T>(id: string) => states.get(id) as T | undefined,
    async saveRun(id, run) {
      runs.set(id, structuredClone(run));
      return { ok: true, bytes: 0 };
    },
    lastRun: async <T>(id: string) => runs.get(id) as T | undefined,
    async saveReply(channel, ts, replyTs) {
      replies.set(`${channel}:${ts}`, replyTs);
    },
    reply: async (channel, ts) => replies.get(`${channel}:${ts}`),
  };
}
