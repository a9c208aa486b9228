import { finish, linkId, linksTo, stableText, titleWith, type ChatAlertReader } from '../read-kit.js';

/**
 * Datadog monitor notifications in Slack: title `Triggered: [P1] <monitor name>` (also
 * `Re-Triggered`, `Warn`, `No Data`, `Recovered`, `[Triggered]` forms), title_link to
 * `app.datadoghq.com/monitors/<id>`, the monitor's message as text, `@slack-…` handles.
 */
const PREFIX = /^\[?(Re-Triggered|Triggered|Recovered|Warn Recovered|Warn|No Data|Renotify|Alert)\]?:?[ \t]{1,4}/i;
const PRIORITY = /^\[P[1-5]\][ \t]{0,4}/i;
const HOSTS = /datadoghq\.|ddog-gov\./;

export const datadog: ChatAlertReader = {
  source: 'datadog',
  label: 'Datadog',
  patterns: [PREFIX, PRIORITY, HOSTS],
  recognise(r) {
    if (/datadog/.test(r.m.poster)) return 'poster';
    const prefixed = (l: string) => PREFIX.test(l) && /\[P[1-5]\]/i.test(l);
    return linksTo(r, HOSTS) || prefixed(r.titleLine) || prefixed(r.textLine) ? 'shape' : undefined;
  },
  read(r) {
    let t = titleWith(r, PREFIX).replace(PRIORITY, '');
    const m = PREFIX.exec(t);
    const word = m?.[1]?.toLowerCase();
    if (m) t = t.slice(m[0].length);
    t = t.replace(PRIORITY, '').trim();
    const monitor = linkId(r, /\/monitors\/(\d{1,20})/) ?? linkId(r, /\/synthetics\/details\/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})/i);
    return finish(r, 'datadog', {
      state: word === undefined ? undefined : /recovered/.test(word) ? 'resolved' : 'firing',
      title: t,
      name: monitor !== undefined ? `monitor:${monitor} ${stableText(t)}` : stableText(t),
    });
  },
};
