import type { Redis } from 'ioredis';
import type { ProbeResult } from '../probes/probe.js';
import { boundedMap, call, parseJson, part, soft, toJson, ttl, type StoreError } from './redis-kit.js';
import { ANSWER_STORE_DEFAULTS } from './answers.js';

/*
 * Investigations: one per Slack thread that holds one of our answers. Each keeps the answer it
 * updates and the evidence items the thread added (pastes, files, probe runs, answers to the
 * answer's questions), each with its origin. Stored as one Redis hash per thread (`meta` plus one
 * field per item, so concurrent follow-ups never overwrite each other), with the answers'
 * retention; every string is masked once more on the way in. Without Redis: bounded process memory.
 */

/** One piece of evidence in a thread, with where it came from. */
export interface ThreadItem {
  /** Unique in the thread: the Slack message ts, `probes:<target>`, `answer:<question>`, `summary`. */
  readonly id: string;
  readonly kind: 'text' | 'file' | 'alert' | 'probes' | 'answer' | 'summary';
  /** When it was added or last changed (ms since the epoch). */
  readonly at: number;
  /** Order of arrival (an edit keeps its place). */
  readonly seq: number;
  /** The Slack user who added it. */
  readonly by?: string;
  /** The Slack message it came from. */
  readonly ts?: string;
  /** Masked text, clipped (texts are read again on every ranking). */
  readonly text?: string;
  /** Masked, compact signals (probe runs, answers, summaries). */
  readonly signals?: readonly { n: string; v?: string; e: string; s: string }[];
  /** Short masked label: the probed URL, the answer given, "3 earlier messages". */
  readonly label?: string;
  /** Probe runs: each probe's outcome line, for the answer's probe section. */
  readonly probes?: readonly { probe: string; status: ProbeResult['status']; summary: string; route?: string; durationMs: number }[];
}

/** What the thread's answer is and how it was last ranked. */
export interface InvestigationMeta {
  readonly channel: string;
  readonly thread: string;
  /** The answer message updated in place. */
  readonly answerTs: string;
  /** The request id its buttons carry. */
  readonly requestId: string;
  readonly team: string;
  readonly lang: 'en' | 'zh';
  /** What the answer first came from. */
  readonly source: 'text' | 'probes';
  /** The masked URL the answer names, when there is one. */
  readonly url?: string;
  /** The top cause of the last ranking ('none' for none). */
  readonly top: string;
  /**
   * Context lines the answer carries whatever the ranking (an alert's "firing", "seen N times",
   * "resolved"): block id and escaped mrkdwn, shown under the header in this order.
   */
  readonly lines?: readonly { readonly id: string; readonly text: string }[];
}

export interface Investigation {
  readonly meta: InvestigationMeta;
  /** In order of arrival. */
  readonly items: readonly ThreadItem[];
}

export interface InvestigationStore {
  /** Start (or restart) the thread's investigation with its first items. */
  open(meta: InvestigationMeta, items: readonly ThreadItem[]): Promise<void>;
  /** Soft: Redis trouble answers undefined (the thread is then answered as before). */
  get(channel: string, thread: string): Promise<Investigation | undefined>;
  /** Add an item, or replace the one with its id. */
  put(channel: string, thread: string, item: ThreadItem): Promise<void>;
  /** Remove items; true when any was there. */
  remove(channel: string, thread: string, ids: readonly string[]): Promise<boolean>;
  setTop(channel: string, thread: string, top: string): Promise<void>;
  setLines(channel: string, thread: string, lines: NonNullable<InvestigationMeta['lines']>): Promise<void>;
  /** The thread whose investigation updates the answer `answerTs` (soft). */
  threadOf(channel: string, answerTs: string): Promise<string | undefined>;
}

export interface InvestigationStoreOptions {
  readonly prefix?: string;
  /** @defaultValue the answers' retention (ANSWER_STORE_DEFAULTS.ttlSec) */
  readonly ttlSec?: number;
  readonly onError?: (err: StoreError) => void;
}

const META = 'meta';
const itemField = (id: string) => `i:${id}`;

/** Investigations in Redis: `${prefix}:inv:<channel>:<thread>`, a hash of `meta` and `i:<item id>`. */
export function redisInvestigationStore(redis: Redis, options: InvestigationStoreOptions = {}): InvestigationStore {
  const prefix = options.prefix ?? 'triage';
  const ttlSec = options.ttlSec ?? ANSWER_STORE_DEFAULTS.ttlSec;
  const onError = options.onError ?? (() => {});
  const key = (op: string, channel: string, thread: string) =>
    `${prefix}:inv:${part(op, 'channel', channel)}:${part(op, 'thread', thread)}`;
  const answerKey = (op: string, channel: string, ts: string) =>
    `${prefix}:inv-answer:${part(op, 'channel', channel)}:${part(op, 'answer', ts)}`;

  return {
    async open(meta, items) {
      const k = key('open', meta.channel, meta.thread);
      const fields: string[] = [META, toJson('open', meta)];
      for (const i of items) fields.push(itemField(i.id), toJson('open', i));
      const a = answerKey('open', meta.channel, meta.answerTs);
      await call('open', () =>
        redis
          .multi()
          .del(k)
          .hset(k, ...fields)
          .expire(k, ttl('open', ttlSec))
          .set(a, meta.thread, 'EX', ttl('open', ttlSec))
          .exec(),
      );
    },
    async threadOf(channel, answerTs) {
      const a = answerKey('threadOf', channel, answerTs);
      return soft<string | undefined>('threadOf', undefined, onError, async () => (await redis.get(a)) ?? undefined);
    },
    async get(channel, thread) {
      const k = key('get', channel, thread);
      return soft<Investigation | undefined>('get', undefined, onError, async () => {
        const all = await redis.hgetall(k);
        const meta = parseJson<InvestigationMeta>('get', all[META]);
        if (!meta) return undefined;
        const items = Object.entries(all)
          .filter(([f]) => f.startsWith('i:'))
          .map(([, v]) => parseJson<ThreadItem>('get', v)!)
          .sort((a, b) => a.seq - b.seq);
        return { meta, items };
      });
    },
    async put(channel, thread, item) {
      const k = key('put', channel, thread);
      await call('put', () => redis.multi().hset(k, itemField(item.id), toJson('put', item)).expire(k, ttl('put', ttlSec)).exec());
    },
    async remove(channel, thread, ids) {
      if (ids.length === 0) return false;
      const k = key('remove', channel, thread);
      const n = await call('remove', () => redis.hdel(k, ...ids.map(itemField)));
      return n > 0;
    },
    setTop: (channel, thread, top) => patchMeta('setTop', channel, thread, { top }),
    setLines: (channel, thread, lines) => patchMeta('setLines', channel, thread, { lines }),
  };

  async function patchMeta(op: string, channel: string, thread: string, patch: Partial<InvestigationMeta>): Promise<void> {
    const k = key(op, channel, thread);
    const meta = parseJson<InvestigationMeta>(op, await call(op, () => redis.hget(k, META)));
    if (!meta) return;
    await call(op, () =>
      redis
        .multi()
        .hset(k, META, toJson(op, { ...meta, ...patch }))
        .expire(k, ttl(op, ttlSec))
        .exec(),
    );
  }
}

/** Investigations in process memory, bounded (a single replica without Redis; they go with a restart). */
export function memoryInvestigationStore(max: number = ANSWER_STORE_DEFAULTS.memoryEntries): InvestigationStore {
  const threads = boundedMap<{ meta: InvestigationMeta; items: Map<string, ThreadItem> }>(max);
  const answers = boundedMap<string>(max);
  const k = (channel: string, thread: string) => `${channel}:${thread}`;
  return {
    async open(meta, items) {
      answers.set(k(meta.channel, meta.answerTs), meta.thread);
      threads.set(k(meta.channel, meta.thread), {
        meta: structuredClone(meta),
        items: new Map(items.map((i) => [i.id, structuredClone(i)])),
      });
    },
    async get(channel, thread) {
      const t = threads.get(k(channel, thread));
      if (!t) return undefined;
      return structuredClone({ meta: t.meta, items: [...t.items.values()].sort((a, b) => a.seq - b.seq) });
    },
    async put(channel, thread, item) {
      threads.get(k(channel, thread))?.items.set(item.id, structuredClone(item));
    },
    async remove(channel, thread, ids) {
      const t = threads.get(k(channel, thread));
      let any = false;
      for (const id of ids) any = (t?.items.delete(id) ?? false) || any;
      return any;
    },
    async setTop(channel, thread, top) {
      const t = threads.get(k(channel, thread));
      if (t) t.meta = { ...t.meta, top };
    },
    async setLines(channel, thread, lines) {
      const t = threads.get(k(channel, thread));
      if (t) t.meta = { ...t.meta, lines: structuredClone(lines) };
    },
    threadOf: async (channel, answerTs) => answers.get(k(channel, answerTs)),
  };
}
