import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redact } from '../security/redact.js';

/*
 * The Slack bot's state in Redis: idempotency claims, per-workspace feedback, "last time this fixed
 * it" recall, alert windows and button state. Every key is `${prefix}:slack:…` and expires.
 *
 * Inputs must already be masked (src/security/redact.ts): stored JSON strings pass through redact()
 * once more as a safety net, but ids, fingerprints and signatures are stored as given.
 *
 * Failures:
 * - Redis errors throw a {@link SlackStoreError} naming the operation (`reason: 'redis'`), except
 *   the enrichment reads adjustFor, recallFix and lastRun, which report to `onError` and answer a
 *   neutral value (factor 1, undefined), so a Redis outage never blocks an answer.
 * - Misuse (empty id, bad TTL) throws with `reason: 'invalid'`; unreadable stored JSON with `'corrupt'`
 *   (soft reads treat it like a Redis error).
 * - Data too large to store is an expected failure: saveRequest / saveLastRun return `{ ok: false }`.
 */

// ---------------------------------------------------------------------------------------------
// Contract

export type FeedbackKind = 'fixed' | 'wrong';

export interface Feedback {
  /** The knowledge-base cause the vote is about. */
  readonly causeId: string;
  readonly kind: FeedbackKind;
  /** {@link errorSignature} of the diagnosed error. */
  readonly signature: string;
  /** The fix that worked (kind 'fixed'), shown later as "last time, <fix> fixed this". Masked. */
  readonly fixTitle?: string;
  /** Slack user id of the voter. */
  readonly user: string;
  /** When, in ms since the epoch. @defaultValue Date.now() */
  readonly at?: number;
}

/** 'new': first vote of this user on this cause and signature; 'changed': they changed it; 'repeat': ignored. */
export type FeedbackOutcome = 'new' | 'changed' | 'repeat';

export interface FeedbackCount {
  /** Distinct (user, signature) votes. */
  readonly fixed: number;
  readonly wrong: number;
}

export interface RecalledFix {
  readonly causeId: string;
  /** Absent when the voter named no fix. */
  readonly fixTitle?: string;
  readonly at: number;
}

export interface AlertNote {
  /** True for exactly one firing per window: answer in full, then call setAlertAnswer. */
  readonly first: boolean;
  /** Firings in the window so far, this one included. */
  readonly count: number;
  /** The answer's message ts, once set (a concurrent first replica may not have posted yet). */
  readonly answerTs?: string;
}

export type SaveResult =
  { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly reason: 'too_large'; readonly bytes: number };

export interface SlackStore {
  /** True only the first time this Slack event_id is seen within `ttlSec` (Slack retries reuse it). */
  claimEvent(eventId: string, ttlSec?: number): Promise<boolean>;
  /** True only the first time `key` is claimed within `ttlSec` (command ids, interaction ids, …). */
  claimKey(key: string, ttlSec: number): Promise<boolean>;

  /** Record one vote; a user counts at most once per cause and signature (a later vote replaces theirs). */
  recordFeedback(team: string, feedback: Feedback): Promise<FeedbackOutcome>;
  /** A factor per cause id for RankOptions.adjust, in [adjust.min, adjust.max]; 1 without feedback. Soft. */
  adjustFor(team: string): Promise<(causeId: string) => number>;
  /** Raw (undecayed, de-duplicated) vote counts per cause id. */
  feedbackCounts(team: string): Promise<Record<string, FeedbackCount>>;
  /** The most recent 'fixed' vote for this signature. Soft. */
  recallFix(team: string, signature: string): Promise<RecalledFix | undefined>;

  /** Count a firing of an alert; one firing per window is `first` (atomic across replicas). */
  noteAlert(channel: string, fingerprint: string, opts?: { windowSec?: number; ts?: string }): Promise<AlertNote>;
  /** Store the ts of the answer to the current window; false when the window has expired. */
  setAlertAnswer(channel: string, fingerprint: string, ts: string): Promise<boolean>;
  /** Close the window and return its answer ts (to update it as RESOLVED); the next firing is first again. */
  resolveAlert(channel: string, fingerprint: string): Promise<string | undefined>;

  /** Store button state (JSON, already masked, at most maxJsonBytes). */
  saveRequest(id: string, data: unknown, ttlSec?: number): Promise<SaveResult>;
  loadRequest<T = unknown>(id: string): Promise<T | undefined>;
  /** Store the summary of a request's latest run, for Re-probe diffs (same limits as saveRequest). */
  saveLastRun(requestId: string, summary: unknown, ttlSec?: number): Promise<SaveResult>;
  /** Soft. */
  lastRun<T = unknown>(requestId: string): Promise<T | undefined>;
}

/** Store settings. */
export const SLACK_STORE_DEFAULTS = {
  /** First part of every key: `${prefix}:slack:…`. @defaultValue 'triage' */
  prefix: 'triage',
  /** How long an event_id stays claimed. @defaultValue 3600 */
  eventTtlSec: 3_600,
  /** How long button state and last runs live. @defaultValue 604800 (7 days) */
  requestTtlSec: 7 * 86_400,
  /** Largest JSON stored by saveRequest / saveLastRun. @defaultValue 16384 */
  maxJsonBytes: 16 * 1024,
  /** A workspace's votes expire this long after its last vote. @defaultValue 31536000 (365 days) */
  feedbackTtlSec: 365 * 86_400,
  /** A remembered fix expires this long after it was recorded. @defaultValue 15552000 (180 days) */
  recallTtlSec: 180 * 86_400,
  /** An alert window lasts this long from its first firing. @defaultValue 3600 */
  alertWindowSec: 3_600,
  /** How votes become a factor: 1 + fixed·Σfixed − wrong·Σwrong, clamped to [min, max]. */
  adjust: {
    /** Per 'fixed' vote. @defaultValue 0.05 */
    fixed: 0.05,
    /** Per 'wrong' vote. @defaultValue 0.1 */
    wrong: 0.1,
    /** @defaultValue 0.6 */
    min: 0.6,
    /** @defaultValue 1.4 */
    max: 1.4,
    /** A vote counts half after this many days. @defaultValue 90 */
    halfLifeDays: 90,
    /** One user's votes (each kind, all signatures) on one cause count at most this much. @defaultValue 2 */
    maxPerUser: 2,
  },
} as const;

export interface SlackStoreOptions {
  /** @defaultValue SLACK_STORE_DEFAULTS.prefix */
  readonly prefix?: string;
  readonly eventTtlSec?: number;
  readonly requestTtlSec?: number;
  readonly maxJsonBytes?: number;
  readonly feedbackTtlSec?: number;
  readonly recallTtlSec?: number;
  readonly alertWindowSec?: number;
  readonly adjust?: Partial<(typeof SLACK_STORE_DEFAULTS)['adjust']>;
  /** Told about the Redis errors that soft reads swallow. @defaultValue ignore */
  readonly onError?: (err: SlackStoreError) => void;
  /** Current time in ms (for decay). @defaultValue Date.now */
  readonly now?: () => number;
}

/** A store failure, naming the operation. Its message never holds stored data. */
export class SlackStoreError extends Error {
  constructor(
    readonly op: string,
    readonly reason: 'redis' | 'invalid' | 'corrupt',
    detail: string,
    cause?: unknown,
  ) {
    super(`slack store: ${op} failed: ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'SlackStoreError';
  }
}

// ---------------------------------------------------------------------------------------------
// Error signatures

/** Which signal keys {@link errorSignature} ignores or keeps without their value. */
export const SIGNATURE_DEFAULTS = {
  /** Names starting with these are dropped: they describe this occurrence, not the error. */
  dropPrefixes: ['timing.'],
  /** Names whose value is a measurement or a count: kept, value dropped. */
  valueless: [
    'http.retry_after',
    'net.packet_loss',
    'net.latency_spread',
    'probe.upstream_idle_timeout_ms',
    'jwt.exp_past',
    'jwt.nbf_future',
    'jwt.iat_future',
  ],
  /** Names ending like this are measurements too. */
  valuelessSuffixes: ['_ms', '_s', '_count', '.count'],
  /** Hex characters kept of the sha256. @defaultValue 16 */
  length: 16,
} as const;

/**
 * A stable id for an error: the short sha256 of its sorted, de-duplicated signal keys (`name` or
 * `name=value`), ignoring timings and counts. Example: `errorSignature(['http.status=502',
 * 'timing.duration_s=60.1'])` equals `errorSignature(['http.status=502'])`.
 */
export function errorSignature(signalKeys: readonly string[]): string {
  const stable = new Set<string>();
  for (const raw of signalKeys) {
    const key = stableKey(raw.trim());
    if (key) stable.add(key);
  }
  return sha256([...stable].sort().join('\n')).slice(0, SIGNATURE_DEFAULTS.length);
}

function stableKey(key: string): string | undefined {
  if (!key) return undefined;
  const eq = key.indexOf('=');
  const name = eq < 0 ? key : key.slice(0, eq);
  if (SIGNATURE_DEFAULTS.dropPrefixes.some((p) => name.startsWith(p))) return undefined;
  const valueless =
    (SIGNATURE_DEFAULTS.valueless as readonly string[]).includes(name) ||
    SIGNATURE_DEFAULTS.valuelessSuffixes.some((s) => name.endsWith(s));
  return valueless ? name : key;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Lua (each runs atomically)

/** KEYS: votes, recall. ARGV: field, kind, at, votesTtl, causeId, user, recallJson, recallTtl. */
const RECORD_FEEDBACK = `
local prev = redis.call('HGET', KEYS[1], ARGV[1])
local prevKind = prev and string.match(prev, '^(%a+)')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local stored = redis.call('GET', KEYS[2])
local last = stored and cjson.decode(stored)
if ARGV[2] == 'fixed' then
  if not last or tonumber(last.at) <= tonumber(ARGV[3]) then
    redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[8])
  end
elseif last and last.causeId == ARGV[5] and last.user == ARGV[6] then
  redis.call('DEL', KEYS[2])
end
if not prevKind then return 'new' end
if prevKind == ARGV[2] then return 'repeat' end
return 'changed'
`;

/** KEYS: alert. ARGV: windowSec, ts ('' = none). Returns { count, ts | nil }. */
const NOTE_ALERT = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ts', ARGV[2]) end
end
return { count, redis.call('HGET', KEYS[1], 'ts') }
`;

/** KEYS: alert. ARGV: ts. */
const SET_ALERT_ANSWER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ts', ARGV[1])
return 1
`;

/** KEYS: alert. Returns the ts, and deletes the window. */
const RESOLVE_ALERT = `
local ts = redis.call('HGET', KEYS[1], 'ts')
redis.call('DEL', KEYS[1])
return ts
`;

// ---------------------------------------------------------------------------------------------
// Implementation

const MAX_PART = 200;

/** A key part that cannot contain ':' or '{' (no collisions, no cluster hash tags); long ones hashed. */
function part(op: string, what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SlackStoreError(op, 'invalid', `${what} must be a non-empty string`);
  const enc = encodeURIComponent(value);
  return enc.length <= MAX_PART ? enc : `h.${sha256(value).slice(0, 32)}`;
}

/** A part of a hash field: no spaces, reversible. */
function fieldPart(op: string, what: string, value: string): string {
  part(op, what, value);
  return encodeURIComponent(value);
}

function ttl(op: string, sec: number): number {
  if (!Number.isInteger(sec) || sec < 1) throw new SlackStoreError(op, 'invalid', `ttl must be a whole number of seconds ≥ 1, got ${sec}`);
  return sec;
}

export function createSlackStore(redis: Redis, options: SlackStoreOptions = {}): SlackStore {
  const o = { ...SLACK_STORE_DEFAULTS, ...options, adjust: { ...SLACK_STORE_DEFAULTS.adjust, ...options.adjust } };
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const base = `${o.prefix}:slack`;
  const keys = {
    event: (id: string) => `${base}:event:${part('claimEvent', 'eventId', id)}`,
    claim: (k: string) => `${base}:claim:${part('claimKey', 'key', k)}`,
    // The team in a hash tag keeps a workspace's feedback keys in one cluster slot (one Lua call).
    votes: (op: string, team: string) => `${base}:fb:{${part(op, 'team', team)}}:votes`,
    recall: (op: string, team: string, sig: string) => `${base}:fb:{${part(op, 'team', team)}}:fix:${part(op, 'signature', sig)}`,
    alert: (op: string, ch: string, fp: string) => `${base}:alert:${part(op, 'channel', ch)}:${part(op, 'fingerprint', fp)}`,
    request: (op: string, id: string) => `${base}:req:${part(op, 'id', id)}`,
    run: (op: string, id: string) => `${base}:run:${part(op, 'requestId', id)}`,
  };

  async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SlackStoreError) throw err;
      throw new SlackStoreError(op, 'redis', err instanceof Error ? err.message : String(err), err);
    }
  }

  async function soft<T>(op: string, fallback: T, fn: () => Promise<T>): Promise<T> {
    try {
      return await call(op, fn);
    } catch (err) {
      if (!(err instanceof SlackStoreError) || err.reason === 'invalid') throw err;
      onError(err);
      return fallback;
    }
  }

  async function claim(op: string, key: string, sec: number): Promise<boolean> {
    return call(op, async () => (await redis.set(key, '1', 'EX', ttl(op, sec), 'NX')) === 'OK');
  }

  /** JSON with every string masked once more (a safety net: callers pass masked data). */
  function toJson(op: string, data: unknown): string {
    const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'string' ? redact(v) : v));
    if (json === undefined) throw new SlackStoreError(op, 'invalid', 'data is not JSON-serialisable');
    return json;
  }

  async function saveJson(op: string, key: string, data: unknown, sec: number): Promise<SaveResult> {
    const json = toJson(op, data);
    const bytes = Buffer.byteLength(json);
    if (bytes > o.maxJsonBytes) return { ok: false, reason: 'too_large', bytes };
    await call(op, () => redis.set(key, json, 'EX', ttl(op, sec)));
    return { ok: true, bytes };
  }

  function parse<T>(op: string, json: string | null): T | undefined {
    if (json === null) return undefined;
    try {
      return JSON.parse(json) as T;
    } catch {
      throw new SlackStoreError(op, 'corrupt', 'stored JSON does not parse');
    }
  }

  interface Vote {
    causeId: string;
    signature: string;
    user: string;
    kind: FeedbackKind;
    at: number;
  }

  async function votes(op: string, team: string): Promise<Vote[]> {
    const all = await redis.hgetall(keys.votes(op, team));
    const out: Vote[] = [];
    for (const [field, value] of Object.entries(all)) {
      const [c, s, u] = field.split(' ').map(decodeURIComponent);
      const [kind, at] = value.split(' ');
      if (!c || !s || !u || (kind !== 'fixed' && kind !== 'wrong')) continue;
      out.push({ causeId: c, signature: s, user: u, kind, at: Number(at) || 0 });
    }
    return out;
  }

  return {
    claimEvent: async (eventId, ttlSec = o.eventTtlSec) => claim('claimEvent', keys.event(eventId), ttlSec),
    claimKey: async (key, ttlSec) => claim('claimKey', keys.claim(key), ttlSec),

    async recordFeedback(team, fb) {
      const op = 'recordFeedback';
      if (fb.kind !== 'fixed' && fb.kind !== 'wrong') throw new SlackStoreError(op, 'invalid', `kind must be 'fixed' or 'wrong'`);
      const at = fb.at ?? now();
      const field = [fieldPart(op, 'causeId', fb.causeId), fieldPart(op, 'signature', fb.signature), fieldPart(op, 'user', fb.user)].join(
        ' ',
      );
      const recall = JSON.stringify({
        causeId: fb.causeId,
        ...(fb.fixTitle ? { fixTitle: redact(fb.fixTitle) } : {}),
        at,
        user: fb.user,
      });
      const args = [field, fb.kind, String(at), ttl(op, o.feedbackTtlSec), fb.causeId, fb.user, recall, ttl(op, o.recallTtlSec)];
      const keysOf = [keys.votes(op, team), keys.recall(op, team, fb.signature)];
      return call(op, async () => (await redis.eval(RECORD_FEEDBACK, 2, ...keysOf, ...args)) as FeedbackOutcome);
    },

    async adjustFor(team) {
      const a = o.adjust;
      const t = now();
      const byCause = new Map<string, Map<string, { fixed: number; wrong: number }>>();
      for (const v of await soft('adjustFor', [], () => votes('adjustFor', team))) {
        const users = byCause.get(v.causeId) ?? new Map<string, { fixed: number; wrong: number }>();
        const sum = users.get(v.user) ?? { fixed: 0, wrong: 0 };
        sum[v.kind] += Math.pow(0.5, Math.max(0, t - v.at) / (a.halfLifeDays * 86_400_000));
        users.set(v.user, sum);
        byCause.set(v.causeId, users);
      }
      const factors = new Map<string, number>();
      for (const [causeId, users] of byCause) {
        let f = 1;
        for (const sum of users.values()) f += a.fixed * Math.min(a.maxPerUser, sum.fixed) - a.wrong * Math.min(a.maxPerUser, sum.wrong);
        factors.set(causeId, Math.round(Math.min(a.max, Math.max(a.min, f)) * 1000) / 1000);
      }
      return (causeId) => factors.get(causeId) ?? 1;
    },

    async feedbackCounts(team) {
      const counts: Record<string, { fixed: number; wrong: number }> = {};
      for (const v of await call('feedbackCounts', () => votes('feedbackCounts', team))) {
        const c = (counts[v.causeId] ??= { fixed: 0, wrong: 0 });
        c[v.kind] += 1;
      }
      return counts;
    },

    async recallFix(team, signature) {
      const op = 'recallFix';
      const key = keys.recall(op, team, signature);
      const last = await soft(op, undefined, async () => parse<RecalledFix>(op, await redis.get(key)));
      if (!last) return undefined;
      return { causeId: last.causeId, at: last.at, ...(last.fixTitle ? { fixTitle: last.fixTitle } : {}) };
    },

    async noteAlert(channel, fingerprint, opts = {}) {
      const op = 'noteAlert';
      const key = keys.alert(op, channel, fingerprint);
      const windowSec = ttl(op, opts.windowSec ?? o.alertWindowSec);
      const [count, answerTs] = await call(
        op,
        async () => (await redis.eval(NOTE_ALERT, 1, key, windowSec, opts.ts ?? '')) as [number, string?],
      );
      return { first: count === 1, count, ...(answerTs ? { answerTs } : {}) };
    },

    async setAlertAnswer(channel, fingerprint, ts) {
      const op = 'setAlertAnswer';
      const key = keys.alert(op, channel, fingerprint);
      part(op, 'ts', ts);
      return call(op, async () => (await redis.eval(SET_ALERT_ANSWER, 1, key, ts)) === 1);
    },

    async resolveAlert(channel, fingerprint) {
      const op = 'resolveAlert';
      const key = keys.alert(op, channel, fingerprint);
      return call(op, async () => ((await redis.eval(RESOLVE_ALERT, 1, key)) as string | null) ?? undefined);
    },

    saveRequest: async (id, data, ttlSec = o.requestTtlSec) => saveJson('saveRequest', keys.request('saveRequest', id), data, ttlSec),
    async loadRequest<T>(id: string) {
      const op = 'loadRequest';
      const key = keys.request(op, id);
      return parse<T>(op, await call(op, () => redis.get(key)));
    },
    saveLastRun: async (requestId, summary, ttlSec = o.requestTtlSec) =>
      saveJson('saveLastRun', keys.run('saveLastRun', requestId), summary, ttlSec),
    async lastRun<T>(requestId: string) {
      const op = 'lastRun';
      const key = keys.run(op, requestId);
      return soft(op, undefined, async () => parse<T>(op, await redis.get(key)));
    },
  };
}
