import { decodeHTMLStrict } from 'entities';
import {
  CHAT_LIMITS,
  normaliseColor,
  type ChatField,
  type ChatLink,
  type ChatMessage,
  type ChatPart,
  type ChatPartKind,
} from '../alerts/chat-message.js';

/*
 * The one decoding step at Slack's edge. Everything the bot reads from Slack passes here once,
 * before anything else looks at it; nothing after it decodes again, and everything posted is
 * escaped once on the way out (blocks.ts escapeMrkdwn).
 *
 * What Slack sends (api.slack.com/reference/surfaces/formatting):
 * 1. `&`, `<` and `>` typed by a person arrive as `&amp;`, `&lt;`, `&gt;` in message text,
 *    slash-command text, attachments and mrkdwn/plain_text block fields; a raw `<` is always
 *    the start of a control token.
 * 2. Tokens: links `<https://x>`, `<https://x|label>`, `<mailto:a@b|a@b>` (a typed
 *    `example.com` arrives as `<http://example.com|example.com>`), mentions `<@U123>` /
 *    `<@U123|name>`, channels `<#C1|ops>`, broadcasts `<!here>`, `<!channel>`, `<!everyone>`,
 *    user groups `<!subteam^S1|@oncall>`, dates `<!date^1392734382^{date}|Feb 18, 2014>`.
 * 3. rich_text blocks carry the same message as structure whose `text` elements are raw.
 * 4. Attached files and snippets are fetched as they were uploaded: raw.
 *
 * Decoding: each token becomes what the person typed or saw (a link whose label is the URL, or
 * the URL without its scheme, becomes the label; another label reads `label (url)`; a mention
 * `@name`), and the text around the tokens is entity-decoded with `entities` (fb55) in strict
 * mode: for a person's text that is exactly the inverse of Slack's escaping (every `&` they
 * typed arrived as `&amp;`), and for an integration that HTML-escaped more than Slack asks
 * (`&#39;`, `&quot;` from Go's html/template) it recovers the text it meant. Strict mode needs
 * the `;`, so `?a=1&timestamp=2` is never mistaken for an entity.
 */

/** A link the text carried, decoded. */
export interface SlackLink {
  readonly url: string;
  readonly label?: string;
}

/** Decoded text: `text` for reading (links with a different label as `label (url)`), `plain` as shown. */
export interface DecodedText {
  readonly text: string;
  readonly plain: string;
  readonly links: readonly SlackLink[];
  /** User ids mentioned (`<@U123>`), in order. */
  readonly users: readonly string[];
}

/** A control token: anything between a raw `<` and the next `>` (Slack escapes every other `<`). */
const TOKEN = /<([^<>]{1,4096})>/g;
const SCHEME = /^[a-z][a-z0-9+.-]{0,30}:/i;

/** Entities decoded once: `&amp;lt;` becomes `&lt;`, never `<`. */
export function decodeEntities(s: string): string {
  return s.includes('&') ? decodeHTMLStrict(s) : s;
}

/**
 * Slack's wire text back to what was typed: tokens resolved, entities decoded, once.
 * @param options.dropUser a user id whose mentions are removed (the bot's own, in a mention)
 * @example decodeSlackText('curl <https://x.io/a?p=2&amp;l=50> -v &gt; out').text === 'curl https://x.io/a?p=2&l=50 -v > out'
 */
export function decodeSlackText(raw: string, options: { dropUser?: string } = {}): DecodedText {
  const links: SlackLink[] = [];
  const users: string[] = [];
  let text = '';
  let plain = '';
  let last = 0;
  for (const m of raw.matchAll(TOKEN)) {
    const between = decodeEntities(raw.slice(last, m.index));
    text += between;
    plain += between;
    last = m.index + m[0].length;
    const token = readToken(m[1]!, options.dropUser);
    if (token.link) links.push(token.link);
    if (token.user) users.push(token.user);
    text += token.text;
    plain += token.plain ?? token.text;
  }
  const rest = decodeEntities(raw.slice(last));
  return { text: text + rest, plain: plain + rest, links, users };
}

interface Token {
  text: string;
  plain?: string;
  link?: SlackLink;
  user?: string;
}

function readToken(inner: string, dropUser: string | undefined): Token {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : decodeEntities(inner.slice(bar + 1));
  const named = label?.trim() ? label.trim() : undefined;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    if (dropUser && id === dropUser) return { text: '' };
    return { text: `@${(named ?? id).replace(/^@/, '')}`, user: id };
  }
  if (target.startsWith('#')) return { text: `#${(named ?? target.slice(1)).replace(/^#/, '')}` };
  if (target.startsWith('!')) return { text: special(target.slice(1), named) };
  if (SCHEME.test(target)) {
    const url = decodeEntities(target);
    if (!named) return { text: url, link: { url } };
    if (sameAsUrl(named, url)) return { text: named, link: { url, label: named } };
    return { text: `${named} (${url})`, plain: named, link: { url, label: named } };
  }
  // Not a token Slack makes: keep it as it came, decoded.
  return { text: `<${decodeEntities(inner)}>` };
}

/** `<!here>`, `<!subteam^S1|@oncall>`, `<!date^…|fallback>` … as they show. */
function special(body: string, label: string | undefined): string {
  const [kind, ...args] = body.split('^');
  if (kind === 'date') {
    if (label) return label;
    const sec = Number(args[0]);
    return Number.isFinite(sec) && Math.abs(sec) < 1e11 ? new Date(sec * 1000).toISOString() : '';
  }
  if (kind === 'subteam') return `@${(label ?? args[0] ?? '').replace(/^@/, '')}`;
  return label ? `@${label.replace(/^@/, '')}` : `@${kind ?? ''}`;
}

/** A label that is the URL as typed: the URL itself, or without its scheme or trailing slash. */
function sameAsUrl(label: string, url: string): boolean {
  const bare = (s: string) => s.replace(/^(?:https?:\/\/|mailto:)/i, '').replace(/\/$/, '');
  return label === url || bare(label) === bare(url);
}

// ---------------------------------------------------------------------------------------------
// Messages

/** A file attached to a message (the fields the bot reads). */
export interface SlackFile {
  readonly url_private?: string;
  readonly mimetype?: string;
  readonly filetype?: string;
  readonly size?: number;
  readonly mode?: string;
}

/** A message event, read: identities, the decoded text, and the structured view alert readers take. */
export interface InboundMessage {
  readonly channel?: string;
  readonly channelType?: string;
  readonly ts?: string;
  readonly threadTs?: string;
  readonly user?: string;
  readonly botId?: string;
  readonly subtype?: string;
  /** True when this came as an edit (message_changed); `previous` is the message before it. */
  readonly edited: boolean;
  /** What the person typed, decoded: the message text, else its rich_text blocks. */
  readonly text: string;
  /** User ids mentioned in the text. */
  readonly mentions: readonly string[];
  readonly files: readonly SlackFile[];
  /** The whole message, decoded and structured (for alert channels). */
  readonly view: ChatMessage;
  readonly previous?: InboundMessage;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

/**
 * Read a `message` (or `app_mention`) event. An edit (`message_changed`) is read through the
 * message it carries, with `edited` set and the previous version in `previous`. Total: any
 * input, however odd, gives a message (possibly empty), never a throw.
 * @param options.dropUser a user id whose mentions are removed from `text` (the bot's own)
 */
export function readInbound(event: unknown, options: { dropUser?: string } = {}): InboundMessage {
  try {
    return readEvent(event, options);
  } catch {
    // A hostile object (a throwing getter): read as an empty message.
    return readEvent({}, options);
  }
}

function readEvent(event: unknown, options: { dropUser?: string }): InboundMessage {
  const e = isObj(event) ? event : {};
  if (e.subtype === 'message_changed' && isObj(e.message)) {
    const inner = { ...e.message, channel: e.channel, channel_type: e.channel_type };
    const previous = isObj(e.previous_message) ? readOne({ ...e.previous_message, channel: e.channel }, options, false) : undefined;
    return { ...readOne(inner, options, true), ...(previous ? { previous } : {}) };
  }
  return readOne(e, options, false);
}

function readOne(m: Obj, options: { dropUser?: string }, edited: boolean): InboundMessage {
  const decoded = decodeSlackText(str(m.text) ?? '', options);
  const view = chatView(m);
  let text = decoded.text.trim();
  if (text === '' && m.blocks !== undefined) text = view.parts.map((p) => p.text).join('\n');
  const files = arr(m.files).filter(isObj) as SlackFile[];
  return {
    ...(str(m.channel) ? { channel: str(m.channel)! } : {}),
    ...(str(m.channel_type) ? { channelType: str(m.channel_type)! } : {}),
    ...(str(m.ts) ? { ts: str(m.ts)! } : {}),
    ...(str(m.thread_ts) ? { threadTs: str(m.thread_ts)! } : {}),
    ...(str(m.user) ? { user: str(m.user)! } : {}),
    ...(str(m.bot_id) ? { botId: str(m.bot_id)! } : {}),
    ...(str(m.subtype) ? { subtype: str(m.subtype)! } : {}),
    edited,
    text,
    mentions: decoded.users,
    files,
    view,
  };
}

// ---------------------------------------------------------------------------------------------
// The structured view

interface Collector {
  poster: string;
  parts: ChatPart[];
  fields: ChatField[];
  links: ChatLink[];
  colors: string[];
  footer: string;
  remaining: number;
  nodes: number;
}

function addLink(c: Collector, url: unknown, kind: ChatLink['kind'], label?: string): void {
  const u = str(url);
  if (u === undefined || u.length > CHAT_LIMITS.maxUrlChars || c.links.length >= CHAT_LIMITS.maxLinks) return;
  c.links.push({ url: decodeEntities(u), kind, ...(label ? { label } : {}) });
}

function visit(c: Collector): boolean {
  c.nodes++;
  return c.nodes <= CHAT_LIMITS.maxNodes && c.remaining > 0;
}

/** Bound a decoded text to what is left of the budget; empty text is dropped. */
function take(c: Collector, s: string): string | undefined {
  if (c.remaining <= 0 || s.trim() === '') return undefined;
  const t = s.length > c.remaining ? s.slice(0, c.remaining) : s;
  c.remaining -= t.length + 1;
  return t;
}

/** Add escaped mrkdwn (or plain_text, which Slack delivers escaped too) as a part, decoded. */
function pushEscaped(c: Collector, raw: string | undefined, kind: ChatPartKind): DecodedText | undefined {
  if (raw === undefined || c.remaining <= 0) return undefined;
  const d = decodeSlackText(raw.slice(0, CHAT_LIMITS.maxTextChars));
  for (const l of d.links) addLink(c, l.url, 'inline', l.label);
  const text = take(c, d.text);
  if (text !== undefined) c.parts.push({ kind, text, plain: d.plain.slice(0, text.length) });
  return d;
}

/** Add raw text (rich_text elements) as a part. */
function pushRaw(c: Collector, text: string, plain: string, kind: ChatPartKind): void {
  const t = take(c, text);
  if (t !== undefined) c.parts.push({ kind, text: t, plain: plain.slice(0, t.length) });
}

/** The inline content of a rich_text section: raw text runs, links, mentions, emoji. */
function richInline(node: unknown, depth: number, c: Collector, out: { text: string; plain: string }): void {
  if (depth > CHAT_LIMITS.maxDepth || !visit(c)) return;
  if (Array.isArray(node)) {
    for (const n of node) {
      if (c.nodes > CHAT_LIMITS.maxNodes) return;
      richInline(n, depth + 1, c, out);
    }
    return;
  }
  if (!isObj(node)) return;
  const type = str(node.type);
  const text = str(node.text);
  const add = (t: string, p = t) => {
    out.text += t;
    out.plain += p;
  };
  if (type === 'link' && str(node.url) !== undefined) {
    const url = str(node.url)!;
    addLink(c, url, 'inline', text);
    if (text !== undefined && text !== '' && !sameAsUrl(text, url)) add(`${text} (${url})`, text);
    else add(text || url);
  } else if (type === 'user' && str(node.user_id)) add(`@${str(node.user_id)}`);
  else if (type === 'channel' && str(node.channel_id)) add(`#${str(node.channel_id)}`);
  else if (type === 'usergroup' && str(node.usergroup_id)) add(`@${str(node.usergroup_id)}`);
  else if (type === 'broadcast' && str(node.range)) add(`@${str(node.range)}`);
  else if (type === 'emoji' && str(node.name)) add(`:${str(node.name)}:`);
  else if (type === 'date' && str(node.fallback)) add(str(node.fallback)!);
  else if (text !== undefined) add(text);
  if (node.elements !== undefined) richInline(node.elements, depth + 1, c, out);
}

function collectBlock(node: unknown, depth: number, c: Collector, kind: ChatPartKind): void {
  if (depth > CHAT_LIMITS.maxDepth || !visit(c)) return;
  if (Array.isArray(node)) {
    for (const n of node) {
      if (c.nodes > CHAT_LIMITS.maxNodes || c.remaining <= 0) return;
      collectBlock(n, depth + 1, c, kind);
    }
    return;
  }
  if (!isObj(node)) return;
  const type = str(node.type) ?? '';
  if (type === 'button' || type === 'overflow') {
    const label = isObj(node.text) ? str(node.text.text) : undefined;
    addLink(c, node.url, 'button', label === undefined ? undefined : decodeEntities(label));
    return;
  }
  if (type === 'image') return;
  if (type === 'rich_text' || type === 'rich_text_list' || type === 'rich_text_quote') {
    if (type === 'rich_text_quote') {
      const out = { text: '', plain: '' };
      richInline(node.elements, depth + 1, c, out);
      pushRaw(c, out.text, out.plain, kind);
      return;
    }
    collectBlock(node.elements, depth + 1, c, kind);
    return;
  }
  if (type === 'rich_text_section' || type === 'rich_text_preformatted') {
    const out = { text: '', plain: '' };
    richInline(node.elements, depth + 1, c, out);
    pushRaw(c, out.text, out.plain, type === 'rich_text_preformatted' ? 'code' : kind);
    return;
  }
  const own: ChatPartKind = type === 'header' ? 'title' : kind;
  if (typeof node.text === 'string') pushEscaped(c, node.text, own);
  else if (isObj(node.text)) collectBlock(node.text, depth + 1, c, own);
  if (node.fields !== undefined) {
    for (const f of arr(node.fields)) {
      if (!visit(c)) break;
      const raw = isObj(f) ? str(f.text) : undefined;
      const d = pushEscaped(c, raw, 'field');
      // Section fields read `*Key*\nvalue`.
      const m = d ? /^\*{0,2}([^*\n]{1,64}?)\*{0,2}\n([\s\S]{0,2048})$/.exec(d.text.trim()) : null;
      if (m?.[1] && m[2] !== undefined) c.fields.push({ key: m[1].trim(), value: m[2].trim() });
    }
  }
  if (node.elements !== undefined) collectBlock(node.elements, depth + 1, c, kind);
  if (node.accessory !== undefined) collectBlock(node.accessory, depth + 1, c, kind);
}

function collectAttachment(a: unknown, c: Collector): void {
  if (!isObj(a) || !visit(c)) return;
  const color = str(a.color);
  if (color !== undefined && c.colors.length < 20) c.colors.push(normaliseColor(color.slice(0, 40)));
  const author = str(a.author_name);
  if (author !== undefined) c.poster += ` ${decodeEntities(author.slice(0, 200)).toLowerCase()}`;
  const footer = str(a.footer);
  if (footer !== undefined) c.footer += ` ${decodeSlackText(footer.slice(0, 500)).text}`;
  const footerIcon = str(a.footer_icon);
  if (footerIcon !== undefined) c.footer += ` ${footerIcon.slice(0, 500)}`;
  pushEscaped(c, str(a.pretext), 'body');
  const title = str(a.title);
  pushEscaped(c, title, 'title');
  addLink(c, a.title_link, 'title_link');
  pushEscaped(c, str(a.text), 'body');
  for (const f of arr(a.fields)) {
    if (!isObj(f) || !visit(c)) continue;
    const key = str(f.title);
    const value = str(f.value);
    if (value === undefined) continue;
    const d = decodeSlackText(value.slice(0, CHAT_LIMITS.maxTextChars));
    for (const l of d.links) addLink(c, l.url, 'inline', l.label);
    const v = take(c, d.text);
    if (v === undefined) continue;
    const k = key === undefined ? '' : decodeEntities(key).trim().slice(0, 64);
    if (k !== '') {
      c.fields.push({ key: k, value: v });
      c.parts.push({ kind: 'field', text: `${k}: ${v}`, plain: `${k}: ${d.plain.slice(0, v.length)}` });
    } else c.parts.push({ kind: 'field', text: v, plain: d.plain.slice(0, v.length) });
  }
  for (const act of arr(a.actions)) if (isObj(act)) addLink(c, act.url, 'button', str(act.text));
  if (a.blocks !== undefined) collectBlock(a.blocks, 0, c, 'body');
  if (title === undefined && str(a.text) === undefined) pushEscaped(c, str(a.fallback), 'title');
}

/**
 * The structured, decoded view of a message (for alert readers). Blocks come first: a Block Kit
 * message's top-level text is only its notification fallback; the top-level text is added when
 * the blocks and attachments do not already hold it. Bounded by {@link CHAT_LIMITS}.
 */
export function chatView(m: Obj): ChatMessage {
  const c: Collector = {
    poster: '',
    parts: [],
    fields: [],
    links: [],
    colors: [],
    footer: '',
    remaining: CHAT_LIMITS.maxTextChars,
    nodes: 0,
  };
  const profile = isObj(m.bot_profile) ? m.bot_profile : {};
  c.poster = [str(profile.name), str(m.username)]
    .filter((s): s is string => s !== undefined)
    .map((s) => decodeEntities(s.slice(0, 200)).toLowerCase())
    .join(' ');
  if (m.blocks !== undefined) collectBlock(m.blocks, 0, c, 'body');
  for (const a of arr(m.attachments)) {
    if (c.nodes > CHAT_LIMITS.maxNodes || c.remaining <= 0) break;
    collectAttachment(a, c);
  }
  const top = decodeSlackText((str(m.text) ?? '').slice(0, CHAT_LIMITS.maxTextChars));
  for (const l of top.links) addLink(c, l.url, 'inline', l.label);
  const head = top.text.trim();
  if (head !== '' && (c.parts.length === 0 || !c.parts.some((p) => p.text.includes(head.slice(0, 200)))))
    c.parts.unshift({ kind: 'body', text: head.slice(0, Math.max(0, c.remaining)), plain: top.plain.trim() });
  const fromBot = (typeof m.bot_id === 'string' && m.bot_id !== '') || m.subtype === 'bot_message' || isObj(m.bot_profile);
  return {
    fromBot,
    poster: c.poster.trim(),
    text: head,
    parts: c.parts,
    fields: c.fields,
    links: c.links,
    colors: c.colors,
    footer: c.footer.trim(),
  };
}
