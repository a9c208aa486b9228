import { finish, pairValue, titleWith, type ChatAlertReader } from '../read-kit.js';
import { looksLikeGrafana, prefixedState, PREFIX } from './alertmanager.js';

/**
 * Grafana alerting's Slack contact point (default template): attachment titled `[FIRING:n]
 * <alertname> (<labels>)` or `[RESOLVED]`, text `**Firing**` / `**Resolved**`, `Value: A=…`,
 * `Labels:` and `Annotations:` as ` - key = value` lines, `Source:` / `Silence:` / `Dashboard:`
 * links, footer `Grafana v…`; colour `#D63232` / `#36a64f`, which Slack delivers as `d63232` /
 * `36a64f` (a real one quoted in a public test: `"color": "D63232"`).
 */
export const grafana: ChatAlertReader = {
  source: 'grafana',
  label: 'Grafana',
  patterns: [PREFIX],
  recognise(r) {
    if (/grafana/.test(r.m.poster)) return 'poster';
    return (PREFIX.test(r.titleLine) || PREFIX.test(r.textLine)) && looksLikeGrafana(r) ? 'shape' : undefined;
  },
  read(r) {
    const title = titleWith(r, PREFIX);
    const s = prefixedState(title, r);
    return finish(r, 'grafana', {
      state: s.state,
      title: s.rest,
      name: pairValue(r.pairs, 'alertname') ?? s.rest,
      ...(s.count !== undefined ? { seenCount: s.count } : {}),
    });
  },
};
