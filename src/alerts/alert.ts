import { createHash } from 'node:crypto';
import { redact, type Masked } from '../security/redact.js';

/** Whether the alert is still failing. A resolved alert is never a firing. */
export type AlertState = 'firing' | 'resolved';

/**
 * One alert, whatever sent it: a monitoring integration's message in a Slack alert channel or a
 * webhook payload. Every reader (src/alerts/readers/) makes one; the pipeline (pipeline.ts) takes
 * it from there.
 *
 * @example { source: 'alertmanager', state: 'firing', fingerprint: 'alertmanager:3f2a9c0d11b7e4a5',
 *   title: 'ProbeFailed (blackbox https://api.example.com/health)', text: '…', url: 'https://api.example.com/health' }
 */
export interface Alert {
  /** The reader that made it (the registry's name for the sender): `alertmanager`, `datadog`, … */
  readonly source: string;
  readonly state: AlertState;
  /**
   * `source:` + 16 hex digits. The same for every notification of the same alert (re-fires,
   * renotifications, its resolution): built from the alert's name and identity (labels such as
   * instance and job, a monitor or issue id, an alarm and its region), never from counts, values
   * or times. Built from masked values, so no secret can be recovered from it.
   */
  readonly fingerprint: string;
  /** The alert's title without its status prefix (`[FIRING:2]`, `Triggered:`, `ALARM:`), masked. */
  readonly title: Masked;
  /** Everything the alert says, for the engine: title, descriptions, fields, code; masked. */
  readonly text: Masked;
  /**
   * The failing endpoint the alert is about (a probed URL label or field, else the first URL in
   * the text that is not a link to a monitoring tool, a runbook or Slack), masked. At most
   * {@link ALERT_URL_MAX} characters: longer URLs are dropped, not cut.
   */
  readonly url?: Masked;
  /** How many alerts or events the notification counts (`[FIRING:3]`, Sentry's `Events: 12`). */
  readonly seenCount?: number;
}

/** Longest URL an alert carries. */
export const ALERT_URL_MAX = 2_048;

/**
 * The fingerprint of an alert: `source:` + the first 16 hex digits of the sha256 of its masked
 * name and sorted identity.
 */
export function fingerprintOf(source: string, name: string, identity: readonly string[] = []): string {
  const key = JSON.stringify([source, redact(name.trim().slice(0, 1024)), [...identity].map((i) => redact(i)).sort()]);
  return `${source}:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
