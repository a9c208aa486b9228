import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redact } from '../security/redact.js';
import { call, parseJson, part, soft, StoreError, ttl } from './redis-kit.js';

/**
 * Votes on answers ("Fixed it", "Wrong cause"), per workspace: they move causes up or down in
 * that workspace's ranking, and a fix that worked is recalled when the same error comes back.
 *
 * One vote per user per error: a user's later vote replaces their earlier one, whatever cause it
 * names ("Fixed it" on one cause, then "Wrong cause" on another, counts only the second). The
 * same vote again is a repeat and changes nothing.
 */
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

/** 'new': the user's first vote on this error; 'changed': it replaced their earlier one; 'repeat': the same vote again, ignored. */
export type FeedbackOutcome = 'new' | 'changed' | 'repeat';

export interface FeedbackCount {
  readonly fixed: number;
  readonly wrong: number;
}

export interface RecalledFix {
  readonly causeId: string;
  /** Absent when the voter named no fix. */
  readonly fixTitle?: string;
  readonly at: number;
}

export interface FeedbackStore {
  recordFeedback(team: string, feedback: Feedback): Promise<FeedbackOutcome>;
  /** A factor per cause id for RankOptions.adjust, in [adjust.min, adjust.max]; 1 without votes. Soft. */
  adjustFor(team: string): Promise<(causeId: string) => number>;
  /** Vote counts per cause id (one per user and error). */
  feedbackCounts(team: string): Promise<Record<string, FeedbackCount>>;
  /** The most recent standing "Fixed it" for this error. Soft. */
  recallFix(team: string, signature: string): Promise<RecalledFix | undefined>;
}

/** Feedback settings. */
export const FEEDBACK_DEFAULTS = {
  /** A workspace's votes expire this long after its last vote. @defaultValue 31536000 (365 days) */
  ttlSec: 365 * 86_400,
  /** A remembered fix expires this long after it was recorded. @defaultValue 15552000 (180 days) */
  recallTtlSec: 180 * 86_400,
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
    /** One user's votes (each kind, all errors) on one cause count at most this much. @defaultValue 2 */
    maxPerUser: 2,
  },
} as const;

export interface FeedbackStoreOptions {
  readonly prefix?: string;
  readonly ttlSec?: number;
  readonly recallTtlSec?: number;
  readonly adjust?: Partial<(typeof FEEDBACK_DEFAULTS)['adjust']>;
  readonly onError?: (err: StoreError) => void;
  /** Current time in ms (for decay). @defaultValue Date.now */
  readonly now?: () => number;
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
  return createHash('sha256')
    .update([...stable].sort().join('\n'))
    .digest('hex')
    .slice(0, SIGNATURE_DEFAULTS.length);
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

// ---------------------------------------------------------------------------------------------
// Redis

/**
 * KEYS: votes, recall. ARGV: field (signature user), value (kind cause at), votesTtl, causeId,
 * user, recallJson, recallTtl, kind, at. The vote replaces the user's earlier one on this error;
 * their standing "Fixed it" goes from recall unless the new vote is one.
 */
const RECORD_FEEDBACK = `
local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local stored = redis.call('GET', KEYS[2])
local last = stored and cjson.decode(stored)
if ARGV[8] == 'fixed' then
  if not last or tonumber(last.at) <= tonumber(ARGV[9]) then
    redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[7])
  end
elseif last and last.user == ARGV[5] then
  redis.call('DEL', KEYS[2])
end
if not prev then return 'new' end
local pk, pc = string.match(prev, '^(%a+) (%S+)')
if pk == ARGV[8] and pc == ARGV[10] then return 'repeat' end
return 'changed'
`;

interface Vote {
  causeId: string;
  signature: string;
  user: string;
  kind: FeedbackKind;
  at: number;
}

/** Feedback in Redis: `${prefix}:fb:{<team>}:votes` (a hash) and `…:fix:<signature>`. */
export function redisFeedbackStore(redis: Redis, options: FeedbackStoreOptions = {}): FeedbackStore {
  const prefix = options.prefix ?? 'triage';
  const a = { ...FEEDBACK_DEFAULTS.adjust, ...options.adjust };
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  // The team in a hash tag keeps a workspace's keys in one cluster slot (one Lua call).
  const votesKey = (op: string, team: string) => `${prefix}:fb:{${part(op, 'team', team)}}:votes`;
  const recallKey = (op: string, team: string, sig: string) => `${prefix}:fb:{${part(op, 'team', team)}}:fix:${part(op, 'signature', sig)}`;
  const enc = (op: string, what: string, v: string) => (part(op, what, v), encodeURIComponent(v));

  async function votes(op: string, team: string): Promise<Vote[]> {
    const all = await redis.hgetall(votesKey(op, team));
    const current: Vote[] = [];
    const legacy: Vote[] = [];
    for (const [field, value] of Object.entries(all)) {
      const keys = field.split(' ').map(decodeURIComponent);
      const vals = value.split(' ');
      if (keys.length === 2) {
        const [s, u] = keys;
        const [kind, c, at] = vals;
        if (s && u && c && (kind === 'fixed' || kind === 'wrong'))
          current.push({ causeId: decodeURIComponent(c), signature: s, user: u, kind, at: Number(at) || 0 });
      } else if (keys.length === 3) {
        // Before one vote per user and error, fields were `cause signature user`.
        const [c, s, u] = keys;
        const [kind, at] = vals;
        if (c && s && u && (kind === 'fixed' || kind === 'wrong'))
          legacy.push({ causeId: c, signature: s, user: u, kind, at: Number(at) || 0 });
      }
    }
    const seen = new Set(current.map((v) => `${v.signature} ${v.user}`));
    return [...current, ...legacy.filter((v) => !seen.has(`${v.signature} ${v.user}`))];
  }

  return {
    async recordFeedback(team, fb) {
      const op = 'recordFeedback';
      if (fb.kind !== 'fixed' && fb.kind !== 'wrong') throw new StoreError(op, 'invalid', `kind must be 'fixed' or 'wrong'`);
      const at = fb.at ?? now();
      const field = `${enc(op, 'signature', fb.signature)} ${enc(op, 'user', fb.user)}`;
      const cause = enc(op, 'causeId', fb.causeId);
      const recall = JSON.stringify({ causeId: fb.causeId, ...(fb.fixTitle ? { fixTitle: redact(fb.fixTitle) } : {}), at, user: fb.user });
      const args = [field, `${fb.kind} ${cause} ${at}`, ttl(op, options.ttlSec ?? FEEDBACK_DEFAULTS.ttlSec), fb.causeId, fb.user, recall];
      args.push(String(ttl(op, options.recallTtlSec ?? FEEDBACK_DEFAULTS.recallTtlSec)), fb.kind, String(at), cause);
      const keys = [votesKey(op, team), recallKey(op, team, fb.signature)];
      return call(op, async () => (await redis.eval(RECORD_FEEDBACK, 2, ...keys, ...args)) as FeedbackOutcome);
    },

    async adjustFor(team) {
      const t = now();
      const byCause = new Map<string, Map<string, { fixed: number; wrong: number }>>();
      for (const v of await soft('adjustFor', [] as Vote[], onError, () => votes('adjustFor', team))) {
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
      const key = recallKey(op, team, signature);
      const last = await soft(op, undefined, onError, async () => parseJson<RecalledFix>(op, await redis.get(key)));
      if (!last) return undefined;
      return { causeId: last.causeId, at: last.at, ...(last.fixTitle ? { fixTitle: last.fixTitle } : {}) };
    },
  };
}
