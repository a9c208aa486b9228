import { redact, type Masked } from '../security/redact.js';
import { ALERT_URL_MAX, fingerprintOf, type Alert, type AlertState } from './alert.js';
import { CHAT_LIMITS, type ChatMessage } from './chat-message.js';
import { urlsIn } from '../triage/urls.js';

/*
 * What every chat reader (readers/*.ts) shares: the message pre-read once (title line, body,
 * key/value pairs, links), the patterns, and `finish`, which turns a reader's decision (state,
 * title, name) into an {@link Alert} the same way for every source: identity labels, the failing
 * URL, the seen count, masking and the fingerprint. Pure and linear-time: every pattern has
 * bounded quantifiers, no nested quantifiers, no backreferences.
 */

/** How sure a reader is that a message is its sender's. `poster`: the poster's name says so; `shape`: its layout or links do. */
export type Recognition = 'poster' | 'shape' | undefined;

/** One sender's reader of chat messages. Adding a sender: one file in readers/ and one line in registry.ts. */
export interface ChatAlertReader {
  /** The sender's name, the `source` of its alerts and the prefix of their fingerprints. */
  readonly source: string;
  /** The sender's name as people know it, for status lines ("Alertmanager: …"). */
  readonly label: string;
  /** The patterns it runs over message text (checked linear-time in the tests). */
  readonly patterns?: readonly RegExp[];
  recognise(r: Reading): Recognition;
  /** The alert, or undefined when the message is not one (a digest, a test notice, a success). */
  read(r: Reading): Alert | undefined;
}

/** A message read once for every reader. */
export interface Reading {
  readonly m: ChatMessage;
  /** First line of the first title part, as shown (links by label), emoji prefix stripped. */
  readonly titleLine: string;
  /** First line of the top-level text, as shown, emoji prefix stripped. */
  readonly textLine: string;
  /** Every part's text, joined by newlines. */
  readonly body: string;
  readonly pairs: readonly Pair[];
  /** Every link's URL. */
  readonly links: readonly string[];
}

/** A `key: value` or `key = value` line, a Prometheus label, or a field. */
export interface Pair {
  readonly key: string;
  readonly value: string;
  /** Under a `Labels:` / `Details:` heading, or a Prometheus `key="value"` label. */
  readonly inLabels: boolean;
}

export const RE = {
  kvLine: /^[ \t]{0,8}(?:[-•*+][ \t]{1,4})?\*{0,2}_?([A-Za-z][\w. -]{0,40}?)_?\*{0,2}[ \t]{0,4}[=:]\*{0,2}[ \t]{0,4}([^\n]{0,2048})$/,
  promLabel: /\b([a-zA-Z_][a-zA-Z0-9_]{0,63})="([^"\n]{0,2048})"/g,
  labelsHeader: /^[ \t]{0,8}\*{0,2}(labels|annotations|details|tags)\*{0,2}[ \t]{0,4}:?\*{0,2}[ \t]{0,4}$/i,
  sectionEnd: /^[ \t]{0,8}\*{0,2}(?:annotations|value|values|source|silence|dashboard|panel|description|summary)\b/i,
  emojiPrefix: /^(?::[a-z0-9_+'-]{1,40}:[ \t]{0,4}){1,3}/i,
  isoTime: /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)?/g,
  clockTime: /\b\d{1,2}:\d{2}(?::\d{2})?\b/g,
  number: /(^|[\s=([<>])\d{1,20}(?:\.\d{1,20})?(?:%|ms|s|m|h|k|kb|mb|gb)?(?=$|[\s)\],;!?]|\.(?:\s|$))/gim,
  countSeen: /\b(?:seen|occurred|fired|happened|repeated)[ \t]{1,4}(\d{1,9})[ \t]{1,4}times\b/i,
  countEvents: /\b(?:events|occurrences|times seen|count)\*{0,2}:\*{0,2}[ \t]{0,4}`?(\d{1,9})\b/i,
  countX: /\((?:x|×)[ \t]{0,2}(\d{1,9})\)/i,
  failure:
    /\b(?:errors?|fail(?:ed|ure|ures|ing|s)?|down|outage|unhealthy|unreachable|unavailable|timed[ -]?out|timeouts?|refused|critical|crit|alerts?|alarm|firing|exceptions?|panic|degraded|incident|triggered|[45]\d\d|[45]xx)\b/i,
  resolvedWord: /\b(?:resolved|recovered|back (?:up|online|to normal)|is up|healthy again)\b/i,
};

const SLACK_HOST = /(?:^|\.)(?:slack\.com|slack-edge\.com|slack-imgs\.com|slack-files\.com)$/;
const TOOL_HOST =
  /(?:grafana|alertmanager|prometheus|datadoghq|datadog|ddog-gov|pagerduty|sentry|opsgenie|console\.aws\.amazon\.com|signin\.aws|health\.aws\.amazon\.com|statuspage)/;
const TOOL_PATH =
  /(?:\/#\/(?:alerts|silences)|\/alerting\/|\/d\/|\/d-solo\/|\/explore|\/graph\?|\/monitors\/|\/synthetics\/|\/incidents\/|\/issues\/\d|\/cloudwatch\/|runbook|\/wiki\/|\/snapshot)/i;
/** Keys whose URL is the thing that failed. */
const ENDPOINT_KEYS = new Set([
  'instance',
  'target',
  'url',
  'endpoint',
  'probe_url',
  'probe',
  'health_check',
  'healthcheck',
  'health check',
  'address',
  'uri',
  'check_url',
  'test url',
  'request url',
  'website',
  'site',
  'host',
]);
/** Keys whose URL points at a tool, a runbook or a dashboard. */
export const TOOL_KEYS =
  /^(?:source|silence|dashboard|panel|runbook|runbook_url|runbook url|generatorurl|generator_url|link|alert link|graph|view|playbook)$/;
/** Keys that change between notifications of the same alert: never part of its identity. */
const VOLATILE_KEYS =
  /^(?:value|values|count|timestamp|time|date|startsat|endsat|starts at|ends at|started|ended|since|duration|current|threshold|description|summary|message|severity|priority|urgency|status|state|assigned|assignee|first seen|last seen|events|occurrences|triggered at|reason|new state reason)$/;
/** Keys that name what is alerting (outside a Labels: section). */
const IDENTITY_KEYS = new Set([
  'alertname',
  'alert',
  'instance',
  'job',
  'service',
  'namespace',
  'pod',
  'container',
  'cluster',
  'host',
  'hostname',
  'target',
  'url',
  'endpoint',
  'region',
  'env',
  'environment',
  'route',
  'upstream',
  'monitor',
  'check',
  'project',
  'ingress',
  'probe',
  'deployment',
  'node',
  'app',
  'alarm',
  'alarm name',
  'health_check',
  'healthcheck',
  'healthcheckid',
  'loadbalancer',
  'domain',
  'culprit',
  'test url',
]);

/** The patterns the readers run over message text, for the linear-time checks in the tests. */
export const KIT_PATTERNS: readonly RegExp[] = [...Object.values(RE), SLACK_HOST, TOOL_HOST, TOOL_PATH, TOOL_KEYS, VOLATILE_KEYS];

// ---------------------------------------------------------------------------------------------
// Reading a message once

/** Pre-read a message for the readers; undefined when it holds no text at all. */
export function readingOf(m: ChatMessage): Reading | undefined {
  const titlePart = m.parts.find((p) => p.kind === 'title') ?? m.parts.find((p) => p.text.trim() !== '');
  if (titlePart === undefined) return undefined;
  const body = m.parts
    .map((p) => p.text)
    .join('\n')
    .slice(0, CHAT_LIMITS.maxTextChars);
  return {
    m,
    titleLine: stripEmoji(firstLine(titlePart.plain.slice(0, 2000))).slice(0, 1000),
    textLine: stripEmoji(firstLine(m.text.slice(0, 2000))).slice(0, 1000),
    body,
    pairs: parsePairs(body, m.fields),
    links: m.links.map((l) => l.url),
  };
}

/** The title carrying a status prefix: the attachment title, or the message text when only it has the prefix. */
export function titleWith(r: Reading, prefix: RegExp): string {
  return !prefix.test(r.titleLine) && prefix.test(r.textLine) ? r.textLine : r.titleLine;
}

export function hostOf(url: string): string | undefined {
  const m = /^[a-z]{2,5}:\/\/([^/?#:@]{1,255})/i.exec(url);
  return m?.[1]?.toLowerCase();
}

/** True when some link's host matches. */
export function linksTo(r: Reading, host: RegExp): boolean {
  return r.links.some((u) => host.test(hostOf(u) ?? ''));
}

/** The state an attachment's colour says, as Slack delivers it (`2eb886`, not `good`). */
export function colorState(m: ChatMessage): AlertState | undefined {
  const col = m.colors[0];
  if (col === undefined) return undefined;
  if (col === '2eb886' || col === '36a64f' || col === 'green' || col === '00ff00' || col === '008000') return 'resolved';
  if (col === 'a30200' || col === 'e01e5a' || col === 'd63232' || col === 'red' || col === 'ff0000' || col === 'e03e2f') return 'firing';
  return undefined;
}

export function pairValue(pairs: readonly Pair[], ...keys: string[]): string | undefined {
  for (const k of keys) {
    const p = pairs.find((x) => x.key === k && x.value !== '');
    if (p) return p.value;
  }
  return undefined;
}

/** Drop the parts of a title that change between firings: times, dates, standalone numbers. */
export function stableText(s: string): string {
  return s
    .replace(RE.isoTime, '<ts>')
    .replace(RE.clockTime, '<t>')
    .replace(RE.number, '$1#')
    .replace(/\s{1,64}/g, ' ')
    .trim()
    .toLowerCase();
}

/** The first `re` capture found in the links, e.g. a monitor or issue id. */
export function linkId(r: Reading, re: RegExp): string | undefined {
  for (const u of r.links) {
    const m = re.exec(u);
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Building the alert

/** A reader's decision about a message. */
export interface Decision {
  /** Undefined when the message itself does not say: then a failure word makes it firing, or it is not an alert. */
  readonly state: AlertState | undefined;
  /** The title without its status prefix. */
  readonly title: string;
  /** What names the alert for its fingerprint (with the identity labels added by finish). */
  readonly name: string;
  /** Ignore the identity labels (the name already identifies the alert, e.g. an issue id). */
  readonly nameOnly?: boolean;
  /** A count the sender put in its message, when the generic rules would miss it. */
  readonly seenCount?: number;
  /** Look for the failing URL in title links too (generic bots link their subject). */
  readonly titleLinkIsEndpoint?: boolean;
}

/** Turn a reader's decision into an alert; undefined when it is not one. */
export function finish(r: Reading, source: string, d: Decision): Alert | undefined {
  let state = d.state;
  if (state === undefined) {
    if (!RE.failure.test(r.body)) return undefined;
    state = RE.resolvedWord.test(d.title) ? 'resolved' : 'firing';
  }
  const identity = d.nameOnly ? [] : identityPairs(r.pairs).filter((p) => !p.startsWith('alertname=') && !p.startsWith('alert='));
  const url = endpointUrl(r, d.titleLinkIsEndpoint === true);
  const count = d.seenCount ?? seenCount(r);
  const title = d.title.trim() || r.titleLine;
  return {
    source,
    state,
    fingerprint: fingerprintOf(source, d.name, identity),
    title: redact(title.slice(0, 1000)),
    text: redact(r.body).slice(0, CHAT_LIMITS.maxTextChars) as Masked,
    ...(url !== undefined ? { url: redact(url) } : {}),
    ...(count !== undefined ? { seenCount: count } : {}),
  };
}

function seenCount(r: Reading): number | undefined {
  const m = RE.countSeen.exec(r.body) ?? RE.countEvents.exec(r.body) ?? RE.countX.exec(r.titleLine);
  const n = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function identityPairs(pairs: readonly Pair[]): string[] {
  const set = new Set<string>();
  for (const p of pairs) {
    if (VOLATILE_KEYS.test(p.key) || TOOL_KEYS.test(p.key)) continue;
    if (!p.inLabels && !IDENTITY_KEYS.has(p.key)) continue;
    set.add(`${p.key}=${redact(p.value.slice(0, 512))}`);
    if (set.size >= 100) break;
  }
  return [...set].sort();
}

function isSlackLink(url: string): boolean {
  const h = hostOf(url);
  return h === undefined || SLACK_HOST.test(h);
}

function isToolLink(url: string): boolean {
  const h = hostOf(url);
  return h === undefined || SLACK_HOST.test(h) || TOOL_HOST.test(h) || TOOL_PATH.test(url);
}

export function cleanUrl(raw: string): string | undefined {
  const url = raw.replace(/[.,;:!?*_'"]{1,8}$/, '');
  return url.length > 0 && url.length <= ALERT_URL_MAX ? url : undefined;
}

function firstUrlIn(text: string): string | undefined {
  for (const url of urlsIn(text)) {
    const u = cleanUrl(url);
    if (u !== undefined) return u;
  }
  return undefined;
}

/** The failing endpoint: an endpoint field or label, else the first URL in the text that is not a tool's. */
function endpointUrl(r: Reading, titleLink: boolean): string | undefined {
  for (const p of r.pairs) {
    if (!ENDPOINT_KEYS.has(p.key)) continue;
    const u = firstUrlIn(p.value);
    if (u !== undefined && !isSlackLink(u)) return u;
  }
  const toolLines = r.pairs.filter((p) => TOOL_KEYS.test(p.key)).map((p) => p.value);
  for (const url of urlsIn(r.body)) {
    const u = cleanUrl(url);
    if (u === undefined || isToolLink(u)) continue;
    if (toolLines.some((v) => v.includes(u))) continue;
    return u;
  }
  if (titleLink) {
    for (const l of r.m.links) {
      const u = cleanUrl(l.url);
      if (u !== undefined && l.kind === 'title_link' && !isToolLink(u)) return u;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function stripEmoji(s: string): string {
  return s.replace(RE.emojiPrefix, '').replace(/^[*_~ \t]{1,8}/, '');
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).trim();
}

function clean(value: string): string {
  return value
    .trim()
    .replace(/^[`*_"']{1,4}/, '')
    .replace(/[`*_"']{1,4}$/, '')
    .trim();
}

function parsePairs(text: string, fields: readonly { key: string; value: string }[]): Pair[] {
  const out: Pair[] = [];
  let inLabels = false;
  let start = 0;
  while (start <= text.length && out.length < 500) {
    const nl = text.indexOf('\n', start);
    const line = text.slice(start, nl < 0 ? text.length : nl);
    start = nl < 0 ? text.length + 1 : nl + 1;
    if (RE.labelsHeader.test(line)) {
      inLabels = true;
      continue;
    }
    if (line.trim() === '' || RE.sectionEnd.test(line)) inLabels = false;
    const m = RE.kvLine.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      const value = clean(m[2]);
      if (value !== '') out.push({ key: m[1].trim().toLowerCase(), value, inLabels });
    }
  }
  for (const m of text.matchAll(RE.promLabel)) {
    if (out.length >= 1000) break;
    if (m[1] !== undefined && m[2] !== undefined) out.push({ key: m[1].toLowerCase(), value: m[2].trim(), inLabels: true });
  }
  for (const f of fields) out.push({ key: f.key.toLowerCase(), value: clean(f.value), inLabels: false });
  return out;
}
