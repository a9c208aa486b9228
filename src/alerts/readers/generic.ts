import type { AlertState } from '../alert.js';
import { finish, RE, stableText, type ChatAlertReader } from '../read-kit.js';

/**
 * Any other bot whose message reads like a failure (error, failed, down, timeout, refused, 5xx,
 * critical, alarm, firing, …): it is an alert unless it reads as a success notice (deployed,
 * succeeded, passed, …) with no strong failure word. Last in the registry.
 */
const STRONG =
  /\b(?:fail(?:ed|ure|ures|ing|s)?|down|outage|unhealthy|unreachable|unavailable|timed[ -]?out|timeouts?|refused|critical|alarm|firing|exceptions?|panic|degraded|triggered|5\d\d|5xx)\b/i;
const SUCCESS =
  /\b(?:deployed|deployment (?:succeeded|completed|finished)|succeeded|successful(?:ly)?|success|passed|completed|finished|released|merged)\b/i;

export const generic: ChatAlertReader = {
  source: 'generic',
  label: 'Alert',
  patterns: [STRONG, SUCCESS],
  recognise: (r) => (RE.failure.test(r.body) ? 'shape' : undefined),
  read(r) {
    if (SUCCESS.test(r.body) && !STRONG.test(r.body)) return undefined;
    const t = r.titleLine.replace(/^\[?(?:firing|resolved|alert|alarm|ok|critical|warning|error)\]?:[ \t]{0,4}/i, '');
    const head = `${r.titleLine}\n${r.body.slice(0, 500)}`;
    const state: AlertState = RE.resolvedWord.test(head) && !/\bfiring\b/i.test(r.titleLine) ? 'resolved' : 'firing';
    return finish(r, 'generic', { state, title: t, name: stableText(t), titleLinkIsEndpoint: true });
  },
};
