import type { App } from '@slack/bolt';
import { errorText, type Answer, type Asker } from '../answers.js';
import { renderError } from '../blocks.js';
import { firstUrl, userLang, type BotContext } from '../bot-context.js';
import { readInbound, type InboundMessage, type SlackFile } from '../inbound.js';
import { answerItem, textItem, typedAnswer } from '../investigation.js';

/**
 * Pasted errors: in a DM, in a mention anywhere, or in WATCH_CHANNELS, answered in their thread
 * (message text, code blocks, attached text files and snippets). Ordinary conversation in a
 * watched channel gets nothing; a mention always gets an answer. An edit updates our earlier
 * answer; an edit that did not change the text (a link unfurl) does nothing. Never a bot.
 *
 * In the thread of one of our answers (a paste, /diagnose, an alert) a message that shows any
 * evidence is a follow-up: it joins the thread's investigation, which re-ranks the first answer
 * in place (src/slack/investigation.ts). Its edit changes that evidence, its delete removes it.
 */
export function registerMessages(app: App, ctx: BotContext): void {
  app.event('app_mention', async ({ event, context }) => {
    const m = readInbound(event, ctx.self.userId ? { dropUser: ctx.self.userId } : {});
    if (isFromBot(event, m, ctx) || !m.channel || !m.ts) return;
    const text = await fullText(ctx, m);
    if (await followUp(ctx, m, text)) return;
    const lang = await userLang(ctx.client, m.user);
    await answer(ctx, { team: context.teamId ?? '', channel: m.channel, lang }, m, text, true);
  });

  app.event('message', async ({ event, context }) => {
    const channel = (event as { channel?: string }).channel ?? '';
    if (await deleted(ctx, event)) return;
    const m = readInbound(event);
    if (!readable(m) || isFromBot(event, m, ctx) || !m.channel || !m.ts) return;
    const mentioned = Boolean(ctx.self.userId && m.mentions.includes(ctx.self.userId));
    const inThread = m.threadTs !== undefined;
    // Alert channels: alerts are the alert handler's; people's thread replies can follow up an answer.
    if (ctx.config.alertChannels.includes(channel)) {
      if (inThread && !mentioned) await followUp(ctx, m, await fullText(ctx, m));
      return;
    }
    const isDm = m.channelType === 'im';
    const watched = ctx.config.watchChannels.includes(m.channel);
    // Mentions in channels arrive as app_mention too: answered there, not twice.
    if (mentioned && !isDm) return;
    if (!isDm && !watched && !inThread) return;
    const text = await fullText(ctx, m);
    if (inThread && (await followUp(ctx, m, text))) return;
    if (!isDm && !watched) return;
    const lang = await userLang(ctx.client, m.user);
    await answer(ctx, { team: context.teamId ?? '', channel: m.channel, lang }, m, text, false);
  });
}

/** Messages people write (plain, with files, broadcast from a thread) and their edits; not joins and other notices. */
function readable(m: InboundMessage): boolean {
  // Slack also sends message_changed when it unfurls a link: the text did not change, nothing to do.
  if (m.edited) return m.previous === undefined || m.previous.text !== m.text;
  return m.subtype === undefined || m.subtype === 'file_share' || m.subtype === 'thread_broadcast';
}

/**
 * A message in the thread of one of our answers (or an edit of one of its items): added to, changed
 * in or removed from the thread's investigation, which re-ranks the answer. False when the thread
 * has no investigation, or the message shows no evidence and changes none (it is then answered,
 * or not, as any message).
 */
async function followUp(ctx: BotContext, m: InboundMessage, text: string): Promise<boolean> {
  const thread = m.threadTs ?? m.ts!;
  const channel = m.channel!;
  const evidence = showsEvidence(ctx, text);
  // Only a reply with evidence is worth a look at the thread's history (no investigation kept yet).
  const kept = await ctx.threads.find(channel, thread, { rebuild: evidence && thread !== m.ts });
  if (!kept) return false;
  // The item this message gave earlier: its text, or its typed answer to the question.
  const mine = kept.items.find((i) => i.id === m.ts || i.ts === m.ts);
  if (!evidence) {
    // A typed reply to the question the answer asks ("only some of them"): evidence as a click is.
    // Its edit is read again against the same question.
    const question =
      mine?.kind === 'answer'
        ? ctx.engine.kb.questions.get(mine.id.slice('answer:'.length))
        : thread !== m.ts && !mine
          ? await ctx.threads.offered(kept)
          : undefined;
    const reply = question ? typedAnswer(question, m.text) : undefined;
    if (question && reply) {
      const seq = mine?.seq ?? ctx.threads.nextSeq(kept);
      await ctx.threads.change(channel, thread, { put: answerItem(question.id, reply.id, reply.label[kept.meta.lang], seq, m.user, m.ts) });
      return true;
    }
    // An edit that took the evidence (or the answer) out: the item goes.
    if (mine) await ctx.threads.change(channel, thread, { remove: m.ts! });
    return Boolean(mine) || (m.edited && thread === m.ts);
  }
  const item = textItem(m.ts!, kindOf(m), text, ctx.threads.nextSeq(kept), m.user, m.ts);
  await ctx.threads.change(channel, thread, { put: item });
  return true;
}

/** Whether a text shows anything the engine reads (a chat line does not); no ranking needed for that. */
function showsEvidence(ctx: BotContext, text: string): boolean {
  return ctx.engine.gather([{ id: 'text', text }]).signals.length > 0;
}

/** What a message says: its text and the text files and snippets attached to it. */
async function fullText(ctx: BotContext, m: InboundMessage): Promise<string> {
  return [m.text, ...(await attachedText(ctx.config.botToken, m.files))].join('\n');
}

/** A message that is only an attachment is a file; anything typed makes it a text. */
function kindOf(m: InboundMessage): 'file' | 'text' {
  return m.files.length > 0 && m.text.trim() === '' ? 'file' : 'text';
}

/** message_deleted: a deleted follow-up's evidence leaves its thread's investigation. */
async function deleted(ctx: BotContext, event: unknown): Promise<boolean> {
  const e = event as { subtype?: unknown; channel?: unknown; deleted_ts?: unknown; previous_message?: { thread_ts?: unknown } };
  if (e.subtype !== 'message_deleted') return false;
  if (typeof e.channel !== 'string' || typeof e.deleted_ts !== 'string') return true;
  const thread = typeof e.previous_message?.thread_ts === 'string' ? e.previous_message.thread_ts : e.deleted_ts;
  await ctx.threads.change(e.channel, thread, { remove: e.deleted_ts });
  return true;
}

/** Never answer a bot (ourselves included): no loops with other bots. */
function isFromBot(event: unknown, m: InboundMessage, ctx: BotContext): boolean {
  const e = event as { app_id?: unknown; message?: { app_id?: unknown } };
  const appId = e.message?.app_id ?? e.app_id;
  return Boolean(m.botId || appId || m.subtype === 'bot_message' || (ctx.self.userId && m.user === ctx.self.userId));
}

/** The error answered in its thread; an edit updates the earlier answer instead of a second reply. */
async function answer(ctx: BotContext, asker: Asker, m: InboundMessage, text: string, asked: boolean): Promise<void> {
  const thread = m.threadTs ?? m.ts!;
  let a: Answer | undefined;
  try {
    a = await ctx.answerer.explain(asker, 'slack_message', text, asked, firstUrl(text));
  } catch (err) {
    if (asked) await ctx.poster.post(asker.channel, renderError(errorText(err), asker.lang), { thread_ts: thread });
    return;
  }
  if (!a) return;
  const earlier = m.edited ? await ctx.states.reply(asker.channel, m.ts!).catch(() => undefined) : undefined;
  if (earlier) return void (await ctx.poster.update(asker.channel, earlier, a.message));
  const posted = await ctx.poster.post(asker.channel, a.message, { thread_ts: thread });
  if (!posted.ok) return;
  await ctx.states.saveReply(asker.channel, m.ts!, posted.ts).catch(() => undefined);
  // The thread is now this answer's investigation; the pasted message is its first evidence.
  await ctx.threads.open(
    { channel: asker.channel, thread, answerTs: posted.ts, requestId: a.requestId, team: asker.team, lang: asker.lang, source: 'text' },
    a.diagnosis,
    [textItem(m.ts!, kindOf(m), text, 1, m.user, m.ts)],
  );
}

/** Text snippets and small text files attached to a message, fetched with the bot token (bounded), as uploaded. */
async function attachedText(botToken: string, files: readonly SlackFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files.slice(0, 3)) {
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
