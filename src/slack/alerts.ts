import { createHash } from 'node:crypto';
import { redact, type Masked } from '../security/redact.js';

/*
 * Parsing of the messages that monitoring integrations post in Slack alert channels. Pure: a
 * Slack message event in, an Alert (or undefined) out; it never throws, whatever the input.
 *
 * Recognition, in order:
 * 1. Only bot messages are alerts: the event has a `bot_id`, a `bot_profile` or subtype
 *    `bot_message` (a `message_changed` event is parsed through its inner `message`). A person's
 *    message, even a pasted alert, gives undefined.
 * 2. The source comes from the poster's name (bot_profile.name, username, attachment author and
 *    footer): alertmanager/prometheus, grafana, datadog, pagerduty, sentry, aws/amazon q/chatbot/
 *    cloudwatch. Failing that, from the text shape and the tool links: `[FIRING:n]`/`[RESOLVED]`
 *    titles (Grafana when the body has `**Firing**`, `Value:`, a Grafana footer or an /alerting/
 *    link, else Alertmanager); datadoghq links or `Triggered:`/`[Recovered]` with `[Pn]` (Datadog);
 *    pagerduty.com links or `Triggered #1234` (PagerDuty); sentry links (Sentry);
 *    `ALARM: "name" in Region`, `CloudWatch Alarm | name | region` or CloudWatch console links
 *    (CloudWatch).
 * 3. Anything else from a bot is 'generic' when its text looks like a failure (error, failed,
 *    down, timeout, refused, 5xx, critical, alarm, firing, …), unless it reads as a success notice
 *    (deployed, succeeded, passed, completed, …) with no strong failure word. Otherwise undefined.
 *    A recognised source whose message has neither a status marker nor a failure word (a digest,
 *    a test notice) is also undefined.
 */

/** Where an alert came from. */
export type AlertSource = 'alertmanager' | 'grafana' | 'datadog' | 'pagerduty' | 'sentry' | 'cloudwatch' | 'generic';

export type AlertStatus = 'firing' | 'resolved';

/** One alert, parsed from one Slack message. */
export interface Alert {
  readonly source: AlertSource;
  readonly status: AlertStatus;
  /** The alert's title without its status prefix (`[FIRING:2]`, `Triggered:`, `ALARM:`), masked. */
  readonly title: Masked;
  /**
   * `source:` + 16 hex digits. Stable across re-fires of the same alert: built from the source,
   * the alert name and its identity (labels such as instance/job, monitor id, issue id, alarm
   * name and region), never from counts, values or timestamps. Built from masked values, so a
   * secret cannot be recovered from it.
   * @example 'alertmanager:3f2a9c0d11b7e4a5'
   */
  readonly fingerprint: string;
  /**
   * The failing URL the alert is about: a probed endpoint (`instance`, `target`, `url`,
   * `endpoint` label or field), else the first URL in the text that is not a link to a
   * monitoring tool, a runbook or Slack. At most {@link ALERT_LIMITS}.maxUrlChars (longer URLs
   * are dropped, not cut), masked.
   */
  readonly url?: string;
  /** Title, descriptions, fields and code, mrkdwn links unwrapped to `label (url)`, masked. */
  readonly errorText: Masked;
  /** How many alerts/events the message counts (`[FIRING:3]`, Sentry `Events: 12`, `seen 4 times`). */
  readonly seenCount?: number;
}

/** The parts of a Slack message event that parseAlert reads. Every field may be absent or of the wrong type. */
export interface SlackMessageLike {
  readonly text?: unknown;
  readonly bot_id?: unknown;
  readonly subtype?: unknown;
  readonly username?: unknown;
  readonly bot_profile?: unknown;
  readonly attachments?: unknown;
  readonly blocks?: unknown;
  readonly message?: unknown;
}

/** Bounds on the work done for one message. */
export const ALERT_LIMITS = {
  /** Characters of message text collected (title, text, fields, blocks). @defaultValue 20,000 */
  maxTextChars: 20_000,
  /** Longest URL returned or considered. @defaultValue 2,048 */
  maxUrlChars: 2_048,
  /** Deepest nesting of blocks/elements visited. @defaultValue 12 */
  maxDepth: 12,
  /** Most objects visited in attachments and blocks. @defaultValue 2,000 */
  maxNodes: 2_000,
} as const;

// ---------------------------------------------------------------------------------------------
// Patterns. Each is linear-time: bounded quantifiers, no nested quantifiers, no backreferences.

const RE = {
  mrkdwnLink: /<([^<>|\s]{1,2048})(?:\|([^<>]{0,512}))?>/g,
  url: /\b(?:https?|wss?):\/\/[^\s<>"'`|\])}]{1,2048}/gi,
  kvLine: /^[ \t]{0,8}(?:[-•*+][ \t]{1,4})?\*{0,2}_?([A-Za-z][\w. -]{0,40}?)_?\*{0,2}[ \t]{0,4}[=:]\*{0,2}[ \t]{0,4}([^\n]{0,2048})$/gm,
  promLabel: /\b([a-zA-Z_][a-zA-Z0-9_]{0,63})="([^"\n]{0,2048})"/g,
  labelsHeader: /^[ \t]{0,8}\*{0,2}(labels|annotations|details|tags)\*{0,2}[ \t]{0,4}:?\*{0,2}[ \t]{0,4}$/i,
  sectionEnd: /^[ \t]{0,8}\*{0,2}(?:annotations|value|values|source|silence|dashboard|panel|description|summary)\b/i,
  emojiPrefix: /^(?::[a-z0-9_+'-]{1,40}:[ \t]{0,4}){1,3}/i,
  amPrefix: /^\[(FIRING|RESOLVED)(?::(\d{1,9}))?(?:,[ \t]{0,4}RESOLVED:\d{1,9})?\][ \t]{0,4}/i,
  ddPrefix: /^\[?(Re-Triggered|Triggered|Recovered|Warn Recovered|Warn|No Data|Renotify|Alert)\]?:?[ \t]{1,4}/i,
  priority: /^\[P[1-5]\][ \t]{0,4}/i,
  pdPrefix:
    /^\[?(Re-triggered|Triggered|Acknowledged|Escalated|Reassigned|Resolved)\]?:?[ \t]{0,4}(?:incident[ \t]{1,4})?(?:\[?#(\d{1,12})\]?:?[ \t]{0,4})?/i,
  pdNumber: /#(\d{1,12})\b/,
  cwSubject: /^(ALARM|OK|INSUFFICIENT_DATA):[ \t]{0,4}"([^"\n]{1,256})"(?:[ \t]{1,4}in[ \t]{1,4}([^\n]{1,80}))?/,
  cwChatbot: /CloudWatch Alarm[ \t]{0,4}\|[ \t]{0,4}([^|\n]{1,256})\|[ \t]{0,4}([a-z]{2}(?:-gov)?-[a-z]{2,10}-\d)/i,
  cwState: /\b(?:state|new state|current state)\*{0,2}:?\*{0,2}[ \t]{0,4}`?(ALARM|OK|INSUFFICIENT_DATA)\b/i,
  sentryMetric: /^(Critical|Warning|Resolved):[ \t]{0,4}/i,
  sentryIssue: /\/issues\/(\d{1,20})/,
  sentryShortId: /\b([A-Z][A-Z0-9_]{1,30}-[A-Z0-9]{1,10})\b/,
  sentryRule: /\/alerts\/rules\/(?:details\/)?(\d{1,20})/,
  ddMonitor: /\/monitors\/(\d{1,20})/,
  ddSynthetic: /\/synthetics\/details\/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})/i,
  isoTime: /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)?/g,
  clockTime: /\b\d{1,2}:\d{2}(?::\d{2})?\b/g,
  number: /(^|[\s=([<>])\d{1,20}(?:\.\d{1,20})?(?:%|ms|s|m|h|k|kb|mb|gb)?(?=$|[\s)\],;!?]|\.(?:\s|$))/gim,
  countFiring: /\[FIRING:(\d{1,9})/i,
  countSeen: /\b(?:seen|occurred|fired|happened|repeated)[ \t]{1,4}(\d{1,9})[ \t]{1,4}times\b/i,
  countEvents: /\b(?:events|occurrences|times seen|count)\*{0,2}:\*{0,2}[ \t]{0,4}`?(\d{1,9})\b/i,
  countX: /\((?:x|×)[ \t]{0,2}(\d{1,9})\)/i,
  failure:
    /\b(?:errors?|fail(?:ed|ure|ures|ing|s)?|down|outage|unhealthy|unreachable|unavailable|timed[ -]?out|timeouts?|refused|critical|crit|alerts?|alarm|firing|exceptions?|panic|degraded|incident|triggered|[45]\d\d|[45]xx)\b/i,
  strongFailure:
    /\b(?:fail(?:ed|ure|ures|ing|s)?|down|outage|unhealthy|unreachable|unavailable|timed[ -]?out|timeouts?|refused|critical|alarm|firing|exceptions?|panic|degraded|triggered|5\d\d|5xx)\b/i,
  success:
    /\b(?:deployed|deployment (?:succeeded|completed|finished)|succeeded|successful(?:ly)?|success|passed|completed|finished|released|merged)\b/i,
  resolvedWord: /\b(?:resolved|recovered|back (?:up|online|to normal)|is up|healthy again)\b/i,
  grafanaBody: /\*\*(?:Firing|Resolved)\*\*|^Value:[ \t]/im,
};

// ---------------------------------------------------------------------------------------------
// Link classification

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
const TOOL_KEYS =
  /^(?:source|silence|dashboard|panel|runbook|runbook_url|runbook url|generatorurl|generator_url|link|alert link|graph|view|playbook)$/;

/** The patterns parseAlert runs over message text, for the linear-time checks in the tests. */
export const ALERT_PATTERNS: readonly RegExp[] = [...Object.values(RE), SLACK_HOST, TOOL_HOST, TOOL_PATH, TOOL_KEYS];

function hostOf(url: string): string | undefined {
  const m = /^[a-z]{2,5}:\/\/([^/?#:@]{1,255})/i.exec(url);
  return m?.[1]?.toLowerCase();
}

function isSlackLink(url: string): boolean {
  const h = hostOf(url);
  return h === undefined || SLACK_HOST.test(h);
}

function isToolLink(url: string): boolean {
  const h = hostOf(url);
  return h === undefined || SLACK_HOST.test(h) || TOOL_HOST.test(h) || TOOL_PATH.test(url);
}

function cleanUrl(raw: string): string | undefined {
  const url = raw.replace(/[.,;:!?*_'"]{1,8}$/, '');
  return url.length > 0 && url.length <= ALERT_LIMITS.maxUrlChars ? url : undefined;
}

function firstUrl(text: string): string | undefined {
  for (const m of text.matchAll(RE.url)) {
    const u = cleanUrl(m[0]);
    if (u !== undefined) return u;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Collecting the text of a message

type PartKind = 'title' | 'body' | 'field' | 'code';

interface Link {
  url: string;
  kind: 'title_link' | 'button';
}

interface Collected {
  poster: string;
  parts: { text: string; kind: PartKind }[];
  fields: { key: string; value: string }[];
  links: Link[];
  colors: string[];
  footer: string;
  remaining: number;
  nodes: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

function take(c: Collected, raw: string | undefined): string | undefined {
  if (raw === undefined || c.remaining <= 0) return undefined;
  const s = raw.length > c.remaining ? raw.slice(0, c.remaining) : raw;
  if (s.trim() === '') return undefined;
  c.remaining -= s.length + 1;
  return s;
}

function push(c: Collected, raw: string | undefined, kind: PartKind): void {
  const s = take(c, raw);
  if (s !== undefined) c.parts.push({ text: s, kind });
}

function visit(c: Collected): boolean {
  c.nodes++;
  return c.nodes <= ALERT_LIMITS.maxNodes && c.remaining > 0;
}

function addLink(c: Collected, url: unknown, kind: Link['kind']): void {
  const u = str(url);
  if (u !== undefined && u.length <= ALERT_LIMITS.maxUrlChars && c.links.length < 100) c.links.push({ url: u, kind });
}

/** The inline text of a rich_text section: its text runs, and links in mrkdwn form. */
function inlineText(node: unknown, depth: number, c: Collected, out: string[]): void {
  if (depth > ALERT_LIMITS.maxDepth || !visit(c)) return;
  if (Array.isArray(node)) {
    for (const n of node) {
      if (c.nodes > ALERT_LIMITS.maxNodes) return;
      inlineText(n, depth + 1, c, out);
    }
    return;
  }
  if (!isObj(node)) return;
  const type = str(node.type);
  const text = str(node.text);
  const url = str(node.url);
  if (type === 'link' && url !== undefined) out.push(text !== undefined && text !== url ? `<${url}|${text}>` : `<${url}>`);
  else if (text !== undefined) out.push(text);
  else if (type === 'emoji' && str(node.name) !== undefined) out.push(`:${str(node.name)}:`);
  if (node.elements !== undefined) inlineText(node.elements, depth + 1, c, out);
}

function collectBlock(node: unknown, depth: number, c: Collected, kind: PartKind): void {
  if (depth > ALERT_LIMITS.maxDepth || !visit(c)) return;
  if (Array.isArray(node)) {
    for (const n of node) {
      if (c.nodes > ALERT_LIMITS.maxNodes || c.remaining <= 0) return;
      collectBlock(n, depth + 1, c, kind);
    }
    return;
  }
  if (!isObj(node)) return;
  const type = str(node.type) ?? '';
  if (type === 'button' || type === 'overflow') {
    addLink(c, node.url, 'button');
    return;
  }
  if (type === 'image') return;
  if (type.startsWith('rich_text_') || type === 'rich_text') {
    if (type === 'rich_text' || type === 'rich_text_list') {
      collectBlock(node.elements, depth + 1, c, kind);
      return;
    }
    const out: string[] = [];
    inlineText(node.elements, depth + 1, c, out);
    push(c, out.join(''), type === 'rich_text_preformatted' ? 'code' : kind);
    return;
  }
  const text = node.text;
  const own: PartKind = type === 'header' ? 'title' : kind;
  if (typeof text === 'string') push(c, text, own);
  else if (isObj(text)) collectBlock(text, depth + 1, c, own);
  if (node.fields !== undefined) collectBlock(node.fields, depth + 1, c, 'field');
  if (node.elements !== undefined) collectBlock(node.elements, depth + 1, c, kind);
  if (node.accessory !== undefined) collectBlock(node.accessory, depth + 1, c, kind);
}

function collectAttachment(a: unknown, c: Collected): void {
  if (!isObj(a) || !visit(c)) return;
  const color = str(a.color);
  if (color !== undefined) c.colors.push(color.toLowerCase());
  const author = str(a.author_name);
  if (author !== undefined) c.poster += ` ${author.slice(0, 200).toLowerCase()}`;
  const footer = str(a.footer);
  if (footer !== undefined) c.footer += ` ${footer.slice(0, 500)}`;
  const footerIcon = str(a.footer_icon);
  if (footerIcon !== undefined) c.footer += ` ${footerIcon.slice(0, 500)}`;
  push(c, str(a.pretext), 'body');
  const title = str(a.title);
  push(c, title, 'title');
  addLink(c, a.title_link, 'title_link');
  push(c, str(a.text), 'body');
  for (const f of arr(a.fields)) {
    if (!isObj(f) || !visit(c)) continue;
    const key = str(f.title);
    const value = str(f.value);
    if (value === undefined) continue;
    const v = take(c, value);
    if (v === undefined) continue;
    if (key !== undefined && key.trim() !== '') {
      c.fields.push({ key: key.trim().slice(0, 64), value: v });
      c.parts.push({ text: `${key.trim().slice(0, 64)}: ${v}`, kind: 'field' });
    } else c.parts.push({ text: v, kind: 'field' });
  }
  for (const act of arr(a.actions)) if (isObj(act)) addLink(c, act.url, 'button');
  if (a.blocks !== undefined) collectBlock(a.blocks, 0, c, 'body');
  if (title === undefined && str(a.text) === undefined) push(c, str(a.fallback), 'title');
}

function collect(m: Record<string, unknown>): Collected {
  const c: Collected = {
    poster: '',
    parts: [],
    fields: [],
    links: [],
    colors: [],
    footer: '',
    remaining: ALERT_LIMITS.maxTextChars,
    nodes: 0,
  };
  const profile = isObj(m.bot_profile) ? m.bot_profile : {};
  c.poster = [str(profile.name), str(m.username)]
    .filter((s): s is string => s !== undefined)
    .map((s) => s.slice(0, 200).toLowerCase())
    .join(' ');
  // Blocks first: a Block Kit message's top-level text is only its notification fallback.
  if (m.blocks !== undefined) collectBlock(m.blocks, 0, c, 'body');
  for (const a of arr(m.attachments)) {
    if (c.nodes > ALERT_LIMITS.maxNodes || c.remaining <= 0) break;
    collectAttachment(a, c);
  }
  const text = str(m.text);
  if (text !== undefined) {
    const head = text.slice(0, ALERT_LIMITS.maxTextChars);
    const seen = c.parts.some((p) => p.text.includes(head.trim().slice(0, 200)));
    if (!seen || c.parts.length === 0) c.parts.unshift({ text: head.slice(0, Math.max(0, c.remaining)), kind: 'body' });
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/** `<url|label>` → `label (url)` (`label` when labelsOnly, for titles), `<url>` → `url`, `<@U1>` → `@U1`, `<#C1|general>` → `#general`, entities decoded. */
export function unwrapMrkdwn(text: string, labelsOnly = false): string {
  return text
    .replace(RE.mrkdwnLink, (_m, target: string, label: string | undefined) => {
      const lab = label?.trim();
      if (target.startsWith('@') || target.startsWith('!')) return lab ? `@${lab.replace(/^@/, '')}` : `@${target.slice(1)}`;
      if (target.startsWith('#')) return lab ? `#${lab}` : target;
      if (lab && labelsOnly) return lab;
      return lab && lab !== target ? `${lab} (${target})` : target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

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

/** Drop the parts of a title that change between firings: times, dates, standalone numbers. */
function stableText(s: string): string {
  return s
    .replace(RE.isoTime, '<ts>')
    .replace(RE.clockTime, '<t>')
    .replace(RE.number, '$1#')
    .replace(/\s{1,64}/g, ' ')
    .trim()
    .toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Labels

const VOLATILE_KEYS =
  /^(?:value|values|count|timestamp|time|date|startsat|endsat|starts at|ends at|started|ended|since|duration|current|threshold|description|summary|message|severity|priority|urgency|status|state|assigned|assignee|first seen|last seen|events|occurrences|triggered at|reason|new state reason)$/;
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

interface Pair {
  key: string;
  value: string;
  inLabels: boolean;
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
    RE.kvLine.lastIndex = 0;
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
  for (const f of fields) out.push({ key: f.key.toLowerCase(), value: clean(unwrapMrkdwn(f.value)), inLabels: false });
  return out;
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

function pairValue(pairs: readonly Pair[], ...keys: string[]): string | undefined {
  for (const k of keys) {
    const p = pairs.find((x) => x.key === k && x.value !== '');
    if (p) return p.value;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Source recognition

function sourceFromPoster(poster: string): AlertSource | undefined {
  if (/alertmanager|prometheus/.test(poster)) return 'alertmanager';
  if (/grafana/.test(poster)) return 'grafana';
  if (/datadog/.test(poster)) return 'datadog';
  if (/pagerduty/.test(poster)) return 'pagerduty';
  if (/sentry/.test(poster)) return 'sentry';
  if (/\b(?:aws|amazon q|chatbot|cloudwatch)\b/.test(poster)) return 'cloudwatch';
  return undefined;
}

function isGrafana(body: string, c: Collected, allLinks: readonly string[]): boolean {
  return RE.grafanaBody.test(body) || /grafana/i.test(c.footer) || allLinks.some((u) => /\/alerting\/|grafana/i.test(u));
}

function sourceFromShape(title: string, body: string, c: Collected, allLinks: readonly string[]): AlertSource | undefined {
  const hosts = allLinks.map((u) => hostOf(u) ?? '');
  if (RE.amPrefix.test(title)) return isGrafana(body, c, allLinks) ? 'grafana' : 'alertmanager';
  if (RE.cwSubject.test(title) || RE.cwChatbot.test(body) || allLinks.some((u) => /console\.aws\.amazon\.com\/cloudwatch/i.test(u)))
    return 'cloudwatch';
  if (
    hosts.some((h) => /pagerduty\.com$/.test(h)) ||
    /^\[?(?:triggered|resolved|acknowledged)\]?:?[ \t]{0,4}(?:incident[ \t]{1,4})?\[?#\d/i.test(title)
  )
    return 'pagerduty';
  if (hosts.some((h) => /datadoghq\.|ddog-gov\./.test(h)) || (RE.ddPrefix.test(title) && /\[P[1-5]\]/i.test(title))) return 'datadog';
  if (hosts.some((h) => /(?:^|\.)sentry\.io$/.test(h)) || /sentry/i.test(c.footer)) return 'sentry';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Per-source reading: status, title, alert name and extra identity

interface Reading {
  status: AlertStatus | undefined;
  title: string;
  name: string;
}

function colorStatus(c: Collected): AlertStatus | undefined {
  const col = c.colors[0];
  if (col === undefined) return undefined;
  if (col === 'good' || col === '#2eb886' || col === '#36a64f' || col === 'green') return 'resolved';
  if (col === 'danger' || col === '#a30200' || col === '#e01e5a' || col === 'red' || col === '#ff0000') return 'firing';
  return undefined;
}

function readPrometheus(title: string, body: string, pairs: readonly Pair[], c: Collected): Reading {
  const m = RE.amPrefix.exec(title);
  let status: AlertStatus | undefined;
  if (m?.[1] !== undefined) status = m[1].toUpperCase() === 'FIRING' ? 'firing' : 'resolved';
  else if (/\*\*Firing\*\*/.test(body)) status = 'firing';
  else if (/\*\*Resolved\*\*/.test(body)) status = 'resolved';
  else status = colorStatus(c) ?? (/\bresolved\b/i.test(title) ? 'resolved' : /\bfiring\b/i.test(title) ? 'firing' : undefined);
  const rest = m ? title.slice(m[0].length) : title.replace(/^\[?(?:firing|resolved)\]?:?[ \t]{0,4}/i, '');
  const name = pairValue(pairs, 'alertname') ?? rest;
  return { status, title: rest, name };
}

function readDatadog(title: string, links: readonly string[]): Reading {
  let t = title.replace(RE.priority, '');
  const m = RE.ddPrefix.exec(t);
  const word = m?.[1]?.toLowerCase();
  if (m) t = t.slice(m[0].length);
  t = t.replace(RE.priority, '').trim();
  const status: AlertStatus | undefined = word === undefined ? undefined : /recovered/.test(word) ? 'resolved' : 'firing';
  const monitor = links.map((u) => RE.ddMonitor.exec(u)?.[1] ?? RE.ddSynthetic.exec(u)?.[1]).find((x) => x !== undefined);
  const name = monitor !== undefined ? `monitor:${monitor} ${stableText(t)}` : stableText(t);
  return { status, title: t, name };
}

function readPagerDuty(title: string, body: string, pairs: readonly Pair[]): Reading {
  const statusField = pairValue(pairs, 'status')?.toLowerCase();
  const m = RE.pdPrefix.exec(title);
  const word = (m?.[1] ?? statusField ?? '').toLowerCase();
  let t = m ? title.slice(m[0].length) : title;
  t = t.replace(/^\[?#\d{1,12}\]?:?[ \t]{0,4}/, '').trim();
  let status: AlertStatus | undefined;
  if (/resolved/.test(word)) status = 'resolved';
  else if (word !== '') status = 'firing';
  else if (/\bresolved\b/i.test(body.slice(0, 500))) status = 'resolved';
  else if (/\b(?:triggered|acknowledged|escalated)\b/i.test(body.slice(0, 500))) status = 'firing';
  const service = pairValue(pairs, 'service', 'impacted service') ?? '';
  return { status, title: t, name: `${service.toLowerCase()} ${stableText(t.replace(RE.pdNumber, ''))}` };
}

function readSentry(title: string, body: string, c: Collected, links: readonly string[]): Reading {
  const m = RE.sentryMetric.exec(title);
  const t = m ? title.slice(m[0].length) : title;
  let status: AlertStatus = 'firing';
  if (m?.[1]?.toLowerCase() === 'resolved' || /\bresolved by\b|^~[^~\n]{1,500}~$/im.test(body) || /\bresolved\b/i.test(c.footer))
    status = 'resolved';
  const issue = links.map((u) => RE.sentryIssue.exec(u)?.[1]).find((x) => x !== undefined);
  const rule = links.map((u) => RE.sentryRule.exec(u)?.[1]).find((x) => x !== undefined);
  const shortId = RE.sentryShortId.exec(c.footer)?.[1];
  const name =
    issue !== undefined
      ? `issue:${issue}`
      : shortId !== undefined
        ? `issue:${shortId}`
        : rule !== undefined
          ? `rule:${rule}`
          : stableText(t);
  return { status, title: t, name };
}

function readCloudWatch(title: string, body: string, pairs: readonly Pair[], c: Collected): Reading {
  const subject = RE.cwSubject.exec(title) ?? RE.cwSubject.exec(body);
  const chatbot = RE.cwChatbot.exec(body);
  const stateWord = subject?.[1] ?? RE.cwState.exec(body)?.[1] ?? pairValue(pairs, 'state', 'current state', 'new state');
  const state = stateWord?.toUpperCase();
  let status: AlertStatus | undefined;
  if (state === 'OK') status = 'resolved';
  else if (state === 'ALARM' || state === 'INSUFFICIENT_DATA') status = 'firing';
  else status = colorStatus(c);
  const alarm = subject?.[2] ?? chatbot?.[1]?.trim() ?? pairValue(pairs, 'alarm name', 'alarm', 'alarmname') ?? title;
  const region = subject?.[3]?.trim() ?? chatbot?.[2] ?? pairValue(pairs, 'region') ?? '';
  const t = subject ? `"${alarm}"${subject[3] ? ` in ${subject[3].trim()}` : ''}` : chatbot ? alarm : title;
  return { status, title: t, name: `${alarm} ${region.toLowerCase()}` };
}

function readGeneric(title: string, body: string): Reading {
  const t = title.replace(/^\[?(?:firing|resolved|alert|alarm|ok|critical|warning|error)\]?:[ \t]{0,4}/i, '');
  const head = `${title}\n${body.slice(0, 500)}`;
  const status: AlertStatus = RE.resolvedWord.test(head) && !/\bfiring\b/i.test(title) ? 'resolved' : 'firing';
  return { status, title: t, name: stableText(t) };
}

function seenCount(source: AlertSource, title: string, body: string): number | undefined {
  const m =
    (source === 'alertmanager' || source === 'grafana' ? RE.countFiring.exec(title) : null) ??
    RE.countSeen.exec(body) ??
    RE.countEvents.exec(body) ??
    RE.countX.exec(title);
  const n = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------
// URL of the failing endpoint

function endpointUrl(source: AlertSource, pairs: readonly Pair[], body: string, c: Collected): string | undefined {
  for (const p of pairs) {
    if (!ENDPOINT_KEYS.has(p.key)) continue;
    const u = firstUrl(p.value);
    if (u !== undefined && !isSlackLink(u)) return u;
  }
  const toolLines = new Set(pairs.filter((p) => TOOL_KEYS.test(p.key)).map((p) => p.value));
  for (const m of body.matchAll(RE.url)) {
    const u = cleanUrl(m[0]);
    if (u === undefined || isToolLink(u)) continue;
    if ([...toolLines].some((v) => v.includes(u))) continue;
    return u;
  }
  if (source === 'generic') {
    for (const l of c.links) {
      const u = cleanUrl(l.url);
      if (u !== undefined && l.kind === 'title_link' && !isToolLink(u)) return u;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

/** The status prefix each source puts on its title. */
const STATUS_PREFIX: Partial<Record<AlertSource, RegExp>> = {
  alertmanager: RE.amPrefix,
  grafana: RE.amPrefix,
  datadog: RE.ddPrefix,
  pagerduty: RE.pdPrefix,
  sentry: RE.sentryMetric,
  cloudwatch: RE.cwSubject,
};

function isBot(m: Record<string, unknown>): boolean {
  return (typeof m.bot_id === 'string' && m.bot_id !== '') || m.subtype === 'bot_message' || isObj(m.bot_profile);
}

function fingerprintOf(source: AlertSource, name: string, identity: readonly string[]): string {
  const key = JSON.stringify([source, redact(name.trim().slice(0, 1024)), identity]);
  return `${source}:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

function parse(input: unknown): Alert | undefined {
  if (!isObj(input)) return undefined;
  const m = input.subtype === 'message_changed' && isObj(input.message) ? input.message : input;
  if (!isBot(m)) return undefined;
  const c = collect(m);
  const parts = c.parts.map((p) => ({ kind: p.kind, text: unwrapMrkdwn(p.text) }));
  const titlePart = c.parts.find((p) => p.kind === 'title') ?? c.parts.find((p) => p.text.trim() !== '');
  if (titlePart === undefined) return undefined;
  const titleLine = stripEmoji(unwrapMrkdwn(firstLine(titlePart.text.slice(0, 2000)), true)).slice(0, 1000);
  const textLine = stripEmoji(unwrapMrkdwn(firstLine(str(m.text)?.slice(0, 2000) ?? ''), true)).slice(0, 1000);
  const body = parts
    .map((p) => p.text)
    .join('\n')
    .slice(0, ALERT_LIMITS.maxTextChars);
  const inlineLinks: string[] = [];
  for (const p of c.parts)
    for (const x of p.text.matchAll(RE.mrkdwnLink)) if (x[1] !== undefined && inlineLinks.length < 200) inlineLinks.push(x[1]);
  const allLinks = [...c.links.map((l) => l.url), ...inlineLinks];

  const source =
    sourceFromPoster(c.poster) ??
    sourceFromShape(titleLine, body, c, allLinks) ??
    sourceFromShape(textLine, body, c, allLinks) ??
    (RE.failure.test(body) ? 'generic' : undefined);
  if (source === undefined) return undefined;
  // The status prefix may be on the attachment title or on the message text.
  const prefix = STATUS_PREFIX[source];
  const rawTitle = prefix !== undefined && !prefix.test(titleLine) && prefix.test(textLine) ? textLine : titleLine;
  const pairs = parsePairs(body, c.fields);

  let r: Reading;
  switch (source) {
    case 'alertmanager':
    case 'grafana':
      r = readPrometheus(rawTitle, body, pairs, c);
      break;
    case 'datadog':
      r = readDatadog(rawTitle, allLinks);
      break;
    case 'pagerduty':
      r = readPagerDuty(rawTitle, body, pairs);
      break;
    case 'sentry':
      r = readSentry(rawTitle, body, c, allLinks);
      break;
    case 'cloudwatch':
      r = readCloudWatch(rawTitle, body, pairs, c);
      break;
    default:
      if (RE.success.test(body) && !RE.strongFailure.test(body)) return undefined;
      r = readGeneric(rawTitle, body);
  }
  if (r.status === undefined) {
    if (!RE.failure.test(body)) return undefined;
    r.status = RE.resolvedWord.test(rawTitle) ? 'resolved' : 'firing';
  }
  const identity = [...identityPairs(pairs).filter((p) => !p.startsWith('alertname=') && !p.startsWith('alert='))];
  const url = endpointUrl(source, pairs, body, c);
  const count = seenCount(source, rawTitle, body);
  const errorText = redact(body).slice(0, ALERT_LIMITS.maxTextChars) as Masked;
  return {
    source,
    status: r.status,
    title: redact(r.title.trim() || rawTitle),
    fingerprint: fingerprintOf(source, r.name, identity),
    ...(url !== undefined ? { url: redact(url) } : {}),
    errorText,
    ...(count !== undefined ? { seenCount: count } : {}),
  };
}

/**
 * Parse a message a monitoring integration posted in Slack into an {@link Alert}, or undefined
 * when it is not an alert (a person's message, a success notice, a bot message with no failure
 * in it). Pure and total: never throws, and bounded by {@link ALERT_LIMITS} whatever the input.
 * @example parseAlert({ bot_id: 'B1', username: 'Alertmanager', attachments: [{ title: '[FIRING:1] ProbeFailed (https://api.example.com/health)' }] })
 */
export function parseAlert(message: SlackMessageLike | unknown): Alert | undefined {
  try {
    return parse(message);
  } catch {
    return undefined;
  }
}
