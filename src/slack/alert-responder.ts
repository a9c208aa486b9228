import type { Alert } from '../alerts/alert.js';
import { CHAT_READERS } from '../alerts/registry.js';
import type { AlertResponder, AlertStatus, AlertTarget } from '../alerts/pipeline.js';
import type { Lang } from '../knowledge/types.js';
import { redact } from '../security/redact.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { parseTarget } from '../triage/target.js';
import { errorText, type Answerer, type Asker } from './answers.js';
import { escapeMrkdwn, renderError, type Block, type SlackMessage } from './blocks.js';
import type { Poster } from './poster.js';
import type { Threads } from './investigation.js';

/**
 * The alert pipeline's Slack side: an alert is answered by the same answerer as a pasted error
 * (src/slack/answers.ts: the engine, the workspace's feedback, Block Kit, button state), with
 * probes when the alert names a URL the SSRF policy allows, and posted through the poster.
 * Status lines (the alert named, "seen N times", resolved) speak the channel's language.
 */
export interface AlertResponderDeps {
  readonly answerer: Answerer;
  readonly policy: SsrfPolicy;
  readonly poster: Poster;
  /** Threads' investigations: an update of an answer whose thread has follow-ups shows the whole thread's ranking. */
  readonly threads?: Pick<Threads, 'beforeUpdate'>;
}

/** Alert answers' settings. */
export const ALERT_ANSWER_DEFAULTS = {
  /** Budget of each probe run for an alert (nobody is waiting on a command). @defaultValue 10000 */
  probeTimeoutMs: 10_000,
  /** Budget of the SSRF check (DNS) of an alert's URL. @defaultValue 5000 */
  policyCheckMs: 5_000,
} as const;

const LINES = {
  en: {
    opened: (source: string, title: string, firing?: number) => `🔔 ${source}: ${title}${firing ? `, ${firing} firing` : ''}`,
    seen: (n: number) => `🔁 seen ${n} times`,
    resolved: (at: string, title: string) => `✅ Resolved at ${at} UTC: ${title}`,
    notProbed: (why: string) => `not probed: ${why}`,
  },
  zh: {
    opened: (source: string, title: string, firing?: number) => `🔔 ${source}：${title}${firing ? `，${firing} 条告警中` : ''}`,
    seen: (n: number) => `🔁 已出现 ${n} 次`,
    resolved: (at: string, title: string) => `✅ 已于 ${at} UTC 恢复：${title}`,
    notProbed: (why: string) => `未探测：${why}`,
  },
} as const;

/** Block ids of the lines this responder adds (a new status line replaces the old one). */
const IDS = { opened: 'alert-opened', status: 'alert-status', note: 'alert-note' } as const;

export function createAlertResponder(deps: AlertResponderDeps): AlertResponder<SlackMessage> {
  const { answerer, policy, poster } = deps;
  return {
    async answer(alert: Alert, target: AlertTarget, signal: AbortSignal): Promise<SlackMessage> {
      const asker: Asker = { team: target.team, channel: target.channel, lang: target.lang };
      const entry = target.via === 'webhook' ? 'alertmanager' : 'slack_alert';
      const t = LINES[target.lang];
      let note: string | undefined;
      const probeTarget = alert.url ? parseTarget({ url: alert.url }).target : undefined;
      if (probeTarget) {
        const check = await policy.check(probeTarget.url, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(ALERT_ANSWER_DEFAULTS.policyCheckMs)]),
        });
        if (check.ok) {
          try {
            const a = await answerer.probe(asker, entry, { url: alert.url! }, undefined, {
              signal,
              timeoutMs: ALERT_ANSWER_DEFAULTS.probeTimeoutMs,
            });
            return a.message;
          } catch (err) {
            // No worker, or Redis trouble: the alert's own text is explained instead.
            note = t.notProbed(errorText(err).slice(0, 200));
          }
        } else note = t.notProbed(check.reason);
      }
      let message: SlackMessage;
      try {
        message = (await answerer.explain(asker, entry, alert.text, true, alert.url))!.message;
      } catch (err) {
        message = renderError(errorText(err), target.lang);
      }
      return note ? withLine(message, IDS.note, note) : message;
    },

    annotate(message: SlackMessage, status: AlertStatus, lang: Lang): SlackMessage {
      const t = LINES[lang];
      if (status.kind === 'opened') {
        const a = status.alert;
        return withLine(message, IDS.opened, t.opened(labelOf(a.source), a.title, a.state === 'firing' ? a.seenCount : undefined));
      }
      if (status.kind === 'seen') return withLine(message, IDS.status, t.seen(status.count));
      return withLine(message, IDS.status, t.resolved(status.at.toISOString().slice(0, 16).replace('T', ' '), status.title));
    },

    async post(target, message) {
      const r = await poster.post(target.channel, message, target.threadTs ? { thread_ts: target.threadTs } : undefined);
      return r.ok ? { ok: true, ts: r.ts } : { ok: false, error: r.error };
    },

    update: async (channel, ts, message) =>
      poster.update(channel, ts, deps.threads ? await deps.threads.beforeUpdate(channel, ts, message).catch(() => message) : message),
  };
}

/** The message with one context line (masked, escaped) under its header and earlier lines; a line of the same id is replaced. */
function withLine(message: SlackMessage, id: string, line: string): SlackMessage {
  const block: Block = {
    type: 'context',
    block_id: id,
    elements: [{ type: 'mrkdwn', text: escapeMrkdwn(redact(line).slice(0, 600)), verbatim: true }],
  };
  const rest = message.blocks.filter((b) => !('block_id' in b) || b.block_id !== id);
  const order = [IDS.opened, IDS.status, IDS.note] as readonly string[];
  // After the header and the lines that come before this one.
  let at = rest[0]?.type === 'header' ? 1 : 0;
  while (at < rest.length) {
    const b = rest[at]!;
    const bid = 'block_id' in b ? b.block_id : '';
    if (!order.includes(bid) || order.indexOf(bid) > order.indexOf(id)) break;
    at++;
  }
  return { text: message.text, blocks: [...rest.slice(0, at), block, ...rest.slice(at)].slice(0, 50) };
}

/** How a sender is named in a status line: its reader's label. */
function labelOf(source: string): string {
  return CHAT_READERS.find((r) => r.source === source)?.label ?? source;
}
