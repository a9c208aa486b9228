import type { Alert } from './alert.js';
import type { ChatMessage } from './chat-message.js';
import { KIT_PATTERNS, readingOf, type ChatAlertReader } from './read-kit.js';
import { alertmanager } from './readers/alertmanager.js';
import { cloudwatch } from './readers/cloudwatch.js';
import { datadog } from './readers/datadog.js';
import { generic } from './readers/generic.js';
import { grafana } from './readers/grafana.js';
import { opsgenie } from './readers/opsgenie.js';
import { pagerduty } from './readers/pagerduty.js';
import { sentry } from './readers/sentry.js';

/**
 * Every chat alert reader, in the order they are asked. A reader that recognises the poster's
 * name wins; otherwise the first that recognises the message's shape; `generic` is last.
 * Adding a sender: one file in readers/ and one line here.
 */
export const CHAT_READERS: readonly ChatAlertReader[] = [alertmanager, grafana, cloudwatch, pagerduty, datadog, sentry, opsgenie, generic];

/** Every pattern the readers run over message text, for the linear-time checks in the tests. */
export const ALERT_PATTERNS: readonly RegExp[] = [...KIT_PATTERNS, ...CHAT_READERS.flatMap((r) => r.patterns ?? [])];

/**
 * The alert a bot's message in an alert channel carries, or undefined: a person's message, a
 * success notice, a digest. Total and bounded (CHAT_LIMITS at the edge): never throws.
 * @example readChatAlert(chatView(event)) // { source: 'alertmanager', state: 'firing', … }
 */
export function readChatAlert(m: ChatMessage, readers: readonly ChatAlertReader[] = CHAT_READERS): Alert | undefined {
  try {
    if (!m.fromBot) return undefined;
    const r = readingOf(m);
    if (!r) return undefined;
    const recognised = readers.map((reader) => ({ reader, how: reader.recognise(r) }));
    const chosen = recognised.find((x) => x.how === 'poster') ?? recognised.find((x) => x.how === 'shape');
    return chosen?.reader.read(r);
  } catch {
    return undefined;
  }
}
