import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, type Logger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { BotConfig } from '../config.js';
import type { Lang } from '../knowledge/types.js';
import type { ProbeRunner } from '../queue/runner.js';
import { redact } from '../security/redact.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { diagnose } from '../triage/diagnose.js';
import type { Engine } from '../triage/engine.js';
import { parseTarget } from '../triage/target.js';
import { renderDiagnosisBlocks, renderError, renderProbingMessage } from './blocks.js';
import { parseDiagnoseCommand, unwrapSlackLinks } from './command.js';

/** What the bot needs; entry points (src/main.ts) and tests build it. */
export interface BotDeps {
  readonly config: BotConfig;
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly policy: SsrfPolicy;
  /** Remembers event ids so a Slack retry never produces a second reply. */
  readonly seen?: SeenEvents;
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
export function createBot(deps: BotDeps): { app: App; start(): Promise<{ port?: number }>; stop(): Promise<void> } {
  const { config } = deps;
  const seen = deps.seen ?? memorySeenEvents();
  const clientOptions = config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {};
  const app =
    config.mode === 'socket'
      ? new App({
          token: config.botToken,
          appToken: config.appToken!,
          socketMode: true,
          clientOptions,
          ...(deps.logger ? { logger: deps.logger } : { logLevel: LogLevel.WARN }),
        })
      : new App({
          token: config.botToken,
          signingSecret: config.signingSecret!,
          clientOptions,
          ...(deps.logger ? { logger: deps.logger } : { logLevel: LogLevel.WARN }),
        });
  let botUserId: string | undefined;

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
    const m = readMessage(event as MessageLike);
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

  return {
    app,
    async start() {
      const auth = await app.client.auth.test();
      botUserId = typeof auth.user_id === 'string' ? auth.user_id : undefined;
      if (config.mode === 'socket') {
        await app.start();
        return {};
      }
      const server = (await app.start(config.port)) as Server;
      return { port: (server.address() as AddressInfo).port };
    },
    async stop() {
      await app.stop();
    },
  };
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
