import type { App } from '@slack/bolt';
import { redact } from '../../security/redact.js';
import { parseTarget } from '../../triage/target.js';
import { errorText, type Answer, type Asker } from '../answers.js';
import { renderError, renderProbingMessage, type SlackMessage } from '../blocks.js';
import { firstUrl, mayProbe, userLang, type BotContext } from '../bot-context.js';
import { parseDiagnoseCommand } from '../command.js';
import { decodeSlackText } from '../inbound.js';
import type { KeptTarget } from '../requests.js';
import { TEXT, USAGE } from '../texts.js';

/**
 * `/diagnose`: acknowledged at once; help ephemerally; pasted text explained in the channel; a
 * URL checked (target, SSRF policy, who may probe), then a "Probing …" message updated in place
 * with the answer. The command text is decoded once at the edge (src/slack/inbound.ts), so a URL
 * with `&` in its query is probed and shown as typed. Each user is held to
 * SLACK_COMMAND_RATE_LIMIT; past it, an ephemeral message says when to try again.
 */
export function registerCommand(app: App, ctx: BotContext): void {
  app.command('/diagnose', async ({ command, ack, respond, context }) => {
    await ack();
    const lang = await userLang(ctx.client, command.user_id);
    const asker: Asker = { team: context.teamId ?? command.team_id, channel: command.channel_id, lang };
    const ephemeral = (m: string) => respond(renderError(redact(m), lang));
    const parsed = parseDiagnoseCommand(decodeSlackText(command.text ?? ''));
    if (parsed.kind === 'help') return void (await respond({ response_type: 'ephemeral', text: USAGE[lang] }));
    const allowed = await ctx.commandLimit.take(`diagnose:${asker.team}:${command.user_id}`);
    if (!allowed.ok) return void (await ephemeral(TEXT[lang].slowDown(allowed.retryAfterSec)));
    if (parsed.kind === 'error') return void (await ephemeral(parsed.message));
    if (parsed.kind === 'explain') {
      let answer: Answer | undefined;
      try {
        answer = await ctx.answerer.explain(asker, 'slack_command', parsed.text, true, firstUrl(parsed.text));
      } catch (err) {
        return void (await ephemeral(errorText(err)));
      }
      const posted = await ctx.poster.post(command.channel_id, answer!.message);
      if (!posted.ok) await respond({ response_type: 'in_channel', ...answer!.message });
      return;
    }
    if (!mayProbe(ctx.config, command.channel_id, command.user_id)) return void (await ephemeral(TEXT[lang].mayNotProbe));
    const target = parseTarget(parsed.input);
    if (!target.target) return void (await ephemeral(target.problems.join('; ')));
    const check = await ctx.policy.check(target.target.url);
    if (!check.ok) return void (await ephemeral(`${check.reason}. ${check.hint}`));
    const kept: KeptTarget = { ...parsed.input, ...(parsed.pools.length > 0 ? { pools: parsed.pools } : {}) };
    const placeholder = await ctx.poster.post(command.channel_id, renderProbingMessage(redact(target.target.url.href), lang));
    if (!placeholder.ok) await ephemeral(TEXT[lang].notPosted(placeholder.error));
    let message: SlackMessage;
    try {
      message = (await ctx.answerer.probe(asker, 'slack_command', kept)).message;
    } catch (err) {
      message = renderError(errorText(err), lang);
    }
    if (placeholder.ok) await ctx.poster.update(command.channel_id, placeholder.ts, message);
    else await respond({ response_type: 'in_channel', ...message });
  });
}
