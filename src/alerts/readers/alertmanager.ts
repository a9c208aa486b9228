import type { AlertState } from '../alert.js';
import { colorState, finish, pairValue, titleWith, type ChatAlertReader, type Reading } from '../read-kit.js';

/**
 * Alertmanager's Slack notifier. Default template (prometheus/alertmanager template/default.tmpl):
 * username `AlertManager`, one attachment titled `[FIRING:n] <group labels> (<other common
 * labels>)` or `[RESOLVED] …`, title_link to the Alertmanager UI, fallback `title | link`, colour
 * `danger` / `good`, which Slack delivers as `a30200` / `2eb886`. Custom templates keep the
 * prefix in the title or text and list labels as `• *name:* \`value\``.
 */
export const PREFIX = /^\[(FIRING|RESOLVED)(?::(\d{1,9}))?(?:,[ \t]{0,4}RESOLVED:\d{1,9})?\][ \t]{0,4}/i;

/** Grafana's contact points use the same prefix; these tell its messages apart. */
export function looksLikeGrafana(r: Reading): boolean {
  return (
    /\*\*(?:Firing|Resolved)\*\*|^Value:[ \t]/im.test(r.body) ||
    /grafana/i.test(r.m.footer) ||
    r.links.some((u) => /\/alerting\/|grafana/i.test(u))
  );
}

/** The state of a `[FIRING]`-style message: its prefix, else Grafana's body marker, else the colour. */
export function prefixedState(title: string, r: Reading): { state: AlertState | undefined; rest: string; count?: number } {
  const m = PREFIX.exec(title);
  const count = m?.[2] === undefined ? undefined : Number(m[2]);
  if (m?.[1] !== undefined)
    return { state: m[1].toUpperCase() === 'FIRING' ? 'firing' : 'resolved', rest: title.slice(m[0].length), ...(count ? { count } : {}) };
  const rest = title.replace(/^\[?(?:firing|resolved)\]?:?[ \t]{0,4}/i, '');
  if (/\*\*Firing\*\*/.test(r.body)) return { state: 'firing', rest };
  if (/\*\*Resolved\*\*/.test(r.body)) return { state: 'resolved', rest };
  const state = colorState(r.m) ?? (/\bresolved\b/i.test(title) ? 'resolved' : /\bfiring\b/i.test(title) ? 'firing' : undefined);
  return { state, rest };
}

export const alertmanager: ChatAlertReader = {
  source: 'alertmanager',
  label: 'Alertmanager',
  patterns: [PREFIX],
  recognise(r) {
    if (/alertmanager|prometheus/.test(r.m.poster)) return 'poster';
    return (PREFIX.test(r.titleLine) || PREFIX.test(r.textLine)) && !looksLikeGrafana(r) ? 'shape' : undefined;
  },
  read(r) {
    const title = titleWith(r, PREFIX);
    const s = prefixedState(title, r);
    return finish(r, 'alertmanager', {
      state: s.state,
      title: s.rest,
      name: pairValue(r.pairs, 'alertname') ?? s.rest,
      ...(s.count !== undefined ? { seenCount: s.count } : {}),
    });
  },
};
