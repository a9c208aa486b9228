import type { AlertState } from '../alert.js';
import { finish, linkId, linksTo, stableText, titleWith, type ChatAlertReader } from '../read-kit.js';

/**
 * Sentry's Slack alerts. Issue alerts in Block Kit (getsentry/sentry
 * tests/sentry/integrations/slack/test_message_builder.py): a section `:red_circle: <issue
 * link|*title*>`, the culprit, the message in a code block, tags, a context `Events: *3*
 * State: *Ongoing* …`, Resolve / Archive buttons, and `Project: … Alert: … Short ID: …`. When
 * someone resolves it from Slack, Sentry edits the message (Slack sends message_changed) with
 * an Unresolve button and `State: *Resolved*`. Older integrations used one attachment with the
 * issue link, `Events:` and a short-id footer. Metric alerts read `Critical:` / `Resolved:`.
 */
const METRIC = /^(Critical|Warning|Resolved):[ \t]{0,4}/i;

export const sentry: ChatAlertReader = {
  source: 'sentry',
  label: 'Sentry',
  patterns: [METRIC],
  recognise(r) {
    if (/sentry/.test(r.m.poster)) return 'poster';
    return linksTo(r, /(?:^|\.)sentry\.io$/) || /sentry/i.test(r.m.footer) ? 'shape' : undefined;
  },
  read(r) {
    const title = titleWith(r, METRIC);
    const m = METRIC.exec(title);
    const t = m ? title.slice(m[0].length) : title;
    const resolved =
      m?.[1]?.toLowerCase() === 'resolved' ||
      /\bresolved by\b|State:[ \t]{0,4}\*?Resolved\b|^~[^~\n]{1,500}~$/im.test(r.body) ||
      /\bresolved\b/i.test(r.m.footer) ||
      r.m.links.some((l) => l.kind === 'button' && /^unresolve$/i.test(l.label ?? '')) ||
      /:white_circle:|:large_green_circle:/.test(r.m.text);
    const state: AlertState = resolved ? 'resolved' : 'firing';
    const issue = linkId(r, /\/issues\/(\d{1,20})/);
    const shortId =
      /\b([A-Z][A-Z0-9_]{1,30}-[A-Z0-9]{1,10})\b/.exec(r.m.footer)?.[1] ??
      /Short ID:[ \t]{0,4}([A-Z][A-Z0-9_]{1,30}-[A-Z0-9]{1,10})/.exec(r.body)?.[1];
    const rule = linkId(r, /\/alerts\/rules\/(?:[^/\s]{1,80}\/)?(\d{1,20})/);
    const name =
      issue !== undefined
        ? `issue:${issue}`
        : shortId !== undefined
          ? `issue:${shortId}`
          : rule !== undefined
            ? `rule:${rule}`
            : stableText(t);
    const events = /\bEvents:[ \t]{0,4}\*?(\d{1,9})\b/.exec(r.body)?.[1];
    return finish(r, 'sentry', {
      state,
      title: t,
      name,
      nameOnly: issue !== undefined || shortId !== undefined,
      ...(events ? { seenCount: Number(events) } : {}),
    });
  },
};
