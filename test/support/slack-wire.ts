/**
 * What Slack does to text and messages on their way to an app, so the stand-in sends what Slack
 * sends. Each rule names where it comes from.
 *
 * 1. Escaping — api.slack.com/reference/surfaces/formatting#escaping: `&`, `<`, `>` in text a
 *    person typed arrive as `&amp;`, `&lt;`, `&gt;` (message text and slash-command text: a real
 *    event, poshbotio/PoshBot#108, `"text":"!u -ldapfilter ‘(\u0026amp;(samaccountname=…`; a
 *    command with `&`, looker/lookerbot#52). Only these three (sdslabs/slack-utils#3).
 * 2. Links — a typed URL arrives as `<https://x>`, a typed host as `<http://www.google.com|www.google.com>`
 *    (operable/cog#121); `&` inside a URL is escaped too (pbaylas/r2-d7#17). With the slash
 *    command's "escape channels, users, and links" off (our manifest: should_escape: false), the
 *    command text carries links unwrapped, only escaped.
 * 3. rich_text — messages from Slack's clients carry the same content as a rich_text block whose
 *    text elements are raw and whose links are `{type: "link", url}` elements (a real
 *    message_changed event: tattle-made/dau-dashboard test/support/fixtures/temp.ex; Slack's
 *    message_changed docs; a Socket Mode capture, gist dcastro/6e4d9fa3e606aeb0f74ec7cd1531558e).
 * 4. Bot and integration messages — stored as the integration posted them, with attachments
 *    numbered (`id: 1`) and their colour names turned into hex without `#`: `good` → `2eb886`,
 *    `danger` → `a30200`, `#D63232` → `D63232` (real events quoted in public tests: an incoming
 *    webhook `"color": "2eb886"`, an Alertmanager default-template message `"color": "a30200"`,
 *    a Grafana alert `"color": "D63232"`).
 * 5. Threads — once a message has replies, Slack stores it (and sends its edits) with
 *    `thread_ts` equal to its own ts, `reply_count`, `reply_users` and `latest_reply`.
 */

type Json = Record<string, unknown>;

/** Slack's escaping of the three control characters, as for text a person typed. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Top-level domains the stand-in links when a bare host name is typed (Slack links many more). */
const TLDS = 'com|net|org|io|dev|app|co|cloud|internal|corp|local|cn|uk|de';
const URL_OR_HOST = new RegExp(
  String.raw`\b(?:https?:\/\/[^\s<>"'\x60|]{1,2048}|mailto:[^\s<>"'|]{1,256}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}(?:${TLDS})(?::\d{1,5})?(?:\/[^\s<>"'\x60|]{0,2048})?)`,
  'gi',
);

/** A URL's trailing punctuation is not part of it, as in Slack's clients. */
function trimUrl(u: string): string {
  return u.replace(/[.,;:!?)\]]+$/, '');
}

/**
 * What Slack sends as `text` for a message a person typed: escaped, URLs wrapped `<url>`, bare
 * hosts `<http://host|host>`, and `mentions` (user ids) before it as `<@U…>`. Code in backticks is
 * escaped but never linked, as in Slack.
 */
export function typedToWire(typed: string, options: { mentions?: readonly string[] } = {}): string {
  const out: string[] = [];
  const pieces = typed.split(/(```[\s\S]*?```|`[^`\n]*`)/);
  for (const piece of pieces) {
    if (piece.startsWith('`')) {
      out.push(escapeSlack(piece));
      continue;
    }
    let last = 0;
    for (const m of piece.matchAll(URL_OR_HOST)) {
      const url = trimUrl(m[0]);
      out.push(escapeSlack(piece.slice(last, m.index)));
      const wire = escapeSlack(url);
      out.push(/^(?:https?:|mailto:)/i.test(url) ? `<${wire}>` : `<http://${wire}|${wire}>`);
      last = m.index + url.length;
    }
    out.push(escapeSlack(piece.slice(last)));
  }
  const mentions = (options.mentions ?? []).map((u) => `<@${u}> `).join('');
  return mentions + out.join('');
}

/** The rich_text block Slack's clients send with a typed message: raw text runs, link and user elements, code as preformatted. */
export function typedToRichText(typed: string, options: { mentions?: readonly string[] } = {}): Json {
  const elements: Json[] = [];
  let section: Json[] = (options.mentions ?? []).flatMap((u) => [
    { type: 'user', user_id: u },
    { type: 'text', text: ' ' },
  ]);
  const flush = () => {
    if (section.length > 0) elements.push({ type: 'rich_text_section', elements: section });
    section = [];
  };
  for (const piece of typed.split(/(```[\s\S]*?```)/)) {
    if (piece.startsWith('```')) {
      flush();
      elements.push({
        type: 'rich_text_preformatted',
        elements: [{ type: 'text', text: piece.slice(3, -3).replace(/^\n/, '') }],
        border: 0,
      });
      continue;
    }
    let last = 0;
    for (const m of piece.matchAll(URL_OR_HOST)) {
      const url = trimUrl(m[0]);
      if (m.index > last) section.push({ type: 'text', text: piece.slice(last, m.index) });
      section.push(/^(?:https?:|mailto:)/i.test(url) ? { type: 'link', url } : { type: 'link', url: `http://${url}`, text: url });
      last = m.index + url.length;
    }
    if (last < piece.length) section.push({ type: 'text', text: piece.slice(last) });
  }
  flush();
  return { type: 'rich_text', block_id: randomBlockId(), elements };
}

/** Slack's block ids for blocks given without one: a few random characters. */
export function randomBlockId(): string {
  return Math.random().toString(36).slice(2, 7);
}

/** Colour names Slack turns into hex when it stores an attachment. */
const COLOR_NAMES: Readonly<Record<string, string>> = { good: '2eb886', warning: 'daa038', danger: 'a30200' };

/**
 * An integration's message as Slack stores and delivers it: attachments numbered with their
 * colour normalised and a fallback, blocks given ids. Text is kept as posted: integrations
 * escape their own text (Slack's formatting rules apply to them as to us).
 */
export function storedIntegrationMessage(posted: Json): Json {
  const out: Json = { ...posted };
  if (Array.isArray(posted.attachments)) {
    out.attachments = (posted.attachments as Json[]).map((a, i) => {
      const copy: Json = { id: i + 1, ...a };
      if (typeof a.color === 'string') copy.color = COLOR_NAMES[a.color.toLowerCase()] ?? a.color.replace(/^#/, '');
      if (copy.fallback === undefined)
        copy.fallback = typeof a.title === 'string' ? a.title : typeof a.text === 'string' ? a.text.slice(0, 200) : '';
      if (Array.isArray(a.blocks)) copy.blocks = (a.blocks as Json[]).map((b) => ({ block_id: randomBlockId(), ...b }));
      return copy;
    });
  }
  if (Array.isArray(posted.blocks)) out.blocks = (posted.blocks as Json[]).map((b) => ({ block_id: randomBlockId(), ...b }));
  return out;
}

/** The raw `<`, `>` or `&` Slack never leaves in the text of a person's message, if any. */
export function unescapedInText(text: string): string | undefined {
  const withoutTokens = text.replace(
    /<(?:[@#!][^<>\s|]{1,200}(?:\|[^<>]{0,200})?|(?:https?|mailto):[^<>\s|]{1,4096}(?:\|[^<>]{0,4096})?)>/g,
    '',
  );
  const bad = /[<>]|&(?!amp;|lt;|gt;)/.exec(withoutTokens);
  return bad ? withoutTokens.slice(Math.max(0, bad.index - 20), bad.index + 20) : undefined;
}
