import type { Alert } from '../alerts/alert.js';
import type { AlertReceipt } from '../alerts/pipeline.js';
import { readAlertmanagerWebhook } from '../alerts/readers/alertmanager-webhook.js';
import { ApiError } from './errors.js';
import type { Schema } from './wire.js';
import { isObject, Problems, type Obj } from './validate.js';

/*
 * The Alertmanager webhook route (webhook_config, payload version 4): the edge of one alert
 * source. The payload is checked strictly here (every field of version 4 present with its type,
 * bounded sizes; fields later versions add, as `truncatedAlerts` once was, are ignored), then
 * src/alerts/readers/alertmanager-webhook.ts reads it into an Alert and the alert pipeline takes
 * it: one answer per group and window in ALERTMANAGER_CHANNEL, repeats update it, a resolved
 * notification marks it resolved, and its buttons work like any answer's.
 */

export type AlertmanagerWebhook = Schema<'AlertmanagerWebhook'>;
export type AlertmanagerAlert = Schema<'AlertmanagerAlert'>;
export type AlertAction = Schema<'AlertAccepted'>['action'];

/** Receiver settings. */
export const ALERTMANAGER_DEFAULTS = {
  /** Most alerts read from one payload (set webhook_config max_alerts to stay under the 64 KiB body). @defaultValue 1000 */
  maxAlerts: 1000,
  /** Most labels or annotations per map. @defaultValue 256 */
  maxMapEntries: 256,
  /** Longest label or annotation value. @defaultValue 16384 */
  maxValueChars: 16 * 1024,
} as const;

// ---------------------------------------------------------------------------------------------
// Validation

function status(v: unknown, field: string, p: Problems): void {
  if (v !== 'firing' && v !== 'resolved') p.add(field, 'must be "firing" or "resolved"');
}

function string(o: Obj, key: string, field: string, p: Problems, max = 8192): void {
  if (typeof o[key] !== 'string') p.add(field, o[key] === undefined ? 'is required' : 'must be a string');
  else if ((o[key] as string).length > max) p.add(field, `must be at most ${max} characters`);
}

function stringMap(o: Obj, key: string, field: string, p: Problems): void {
  const m = o[key];
  if (!isObject(m)) return void p.add(field, m === undefined ? 'is required' : 'must be an object of strings');
  const entries = Object.entries(m);
  if (entries.length > ALERTMANAGER_DEFAULTS.maxMapEntries)
    p.add(field, `must hold at most ${ALERTMANAGER_DEFAULTS.maxMapEntries} entries`);
  for (const [k, v] of entries.slice(0, ALERTMANAGER_DEFAULTS.maxMapEntries)) {
    if (typeof v !== 'string') p.add(`${field}.${k.slice(0, 64)}`, 'must be a string');
    else if (v.length > ALERTMANAGER_DEFAULTS.maxValueChars) p.add(`${field}.${k.slice(0, 64)}`, 'is too long');
  }
}

function checkAlert(a: unknown, i: number, p: Problems): void {
  const f = `alerts[${i}]`;
  if (!isObject(a)) return void p.add(f, 'must be an object');
  status(a.status, `${f}.status`, p);
  stringMap(a, 'labels', `${f}.labels`, p);
  stringMap(a, 'annotations', `${f}.annotations`, p);
  for (const k of ['startsAt', 'endsAt', 'generatorURL', 'fingerprint']) string(a, k, `${f}.${k}`, p);
}

/** Check a webhook payload; throws INVALID_REQUEST naming every bad field. */
export function parseAlertmanagerWebhook(body: unknown): AlertmanagerWebhook {
  const p = new Problems();
  // Unknown fields are tolerated, unlike in our own bodies: Alertmanager adds fields within version 4.
  if (!isObject(body)) p.add('(body)', 'must be a JSON object');
  p.throwIfAny('the Alertmanager payload');
  const o = body as Obj;
  if (o.version !== '4') p.add('version', 'must be "4" (Alertmanager webhook payload version 4)');
  string(o, 'groupKey', 'groupKey', p);
  if (o.truncatedAlerts !== undefined && !(Number.isInteger(o.truncatedAlerts) && (o.truncatedAlerts as number) >= 0))
    p.add('truncatedAlerts', 'must be a whole number');
  status(o.status, 'status', p);
  string(o, 'receiver', 'receiver', p);
  string(o, 'externalURL', 'externalURL', p);
  for (const k of ['groupLabels', 'commonLabels', 'commonAnnotations']) stringMap(o, k, k, p);
  const alerts = o.alerts;
  if (!Array.isArray(alerts) || alerts.length === 0) p.add('alerts', 'must be a non-empty array');
  else if (alerts.length > ALERTMANAGER_DEFAULTS.maxAlerts) p.add('alerts', `must hold at most ${ALERTMANAGER_DEFAULTS.maxAlerts} alerts`);
  else alerts.forEach((a, i) => checkAlert(a, i, p));
  p.throwIfAny('the Alertmanager payload');
  return o as AlertmanagerWebhook;
}

// ---------------------------------------------------------------------------------------------
// Receiving

/**
 * Where the API hands a checked group: the alert pipeline (src/alerts/pipeline.ts) bound to
 * ALERTMANAGER_CHANNEL, built by src/compose.ts. The API itself never talks to Slack.
 */
export type AlertmanagerSink = (alert: Alert) => Promise<AlertReceipt>;

/**
 * Read the group into an alert, let the pipeline decide (before answering, so Alertmanager's
 * retry on a 5xx repeats the decision), and run the work it implies in the background.
 */
export async function receiveAlertmanager(
  sink: AlertmanagerSink,
  w: AlertmanagerWebhook,
  background: (work: (signal: AbortSignal) => Promise<void>) => void,
): Promise<AlertAction> {
  const receipt = await sink(readAlertmanagerWebhook(w));
  if (receipt.work) background(receipt.work);
  return receipt.action === 'repeat' ? 'duplicate' : receipt.action;
}

/** Thrown when the receiver is called while ALERTMANAGER_CHANNEL or Slack is missing. */
export function notConfigured(): ApiError {
  return new ApiError(
    'ALERTMANAGER_NOT_CONFIGURED',
    'the Alertmanager receiver is off: set ALERTMANAGER_CHANNEL to a Slack channel id, with the Slack bot configured (SLACK_BOT_TOKEN and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET)',
  );
}
