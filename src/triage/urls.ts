/**
 * URLs in free text: the one reading of them for the Slack handlers ("Run probes"), the alert
 * readers and the Alertmanager webhook. A URL ends at whitespace, a quote, a bracket or Slack's own
 * delimiters; trailing sentence punctuation is not part of it.
 */
const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s<>"'`|\])}]{1,2048}/gi;

/** Every URL in the text (http, https, ws, wss), in order, trailing punctuation removed. */
export function urlsIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const url = m[0].replace(/[.,;:!?*_'"]{1,8}$/, '');
    if (url.length > 0) out.push(url);
  }
  return out;
}

/** The first http(s) URL in the text. @example firstHttpUrl('see https://x.test/a.') === 'https://x.test/a' */
export function firstHttpUrl(text: string): string | undefined {
  return urlsIn(text).find((u) => /^https?:/i.test(u));
}
