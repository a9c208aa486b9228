import type { Lang } from '../knowledge/types.js';
import { redact } from '../security/redact.js';
import { ALERT_WINDOW_DEFAULTS, type AlertWindows, type PostedAnswer } from '../store/alert-windows.js';
import type { Alert } from './alert.js';

/*
 * The one path every alert takes after its reader, whoever sent it:
 *
 * 1. A resolved alert closes its window: its answer, if there is one, is updated with a resolved
 *    line and nothing is posted. A resolved alert never counts as a firing.
 * 2. A firing alert is counted in its window (src/store/alert-windows.ts). The first firing of a
 *    window is answered: the responder asks the engine (the same engine and renderer as pasted
 *    errors, probes when the alert names a URL the policy allows) and the answer is posted, in
 *    the alert's thread or, for a webhook, in its channel with a line naming the alert.
 * 3. Every later firing in the window updates that answer ("seen N times") instead of posting.
 * 4. The answer's buttons (Show all, Run probes, Fixed it, Wrong cause) work like any answer's:
 *    the responder keeps their state.
 *
 * The decision (which of these) is made before `receive` returns, atomically across replicas;
 * the work it implies (engine, probes, posting) is returned to run, so a webhook can be
 * acknowledged at once and do it in the background.
 */

/** Where an alert's answer goes. */
export interface AlertTarget {
  readonly channel: string;
  /** The alert's own message, when it came as one (a Slack alert channel): the answer goes in its thread. */
  readonly threadTs?: string;
  /** The workspace (feedback on the answer is per workspace). */
  readonly team: string;
  /** The channel's language (ALERT_CHANNEL_LANGS). */
  readonly lang: Lang;
  /** How the alert came in, for the metrics: a chat message or a webhook. */
  readonly via: 'chat' | 'webhook';
}

/** A line added to a posted answer. */
export type AlertStatus =
  | { readonly kind: 'opened'; readonly alert: Alert }
  | { readonly kind: 'seen'; readonly count: number }
  | { readonly kind: 'resolved'; readonly at: Date; readonly title: string };

/** What the pipeline needs from the chat it answers in (src/slack/alert-responder.ts for Slack). */
export interface AlertResponder<M> {
  /** The answer to an alert. Never throws for an expected failure: an error is an answer too. */
  answer(alert: Alert, target: AlertTarget, signal: AbortSignal): Promise<M>;
  /** The answer with a status line (replacing an earlier status line). */
  annotate(message: M, status: AlertStatus, lang: Lang): M;
  post(target: AlertTarget, message: M): Promise<{ ok: true; ts: string } | { ok: false; error: string }>;
  update(channel: string, ts: string, message: M): Promise<{ ok: boolean }>;
}

/** What `receive` decided: `answer` (first firing), `repeat`, `resolve`, or `ignore` (resolved, never answered). */
export type AlertAction = 'answer' | 'repeat' | 'resolve' | 'ignore';

export interface AlertReceipt {
  readonly action: AlertAction;
  /** The work the decision implies; run it (and await it, or hand it to a bounded background). Never throws. */
  readonly work?: (signal: AbortSignal) => Promise<void>;
}

/** The pipeline's entry: what the Slack alert-channel handler and the webhook route call. */
export interface AlertIntake {
  receive(alert: Alert, target: AlertTarget): Promise<AlertReceipt>;
}

export interface AlertPipelineDeps<M> {
  readonly windows: AlertWindows;
  readonly responder: AlertResponder<M>;
  /** @defaultValue ALERT_WINDOW_DEFAULTS.windowSec */
  readonly windowSec?: number;
  /** Program-made or masked lines only. */
  readonly log?: (level: 'warn' | 'error', msg: string) => void;
  /** @defaultValue () => new Date() */
  readonly now?: () => Date;
}

export function createAlertPipeline<M>(deps: AlertPipelineDeps<M>): AlertIntake {
  const { windows, responder } = deps;
  const windowSec = deps.windowSec ?? ALERT_WINDOW_DEFAULTS.windowSec;
  const log = deps.log ?? (() => {});
  const now = deps.now ?? (() => new Date());

  async function rewrite(answer: PostedAnswer, status: AlertStatus, lang: Lang): Promise<void> {
    const r = await responder.update(answer.channel, answer.ts, responder.annotate(answer.message as M, status, lang));
    if (!r.ok) log('warn', `alerts: updating the answer ${answer.ts} in ${redact(answer.channel)} failed`);
  }

  return {
    async receive(alert, target) {
      const scope = target.channel;
      const fp = alert.fingerprint;
      if (alert.state === 'resolved') {
        const answer = await windows.resolve(scope, fp);
        if (!answer) return { action: 'ignore' };
        return { action: 'resolve', work: () => rewrite(answer, { kind: 'resolved', at: now(), title: alert.title }, target.lang) };
      }
      const note = await windows.note(scope, fp, windowSec);
      if (!note.first) {
        const answer = note.answer;
        // The first firing's answer is still on its way: it will show the count of the next repeat.
        if (!answer) return { action: 'repeat' };
        return { action: 'repeat', work: () => rewrite(answer, { kind: 'seen', count: note.count }, target.lang) };
      }
      const work = async (signal: AbortSignal): Promise<void> => {
        try {
          let message = (await responder.answer(alert, target, signal)) as M;
          if (target.threadTs === undefined) message = responder.annotate(message, { kind: 'opened', alert }, target.lang);
          const posted = await responder.post(target, message);
          if (!posted.ok) throw new Error(`posting to ${target.channel} failed (${posted.error})`);
          const answer: PostedAnswer = { channel: target.channel, ts: posted.ts, message };
          // Resolved while we answered: the window is gone, so say so on the answer now.
          if (!(await windows.setAnswer(scope, fp, answer)))
            await rewrite(answer, { kind: 'resolved', at: now(), title: alert.title }, target.lang);
        } catch (err) {
          log('warn', redact(`alerts: answering ${fp} failed: ${(err as Error).message}; its next firing tries again`));
          await windows.release(scope, fp).catch(() => {});
        }
      };
      return { action: 'answer', work };
    },
  };
}
