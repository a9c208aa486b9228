import type { AlertState } from '../alert.js';
import { finish, linksTo, pairValue, stableText, titleWith, type ChatAlertReader } from '../read-kit.js';

/**
 * The PagerDuty Slack app's incident messages: `Triggered #1234 <incident link|summary>`
 * (`Acknowledged`, `Escalated`, `Resolved`), with Service, Urgency and Assigned fields. A new
 * incident of the same problem keeps the fingerprint (service + summary), not the number.
 */
const PREFIX =
  /^\[?(Re-triggered|Triggered|Acknowledged|Escalated|Reassigned|Resolved)\]?:?[ \t]{0,4}(?:incident[ \t]{1,4})?(?:\[?#(\d{1,12})\]?:?[ \t]{0,4})?/i;
const NUMBER_FIRST = /^\[?(?:triggered|resolved|acknowledged)\]?:?[ \t]{0,4}(?:incident[ \t]{1,4})?\[?#\d/i;

export const pagerduty: ChatAlertReader = {
  source: 'pagerduty',
  label: 'PagerDuty',
  patterns: [PREFIX, NUMBER_FIRST],
  recognise(r) {
    if (/pagerduty/.test(r.m.poster)) return 'poster';
    return linksTo(r, /pagerduty\.com$/) || NUMBER_FIRST.test(r.titleLine) || NUMBER_FIRST.test(r.textLine) ? 'shape' : undefined;
  },
  read(r) {
    const title = titleWith(r, PREFIX);
    const m = PREFIX.exec(title);
    const word = (m?.[1] ?? pairValue(r.pairs, 'status') ?? '').toLowerCase();
    const t = (m ? title.slice(m[0].length) : title).replace(/^\[?#\d{1,12}\]?:?[ \t]{0,4}/, '').trim();
    let state: AlertState | undefined;
    if (/resolved/.test(word)) state = 'resolved';
    else if (word !== '') state = 'firing';
    else if (/\bresolved\b/i.test(r.body.slice(0, 500))) state = 'resolved';
    else if (/\b(?:triggered|acknowledged|escalated)\b/i.test(r.body.slice(0, 500))) state = 'firing';
    const service = pairValue(r.pairs, 'service', 'impacted service') ?? '';
    return finish(r, 'pagerduty', { state, title: t, name: `${service.toLowerCase()} ${stableText(t.replace(/#\d{1,12}\b/, ''))}` });
  },
};
