/**
 * A local server that plays Slack for end-to-end tests, speaking Slack's wire protocol:
 *
 * 1. Slack → bot over HTTP: `sendCommand` (form-encoded slash command), `sendEvent` (Events API JSON
 *    `event_callback` envelope), `sendInteraction` (`payload=<json>` form), `sendUrlVerification`.
 *    Every request is signed as Slack documents: `X-Slack-Signature: v0=hex(HMAC-SHA256(secret,
 *    "v0:" + timestamp + ":" + rawBody))` with `X-Slack-Request-Timestamp`.
 * 2. Bot → Slack Web API: `POST {apiUrl}<method>` with `Authorization: Bearer <token>` (or a `token`
 *    form field), form or JSON body. Every call is recorded, then answered in this order: auth check,
 *    `rateLimit` (HTTP 429 + Retry-After), `fail` ({ok:false,error}), `respond` override, default
 *    handler from `DEFAULT_METHODS`, else {ok:false,error:'unknown_method'}.
 * 3. Bot → response_url: JSON posts are recorded in `responseUrlPosts`.
 * 4. Bot → file downloads: `url_private` requires the bot token as a Bearer header.
 * 5. Socket Mode: `apps.connections.open` with the app-level token returns a one-use `ws://` URL (Slack's
 *    is `wss://`); the server sends `{"type":"hello"}`, then `socketSend` delivers envelopes and
 *    resolves with the client's `{"envelope_id"}` ack.
 * 6. Payloads as Slack shapes them (slack-wire.ts, each rule with its source): `sendMessage` takes
 *    what a person typed and sends it escaped, links in angle brackets, with its rich_text block;
 *    `sendCommand` escapes the command text; `editMessage` sends message_changed with
 *    previous_message; `postAsIntegration` sends a monitoring integration's message as Slack
 *    stores it (attachments numbered, colours as hex without `#`); `unfurl` adds a link preview
 *    as an edit; a message that gets replies carries `thread_ts` from then on. `sendEvent`
 *    refuses a person's message whose text Slack would have escaped.
 *
 * One instance per test; everything is bounded by timeouts; `stop()` closes every socket.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { escapeSlack, storedIntegrationMessage, typedToRichText, typedToWire, unescapedInText } from './slack-wire.js';

/** Options for {@link startSlackStandin}. */
export interface SlackStandinOptions {
  /** The app's signing secret; every request sent to the bot is signed with it. */
  signingSecret: string;
  /** The bot token (`xoxb-…`) the Web API and file downloads accept. */
  botToken: string;
  /** The app-level token (`xapp-…`); required for `apps.connections.open` and Socket Mode. */
  appToken?: string;
  /** @defaultValue `STANDIN_DEFAULTS.botUserId` */
  botUserId?: string;
  /** @defaultValue `STANDIN_DEFAULTS.teamId` */
  teamId?: string;
  /** Timeout for every wait and every request the stand-in sends. @defaultValue `STANDIN_DEFAULTS.timeoutMs` */
  timeoutMs?: number;
  /** How long a trigger_id stays valid for `views.open`; Slack's is 3 s. @defaultValue `STANDIN_DEFAULTS.triggerTtlMs` */
  triggerTtlMs?: number;
}

/** Every default of the stand-in, in one place. */
export const STANDIN_DEFAULTS = {
  /** Bot user id answered by auth.test and put in event `authorizations`. */
  botUserId: 'U0BOTTRIAGE',
  /** Bot id answered by auth.test and set on the bot's messages. */
  botId: 'B0BOTTRIAGE',
  teamId: 'T0TRIAGE01',
  teamDomain: 'gateway-triage',
  appId: 'A0TRIAGE01',
  /** Locale of users not configured with `setUser`. */
  locale: 'en-US',
  timeoutMs: 5_000,
  triggerTtlMs: 3_000,
  /** Slack rejects requests whose timestamp is more than five minutes off; "stale" is six. */
  staleBySec: 6 * 60,
  /** Interval of server pings on Socket Mode connections. */
  socketPingMs: 5_000,
  /** Largest request body the stand-in reads. */
  maxBodyBytes: 5 * 1024 * 1024,
  /** First message ts handed out; each next one is 100 µs later. */
  firstTs: '1700000000.000100',
} as const;

/** One recorded Web API call. */
export interface WebApiCall {
  method: string;
  /** Form fields or JSON body; form values that are JSON objects/arrays (blocks, view, …) are parsed. */
  args: Record<string, unknown>;
  /** From `Authorization: Bearer`, else the `token` argument. */
  token: string | undefined;
  contentType: string;
  /** `Date.now()` when received. */
  at: number;
  /** What the stand-in answered. */
  answer: { status: number; body: Record<string, unknown> };
}

/** A handler that answers a Web API method; its return value is the JSON body (add `ok` yourself). */
export type WebApiHandler = (call: WebApiCall) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** One post the bot made to a response_url. */
export interface ResponseUrlPost {
  id: string;
  body: unknown;
  contentType: string;
  at: number;
}

/** What the bot answered to a request the stand-in sent it. `status` is 0 when no answer came (see `error`). */
export interface BotReply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Milliseconds from sending the request to the end of the answer. */
  ms: number;
  /** `timeout` or a connection error code, when `status` is 0. */
  error?: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

/** Options shared by every request sent to the bot. */
export interface SendOptions {
  /** Sign with a wrong secret. */
  forgeSignature?: boolean;
  /** Use a timestamp six minutes old (signature still correct for it). */
  staleTimestamp?: boolean;
  /** Override the request timestamp (seconds). */
  timestamp?: number;
  /** Adds X-Slack-Retry-Num. */
  retryNum?: number;
  /** Adds X-Slack-Retry-Reason (e.g. `http_timeout`); defaults to `http_timeout` when retryNum is set. */
  retryReason?: string;
  timeoutMs?: number;
}

export interface EventOptions extends SendOptions {
  eventId?: string;
}

/** A message a person types (`sendMessage`): `text` is what they typed; the stand-in escapes and links it as Slack does. */
export interface TypedMessage {
  channel: string;
  text: string;
  /** @defaultValue 'U0ONCALL01' */
  user?: string;
  /** `im` for a DM. @defaultValue from the channel id: D → im, G → group, else channel */
  channel_type?: string;
  thread_ts?: string;
  /** Users mentioned first, e.g. the bot: `<@U…> text`. */
  mentions?: string[];
  files?: HostedFile[];
  /** @defaultValue the next ts */
  ts?: string;
}

/** How an integration posts: an app (bot_id + bot_profile) or an incoming webhook (subtype bot_message + username). */
export interface IntegrationIdentity {
  bot_id: string;
  bot_profile?: { name: string; app_id?: string; [key: string]: unknown };
  username?: string;
  /** `bot_message` for incoming webhooks and legacy bots. */
  subtype?: 'bot_message';
}

/** Fields of a slash command; anything not given is filled in as Slack would. */
export interface CommandFields {
  command: string;
  text?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  [field: string]: string | undefined;
}

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}

export interface SocketSendOptions {
  /** @defaultValue false for `events_api`, true otherwise */
  acceptsResponsePayload?: boolean;
  retryAttempt?: number;
  retryReason?: string;
  timeoutMs?: number;
}

export interface SlackUser {
  id: string;
  name: string;
  real_name: string;
  locale: string;
  tz: string;
  is_bot: boolean;
  [key: string]: unknown;
}

export interface HostedFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
  [key: string]: unknown;
}

export interface SlackStandin {
  /** Base of the Web API, e.g. `http://127.0.0.1:PORT/api/`; give it to WebClient as `slackApiUrl`. */
  apiUrl: string;
  /** Base of the server, e.g. `http://127.0.0.1:PORT/`. */
  baseUrl: string;
  teamId: string;
  botUserId: string;
  botId: string;
  appId: string;
  /** Every Web API call, in arrival order. */
  calls: WebApiCall[];
  callsTo(method: string): WebApiCall[];
  waitForCall(method: string, predicate?: (call: WebApiCall) => boolean, timeoutMs?: number): Promise<WebApiCall>;
  /** Override a method's answer until the returned function is called. */
  respond(method: string, handler: WebApiHandler): () => void;
  /** Answer the next `times` calls with HTTP 429, `Retry-After`, {ok:false,error:'ratelimited'}. */
  rateLimit(method: string, opts?: { times?: number; retryAfterSec?: number }): void;
  /** Answer the next `times` calls with {ok:false,error}. */
  fail(method: string, error: string, times?: number): void;

  /** A response_url on the stand-in; posts to it are recorded under `id`. */
  responseUrl(id: string): string;
  responseUrlPosts: ResponseUrlPost[];
  waitForResponseUrlPost(id?: string, timeoutMs?: number): Promise<ResponseUrlPost>;

  setUser(id: string, user: Partial<SlackUser>): void;
  setChannel(id: string, channel: Record<string, unknown>): void;
  /** Host a file (a text snippet by default); put the returned object in a message's `files`. */
  addFile(file: {
    name: string;
    content: string | Buffer;
    title?: string;
    filetype?: string;
    mimetype?: string;
    user?: string;
  }): HostedFile;
  /** Put a message in a channel (returns its ts), e.g. a thread parent for conversations.replies. */
  seedMessage(channel: string, message: Record<string, unknown>): string;
  /** Messages of a channel as the stand-in holds them (bot posts, seeded and event messages). */
  messages(channel: string): Record<string, unknown>[];
  /** Issue a trigger_id valid for `triggerTtlMs`. */
  issueTrigger(): string;

  /** A slash command; `fields.text` is what the user typed: sent escaped, as Slack does. */
  sendCommand(botUrl: string, fields: CommandFields, opts?: SendOptions): Promise<BotReply & { responseUrlId: string; triggerId: string }>;
  /** Any event; a person's message must be escaped as Slack escapes it (use sendMessage). */
  sendEvent(botUrl: string, event: Record<string, unknown>, opts?: EventOptions): Promise<BotReply & { eventId: string }>;
  /** The message event Slack sends when a person types `m.text` (not sent). */
  userMessage(m: TypedMessage): Record<string, unknown>;
  /** A person types a message: the message event, as Slack sends it. Returns its ts. */
  sendMessage(botUrl: string, m: TypedMessage, opts?: EventOptions): Promise<BotReply & { ts: string; eventId: string }>;
  /** A person mentions the bot in a channel: Slack sends app_mention and the message event. Returns its ts. */
  sendMention(botUrl: string, m: Omit<TypedMessage, 'mentions'>): Promise<{ ts: string }>;
  /** The person edits their message `ts` to `text`: message_changed with previous_message. */
  editMessage(botUrl: string, channel: string, ts: string, text: string, opts?: EventOptions): Promise<BotReply>;
  /** A person deletes their message: it leaves the channel, and the bot gets message_deleted with previous_message. */
  deleteMessage(botUrl: string, channel: string, ts: string, opts?: EventOptions): Promise<BotReply>;
  /** A monitoring integration posts `posted` (its text already escaped, as integrations must) in `channel`. Returns its ts. */
  postAsIntegration(
    botUrl: string,
    channel: string,
    who: IntegrationIdentity,
    posted: Record<string, unknown>,
    opts?: EventOptions & { ts?: string; thread_ts?: string },
  ): Promise<BotReply & { ts: string }>;
  /** The integration edits its message `ts` (message_changed); `change` is merged into the stored message. */
  editIntegrationMessage(botUrl: string, channel: string, ts: string, change: Record<string, unknown>): Promise<BotReply>;
  /** Slack unfurls a link in message `ts`: message_changed adding the preview attachment, text unchanged. */
  unfurl(botUrl: string, channel: string, ts: string, preview: Record<string, unknown>): Promise<BotReply>;
  sendInteraction(botUrl: string, payload: Record<string, unknown>, opts?: SendOptions): Promise<BotReply & { triggerId: string }>;
  sendUrlVerification(botUrl: string, challenge?: string, opts?: SendOptions): Promise<BotReply>;
  /**
   * The JSON `event_callback` envelope `sendEvent` posts (for Socket Mode `events_api` payloads too).
   * An event_id already used returns that same envelope, so a retry carries the identical event.
   */
  eventEnvelope(event: Record<string, unknown>, eventId?: string): Record<string, unknown>;
  /** The slash command fields `sendCommand` posts (for Socket Mode `slash_commands` payloads too). */
  commandPayload(fields: CommandFields): Record<string, string>;
  /** The interaction payload `sendInteraction` posts (for Socket Mode `interactive` payloads too). */
  interactionPayload(payload: Record<string, unknown>): Record<string, unknown>;

  /** Resolve once a Socket Mode client is connected and has been sent hello. */
  socketConnected(timeoutMs?: number): Promise<void>;
  /** Deliver an envelope to the newest connected client; resolve with its ack, reject on timeout. */
  socketSend(
    type: 'slash_commands' | 'events_api' | 'interactive' | string,
    payload: unknown,
    opts?: SocketSendOptions,
  ): Promise<SocketAck>;
  /** Send Slack's `disconnect` message (reason `refresh_requested` by default) and close the connection. */
  socketDisconnect(reason?: string): void;

  stop(): Promise<void>;
}

/** `v0=` + hex HMAC-SHA256 of `v0:${timestamp}:${rawBody}`, exactly as Slack signs requests. */
export function slackSignature(signingSecret: string, timestamp: string | number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

type Json = Record<string, unknown>;

interface Context {
  opts: Required<Omit<SlackStandinOptions, 'appToken'>> & { appToken: string | undefined };
  base: () => string;
  nextTs: () => string;
  users: Map<string, Partial<SlackUser>>;
  channels: Map<string, Json>;
  messages: Map<string, Json[]>;
  files: Map<string, { meta: HostedFile; content: Buffer }>;
  triggers: Map<string, { expires: number; used: boolean }>;
  openSocketUrl: () => string;
}

type MethodHandler = (ctx: Context, args: Json) => Json;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
const err = (error: string): Json => ({ ok: false, error });

function findMessage(ctx: Context, channel: string, ts: string): Json | undefined {
  return ctx.messages.get(channel)?.find((m) => m.ts === ts);
}

function storeMessage(ctx: Context, channel: string, message: Json): void {
  const list = ctx.messages.get(channel) ?? [];
  list.push(message);
  ctx.messages.set(channel, list);
}

function userOf(ctx: Context, id: string): SlackUser {
  const set = ctx.users.get(id) ?? {};
  return {
    id,
    team_id: ctx.opts.teamId,
    name: `user-${id.toLowerCase()}`,
    real_name: `User ${id}`,
    tz: 'UTC',
    tz_offset: 0,
    is_bot: id === ctx.opts.botUserId,
    deleted: false,
    locale: STANDIN_DEFAULTS.locale,
    ...set,
    profile: { display_name: set.name ?? `user-${id.toLowerCase()}`, real_name: set.real_name ?? `User ${id}`, ...(set.profile as Json) },
  } as SlackUser;
}

function botMessage(ctx: Context, args: Json, ts: string): Json {
  const message: Json = { type: 'message', user: ctx.opts.botUserId, bot_id: STANDIN_DEFAULTS.botId, app_id: STANDIN_DEFAULTS.appId };
  message.text = typeof args.text === 'string' ? args.text : '';
  for (const key of ['blocks', 'attachments', 'thread_ts', 'metadata'] as const) if (args[key] !== undefined) message[key] = args[key];
  message.ts = ts;
  message.team = ctx.opts.teamId;
  return message;
}

/** Default answers, one per Web API method; the method name is the key. */
const DEFAULT_METHODS: Record<string, MethodHandler> = {
  'auth.test': (ctx) => ({
    ok: true,
    url: `https://${STANDIN_DEFAULTS.teamDomain}.slack.com/`,
    team: 'Gateway Triage',
    user: 'triage',
    team_id: ctx.opts.teamId,
    user_id: ctx.opts.botUserId,
    bot_id: STANDIN_DEFAULTS.botId,
    is_enterprise_install: false,
  }),
  'chat.postMessage': (ctx, args) => {
    const channel = str(args.channel);
    if (!channel) return err('channel_not_found');
    if (!str(args.text) && args.blocks === undefined && args.attachments === undefined) return err('no_text');
    const ts = ctx.nextTs();
    const message = botMessage(ctx, args, ts);
    storeMessage(ctx, channel, message);
    const parent = typeof args.thread_ts === 'string' ? findMessage(ctx, channel, args.thread_ts) : undefined;
    if (parent) {
      parent.thread_ts = parent.ts;
      parent.reply_count = Number(parent.reply_count ?? 0) + 1;
      parent.reply_users = [...new Set([...((parent.reply_users as string[]) ?? []), ctx.opts.botUserId])];
      parent.reply_users_count = (parent.reply_users as string[]).length;
      parent.latest_reply = ts;
    }
    return { ok: true, channel, ts, message };
  },
  'chat.update': (ctx, args) => {
    const channel = str(args.channel);
    const ts = str(args.ts);
    const existing = channel && ts ? findMessage(ctx, channel, ts) : undefined;
    if (!channel || !ts || !existing) return err('message_not_found');
    for (const key of ['text', 'blocks', 'attachments'] as const) if (args[key] !== undefined) existing[key] = args[key];
    existing.edited = { user: ctx.opts.botUserId, ts: ctx.nextTs() };
    return { ok: true, channel, ts, text: existing.text, message: existing };
  },
  'chat.postEphemeral': (ctx, args) => {
    if (!str(args.channel)) return err('channel_not_found');
    if (!str(args.user)) return err('user_not_in_channel');
    return { ok: true, message_ts: ctx.nextTs() };
  },
  'chat.delete': (ctx, args) => {
    const channel = str(args.channel);
    const ts = str(args.ts);
    const list = channel ? ctx.messages.get(channel) : undefined;
    const index = list?.findIndex((m) => m.ts === ts) ?? -1;
    if (!channel || !ts || !list || index < 0) return err('message_not_found');
    list.splice(index, 1);
    return { ok: true, channel, ts };
  },
  'users.info': (ctx, args) => {
    const id = str(args.user);
    if (!id) return err('user_not_found');
    const user: Json = userOf(ctx, id);
    if (!truthy(args.include_locale)) delete user.locale;
    return { ok: true, user };
  },
  'conversations.info': (ctx, args) => {
    const id = str(args.channel);
    if (!id) return err('channel_not_found');
    const channel: Json = {
      id,
      name: `channel-${id.toLowerCase()}`,
      is_channel: id.startsWith('C'),
      is_group: id.startsWith('G'),
      is_im: id.startsWith('D'),
      is_private: !id.startsWith('C'),
      is_member: true,
      is_archived: false,
      created: 1_700_000_000,
      locale: STANDIN_DEFAULTS.locale,
      ...ctx.channels.get(id),
    };
    if (!truthy(args.include_locale)) delete channel.locale;
    return { ok: true, channel };
  },
  'conversations.replies': (ctx, args) => {
    const channel = str(args.channel);
    const ts = str(args.ts);
    const list = channel ? (ctx.messages.get(channel) ?? []) : [];
    const parent = list.find((m) => m.ts === ts);
    if (!channel || !ts || !parent) return err('thread_not_found');
    const replies = list.filter((m) => m.thread_ts === ts && m.ts !== ts);
    const messages = [parent, ...replies].sort((a, b) => Number(a.ts) - Number(b.ts));
    return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
  },
  'reactions.add': (ctx, args) => {
    const channel = str(args.channel);
    const ts = str(args.timestamp);
    const name = str(args.name);
    if (!name) return err('invalid_name');
    const message = channel && ts ? findMessage(ctx, channel, ts) : undefined;
    if (!message) return err('message_not_found');
    const reactions = (message.reactions ?? []) as { name: string; users: string[]; count: number }[];
    const existing = reactions.find((r) => r.name === name);
    if (existing?.users.includes(ctx.opts.botUserId)) return err('already_reacted');
    if (existing) {
      existing.users.push(ctx.opts.botUserId);
      existing.count += 1;
    } else reactions.push({ name, users: [ctx.opts.botUserId], count: 1 });
    message.reactions = reactions;
    return { ok: true };
  },
  'files.info': (ctx, args) => {
    const hosted = ctx.files.get(str(args.file) ?? '');
    return hosted ? { ok: true, file: hosted.meta, comments: [], response_metadata: { next_cursor: '' } } : err('file_not_found');
  },
  'views.open': (ctx, args) => {
    const triggerId = str(args.trigger_id);
    const trigger = triggerId ? ctx.triggers.get(triggerId) : undefined;
    if (!trigger) return err('invalid_trigger_id');
    if (trigger.used) return err('exchanged_trigger_id');
    if (Date.now() > trigger.expires) return err('expired_trigger_id');
    if (typeof args.view !== 'object' || args.view === null) return err('invalid_arguments');
    trigger.used = true;
    const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
    const view = { ...(args.view as Json), id, team_id: ctx.opts.teamId, app_id: STANDIN_DEFAULTS.appId, bot_id: STANDIN_DEFAULTS.botId };
    return { ok: true, view: { state: { values: {} }, hash: `${Date.now()}.${id}`, root_view_id: id, previous_view_id: null, ...view } };
  },
  'apps.connections.open': (ctx) => ({ ok: true, url: ctx.openSocketUrl() }),
};

/** Methods that take the app-level token instead of the bot token. */
const APP_TOKEN_METHODS = new Set(['apps.connections.open']);

function validate(opts: SlackStandinOptions): void {
  const problems: string[] = [];
  if (!opts.signingSecret) problems.push('signingSecret is required: pass the secret the bot verifies requests with.');
  if (!opts.botToken?.startsWith('xoxb-'))
    problems.push('botToken must start with "xoxb-": pass the token the bot calls the Web API with.');
  if (opts.appToken !== undefined && !opts.appToken.startsWith('xapp-'))
    problems.push('appToken must start with "xapp-": pass the app-level token the bot opens Socket Mode with, or leave it out.');
  if (problems.length > 0) throw new Error(`startSlackStandin: ${problems.join(' ')}`);
}

function parseArgs(raw: string, contentType: string, query: URLSearchParams): Json {
  const args: Json = {};
  for (const [k, v] of query) args[k] = v;
  if (contentType.includes('application/json')) {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) Object.assign(args, parsed);
    return args;
  }
  if (contentType.includes('application/x-www-form-urlencoded') || contentType === '') {
    for (const [k, v] of new URLSearchParams(raw)) {
      args[k] = v;
      if (/^\s*[[{]/.test(v)) {
        try {
          args[k] = JSON.parse(v);
        } catch {
          // a plain string that happens to start with a bracket
        }
      }
    }
  }
  return args;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > STANDIN_DEFAULTS.maxBodyBytes) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** Start a stand-in on 127.0.0.1, port 0. */
export async function startSlackStandin(options: SlackStandinOptions): Promise<SlackStandin> {
  validate(options);
  const opts: Context['opts'] = {
    signingSecret: options.signingSecret,
    botToken: options.botToken,
    appToken: options.appToken,
    botUserId: options.botUserId ?? STANDIN_DEFAULTS.botUserId,
    teamId: options.teamId ?? STANDIN_DEFAULTS.teamId,
    timeoutMs: options.timeoutMs ?? STANDIN_DEFAULTS.timeoutMs,
    triggerTtlMs: options.triggerTtlMs ?? STANDIN_DEFAULTS.triggerTtlMs,
  };

  const calls: WebApiCall[] = [];
  const responseUrlPosts: ResponseUrlPost[] = [];
  const overrides = new Map<string, WebApiHandler>();
  const rateLimits = new Map<string, { times: number; retryAfterSec: number }>();
  const failures = new Map<string, { error: string; times: number }>();
  const tickets = new Set<string>();
  /** Envelopes by event_id: sending an event_id again is a retry of the very same envelope, as Slack's are. */
  const sentEnvelopes = new Map<string, Json>();
  const sockets = new Set<WebSocket>();
  const pendingAcks = new Map<string, { resolve: (ack: SocketAck) => void; reject: (e: Error) => void }>();
  const waiters = new Map<() => void, (e: Error) => void>();
  const timers = new Set<NodeJS.Timeout>();
  let [tsSec, tsMicro] = STANDIN_DEFAULTS.firstTs.split('.').map(Number) as [number, number];
  let stopped = false;
  let port = 0;

  const notify = (): void => {
    for (const check of [...waiters.keys()]) check();
  };

  /** Resolve with the first value `find` returns, re-checked after every recorded change. */
  const waitFor = <T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (stopped) {
        reject(new Error('slack stand-in: stopped'));
        return;
      }
      const done = (): void => {
        waiters.delete(check);
        clearTimeout(timer);
        timers.delete(timer);
      };
      const check = (): void => {
        const found = find();
        if (found !== undefined) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`slack stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      timers.add(timer);
      waiters.set(check, (e) => {
        done();
        reject(e);
      });
      check();
    });

  const ctx: Context = {
    opts,
    base: () => `http://127.0.0.1:${port}/`,
    nextTs: () => {
      const ts = `${tsSec}.${String(tsMicro).padStart(6, '0')}`;
      tsMicro += 100;
      if (tsMicro >= 1_000_000) [tsSec, tsMicro] = [tsSec + 1, tsMicro - 1_000_000];
      return ts;
    },
    users: new Map(),
    channels: new Map(),
    messages: new Map(),
    files: new Map(),
    triggers: new Map(),
    openSocketUrl: () => {
      const ticket = randomBytes(16).toString('hex');
      tickets.add(ticket);
      return `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${STANDIN_DEFAULTS.appId}`;
    },
  };

  const authError = (method: string, token: string | undefined): string | undefined => {
    if (!token) return 'not_authed';
    const wanted = APP_TOKEN_METHODS.has(method) ? opts.appToken : opts.botToken;
    if (token === wanted) return undefined;
    return token === opts.botToken || token === opts.appToken ? 'not_allowed_token_type' : 'invalid_auth';
  };

  const answerApi = async (method: string, call: WebApiCall): Promise<{ status: number; body: Json; headers?: Record<string, string> }> => {
    const override = overrides.get(method);
    if (!override && !DEFAULT_METHODS[method]) return { status: 200, body: err('unknown_method') };
    const denied = authError(method, call.token);
    if (denied) return { status: 200, body: err(denied) };
    const limit = rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      return { status: 429, body: err('ratelimited'), headers: { 'retry-after': String(limit.retryAfterSec) } };
    }
    const failure = failures.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return { status: 200, body: err(failure.error) };
    }
    if (override) return { status: 200, body: await override(call) };
    return { status: 200, body: (DEFAULT_METHODS[method] as MethodHandler)(ctx, call.args) };
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> => {
    const raw = (await readBody(req)).toString('utf8');
    const contentType = req.headers['content-type'] ?? '';
    let args: Json;
    try {
      args = parseArgs(raw, contentType, url.searchParams);
    } catch {
      sendJson(res, 200, err('invalid_json'));
      return;
    }
    const token = bearer(req) ?? str(args.token);
    const call: WebApiCall = { method, args, token, contentType, at: Date.now(), answer: { status: 0, body: {} } };
    calls.push(call);
    const answer = await answerApi(method, call);
    call.answer = { status: answer.status, body: answer.body };
    sendJson(res, answer.status, answer.body, answer.headers);
    notify();
  };

  const handleResponseUrl = async (req: IncomingMessage, res: ServerResponse, id: string): Promise<void> => {
    const raw = (await readBody(req)).toString('utf8');
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // Slack wants JSON; a non-JSON body is recorded as text and refused below
    }
    responseUrlPosts.push({ id, body, contentType, at: Date.now() });
    if (typeof body === 'object' && body !== null) sendJson(res, 200, { ok: true });
    else sendJson(res, 400, err('invalid_payload'));
    notify();
  };

  const handleFile = (req: IncomingMessage, res: ServerResponse, fileId: string): void => {
    const hosted = ctx.files.get(fileId);
    if (bearer(req) !== opts.botToken) {
      // Slack does not answer 401 here: it sends the browser to its sign-in page.
      res.writeHead(302, { location: `${ctx.base()}signin`, 'content-type': 'text/html' });
      res.end('<html><body>Redirecting to sign in</body></html>');
      return;
    }
    if (!hosted) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('file not found');
      return;
    }
    res.writeHead(200, { 'content-type': hosted.meta.mimetype, 'content-length': String(hosted.content.length) });
    res.end(hosted.content);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter(Boolean);
    const route = async (): Promise<void> => {
      if (parts[0] === 'api' && parts[1]) return handleApi(req, res, url, parts[1]);
      if (parts[0] === 'response' && parts[1] && req.method === 'POST') return handleResponseUrl(req, res, decodeURIComponent(parts[1]));
      if (parts[0] === 'files-pri' && parts[1]) return handleFile(req, res, parts[1].split('-').slice(1).join('-'));
      if (parts[0] === 'signin') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in to your workspace</body></html>');
        return;
      }
      sendJson(res, 404, err('not_found'));
    };
    route().catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, err(e instanceof Error ? e.message : 'internal_error'));
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const ping = setInterval(() => ws.ping(), STANDIN_DEFAULTS.socketPingMs);
      ping.unref();
      timers.add(ping);
      ws.on('message', (data) => {
        let message: unknown;
        try {
          message = JSON.parse(String(data));
        } catch {
          return;
        }
        const envelopeId = (message as Json | null)?.envelope_id;
        if (typeof envelopeId !== 'string') return;
        const pending = pendingAcks.get(envelopeId);
        if (!pending) return;
        pendingAcks.delete(envelopeId);
        const ack: SocketAck = { envelope_id: envelopeId };
        if ((message as Json).payload !== undefined) ack.payload = (message as Json).payload;
        pending.resolve(ack);
      });
      ws.on('close', () => {
        sockets.delete(ws);
        clearInterval(ping);
        timers.delete(ping);
        notify();
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: sockets.size,
          debug_info: { host: 'applink-standin', approximate_connection_time: 18060 },
          connection_info: { app_id: STANDIN_DEFAULTS.appId },
        }),
      );
      notify();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const baseUrl = ctx.base();

  const issueTrigger = (): string => {
    const id = `${Date.now()}.${randomBytes(6).readUIntBE(0, 6)}.${randomBytes(16).toString('hex')}`;
    ctx.triggers.set(id, { expires: Date.now() + opts.triggerTtlMs, used: false });
    return id;
  };
  const responseUrl = (id: string): string => `${baseUrl}response/${encodeURIComponent(id)}`;

  const postToBot = (botUrl: string, rawBody: string, contentType: string, send: SendOptions): Promise<BotReply> => {
    const timestamp = send.timestamp ?? Math.floor(Date.now() / 1000) - (send.staleTimestamp ? STANDIN_DEFAULTS.staleBySec : 0);
    const secret = send.forgeSignature ? `${opts.signingSecret}-forged` : opts.signingSecret;
    const headers: Record<string, string> = {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(rawBody)),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, rawBody),
    };
    if (send.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(send.retryNum);
      headers['x-slack-retry-reason'] = send.retryReason ?? 'http_timeout';
    }
    const timeoutMs = send.timeoutMs ?? opts.timeoutMs;
    const started = performance.now();
    return new Promise<BotReply>((resolve) => {
      const finish = (reply: Omit<BotReply, 'ms'>): void => resolve({ ...reply, ms: Math.round(performance.now() - started) });
      const req = httpRequest(botUrl, { method: 'POST', headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => finish({ status: 0, body: '', headers: {}, error: 'response_aborted' }));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const reply: Omit<BotReply, 'ms'> = { status: res.statusCode ?? 0, body, headers: res.headers };
          if (String(res.headers['content-type'] ?? '').includes('json')) {
            try {
              reply.json = JSON.parse(body);
            } catch {
              // not JSON after all; body keeps the text
            }
          }
          finish(reply);
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish({
          status: 0,
          body: '',
          headers: {},
          error: e.name === 'AbortError' || e.name === 'TimeoutError' ? 'timeout' : (e.code ?? e.message),
        }),
      );
      req.end(rawBody);
    });
  };

  const commandPayload = (fields: CommandFields): Record<string, string> => {
    const out: Record<string, string> = {
      token: 'verification-token-unused',
      team_id: opts.teamId,
      team_domain: STANDIN_DEFAULTS.teamDomain,
      channel_id: 'C0INCIDENT',
      channel_name: 'incidents',
      user_id: 'U0ONCALL01',
      user_name: 'oncall',
      command: fields.command,
      text: '',
      api_app_id: STANDIN_DEFAULTS.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl(randomBytes(6).toString('hex')),
      trigger_id: issueTrigger(),
    };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = k === 'text' ? escapeSlack(v) : v;
    return out;
  };

  const eventEnvelope = (event: Json, eventId = `Ev${randomBytes(5).toString('hex').toUpperCase()}`): Json => {
    const earlier = sentEnvelopes.get(eventId);
    if (earlier) return earlier;
    refuseUnescaped(event);
    const filled: Json = { ...event };
    if ((filled.type === 'message' || filled.type === 'app_mention') && filled.ts === undefined) filled.ts = ctx.nextTs();
    if (filled.event_ts === undefined) filled.event_ts = filled.ts ?? ctx.nextTs();
    const channel = str(filled.channel);
    // Hidden events (edits, deletes) are notices about messages, not messages.
    if (channel && typeof filled.ts === 'string' && filled.hidden !== true && !findMessage(ctx, channel, filled.ts)) {
      const message: Json = { ...filled };
      delete message.channel;
      storeMessage(ctx, channel, message);
    }
    const envelope: Json = {
      token: 'verification-token-unused',
      team_id: opts.teamId,
      api_app_id: STANDIN_DEFAULTS.appId,
      event: filled,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: opts.teamId, user_id: opts.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${randomBytes(12).toString('base64url')}`,
    };
    sentEnvelopes.set(eventId, envelope);
    return envelope;
  };

  const interactionPayload = (payload: Json): Json => {
    const out: Json = {
      token: 'verification-token-unused',
      api_app_id: STANDIN_DEFAULTS.appId,
      team: { id: opts.teamId, domain: STANDIN_DEFAULTS.teamDomain },
      user: { id: 'U0ONCALL01', username: 'oncall', name: 'oncall', team_id: opts.teamId },
      is_enterprise_install: false,
      trigger_id: issueTrigger(),
      ...payload,
    };
    if (out.response_url === undefined && out.type !== 'view_submission' && out.type !== 'view_closed')
      out.response_url = responseUrl(randomBytes(6).toString('hex'));
    return out;
  };

  const newestSocket = (): WebSocket | undefined => [...sockets].reverse().find((ws) => ws.readyState === ws.OPEN);

  /** The channel_type Slack gives a channel id. */
  const channelType = (channel: string): string => (channel.startsWith('D') ? 'im' : channel.startsWith('G') ? 'group' : 'channel');

  const userMessage = (m: TypedMessage): Json => {
    const user = m.user ?? 'U0ONCALL01';
    const ts = m.ts ?? ctx.nextTs();
    const mentions = m.mentions ? { mentions: m.mentions } : {};
    const event: Json = {
      type: 'message',
      ...(m.files && m.files.length > 0 ? { subtype: 'file_share', files: m.files, upload: false, display_as_bot: false } : {}),
      user,
      text: typedToWire(m.text, mentions),
      blocks: m.text === '' ? [] : [typedToRichText(m.text, mentions)],
      client_msg_id: randomUUID(),
      team: opts.teamId,
      ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts, parent_user_id: 'U0SOMEONE1' } : {}),
      channel: m.channel,
      channel_type: m.channel_type ?? channelType(m.channel),
    };
    return event;
  };

  /** message_changed for `stored` (already changed) with its previous version. */
  const changed = (channel: string, stored: Json, previous: Json): Json => ({
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    channel,
    channel_type: channelType(channel),
    ts: ctx.nextTs(),
    message: { ...stored },
    previous_message: previous,
  });

  /** Slack never delivers a person's message with raw `<`, `>` or `&` in its text. */
  const refuseUnescaped = (event: Json): void => {
    const check = (m: unknown): void => {
      const msg = m as Json | undefined;
      if (!msg || typeof msg.text !== 'string' || msg.bot_id !== undefined || msg.subtype === 'bot_message') return;
      const bad = unescapedInText(msg.text);
      if (bad !== undefined)
        throw new Error(
          `slack stand-in: Slack never sends a person's text with a raw <, > or & (near "${bad}"): use sendMessage(), which escapes it`,
        );
    };
    check(event);
    check(event.message);
  };

  const standin: SlackStandin = {
    apiUrl: `${baseUrl}api/`,
    baseUrl,
    teamId: opts.teamId,
    botUserId: opts.botUserId,
    botId: STANDIN_DEFAULTS.botId,
    appId: STANDIN_DEFAULTS.appId,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitForCall: (method, predicate = () => true, timeoutMs = opts.timeoutMs) =>
      waitFor(() => calls.find((c) => c.method === method && predicate(c)), timeoutMs, `a ${method} call`),
    respond: (method, handler) => {
      overrides.set(method, handler);
      return () => {
        if (overrides.get(method) === handler) overrides.delete(method);
      };
    },
    rateLimit: (method, { times = 1, retryAfterSec = 1 } = {}) => void rateLimits.set(method, { times, retryAfterSec }),
    fail: (method, error, times = 1) => void failures.set(method, { error, times }),

    responseUrl,
    responseUrlPosts,
    waitForResponseUrlPost: (id, timeoutMs = opts.timeoutMs) =>
      waitFor(() => responseUrlPosts.find((p) => id === undefined || p.id === id), timeoutMs, `a post to response_url ${id ?? '(any)'}`),

    setUser: (id, user) => void ctx.users.set(id, { ...ctx.users.get(id), ...user }),
    setChannel: (id, channel) => void ctx.channels.set(id, { ...ctx.channels.get(id), ...channel }),
    addFile: ({ name, content, title, filetype = 'text', mimetype = 'text/plain', user = 'U0ONCALL01' }) => {
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
      const path = `${baseUrl}files-pri/${opts.teamId}-${id}`;
      const meta: HostedFile = {
        id,
        created: Math.floor(Date.now() / 1000),
        name,
        title: title ?? name,
        mimetype,
        filetype,
        pretty_type: filetype === 'text' ? 'Plain Text' : filetype,
        user,
        mode: filetype === 'text' || mimetype.startsWith('text/') ? 'snippet' : 'hosted',
        editable: true,
        is_external: false,
        size: bytes.length,
        url_private: `${path}/${encodeURIComponent(name)}`,
        url_private_download: `${path}/download/${encodeURIComponent(name)}`,
        permalink: `https://${STANDIN_DEFAULTS.teamDomain}.slack.com/files/${user}/${id}/${encodeURIComponent(name)}`,
      };
      if (meta.mode === 'snippet') meta.preview = bytes.toString('utf8').split('\n').slice(0, 5).join('\n');
      ctx.files.set(id, { meta, content: bytes });
      return meta;
    },
    seedMessage: (channel, message) => {
      const ts = typeof message.ts === 'string' ? message.ts : ctx.nextTs();
      storeMessage(ctx, channel, { type: 'message', ...message, ts });
      return ts;
    },
    messages: (channel) => ctx.messages.get(channel) ?? [],
    issueTrigger,

    sendCommand: async (botUrl, fields, send = {}) => {
      const payload = commandPayload(fields);
      const reply = await postToBot(botUrl, new URLSearchParams(payload).toString(), 'application/x-www-form-urlencoded', send);
      const responseUrlId = decodeURIComponent(payload.response_url?.split('/response/')[1] ?? '');
      return { ...reply, responseUrlId, triggerId: payload.trigger_id ?? '' };
    },
    sendEvent: async (botUrl, event, send = {}) => {
      refuseUnescaped(event);
      const envelope = eventEnvelope(event, send.eventId);
      const reply = await postToBot(botUrl, JSON.stringify(envelope), 'application/json', send);
      return { ...reply, eventId: envelope.event_id as string };
    },
    userMessage,
    sendMessage: async (botUrl, m, send = {}) => {
      const event = userMessage(m);
      const reply = await standin.sendEvent(botUrl, event, send);
      return { ...reply, ts: event.ts as string };
    },
    sendMention: async (botUrl, m) => {
      const event = userMessage({ ...m, mentions: [opts.botUserId] });
      const mention: Json = { ...event, type: 'app_mention' };
      delete mention.channel_type;
      await standin.sendEvent(botUrl, mention);
      await standin.sendEvent(botUrl, event);
      return { ts: event.ts as string };
    },
    editMessage: async (botUrl, channel, ts, text, send = {}) => {
      const stored = findMessage(ctx, channel, ts);
      if (!stored) throw new Error(`slack stand-in: no message ${ts} in ${channel} to edit`);
      const previous: Json = { ...stored };
      const user = typeof stored.user === 'string' ? stored.user : 'U0ONCALL01';
      Object.assign(stored, {
        text: typedToWire(text),
        blocks: [typedToRichText(text)],
        edited: { user, ts: String(Math.floor(Date.now() / 1000)) + '.000000' },
      });
      return standin.sendEvent(botUrl, changed(channel, stored, previous), send);
    },
    deleteMessage: async (botUrl, channel, ts, send = {}) => {
      const stored = findMessage(ctx, channel, ts);
      if (!stored) throw new Error(`slack stand-in: no message ${ts} in ${channel} to delete`);
      ctx.messages.set(
        channel,
        (ctx.messages.get(channel) ?? []).filter((m) => m !== stored),
      );
      // As Slack sends it (docs.slack.dev/reference/events/message/message_deleted): hidden, with the deleted ts and the message before.
      return standin.sendEvent(
        botUrl,
        {
          type: 'message',
          subtype: 'message_deleted',
          hidden: true,
          channel,
          channel_type: channelType(channel),
          ts: ctx.nextTs(),
          deleted_ts: ts,
          previous_message: { ...stored },
        },
        send,
      );
    },
    postAsIntegration: async (botUrl, channel, who, posted, send = {}) => {
      const ts = send.ts ?? ctx.nextTs();
      const message: Json = {
        type: 'message',
        ...(who.subtype ? { subtype: who.subtype } : {}),
        ...storedIntegrationMessage(posted),
        bot_id: who.bot_id,
        ...(who.bot_profile ? { bot_profile: { id: who.bot_id, deleted: false, team_id: opts.teamId, ...who.bot_profile } } : {}),
        ...(who.username ? { username: who.username } : {}),
        ...(send.thread_ts ? { thread_ts: send.thread_ts } : {}),
        ts,
        team: opts.teamId,
      };
      if (typeof message.text !== 'string') message.text = '';
      storeMessage(ctx, channel, message);
      const reply = await standin.sendEvent(botUrl, { ...message, channel, channel_type: channelType(channel) }, send);
      return { ...reply, ts };
    },
    editIntegrationMessage: async (botUrl, channel, ts, change) => {
      const stored = findMessage(ctx, channel, ts);
      if (!stored) throw new Error(`slack stand-in: no message ${ts} in ${channel} to edit`);
      const previous: Json = { ...stored };
      Object.assign(stored, storedIntegrationMessage(change), { edited: { user: stored.bot_id, ts: ctx.nextTs() } });
      return standin.sendEvent(botUrl, changed(channel, stored, previous));
    },
    unfurl: async (botUrl, channel, ts, preview) => {
      const stored = findMessage(ctx, channel, ts);
      if (!stored) throw new Error(`slack stand-in: no message ${ts} in ${channel} to unfurl`);
      const previous: Json = { ...stored };
      const attachments = Array.isArray(stored.attachments) ? (stored.attachments as Json[]) : [];
      stored.attachments = [...attachments, { id: attachments.length + 1, ...preview }];
      return standin.sendEvent(botUrl, changed(channel, stored, previous));
    },
    sendInteraction: async (botUrl, payload, send = {}) => {
      const full = interactionPayload(payload);
      const body = new URLSearchParams({ payload: JSON.stringify(full) }).toString();
      const reply = await postToBot(botUrl, body, 'application/x-www-form-urlencoded', send);
      return { ...reply, triggerId: full.trigger_id as string };
    },
    sendUrlVerification: (botUrl, challenge = randomBytes(24).toString('base64url'), send = {}) =>
      postToBot(
        botUrl,
        JSON.stringify({ token: 'verification-token-unused', challenge, type: 'url_verification' }),
        'application/json',
        send,
      ),
    eventEnvelope,
    commandPayload,
    interactionPayload,

    socketConnected: async (timeoutMs = opts.timeoutMs) => {
      await waitFor(() => newestSocket(), timeoutMs, 'a Socket Mode client');
    },
    socketSend: async (type, payload, send = {}) => {
      const timeoutMs = send.timeoutMs ?? opts.timeoutMs;
      const started = Date.now();
      const ws = await waitFor(() => newestSocket(), timeoutMs, 'a Socket Mode client to send to');
      if (stopped) throw new Error('slack stand-in: stopped');
      const envelopeId = `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`;
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            pendingAcks.delete(envelopeId);
            timers.delete(timer);
            reject(new Error(`slack stand-in: no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
          },
          Math.max(0, timeoutMs - (Date.now() - started)),
        );
        timers.add(timer);
        const settle = (): void => {
          clearTimeout(timer);
          timers.delete(timer);
        };
        pendingAcks.set(envelopeId, {
          resolve: (ack) => {
            settle();
            resolve(ack);
          },
          reject: (e) => {
            settle();
            reject(e);
          },
        });
        ws.send(
          JSON.stringify({
            envelope_id: envelopeId,
            type,
            payload,
            accepts_response_payload: send.acceptsResponsePayload ?? type !== 'events_api',
            ...(type === 'events_api' ? { retry_attempt: send.retryAttempt ?? 0, retry_reason: send.retryReason ?? '' } : {}),
          }),
        );
      });
    },
    socketDisconnect: (reason = 'refresh_requested') => {
      const ws = newestSocket();
      if (!ws) return;
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
      ws.close(1000, reason);
    },

    stop: async () => {
      if (stopped) return;
      stopped = true;
      const stoppedError = new Error('slack stand-in: stopped');
      for (const cancel of [...waiters.values()]) cancel(stoppedError);
      for (const pending of [...pendingAcks.values()]) pending.reject(stoppedError);
      pendingAcks.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}
