import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { BotConfig } from '../config.js';
import type { Lang } from '../knowledge/types.js';
import type { ProbeRunner } from '../queue/runner.js';
import { redact } from '../security/redact.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { diagnose } from '../triage/diagnose.js';
import type { Engine } from '../triage/engine.js';
import { parseTarget } from '../triage/target.js';
import { parseAlert, type Alert } from './alerts.js';
import { escapeMrkdwn, renderDiagnosisBlocks, renderError, renderProbingMessage, type Block, type SlackMessage } from './blocks.js';
import { parseDiagnoseCommand, unwrapSlackLinks } from './command.js';
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

/** The Slack bot: `/diagnose`, and pasted errors in DMs, mentions and WATCH_CHANNELS. */
export interface Bot {
  readonly app: App;
  /** HTTP mode: serves POST /slack/events (mount it with startHttpServer); undefined in Socket Mode. */
  readonly requestListener?: RequestListener;
  /** Learns the bot's own ids (auth.test) and, in Socket Mode, connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBot(deps: BotDeps): Bot {
  const { config } = deps;
  const seen = deps.seen ?? (deps.store ? { claim: (id: string) => deps.store!.claimEvent(id) } : memorySeenEvents());
  const clientOptions = config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {};
  const logging = deps.logger ? { logger: deps.logger } : { logLevel: LogLevel.WARN };
  const receiver =
    config.mode === 'http' ? new HTTPReceiver({ signingSecret: config.signingSecret!, endpoints: '/slack/events', ...logging }) : undefined;
  const app = receiver
    ? new App({ token: config.botToken, receiver, clientOptions, ...logging })
    : new App({ token: config.botToken, appToken: config.appToken!, socketMode: true, clientOptions, ...logging });
  let botUserId: string | undefined;
  let botId: string | undefined;

  // A retried event (same event_id, X-Slack-Retry-Num) is acknowledged and dropped.
  app.use(async ({ body, next }) => {
    const id = (body as { event_id?: unknown }).event_id;
    if (typeof id === 'string' && !(await seen.claim(`event:${id}`))) return;
    await next();
  });

  app.command('/diagnose', async ({ command, ack, respond, client }) => {
    await ack();
    const lang = await userLang(client, command.user_id);
    const parsed = parseDiagnoseCommand(command.text ?? '');
    if (parsed.kind === 'help') return void (await respond({ response_type: 'ephemeral', text: USAGE[lang] }));
    if (parsed.kind === 'error') return void (await respond(renderError(redact(parsed.message), lang)));
    if (parsed.kind === 'explain') {
      await answerText(client, command.channel_id, undefined, parsed.text, lang, true, (m) => respond(renderError(redact(m), lang)));
      return;
    }
    if (!mayProbe(config, command.channel_id, command.user_id)) {
      return void (await respond(
        renderError(
          redact(
            lang === 'zh'
              ? '此频道或用户不允许运行探测；请联系管理员（PROBE_CHANNELS / PROBE_USERS）。'
              : 'Probes may not be run from this channel or by this user: ask an admin (PROBE_CHANNELS / PROBE_USERS).',
          ),
          lang,
        ),
      ));
    }
    const target = parseTarget(parsed.input);
    if (!target.target) return void (await respond(renderError(redact(target.problems.join('; ')), lang)));
    const check = await deps.policy.check(target.target.url);
    if (!check.ok) return void (await respond(renderError(redact(`${check.reason}. ${check.hint}`), lang)));
    const url = redact(target.target.url.href);
    const placeholder = await client.chat.postMessage({ channel: command.channel_id, ...renderProbingMessage(url, lang) });
    const requestId = randomUUID();
    try {
      const d = await diagnose(deps.engine, deps.runner, target.target, {
        lang,
        ...(parsed.pools.length > 0 ? { pools: parsed.pools } : {}),
      });
      const message = renderDiagnosisBlocks(d, { lang, context: { source: 'probes', url, requestId } });
      await client.chat.update({ channel: command.channel_id, ts: placeholder.ts!, ...message });
    } catch (err) {
      const msg = redact((err as Error).message);
      await client.chat.update({ channel: command.channel_id, ts: placeholder.ts!, ...renderError(msg, lang) });
    }
  });

  app.event('app_mention', async ({ event, client }) => {
    if (isFromBot(event as MessageLike, botUserId)) return;
    const text = stripMention((event as MessageLike).text ?? '');
    const lang = await userLang(client, (event as MessageLike).user);
    await answerText(client, event.channel, (event as MessageLike).thread_ts ?? event.ts, text, lang, false);
  });

  app.event('message', async ({ event, client }) => {
    const raw = event as MessageLike;
    if (config.alertChannels.includes(raw.channel ?? '')) return void (await answerAlert(client, raw));
    const m = readMessage(raw);
    if (!m || isFromBot(m, botUserId)) return;
    const isDm = m.channel_type === 'im';
    const watched = config.watchChannels.includes(m.channel ?? '');
    // Mentions in channels arrive as app_mention too: answered there, not twice.
    if (!isDm && (!watched || (botUserId && (m.text ?? '').includes(`<@${botUserId}>`)))) return;
    const text = [m.text ?? '', ...(await attachedText(client, m))].join('\n');
    const lang = await userLang(client, m.user);
    await answerText(client, m.channel!, m.thread_ts ?? m.ts, text, lang, false);
  });

  /** Explain text and answer in its thread; ordinary conversation (no cause) gets nothing unless asked. */
  async function answerText(
    client: WebClient,
    channel: string,
    threadTs: string | undefined,
    text: string,
    lang: Lang,
    asked: boolean,
    onError?: (message: string) => Promise<unknown>,
  ): Promise<void> {
    let d;
    try {
      d = deps.engine.explain(unwrapSlackLinks(text), { lang });
    } catch (err) {
      if (onError) await onError((err as Error).message);
      return;
    }
    if (d.causes.length === 0 && !asked) return;
    const url = /https?:\/\/[^\s<>|"')]{1,2048}/.exec(unwrapSlackLinks(text))?.[0];
    const message = renderDiagnosisBlocks(d, {
      lang,
      context: { source: 'text', requestId: randomUUID(), ...(url ? { url: redact(url) } : {}) },
    });
    await client.chat.postMessage({ channel, ...(threadTs ? { thread_ts: threadTs } : {}), ...message });
  }

  /**
   * A monitoring alert in an alert channel: answered once in its thread; the same alert firing again
   * within the window updates that answer ("seen N times"); RESOLVED updates it too. Our own posts
   * and replies inside threads are never answered, so no bot loops.
   */
  async function answerAlert(client: WebClient, event: MessageLike): Promise<void> {
    const store = deps.store;
    if (!store || event.thread_ts !== undefined || (botId && event.bot_id === botId) || (botUserId && event.user === botUserId)) return;
    const alert = parseAlert(event);
    if (!alert || !event.channel || !event.ts) return;
    const channel = event.channel;
    const key = `alert:${channel}:${alert.fingerprint}`;
    if (alert.status === 'resolved') {
      const ts = await store.resolveAlert(channel, alert.fingerprint);
      const saved = ts ? await store.loadRequest<SlackMessage>(key) : undefined;
      if (ts && saved) await client.chat.update({ channel, ts, ...withContext(saved, `✅ resolved: ${alert.title}`) });
      return;
    }
    const note = await store.noteAlert(channel, alert.fingerprint, { windowSec: deps.alertWindowSec ?? 3600 });
    if (!note.first) {
      const saved = note.answerTs ? await store.loadRequest<SlackMessage>(key) : undefined;
      if (note.answerTs && saved)
        await client.chat.update({ channel, ts: note.answerTs, ...withContext(saved, `🔁 seen ${note.count} times`) });
      return;
    }
    const message = await alertAnswer(alert);
    const posted = await client.chat.postMessage({ channel, thread_ts: event.ts, ...message });
    if (posted.ts) {
      await store.setAlertAnswer(channel, alert.fingerprint, posted.ts);
      await store.saveRequest(key, message);
    }
  }

  /** Probes when the alert names a URL the policy allows; otherwise the alert's text explained. */
  async function alertAnswer(alert: Alert): Promise<SlackMessage> {
    const lang: Lang = 'en';
    const requestId = randomUUID();
    const target = alert.url ? parseTarget({ url: alert.url }).target : undefined;
    if (target && (await deps.policy.check(target.url)).ok) {
      try {
        const d = await diagnose(deps.engine, deps.runner, target, { lang });
        return renderDiagnosisBlocks(d, { lang, context: { source: 'probes', url: redact(target.url.href), requestId } });
      } catch {
        // No worker or Redis trouble: fall back to the alert's own text.
      }
    }
    const d = deps.engine.explain(alert.errorText, { lang });
    return renderDiagnosisBlocks(d, { lang, context: { source: 'text', requestId, ...(target ? { url: redact(target.url.href) } : {}) } });
  }

  return {
    app,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    async start() {
      const auth = await app.client.auth.test();
      botUserId = typeof auth.user_id === 'string' ? auth.user_id : undefined;
      botId = typeof auth.bot_id === 'string' ? auth.bot_id : undefined;
      if (config.mode === 'socket') await app.start();
    },
    async stop() {
      if (config.mode === 'socket') await app.stop();
    },
  };
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
}

/** The message to read: edited messages carry the new one inside; joins and other noise are skipped. */
function readMessage(e: MessageLike): MessageLike | undefined {
  if (e.subtype === 'message_changed' && e.message)
    return { ...e.message, channel: e.channel, channel_type: e.channel_type, ts: e.message.ts };
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
async function attachedText(client: WebClient, m: MessageLike): Promise<string[]> {
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
        headers: { Authorization: `Bearer ${client.token ?? ''}` },
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
