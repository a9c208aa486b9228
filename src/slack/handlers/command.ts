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
import { progressiveMessage } from '../progress.js';
import { probesItem, textItem } from '../investigation.js';
import type { DiagnoseResult } from '../../triage/diagnose.js';

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
      if (!posted.ok) return void (await respond({ response_type: 'in_channel', ...answer!.message }));
      // The answer's thread is its investigation; the command's text is the first evidence.
      await ctx.threads.open(
        {
          channel: asker.channel,
          thread: posted.ts,
          answerTs: posted.ts,
          requestId: answer!.requestId,
          team: asker.team,
          lang,
          source: 'text',
        },
        answer!.diagnosis,
        [textItem('command', 'text', parsed.text, 1, command.user_id)],
      );
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
    // The first ranked answer replaces "Probing …" as soon as the fast probes are in, then fills in.
    const progress = placeholder.ok
      ? progressiveMessage((m) => ctx.poster.update(command.channel_id, placeholder.ts, m), ctx.progress)
      : undefined;
    let message: SlackMessage;
    let done: Answer | undefined;
    try {
      done = await ctx.answerer.probe(asker, 'slack_command', kept, undefined, {}, progress ? (m) => progress.partial(m) : undefined);
      message = done.message;
    } catch (err) {
      message = renderError(errorText(err), lang);
    }
    if (progress) await progress.final(message);
    else await respond({ response_type: 'in_channel', ...message });
    if (done && placeholder.ok) {
      // The answer's thread is its investigation; this probe run is the first evidence.
      const d = done.diagnosis as DiagnoseResult;
      await ctx.threads.open(
        {
          channel: asker.channel,
          thread: placeholder.ts,
          answerTs: placeholder.ts,
          requestId: done.requestId,
          team: asker.team,
          lang,
          source: 'probes',
          url: redact(target.target.url.href),
        },
        d,
        [probesItem(d, 1, command.user_id)],
      );
    }
  });
}
