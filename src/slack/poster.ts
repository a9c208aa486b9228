import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TriageError } from '../errors.js';
import { redact, type Masked } from '../security/redact.js';

/*
 * Paced, retrying, redacting delivery of bot messages to Slack.
 *
 * 1. `post` / `update` / `ephemeral` validate the channel, then put a job on that channel's lane
 *    (a FIFO queue, at most `maxPendingPerChannel` jobs). A full lane answers `queue_full` at once.
 * 2. Each lane runs on its own: it waits until the channel's next free slot (`perChannelIntervalMs`
 *    after the previous attempt started), walks the message through redact(), gives its blocks ids
 *    of their own for this version of the message (`base~version`: Slack wants new block ids
 *    when a message is updated), and calls the client.
 * 3. A rate-limited call (HTTP 429) moves the lane's next slot to Retry-After and tries again; a
 *    transient error waits an exponential backoff; a permanent error ends the job. Only that lane
 *    waits: other channels keep posting.
 * 4. Every job resolves to a {@link PostResult}; nothing is thrown. Failures are logged with their
 *    code, channel and method only — never the text.
 */

// ---------------------------------------------------------------------------------------------
// Contract

/** The subset of `@slack/web-api`'s `WebClient` the poster calls. A real `WebClient` fits. */
export interface PosterClient {
  readonly chat: {
    postMessage(args: ChatArgs): Promise<ChatResponse>;
    update(args: ChatArgs): Promise<ChatResponse>;
    postEphemeral(args: ChatArgs): Promise<ChatResponse>;
  };
}

/**
 * Arguments the poster hands to the client: the redacted message plus `channel` and, per method,
 * `thread_ts`, `ts` or `user`. Declared by its one sure field so that `WebClient` fits.
 */
export interface ChatArgs {
  readonly channel: string;
}

/** What the client answers (a `WebClient` throws instead of answering `ok: false`; both are handled). */
export interface ChatResponse {
  ok?: boolean;
  error?: string;
  channel?: string;
  ts?: string;
  message_ts?: string;
}

/**
 * A message to send. Every string in it (text, blocks, attachments, …) is passed through
 * {@link redact} before it leaves, so a secret cannot reach Slack even if a caller forgot to mask.
 *
 * @example { text: 'Probing api.example.com…', blocks: renderProbingMessage(…).blocks }
 */
export interface PosterMessage {
  /** Fallback text for notifications and screen readers. */
  readonly text?: string;
  readonly blocks?: readonly object[];
  readonly attachments?: readonly object[];
  readonly unfurl_links?: boolean;
  readonly unfurl_media?: boolean;
  readonly mrkdwn?: boolean;
}

/** Outcome of one job. Expected failures are values: `error` is Slack's code or one of {@link POSTER_ERRORS}. */
export type PostResult = { ok: true; channel: string; ts: string } | { ok: false; error: string };

/** Error codes the poster produces itself (besides Slack's own, such as `channel_not_found`). */
export const POSTER_ERRORS = {
  /** The channel's lane already holds `maxPendingPerChannel` jobs; the job was dropped. */
  queueFull: 'queue_full',
  /** The channel (or ts / user) was empty or not a string; nothing was sent. */
  invalidArguments: 'invalid_arguments',
  /** The message nests deeper than `maxDepth` or has more than `maxNodes` values; nothing was sent. */
  messageTooComplex: 'message_too_complex',
  /** The request did not reach Slack or got no answer (connection refused, reset, timeout). */
  requestError: 'request_error',
  /** The client threw something that is not a Slack error (a bug); not retried. */
  unexpected: 'unexpected_error',
} as const;

/** One log record. Every field is a code, an id or a number: never message text, never a token. */
export interface PosterLogEntry {
  level: 'warn' | 'error';
  /** `retry`: the job will be tried again; `failed`: the job resolved `ok: false`. */
  event: 'retry' | 'failed';
  method: PosterMethod;
  channel: Masked;
  error: Masked;
  /** Attempts made so far (1 = the first call). 0 when the job was refused before any call. */
  attempt: number;
  /** For `retry`: how long the lane waits before the next attempt. */
  retryInMs?: number;
}

export type PosterLog = (entry: PosterLogEntry) => void;

export type PosterMethod = 'chat.postMessage' | 'chat.update' | 'chat.postEphemeral';

export interface PosterOptions {
  /** A `WebClient` built with `retryConfig: { retries: 0 }` and `rejectRateLimitedCalls: true`, so the poster owns retries. */
  client: PosterClient;
  /** Where failures and retries are reported. Must not throw (if it does, the error is ignored). */
  log: PosterLog;
  /** Minimum time between the starts of two calls to one channel. @defaultValue `POSTER_DEFAULTS.perChannelIntervalMs` */
  perChannelIntervalMs?: number;
  /** Retries after the first attempt, for transient errors and 429s together. @defaultValue `POSTER_DEFAULTS.maxRetries` */
  maxRetries?: number;
  /** First backoff after a transient error; doubles each retry, ±20 % jitter. @defaultValue `POSTER_DEFAULTS.retryBaseMs` */
  retryBaseMs?: number;
  /** Longest backoff, and the longest Retry-After honoured. @defaultValue `POSTER_DEFAULTS.maxRetryDelayMs` */
  maxRetryDelayMs?: number;
  /** Jobs a channel may hold (the one in flight included). @defaultValue `POSTER_DEFAULTS.maxPendingPerChannel` */
  maxPendingPerChannel?: number;
  /** Deepest nesting of a message that is redacted and sent. @defaultValue `POSTER_DEFAULTS.maxDepth` */
  maxDepth?: number;
  /** Most values (strings, numbers, objects, …) in one message. @defaultValue `POSTER_DEFAULTS.maxNodes` */
  maxNodes?: number;
}

/** Every default of the poster, in one place. */
export const POSTER_DEFAULTS = {
  /** Slack allows about one message per second per channel. */
  perChannelIntervalMs: 1_000,
  maxRetries: 3,
  retryBaseMs: 1_000,
  maxRetryDelayMs: 60_000,
  maxPendingPerChannel: 100,
  /** Block Kit nests about 8 deep (attachments → blocks → rich_text → elements → …). */
  maxDepth: 20,
  maxNodes: 10_000,
} as const;

export interface Poster {
  /** Post to a channel (or a thread, with `thread_ts`). */
  post(channel: string, message: PosterMessage, options?: { thread_ts?: string }): Promise<PostResult>;
  /** Replace the message `ts` in `channel`. */
  update(channel: string, ts: string, message: PosterMessage): Promise<PostResult>;
  /** Post a message only `user` sees in `channel` (in a thread, with `thread_ts`); `ts` in the result is Slack's `message_ts`. */
  ephemeral(channel: string, user: string, message: PosterMessage, options?: { thread_ts?: string }): Promise<PostResult>;
  /** Resolve once every lane is empty, including jobs added while waiting. */
  idle(): Promise<void>;
}

/** Slack error codes worth retrying: the call may well succeed later. Anything else is permanent. */
export const TRANSIENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  'ratelimited',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  'fatal_error',
  'request_timeout',
]);

// ---------------------------------------------------------------------------------------------
// Implementation

interface Job {
  method: PosterMethod;
  args: ChatArgs & Record<string, unknown>;
  resolve: (result: PostResult) => void;
}

interface Lane {
  jobs: Job[];
  /** `Date.now()` before which the channel gets no call. */
  nextAt: number;
  done: Promise<void>;
}

/** A failed attempt, classified. `retryAfterMs` is set for a 429. */
interface Failure {
  error: string;
  transient: boolean;
  retryAfterMs?: number;
}

/** Create a poster. Throws {@link TriageError} `CONFIG_INVALID` listing every bad option. */
export function createPoster(options: PosterOptions): Poster {
  const cfg = { ...POSTER_DEFAULTS, ...definedOnly(options) };
  validate(options, cfg);
  const { client } = options;
  const lanes = new Map<string, Lane>();
  /** Next free slot of channels whose lane has emptied, so a new lane still keeps the pace. */
  const cooldowns = new Map<string, number>();

  const log = (entry: PosterLogEntry): void => {
    try {
      options.log(entry);
    } catch {
      // a broken logger must not stop delivery
    }
  };

  const fail = (method: PosterMethod, channel: string, error: string, attempt: number): PostResult => {
    log({ level: 'error', event: 'failed', method, channel: redact(channel), error: redact(error), attempt });
    return { ok: false, error };
  };

  const call = (method: PosterMethod, args: ChatArgs): Promise<ChatResponse> => {
    if (method === 'chat.postMessage') return client.chat.postMessage(args);
    if (method === 'chat.update') return client.chat.update(args);
    return client.chat.postEphemeral(args);
  };

  const backoffMs = (retry: number): number => {
    const base = Math.min(cfg.maxRetryDelayMs, cfg.retryBaseMs * 2 ** (retry - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };

  /** Run one job to its end: never throws. */
  const run = async (channel: string, lane: Lane, job: Job): Promise<PostResult> => {
    for (let attempt = 1; ; attempt += 1) {
      const wait = lane.nextAt - Date.now();
      if (wait > 0) await sleep(wait);
      lane.nextAt = Date.now() + cfg.perChannelIntervalMs;

      let failure: Failure;
      try {
        const res = await call(job.method, job.args);
        if (res.ok === false) failure = classifyPlatform(res.error);
        else return { ok: true, channel: res.channel ?? channel, ts: res.ts ?? res.message_ts ?? '' };
      } catch (err) {
        failure = classify(err);
      }

      if (!failure.transient || attempt > cfg.maxRetries) return fail(job.method, channel, failure.error, attempt);
      const delay = Math.min(cfg.maxRetryDelayMs, failure.retryAfterMs ?? backoffMs(attempt));
      lane.nextAt = Math.max(lane.nextAt, Date.now() + delay);
      log({
        level: 'warn',
        event: 'retry',
        method: job.method,
        channel: redact(channel),
        error: redact(failure.error),
        attempt,
        retryInMs: lane.nextAt - Date.now(),
      });
    }
  };

  const drain = async (channel: string, lane: Lane): Promise<void> => {
    for (let job = lane.jobs[0]; job; job = lane.jobs[0]) {
      let result: PostResult;
      try {
        result = await run(channel, lane, job);
      } catch (err) {
        result = fail(job.method, channel, classify(err).error, 0);
      }
      lane.jobs.shift();
      job.resolve(result);
    }
    lanes.delete(channel);
    if (lane.nextAt > Date.now()) cooldowns.set(channel, lane.nextAt);
  };

  const enqueue = (method: PosterMethod, channel: string, fields: Record<string, unknown>, message: PosterMessage): Promise<PostResult> => {
    if (!isId(channel) || Object.values(fields).some((v) => v !== undefined && !isId(v)))
      return Promise.resolve(fail(method, String(channel).slice(0, 64), POSTER_ERRORS.invalidArguments, 0));
    const masked = redactDeep(pickMessage(message), cfg.maxDepth, cfg.maxNodes);
    if (masked === undefined) return Promise.resolve(fail(method, channel, POSTER_ERRORS.messageTooComplex, 0));
    versionBlockIds(masked, randomBytes(4).toString('hex'));

    const lane = lanes.get(channel);
    if (lane && lane.jobs.length >= cfg.maxPendingPerChannel) return Promise.resolve(fail(method, channel, POSTER_ERRORS.queueFull, 0));

    const args: Job['args'] = { ...masked, channel };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) args[k] = v;
    return new Promise<PostResult>((resolve) => {
      if (lane) {
        lane.jobs.push({ method, args, resolve });
        return;
      }
      pruneCooldowns(cooldowns);
      const fresh: Lane = { jobs: [{ method, args, resolve }], nextAt: cooldowns.get(channel) ?? 0, done: Promise.resolve() };
      cooldowns.delete(channel);
      lanes.set(channel, fresh);
      fresh.done = drain(channel, fresh);
    });
  };

  return {
    post: (channel, message, opts = {}) => enqueue('chat.postMessage', channel, { thread_ts: opts.thread_ts }, message),
    update: (channel, ts, message) => enqueue('chat.update', channel, { ts }, message),
    ephemeral: (channel, user, message, opts = {}) => enqueue('chat.postEphemeral', channel, { user, thread_ts: opts.thread_ts }, message),
    idle: async () => {
      while (lanes.size > 0) await Promise.all([...lanes.values()].map((l) => l.done));
    },
  };
}

/** Sort a thrown error into retryable or not, by the codes `@slack/web-api` uses (duck-typed). */
function classify(err: unknown): Failure {
  const e = (err ?? {}) as { code?: unknown; retryAfter?: unknown; data?: { error?: unknown }; statusCode?: unknown };
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const sec = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? Math.max(0, e.retryAfter) : 1;
      return { error: 'ratelimited', transient: true, retryAfterMs: sec * 1000 };
    }
    case 'slack_webapi_platform_error':
      return classifyPlatform(e.data?.error);
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      return { error: `http_${status}`, transient: status >= 500 || status === 408 || status === 429 };
    }
    case 'slack_webapi_request_error':
      return { error: POSTER_ERRORS.requestError, transient: true };
    default:
      return { error: POSTER_ERRORS.unexpected, transient: false };
  }
}

function classifyPlatform(error: unknown): Failure {
  const code = typeof error === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(error) ? error : 'unknown_error';
  return { error: code, transient: TRANSIENT_SLACK_ERRORS.has(code) };
}

/**
 * A copy of `value` with every string (and every object key) passed through {@link redact}.
 * `undefined` when it nests deeper than `maxDepth` or holds more than `maxNodes` values, so
 * nothing unwalked (or cyclic) is ever sent.
 */
function redactDeep(value: PosterMessage, maxDepth: number, maxNodes: number): Record<string, unknown> | undefined {
  let nodes = 0;
  const tooComplex = Symbol('tooComplex');
  const walk = (v: unknown, depth: number): unknown => {
    nodes += 1;
    if (nodes > maxNodes || depth > maxDepth) throw tooComplex;
    if (typeof v === 'string') return redact(v);
    if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[redact(k)] = walk(item, depth + 1);
    return out;
  };
  try {
    return walk(value, 0) as Record<string, unknown>;
  } catch (err) {
    if (err === tooComplex) return undefined;
    throw err;
  }
}

/** The separator of a block id's base and its message version. */
export const BLOCK_VERSION_SEPARATOR = '~';

/** A block id without its version: what the renderer named it. */
export function baseBlockId(id: string): string {
  const i = id.indexOf(BLOCK_VERSION_SEPARATOR);
  return i < 0 ? id : id.slice(0, i);
}

/** Give every block that has an id (top-level and in attachments) the id `base~version`, in place. */
function versionBlockIds(message: Record<string, unknown>, version: string): void {
  const lists = [
    message.blocks,
    ...(Array.isArray(message.attachments) ? message.attachments.map((a) => (a as { blocks?: unknown }).blocks) : []),
  ];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const b of list) {
      const block = b as { block_id?: unknown };
      if (typeof block === 'object' && block !== null && typeof block.block_id === 'string')
        block.block_id = `${baseBlockId(block.block_id).slice(0, 240)}${BLOCK_VERSION_SEPARATOR}${version}`;
    }
  }
}

/** Only the message fields the poster sends: a stray `token` or `channel` in a message is dropped. */
function pickMessage(message: PosterMessage): PosterMessage {
  const out: Record<string, unknown> = {};
  for (const key of MESSAGE_KEYS) if (message?.[key] !== undefined) out[key] = message[key];
  return out as PosterMessage;
}

const MESSAGE_KEYS = ['text', 'blocks', 'attachments', 'unfurl_links', 'unfurl_media', 'mrkdwn'] as const;

/** A channel, ts or user id: a short non-empty string. */
function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256;
}

function pruneCooldowns(cooldowns: Map<string, number>): void {
  if (cooldowns.size < 1_000) return;
  const now = Date.now();
  for (const [channel, at] of cooldowns) if (at <= now) cooldowns.delete(channel);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(options: PosterOptions, cfg: Required<Omit<PosterOptions, 'client' | 'log'>>): void {
  const problems: string[] = [];
  const chat = (options.client as Partial<PosterClient> | undefined)?.chat;
  if (typeof chat?.postMessage !== 'function' || typeof chat.update !== 'function' || typeof chat.postEphemeral !== 'function')
    problems.push('client must have chat.postMessage, chat.update and chat.postEphemeral: pass a WebClient.');
  if (typeof options.log !== 'function') problems.push('log must be a function: pass one that writes PosterLogEntry records.');
  const counts: [keyof typeof cfg, number][] = [
    ['perChannelIntervalMs', 0],
    ['maxRetries', 0],
    ['retryBaseMs', 0],
    ['maxRetryDelayMs', 0],
    ['maxPendingPerChannel', 1],
    ['maxDepth', 1],
    ['maxNodes', 1],
  ];
  for (const [key, min] of counts) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < min) problems.push(`${key} must be an integer >= ${min}: got ${String(v)}.`);
  }
  if (problems.length > 0) throw new TriageError('CONFIG_INVALID', `createPoster: ${problems.join(' ')}`, problems);
}
