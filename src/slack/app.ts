import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger } from '@slack/bolt';
import { WebClient, LogLevel as WebLogLevel } from '@slack/web-api';
import type { BotConfig } from '../config.js';
import type { Lang } from '../knowledge/types.js';
import { logLine } from '../log.js';
import { feedback as feedbackMetric, slackCalls } from '../metrics.js';
import type { ProbeRunner } from '../queue/runner.js';
import type { Sealer } from '../queue/seal.js';
import { redact } from '../security/redact.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import type { Engine } from '../triage/engine.js';
import { parseTarget } from '../triage/target.js';
import { parseAlert, type Alert } from './alerts.js';
import { createAnswerer, errorText, type Answer, type Asker } from './answers.js';
import {
  ACTIONS,
  escapeMrkdwn,
  renderDiagnosisBlocks,
  renderError,
  renderProbingMessage,
  type Block,
  type SlackMessage,
} from './blocks.js';
import { parseDiagnoseCommand, unwrapSlackLinks } from './command.js';
import { createPoster, type ChatResponse, type Poster, type PosterClient, type PosterOptions } from './poster.js';
import { progressiveMessage, type ProgressOptions } from './progress.js';
import { expandSignals, memoryStates, recoverTarget, storeStates, type KeptTarget, type RequestState } from './requests.js';
import type { SlackStore } from './store.js';

/** What the bot needs; entry points (src/main.ts) and tests build it. */
export interface BotDeps {
  readonly config: BotConfig;
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly policy: SsrfPolicy;
  /** Remembers event ids so a Slack retry never produces a second reply. @defaultValue the store's, else in memory */
  readonly seen?: SeenEvents;
  /** Redis-backed state (alert windows, event claims); required for ALERT_CHANNELS. */
  readonly store?: SlackStore;
  /** How long the same alert firing again updates the first answer instead of a new one. @defaultValue 3600 */
  readonly alertWindowSec?: number;
  readonly logger?: Logger;
  /** Seals kept probe targets (headers included) so Re-probe can run them again; QUEUE_SECRET. */
  readonly sealer?: Sealer;
  /** Pace and retries of posting; tests shorten them. @defaultValue POSTER_DEFAULTS */
  readonly posting?: Pick<PosterOptions, 'perChannelIntervalMs' | 'retryBaseMs' | 'maxRetries' | 'maxRetryDelayMs'>;
  /** When /diagnose's partial answers go out. @defaultValue PROGRESS_DEFAULTS (src/slack/progress.ts) */
  readonly progress?: Partial<ProgressOptions>;
}

/** Idempotency of events: `claim` is true only the first time an id is seen. */
export interface SeenEvents {
  claim(id: string): Promise<boolean>;
}

/** In-process memory of event ids, bounded (for a single replica without Redis). */
export function memorySeenEvents(max = 10_000): SeenEvents {
  const seen = new Set<string>();
  return {
    async claim(id) {
      if (seen.has(id)) return false;
      seen.add(id);
      if (seen.size > max) seen.delete(seen.values().next().value!);
      return true;
    },
  };
}

export const USAGE = {
  en: [
    '*/diagnose* — find why a proxy or gateway request fails',
    '• `/diagnose https://api.example.com/health` probes the URL (DNS, TCP, TLS, HTTP …) and ranks the causes',
    '• options: `--proxy http://proxy:3128`, `--upstream 10.0.3.4:8080`, `--header "Authorization: Bearer …"`, `--origin https://app.example.com`, `--from zone-a,zone-b`',
    '• `/diagnose <pasted error>` explains an error: an nginx error.log line, a curl -v transcript, a stack trace',
    '• or paste the error in a DM, or mention me with it',
  ].join('\n'),
  zh: [
    '*/diagnose* —— 找出代理或网关请求失败的原因',
    '• `/diagnose https://api.example.com/health` 探测该 URL（DNS、TCP、TLS、HTTP……）并给出原因排序',
    '• 选项：`--proxy http://proxy:3128`、`--upstream 10.0.3.4:8080`、`--header "Authorization: Bearer …"`、`--origin https://app.example.com`、`--from zone-a,zone-b`',
    '• `/diagnose <粘贴的错误>` 解释一段错误：nginx error.log、curl -v 输出、堆栈',
    '• 也可以私信我，或 @ 我并附上错误',
  ].join('\n'),
} as const;

/** The Slack bot: `/diagnose`, pasted errors in DMs, mentions and WATCH_CHANNELS, alert channels, and the answers' buttons. */
export interface Bot {
  readonly app: App;
  /** HTTP mode: serves POST /slack/events (mount it with startHttpServer); undefined in Socket Mode. */
  readonly requestListener?: RequestListener;
  /** Posts, updates and ephemerals, paced per channel and retried (the API's Alertmanager answers use it too). */
  readonly poster: Poster;
  /** Learns the bot's own ids (auth.test) and, in Socket Mode, connects. */
  start(): Promise<void>;
  /** Waits for queued posts, then disconnects. */
  stop(): Promise<void>;
}

const TEXT = {
  en: {
    mayNotProbe: 'Probes may not be run from this channel or by this user: ask an admin (PROBE_CHANNELS / PROBE_USERS).',
    expired: 'This answer is too old to act on (answers are kept 7 days, or the bot restarted without REDIS_URL): run /diagnose again.',
    noTarget: 'No URL is known for this answer: run `/diagnose <url>`.',
    secretTarget:
      'The URL or its headers carried a secret, which is not kept (set QUEUE_SECRET to keep targets sealed): run `/diagnose <url>` again.',
    busy: 'Already running for this answer: the result will appear in the thread.',
    notPosted: (e: string) => `I could not post in this channel (${e}): invite me with \`/invite @Gateway Triage\`, or DM me.`,
    fixed: (cause: string) =>
      `Thanks: recorded that *${cause}* fixed it. It ranks higher for this workspace, and the fix is recalled when this error comes back.`,
    wrong: (cause: string) => `Thanks: recorded that *${cause}* was not it. It ranks lower for this workspace from now on.`,
    repeat: 'You already said so for this error: your vote is counted once.',
    noFeedbackStore: 'Thanks. Feedback is not kept: this bot runs without REDIS_URL.',
  },
  zh: {
    mayNotProbe: '此频道或用户不允许运行探测；请联系管理员（PROBE_CHANNELS / PROBE_USERS）。',
    expired: '这个回答已过期（保留 7 天，或机器人在没有 REDIS_URL 的情况下重启过）：请重新运行 /diagnose。',
    noTarget: '这个回答没有已知的 URL：请运行 `/diagnose <url>`。',
    secretTarget: 'URL 或请求头中含有密钥，未被保存（设置 QUEUE_SECRET 可加密保存）：请重新运行 `/diagnose <url>`。',
    busy: '这个回答的探测正在进行，结果会出现在线程里。',
    notPosted: (e: string) => `无法在此频道发消息（${e}）：请用 \`/invite @Gateway Triage\` 邀请我，或私信我。`,
    fixed: (cause: string) => `谢谢：已记录 *${cause}* 解决了问题。此原因在本工作区的排序会提高，下次出现同样的错误时会提示这个修复。`,
    wrong: (cause: string) => `谢谢：已记录 *${cause}* 不是原因。此原因在本工作区的排序会降低。`,
    repeat: '你已经对这个错误反馈过了，只计一次。',
    noFeedbackStore: '谢谢。未保存反馈：机器人没有配置 REDIS_URL。',
  },
} as const;

const ACTION_IDS = new RegExp(`^(?:${Object.values(ACTIONS).join('|')})$`);
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CAUSE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function createBot(deps: BotDeps): Bot {
  const { config } = deps;
  const seen = deps.seen ?? (deps.store ? { claim: (id: string) => deps.store!.claimEvent(id) } : memorySeenEvents());
  const clientOptions = config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {};
  const logging = deps.logger ? { logger: deps.logger } : { logLevel: LogLevel.WARN };
  const receiver =
    config.mode === 'http' ? new HTTPReceiver({ signingSecret: config.signingSecret!, endpoints: '/slack/events', ...logging }) : undefined;
  const app = receiver
    ? new App({ token: config.botToken, receiver, clientOptions: { ...clientOptions }, ...logging })
    : // A copy: Bolt's Socket Mode client writes its own retry settings into the object it is given.
      new App({ token: config.botToken, appToken: config.appToken!, socketMode: true, clientOptions: { ...clientOptions }, ...logging });
  const poster = createPoster({
    client: countedClient(
      new WebClient(config.botToken, {
        ...clientOptions,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        logLevel: WebLogLevel.ERROR,
      }),
    ),
    log: (e) => {
      // Calls are counted where they are made (countedClient); here only jobs refused before any call.
      if (e.attempt === 0) slackCalls.inc({ method: e.method, outcome: 'refused' });
      logLine(e.level, `slack ${e.method} ${e.event}: ${e.error} (channel ${e.channel}, attempt ${e.attempt})`);
    },
    ...deps.posting,
  });
  const states = deps.store ? storeStates(deps.store) : memoryStates();
  const answerer = createAnswerer({
    engine: deps.engine,
    runner: deps.runner,
    states,
    ...(deps.store ? { store: deps.store } : {}),
    ...(deps.sealer ? { sealer: deps.sealer } : {}),
  });
  const brief = briefClaims(deps.store);
  let botUserId: string | undefined;
  let botId: string | undefined;

  // A retried event (same event_id, X-Slack-Retry-Num) is acknowledged and dropped.
  app.use(async ({ body, next }) => {
    const id = (body as { event_id?: unknown }).event_id;
    if (typeof id === 'string' && !(await seen.claim(`event:${id}`).catch(() => true))) return;
    await next();
  });

  app.command('/diagnose', async ({ command, ack, respond, client, context }) => {
    await ack();
    const lang = await userLang(client, command.user_id);
    const asker: Asker = { team: context.teamId ?? command.team_id, channel: command.channel_id, lang };
    const ephemeral = (m: string) => respond(renderError(redact(m), lang));
    const parsed = parseDiagnoseCommand(command.text ?? '');
    if (parsed.kind === 'help') return void (await respond({ response_type: 'ephemeral', text: USAGE[lang] }));
    if (parsed.kind === 'error') return void (await ephemeral(parsed.message));
    if (parsed.kind === 'explain') {
      let answer: Answer | undefined;
      try {
        answer = await answerer.explain(asker, 'slack_command', unwrapSlackLinks(parsed.text), true, firstUrl(parsed.text));
      } catch (err) {
        return void (await ephemeral(errorText(err)));
      }
      const posted = await poster.post(command.channel_id, answer!.message);
      if (!posted.ok) await respond({ response_type: 'in_channel', ...answer!.message });
      return;
    }
    if (!mayProbe(config, command.channel_id, command.user_id)) return void (await ephemeral(TEXT[lang].mayNotProbe));
    const target = parseTarget(parsed.input);
    if (!target.target) return void (await ephemeral(target.problems.join('; ')));
    const check = await deps.policy.check(target.target.url);
    if (!check.ok) return void (await ephemeral(`${check.reason}. ${check.hint}`));
    const kept: KeptTarget = { ...parsed.input, ...(parsed.pools.length > 0 ? { pools: parsed.pools } : {}) };
    const placeholder = await poster.post(command.channel_id, renderProbingMessage(redact(target.target.url.href), lang));
    if (!placeholder.ok) await ephemeral(TEXT[lang].notPosted(placeholder.error));
    // The first ranked answer replaces "Probing …" as soon as the fast probes are in, then fills in.
    const progress = placeholder.ok
      ? progressiveMessage((m) => poster.update(command.channel_id, placeholder.ts, m), deps.progress)
      : undefined;
    const message = await probeMessage(asker, kept, undefined, progress ? (m) => progress.partial(m) : undefined);
    if (progress) await progress.final(message);
    else await respond({ response_type: 'in_channel', ...message });
  });

  app.event('app_mention', async ({ event, context }) => {
    const m = event as MessageLike;
    if (isFromBot(m, botUserId) || !m.channel || !m.ts) return;
    const text = [stripMention(m.text ?? ''), ...(await attachedText(config.botToken, m))].join('\n');
    const lang = await userLang(app.client, m.user);
    await answerMessage({ team: context.teamId ?? '', channel: m.channel, lang }, m, text, true);
  });

  app.event('message', async ({ event, context }) => {
    const raw = event as MessageLike;
    const team = context.teamId ?? '';
    if (config.alertChannels.includes(raw.channel ?? '')) return void (await answerAlert(team, raw));
    const m = readMessage(raw);
    if (!m || isFromBot(m, botUserId) || !m.channel || !m.ts) return;
    const isDm = m.channel_type === 'im';
    const watched = config.watchChannels.includes(m.channel);
    // Mentions in channels arrive as app_mention too: answered there, not twice.
    if (!isDm && (!watched || (botUserId && (m.text ?? '').includes(`<@${botUserId}>`)))) return;
    const text = [m.text ?? '', ...(await attachedText(config.botToken, m))].join('\n');
    const lang = await userLang(app.client, m.user);
    await answerMessage({ team, channel: m.channel, lang }, m, text, false);
  });

  app.action(ACTION_IDS, async ({ ack, body, action, context }) => {
    await ack();
    const b = body as ActionBody;
    const a = action as { action_id?: string; value?: string };
    const channel = b.channel?.id ?? b.container?.channel_id;
    const user = b.user?.id;
    const messageTs = b.container?.message_ts ?? b.message?.ts;
    if (!channel || !user || !messageTs || !a.action_id) return;
    const lang = await userLang(app.client, user);
    const value = readActionValue(a.value);
    const tell = (m: string) => poster.ephemeral(channel, user, renderError(redact(m), lang));
    if (!value) return void (await tell(TEXT[lang].expired));
    const state = await states.load(value.requestId).catch(() => undefined);
    const asker: Asker = { team: context.teamId ?? b.team?.id ?? '', channel, lang };
    const thread = b.message?.thread_ts ?? messageTs;
    switch (a.action_id) {
      case ACTIONS.showAll:
        return showAll(value.requestId, state, channel, messageTs, lang, tell);
      case ACTIONS.runProbes:
      case ACTIONS.reprobe:
        return probeAgain(a.action_id, value.requestId, state, asker, user, thread, tell);
      case ACTIONS.fixed:
      case ACTIONS.wrong:
        return recordFeedback(a.action_id === ACTIONS.fixed ? 'fixed' : 'wrong', value, state, asker, user, tell);
    }
  });

  /** Probes → the answer message, or the error as a message (no worker, Redis down). */
  async function probeMessage(
    asker: Asker,
    target: KeptTarget,
    previous?: Parameters<typeof answerer.probe>[3],
    onPartial?: (message: SlackMessage) => void,
  ): Promise<SlackMessage> {
    try {
      return (await answerer.probe(asker, 'slack_command', target, previous, onPartial)).message;
    } catch (err) {
      return renderError(errorText(err), asker.lang);
    }
  }

  /**
   * A pasted error answered in its thread. Ordinary conversation gets nothing unless the bot was
   * asked (a mention). An edited message updates our earlier answer instead of a second reply.
   */
  async function answerMessage(asker: Asker, m: MessageLike, text: string, asked: boolean): Promise<void> {
    let answer: Answer | undefined;
    try {
      answer = await answerer.explain(asker, 'slack_message', unwrapSlackLinks(text), asked, firstUrl(text));
    } catch (err) {
      if (asked) await poster.post(asker.channel, renderError(errorText(err), asker.lang), { thread_ts: m.thread_ts ?? m.ts! });
      return;
    }
    const earlier = m.edited ? await states.reply(asker.channel, m.ts!).catch(() => undefined) : undefined;
    if (!answer) {
      return;
    }
    if (earlier) return void (await poster.update(asker.channel, earlier, answer.message));
    const posted = await poster.post(asker.channel, answer.message, { thread_ts: m.thread_ts ?? m.ts! });
    if (posted.ok) await states.saveReply(asker.channel, m.ts!, posted.ts).catch(() => undefined);
  }

  /** "Show all causes": the same answer with every cause, updated in place. */
  async function showAll(
    requestId: string,
    state: RequestState | undefined,
    channel: string,
    ts: string,
    lang: Lang,
    tell: (m: string) => Promise<unknown>,
  ): Promise<void> {
    let d = answerer.recent(requestId);
    if (!d && state?.kind === 'text' && state.text) d = deps.engine.explain(state.text, { lang });
    if (!d && state?.kind === 'probes' && state.signals) d = deps.engine.rankSignals(expandSignals(state.signals), { lang });
    if (!d || !state) return void (await tell(TEXT[lang].expired));
    const message = renderDiagnosisBlocks(d, {
      lang,
      showAll: true,
      context: { source: state.kind, requestId, ...(state.url ? { url: redact(state.url) } : {}) },
    });
    await poster.update(channel, ts, message);
  }

  /** "Run probes" (a text answer with a URL) and "Re-probe" (what changed since the last run), in the thread. */
  async function probeAgain(
    action: string,
    requestId: string,
    state: RequestState | undefined,
    asker: Asker,
    user: string,
    thread: string,
    tell: (m: string) => Promise<unknown>,
  ): Promise<void> {
    const t = TEXT[asker.lang];
    if (!state) return void (await tell(t.expired));
    const target = recoverTarget(state, deps.sealer);
    if (!target) return void (await tell(state.targetDropped === 'secret' ? t.secretTarget : t.noTarget));
    if (!mayProbe(config, asker.channel, user)) return void (await tell(t.mayNotProbe));
    const parsed = parseTarget(target);
    if (!parsed.target) return void (await tell(parsed.problems.join('; ')));
    const check = await deps.policy.check(parsed.target.url);
    if (!check.ok) return void (await tell(`${check.reason}. ${check.hint}`));
    // A double click runs once (the window spans replicas; a later click runs again and compares).
    if (!(await brief(`click:${requestId}:${action}`, 3))) return void (await tell(t.busy));
    const previous = action === ACTIONS.reprobe ? await states.lastRun(requestId).catch(() => undefined) : undefined;
    const placeholder = await poster.post(asker.channel, renderProbingMessage(redact(parsed.target.url.href), asker.lang), {
      thread_ts: thread,
    });
    let message: SlackMessage;
    try {
      const answer = await answerer.probe(asker, 'slack_button', target, previous);
      // The next Re-probe of the same answer compares with this run.
      if (answer.run) await states.saveRun(requestId, answer.run).catch(() => undefined);
      message = answer.message;
    } catch (err) {
      message = renderError(errorText(err), asker.lang);
    }
    if (placeholder.ok) await poster.update(asker.channel, placeholder.ts, message);
    else await poster.post(asker.channel, message, { thread_ts: thread });
  }

  /** "Fixed it" / "Wrong cause": stored per workspace (ranking and recall), acknowledged to the voter only. */
  async function recordFeedback(
    kind: 'fixed' | 'wrong',
    value: { requestId: string; causeId?: string },
    state: RequestState | undefined,
    asker: Asker,
    user: string,
    tell: (m: string) => Promise<unknown>,
  ): Promise<void> {
    const t = TEXT[asker.lang];
    const causeId = value.causeId;
    if (!state || !causeId || !deps.engine.kb.entries.has(causeId)) return void (await tell(t.expired));
    if (!deps.store) return void (await tell(t.noFeedbackStore));
    const outcome = await deps.store.recordFeedback(asker.team, {
      causeId,
      kind,
      signature: state.signature,
      user,
      ...(kind === 'fixed' && state.fixes[causeId] ? { fixTitle: redact(state.fixes[causeId]!) } : {}),
    });
    if (outcome !== 'repeat') feedbackMetric.inc({ kind });
    const title = deps.engine.kb.entries.get(causeId)?.title[asker.lang] ?? causeId;
    const text = outcome === 'repeat' ? t.repeat : kind === 'fixed' ? t.fixed(escapeMrkdwn(title)) : t.wrong(escapeMrkdwn(title));
    await poster.ephemeral(asker.channel, user, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }

  /**
   * A monitoring alert in an alert channel: answered once in its thread; the same alert firing again
   * within the window updates that answer ("seen N times"); RESOLVED updates it too. Our own posts
   * and replies inside threads are never answered, so no bot loops.
   */
  async function answerAlert(team: string, event: MessageLike): Promise<void> {
    const store = deps.store;
    // An edit carries the message inside: our own "seen N times" updates come back this way too.
    const edited = event.subtype === 'message_changed';
    const m = edited ? (event.message ? { ...event.message, channel: event.channel } : undefined) : event;
    if (!store || !m || m.thread_ts !== undefined || (botId && m.bot_id === botId) || (botUserId && m.user === botUserId)) return;
    const alert = parseAlert(m);
    if (!alert || !m.channel || !m.ts) return;
    // An edit is never a new firing (link unfurls are edits); it matters only when it resolves the alert (Sentry does that).
    if (edited && (alert.status !== 'resolved' || (event.previous_message && parseAlert(event.previous_message)?.status === 'resolved')))
      return;
    const channel = m.channel;
    const key = `alert:${channel}:${alert.fingerprint}`;
    if (alert.status === 'resolved') {
      const ts = await store.resolveAlert(channel, alert.fingerprint);
      const saved = ts ? await store.loadRequest<SlackMessage>(key) : undefined;
      if (ts && saved) await poster.update(channel, ts, withContext(saved, `✅ resolved: ${alert.title}`));
      return;
    }
    const note = await store.noteAlert(channel, alert.fingerprint, { windowSec: deps.alertWindowSec ?? 3600 });
    if (!note.first) {
      const saved = note.answerTs ? await store.loadRequest<SlackMessage>(key) : undefined;
      if (note.answerTs && saved) await poster.update(channel, note.answerTs, withContext(saved, `🔁 seen ${note.count} times`));
      return;
    }
    const message = await alertAnswer({ team, channel, lang: 'en' }, alert);
    const posted = await poster.post(channel, message, { thread_ts: m.ts });
    if (posted.ok) {
      await store.setAlertAnswer(channel, alert.fingerprint, posted.ts);
      await store.saveRequest(key, message);
    }
  }

  /** Probes when the alert names a URL the policy allows; otherwise the alert's text explained. */
  async function alertAnswer(asker: Asker, alert: Alert): Promise<SlackMessage> {
    const target = alert.url ? parseTarget({ url: alert.url }).target : undefined;
    if (target && (await deps.policy.check(target.url)).ok) {
      try {
        return (await answerer.probe(asker, 'slack_alert', { url: alert.url! })).message;
      } catch {
        // No worker or Redis trouble: fall back to the alert's own text.
      }
    }
    try {
      return (await answerer.explain(asker, 'slack_alert', alert.errorText, true, alert.url))!.message;
    } catch (err) {
      return renderError(errorText(err), asker.lang);
    }
  }

  return {
    app,
    poster,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    async start() {
      const auth = await app.client.auth.test();
      botUserId = typeof auth.user_id === 'string' ? auth.user_id : undefined;
      botId = typeof auth.bot_id === 'string' ? auth.bot_id : undefined;
      if (config.mode === 'socket') await app.start();
    },
    async stop() {
      await Promise.race([poster.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      if (config.mode === 'socket') await app.stop();
    },
  };
}

/** The Web API client of the poster, counting calls by method and outcome. */
function countedClient(client: WebClient): PosterClient {
  const counted =
    (method: string, call: (args: never) => Promise<ChatResponse>) =>
    async (args: unknown): Promise<ChatResponse> => {
      try {
        const r = await call(args as never);
        slackCalls.inc({ method, outcome: 'ok' });
        return r;
      } catch (err) {
        const rateLimited = (err as { code?: string }).code === 'slack_webapi_rate_limited_error';
        slackCalls.inc({ method, outcome: rateLimited ? 'rate_limited' : 'error' });
        throw err;
      }
    };
  return {
    chat: {
      postMessage: counted('chat.postMessage', (a) => client.chat.postMessage(a)),
      update: counted('chat.update', (a) => client.chat.update(a)),
      postEphemeral: counted('chat.postEphemeral', (a) => client.chat.postEphemeral(a)),
    },
  } as PosterClient;
}

/** Short-lived claims (double clicks): Redis when there is a store, else process memory. */
function briefClaims(store: SlackStore | undefined): (key: string, ttlSec: number) => Promise<boolean> {
  if (store) return (key, ttl) => store.claimKey(key, ttl).catch(() => true);
  const until = new Map<string, number>();
  return async (key, ttl) => {
    const now = Date.now();
    if ((until.get(key) ?? 0) > now) return false;
    until.set(key, now + ttl * 1000);
    if (until.size > 10_000) for (const [k, t] of until) if (t <= now) until.delete(k);
    return true;
  };
}

/** A button's value: `{"requestId": uuid, "causeId"?: id}`; anything else is rejected. */
function readActionValue(raw: string | undefined): { requestId: string; causeId?: string } | undefined {
  if (!raw || raw.length > 2000) return undefined;
  try {
    const v = JSON.parse(raw) as { requestId?: unknown; causeId?: unknown };
    if (typeof v.requestId !== 'string' || !REQUEST_ID.test(v.requestId)) return undefined;
    if (v.causeId !== undefined && (typeof v.causeId !== 'string' || !CAUSE_ID.test(v.causeId))) return undefined;
    return { requestId: v.requestId, ...(typeof v.causeId === 'string' ? { causeId: v.causeId } : {}) };
  } catch {
    return undefined;
  }
}

/** The first http(s) URL in a text (Slack's link markup unwrapped), for "Run probes". */
function firstUrl(text: string): string | undefined {
  return /https?:\/\/[^\s<>|"'`)]{1,2048}/.exec(unwrapSlackLinks(text))?.[0];
}

interface ActionBody {
  readonly user?: { id?: string };
  readonly team?: { id?: string } | null;
  readonly channel?: { id?: string };
  readonly container?: { message_ts?: string; channel_id?: string };
  readonly message?: { ts?: string; thread_ts?: string };
}

/** The saved answer with one status line under its header (seen N times, resolved). */
function withContext(message: SlackMessage, line: string): SlackMessage {
  const status: Block = {
    type: 'context',
    block_id: 'alert-status',
    elements: [{ type: 'mrkdwn', text: escapeMrkdwn(line.slice(0, 300)), verbatim: true }],
  };
  const [first, ...rest] = message.blocks;
  return { text: message.text, blocks: (first ? [first, status, ...rest] : [status]).slice(0, 50) };
}

interface MessageLike {
  readonly type?: string;
  readonly subtype?: string;
  readonly text?: string;
  readonly user?: string;
  readonly bot_id?: string;
  readonly app_id?: string;
  readonly channel?: string;
  readonly channel_type?: string;
  readonly ts?: string;
  readonly thread_ts?: string;
  readonly files?: readonly { url_private?: string; mimetype?: string; filetype?: string; size?: number; preview?: string }[];
  readonly message?: MessageLike;
  readonly previous_message?: MessageLike;
  /** Set on the message we read when it came from an edit. */
  readonly edited?: boolean;
}

/** The message to read: edited messages carry the new one inside; joins and other noise are skipped. */
function readMessage(e: MessageLike): MessageLike | undefined {
  if (e.subtype === 'message_changed' && e.message) {
    // Slack also sends message_changed when it unfurls a link: the text did not change, nothing to do.
    if (e.previous_message && e.previous_message.text === e.message.text) return undefined;
    return { ...e.message, channel: e.channel, channel_type: e.channel_type, ts: e.message.ts, edited: true };
  }
  if (e.subtype === undefined || e.subtype === 'file_share' || e.subtype === 'thread_broadcast') return e;
  return undefined;
}

/** Never answer a bot (ourselves included): no loops with other bots. */
function isFromBot(m: MessageLike, self: string | undefined): boolean {
  return Boolean(m.bot_id || m.app_id || m.subtype === 'bot_message' || (self && m.user === self));
}

function stripMention(text: string): string {
  return text.replace(/<@[UW][A-Z0-9]{2,20}>/g, '').trim();
}

function mayProbe(config: BotConfig, channel: string, user: string): boolean {
  const channelOk = config.probeChannels.length === 0 || config.probeChannels.includes(channel) || channel.startsWith('D');
  const userOk = config.probeUsers.length === 0 || config.probeUsers.includes(user);
  return channelOk && userOk;
}

/** zh for users whose Slack locale is Chinese; en otherwise (and when the lookup fails). */
async function userLang(client: WebClient, user: string | undefined): Promise<Lang> {
  if (!user) return 'en';
  try {
    const r = await client.users.info({ user, include_locale: true });
    return /^zh/i.test(r.user?.locale ?? '') ? 'zh' : 'en';
  } catch {
    return 'en';
  }
}

/** Text snippets and small text files attached to a message, read with the bot token (bounded). */
async function attachedText(botToken: string, m: MessageLike): Promise<string[]> {
  const out: string[] = [];
  for (const f of (m.files ?? []).slice(0, 3)) {
    if (!f.url_private || (f.size ?? 0) > 1024 * 1024) continue;
    if (
      !/^text\/|json|xml|x-log/.test(f.mimetype ?? 'text/plain') &&
      !['text', 'log', 'json', 'shell', 'yaml', 'xml'].includes(f.filetype ?? '')
    )
      continue;
    try {
      const res = await fetch(f.url_private, {
        headers: { Authorization: `Bearer ${botToken}` },
        signal: AbortSignal.timeout(5000),
        redirect: 'manual',
      });
      if (res.ok) out.push((await res.text()).slice(0, 1024 * 1024));
    } catch {
      // An unreadable attachment is skipped; the message text is still read.
    }
  }
  return out;
}
