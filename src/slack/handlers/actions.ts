import type { App } from '@slack/bolt';
import type { Lang } from '../../knowledge/types.js';
import { feedback as feedbackMetric } from '../../metrics.js';
import { redact } from '../../security/redact.js';
import { parseTarget } from '../../triage/target.js';
import { errorText, type Asker } from '../answers.js';
import { ACTIONS, escapeMrkdwn, renderDiagnosisBlocks, renderError, renderProbingMessage, type SlackMessage } from '../blocks.js';
import { mayProbe, userLang, type BotContext } from '../bot-context.js';
import { answerItem, knownAnswer, probesItem } from '../investigation.js';
import { diffRuns, expandSignals, recoverTarget, summariseRun, type RequestState } from '../requests.js';
import type { DiagnoseResult } from '../../triage/diagnose.js';
import { TEXT } from '../texts.js';

/*
 * The answers' buttons, whatever made the answer (/diagnose, a paste, an alert channel, the
 * Alertmanager webhook): every answer keeps its state under the request id its buttons carry.
 * - Show all causes: the same answer with every cause, updated in place.
 * - Run probes (a text answer naming a URL) / Re-probe (what changed since the last run): in the thread.
 * - Fixed it / Wrong cause: one vote per user per error, kept per workspace; a later vote replaces the earlier.
 * - A question's answer (knowledge/questions/): evidence in the thread's investigation, weighted as
 *   the question says; the answer re-ranks in place. A later answer to the same question replaces it.
 * In a thread with an investigation, Show all and the probes re-rank the whole thread's evidence,
 * and a probe run joins it and updates the first answer instead of posting a message of its own.
 * Confirmations and refusals go to the clicking user only, in the answer's thread.
 */

const ACTION_IDS = new RegExp(`^(?:${Object.values(ACTIONS).join('|')}|${ACTIONS.answerQuestion}:[a-z0-9_]{1,64})$`);
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CAUSE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

interface ActionBody {
  readonly user?: { id?: string };
  readonly team?: { id?: string } | null;
  readonly channel?: { id?: string };
  readonly container?: { message_ts?: string; channel_id?: string };
  readonly message?: { ts?: string; thread_ts?: string };
}

/** Where a click happened and who clicked: the answer, its thread, the voter. */
interface Click {
  readonly asker: Asker;
  readonly user: string;
  readonly requestId: string;
  readonly causeId?: string;
  readonly question?: string;
  readonly answer?: string;
  readonly state: RequestState | undefined;
  /** The answer message. */
  readonly ts: string;
  /** The answer's thread (its own ts when it is not in one). */
  readonly thread: string;
  tell(text: string): Promise<unknown>;
}

export function registerActions(app: App, ctx: BotContext): void {
  app.action(ACTION_IDS, async ({ ack, body, action, context }) => {
    await ack();
    const b = body as ActionBody;
    const a = action as { action_id?: string; value?: string };
    const channel = b.channel?.id ?? b.container?.channel_id;
    const user = b.user?.id;
    const ts = b.container?.message_ts ?? b.message?.ts;
    if (!channel || !user || !ts || !a.action_id) return;
    const lang = await userLang(ctx.client, user);
    const thread = b.message?.thread_ts ?? ts;
    const tell = (m: string) => ctx.poster.ephemeral(channel, user, renderError(redact(m), lang), { thread_ts: thread });
    const value = readActionValue(a.value);
    if (!value) return void (await tell(TEXT[lang].expired));
    const state = await ctx.states.load(value.requestId).catch(() => undefined);
    const click: Click = {
      asker: { team: context.teamId ?? b.team?.id ?? '', channel, lang },
      user,
      requestId: value.requestId,
      ...(value.causeId ? { causeId: value.causeId } : {}),
      ...(value.question && value.answer ? { question: value.question, answer: value.answer } : {}),
      state,
      ts,
      thread,
      tell,
    };
    if (a.action_id.startsWith(`${ACTIONS.answerQuestion}:`)) return answerQuestion(ctx, click);
    switch (a.action_id) {
      case ACTIONS.showAll:
        return showAll(ctx, click);
      case ACTIONS.runProbes:
      case ACTIONS.reprobe:
        return probeAgain(ctx, a.action_id, click);
      case ACTIONS.fixed:
      case ACTIONS.wrong:
        return recordFeedback(ctx, a.action_id === ACTIONS.fixed ? 'fixed' : 'wrong', click);
    }
  });
}

/** A question's answer: evidence in the thread's investigation, with the weight knowledge/questions/ gives it. */
async function answerQuestion(ctx: BotContext, c: Click): Promise<void> {
  const t = TEXT[c.asker.lang];
  const known = c.question && c.answer ? knownAnswer(ctx.engine.kb, c.question, c.answer) : undefined;
  if (!known || !c.question || !c.answer) return void (await c.tell(t.expired));
  const inv = await ctx.threads.find(c.asker.channel, c.thread);
  if (!inv || inv.meta.requestId !== c.requestId) return void (await c.tell(t.expired));
  const item = answerItem(c.question, c.answer, known.label(inv.meta.lang), ctx.threads.nextSeq(inv), c.user);
  await ctx.threads.change(c.asker.channel, c.thread, { put: item });
}

/** "Show all causes": the same answer with every cause, updated in place. */
async function showAll(ctx: BotContext, c: Click): Promise<void> {
  const { state, requestId } = c;
  const lang: Lang = c.asker.lang;
  const inv = await ctx.threads.find(c.asker.channel, c.thread, { rebuild: false });
  if (inv && inv.meta.answerTs === c.ts)
    return void (await ctx.poster.update(c.asker.channel, c.ts, await ctx.threads.render(inv, { showAll: true })));
  let d = ctx.answerer.recent(requestId);
  if (!d && state?.kind === 'text' && state.text) d = ctx.engine.explain(state.text, { lang });
  if (!d && state?.kind === 'probes' && state.signals) d = ctx.engine.rankSignals(expandSignals(state.signals), { lang });
  if (!d || !state) return void (await c.tell(TEXT[lang].expired));
  const message = renderDiagnosisBlocks(d, {
    lang,
    showAll: true,
    context: { source: state.kind, requestId, ...(state.url ? { url: redact(state.url) } : {}) },
  });
  await ctx.poster.update(c.asker.channel, c.ts, message);
}

/** "Run probes" and "Re-probe", in the thread. */
async function probeAgain(ctx: BotContext, action: string, c: Click): Promise<void> {
  const { asker, state, requestId } = c;
  const t = TEXT[asker.lang];
  if (!state) return void (await c.tell(t.expired));
  const target = recoverTarget(state, ctx.sealer);
  if (!target) return void (await c.tell(state.targetDropped === 'secret' ? t.secretTarget : t.noTarget));
  if (!mayProbe(ctx.config, asker.channel, c.user)) return void (await c.tell(t.mayNotProbe));
  const parsed = parseTarget(target);
  if (!parsed.target) return void (await c.tell(parsed.problems.join('; ')));
  const check = await ctx.policy.check(parsed.target.url);
  if (!check.ok) return void (await c.tell(`${check.reason}. ${check.hint}`));
  // A double click runs once (the window spans replicas; a later click runs again and compares).
  if (!(await ctx.dedupe.claim(`click:${requestId}:${action}`, 3).catch(() => true))) return void (await c.tell(t.busy));
  const previous = action === ACTIONS.reprobe ? await ctx.states.lastRun(requestId).catch(() => undefined) : undefined;
  const inv = await ctx.threads.find(asker.channel, c.thread);
  if (inv && inv.meta.answerTs === c.ts) {
    // The run joins the thread's evidence and updates this answer; no message of its own.
    await ctx.threads.refresh(asker.channel, c.thread, ['dns', 'tcp', 'tls', 'http']).catch(() => undefined);
    let answer;
    try {
      answer = await ctx.answerer.probe({ ...asker, lang: inv.meta.lang }, 'slack_button', target, previous);
    } catch (err) {
      await ctx.threads.refresh(asker.channel, c.thread).catch(() => undefined);
      return void (await c.tell(errorText(err)));
    }
    const d = answer.diagnosis as DiagnoseResult;
    const run = summariseRun(d);
    await ctx.states.saveRun(requestId, run).catch(() => undefined);
    const item = probesItem(d, ctx.threads.nextSeq(inv), c.user);
    await ctx.threads.change(asker.channel, c.thread, { put: item }, previous ? { changes: diffRuns(previous, run, inv.meta.lang) } : {});
    return;
  }
  const placeholder = await ctx.poster.post(asker.channel, renderProbingMessage(redact(parsed.target.url.href), asker.lang), {
    thread_ts: c.thread,
  });
  let message: SlackMessage;
  try {
    const answer = await ctx.answerer.probe(asker, 'slack_button', target, previous);
    // The next Re-probe of the same answer compares with this run.
    if (answer.run) await ctx.states.saveRun(requestId, answer.run).catch(() => undefined);
    message = answer.message;
  } catch (err) {
    message = renderError(errorText(err), asker.lang);
  }
  if (placeholder.ok) await ctx.poster.update(asker.channel, placeholder.ts, message);
  else await ctx.poster.post(asker.channel, message, { thread_ts: c.thread });
}

/** "Fixed it" / "Wrong cause": stored per workspace (ranking and recall), acknowledged to the voter in the thread. */
async function recordFeedback(ctx: BotContext, kind: 'fixed' | 'wrong', c: Click): Promise<void> {
  const { asker, state, causeId } = c;
  const t = TEXT[asker.lang];
  if (!state || !causeId || !ctx.engine.kb.entries.has(causeId)) return void (await c.tell(t.expired));
  if (!ctx.feedback) return void (await c.tell(t.noFeedbackStore));
  const outcome = await ctx.feedback.recordFeedback(asker.team, {
    causeId,
    kind,
    signature: state.signature,
    user: c.user,
    ...(kind === 'fixed' && state.fixes[causeId] ? { fixTitle: redact(state.fixes[causeId]!) } : {}),
  });
  if (outcome !== 'repeat') feedbackMetric.inc({ kind });
  const title = escapeMrkdwn(ctx.engine.kb.entries.get(causeId)?.title[asker.lang] ?? causeId);
  const said = kind === 'fixed' ? t.fixed(title) : t.wrong(title);
  const text = outcome === 'repeat' ? t.repeat : outcome === 'changed' ? `${said} ${t.replaced}` : said;
  await ctx.poster.ephemeral(
    asker.channel,
    c.user,
    { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] },
    { thread_ts: c.thread },
  );
}

/** A button's value: `{"requestId": uuid, "causeId"?: id}`; anything else is rejected. */
function readActionValue(raw: string | undefined): { requestId: string; causeId?: string; question?: string; answer?: string } | undefined {
  if (!raw || raw.length > 2000) return undefined;
  try {
    const v = JSON.parse(raw) as { requestId?: unknown; causeId?: unknown; question?: unknown; answer?: unknown };
    if (typeof v.requestId !== 'string' || !REQUEST_ID.test(v.requestId)) return undefined;
    if (v.causeId !== undefined && (typeof v.causeId !== 'string' || !CAUSE_ID.test(v.causeId))) return undefined;
    if (v.question !== undefined && (typeof v.question !== 'string' || !CAUSE_ID.test(v.question))) return undefined;
    if (v.answer !== undefined && (typeof v.answer !== 'string' || !/^[a-z0-9_]{1,64}$/.test(v.answer))) return undefined;
    return {
      requestId: v.requestId,
      ...(typeof v.causeId === 'string' ? { causeId: v.causeId } : {}),
      ...(typeof v.question === 'string' && typeof v.answer === 'string' ? { question: v.question, answer: v.answer } : {}),
    };
  } catch {
    return undefined;
  }
}
