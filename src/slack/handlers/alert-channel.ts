import type { App } from '@slack/bolt';
import { readChatAlert } from '../../alerts/registry.js';
import type { BotContext } from '../bot-context.js';
import { readInbound } from '../inbound.js';

/*
 * ALERT_CHANNELS: a monitoring integration's message is read into an Alert by its sender's
 * reader (src/alerts/registry.ts) and handed to the alert pipeline (src/alerts/pipeline.ts),
 * which answers it once in its thread, updates that answer when it fires again or resolves.
 * People, replies inside threads and our own posts are never read as alerts, so no bot loops.
 * An edit (link unfurls are edits) is never a new firing: it counts only when it resolves the
 * alert (Sentry edits its message when someone resolves the issue from Slack).
 */
export function registerAlertChannel(app: App, ctx: BotContext): void {
  app.event('message', async ({ event, context }) => {
    const channel = (event as { channel?: string }).channel ?? '';
    if (!ctx.config.alertChannels.includes(channel)) return;
    const m = readInbound(event);
    if (!m.channel || !m.ts) return;
    // A reply in a thread; a thread's parent carries thread_ts = its own ts once it has replies.
    if (m.threadTs !== undefined && m.threadTs !== m.ts) return;
    if ((ctx.self.botId && m.botId === ctx.self.botId) || (ctx.self.userId && m.user === ctx.self.userId)) return;
    const alert = readChatAlert(m.view);
    if (!alert) return;
    if (m.edited && (alert.state !== 'resolved' || (m.previous && readChatAlert(m.previous.view)?.state === 'resolved'))) return;
    const lang = ctx.config.alertChannelLangs[channel] ?? 'en';
    const receipt = await ctx.alerts.receive(alert, {
      channel: m.channel,
      threadTs: m.ts,
      team: context.teamId ?? ctx.self.teamId ?? '',
      lang,
      via: 'chat',
    });
    await receipt.work?.(new AbortController().signal);
  });
}
