/**
 * A chat message as the alert readers see it: every text already decoded (what the sender meant,
 * Slack's escaping and link markup undone once at the edge, src/slack/inbound.ts), its structure
 * kept: who posted it, its title and body parts, fields, links and colours. Nothing here knows
 * Slack's wire format, so a reader never decodes anything itself.
 */
export interface ChatMessage {
  /** True when a bot or an integration posted it (people's messages are never alerts). */
  readonly fromBot: boolean;
  /** The names the poster goes by, lower-case, space-separated: bot profile, username, attachment authors. */
  readonly poster: string;
  /** The top-level text, decoded (for Block Kit messages only their notification fallback). */
  readonly text: string;
  /** Every piece of text in reading order: blocks first, then attachments, then the top-level text. */
  readonly parts: readonly ChatPart[];
  /** Attachment fields and section fields that have a title. */
  readonly fields: readonly ChatField[];
  /** Every link: title links, buttons, and links inside the text. */
  readonly links: readonly ChatLink[];
  /**
   * Attachment colours, normalised: lower-case hex without `#`, Slack's names turned into the hex
   * Slack stores for them (`good` → `2eb886`, `warning` → `daa038`, `danger` → `a30200`).
   */
  readonly colors: readonly string[];
  /** Attachment footers (and footer icons), joined. */
  readonly footer: string;
}

export type ChatPartKind = 'title' | 'body' | 'field' | 'code';

export interface ChatPart {
  readonly kind: ChatPartKind;
  /** The decoded text; a link whose label differs from its URL reads `label (url)`. */
  readonly text: string;
  /** The same text as it shows on screen: links by their label only. */
  readonly plain: string;
}

export interface ChatField {
  readonly key: string;
  readonly value: string;
}

export interface ChatLink {
  readonly url: string;
  readonly label?: string;
  readonly kind: 'title_link' | 'button' | 'inline';
}

/** Bounds on what the edge collects from one message. */
export const CHAT_LIMITS = {
  /** Characters of text collected (titles, bodies, fields, blocks). @defaultValue 20,000 */
  maxTextChars: 20_000,
  /** Longest URL kept. @defaultValue 2,048 */
  maxUrlChars: 2_048,
  /** Deepest nesting of blocks and elements visited. @defaultValue 12 */
  maxDepth: 12,
  /** Most objects visited in attachments and blocks. @defaultValue 2,000 */
  maxNodes: 2_000,
  /** Most links kept. @defaultValue 200 */
  maxLinks: 200,
} as const;

/** The hex Slack stores for its colour names (a bot that posts `good` is delivered `2eb886`). */
export const SLACK_COLOR_NAMES: Readonly<Record<string, string>> = { good: '2eb886', warning: 'daa038', danger: 'a30200' };

/** A colour as Slack delivers it: lower-case hex without `#`; names mapped to their hex. */
export function normaliseColor(color: string): string {
  const c = color.trim().toLowerCase();
  return SLACK_COLOR_NAMES[c] ?? c.replace(/^#/, '');
}
