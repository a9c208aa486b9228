import { createHash, randomUUID } from 'node:crypto';
import type { Lang } from '../knowledge/types.js';
import { diagnoses, topCauseLabel } from '../metrics.js';
import type { ProbeRunner } from '../queue/runner.js';
import { redact, type Masked } from '../security/redact.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { escapeMrkdwn, renderDiagnosisBlocks, type Block, type SlackMessage } from '../slack/blocks.js';
import type { PostResult, PosterMessage } from '../slack/poster.js';
import { diagnose } from '../triage/diagnose.js';
import type { Engine } from '../triage/engine.js';
import type { Diagnosis } from '../triage/result.js';
import { parseTarget } from '../triage/target.js';
import type { AlertStore } from './alert-store.js';
import { ApiError } from './errors.js';
import type { Schema } from './wire.js';
import { isObject, Problems, type Obj } from './validate.js';

/*
 * The Alertmanager webhook receiver (webhook_config, payload version 4).
 *
 * 1. The payload is checked strictly: every field of version 4 present with its type, bounded
 *    sizes. Fields later Alertmanager versions add (as `truncatedAlerts` once was) are ignored.
 * 2. The decision is made before answering, so Alertmanager's retry (on a 5xx) repeats it: a firing
 *    group is claimed for the window (SET NX EX), a resolved one takes its stored answer.
 * 3. The work runs after the answer: the failing URL is probed when the policy allows it (else
 *    the alert's text is explained), and the answer is posted to ALERTMANAGER_CHANNEL; a resolved
 *    group's answer is updated with a resolved line.
 */

export type AlertmanagerWebhook = Schema<'AlertmanagerWebhook'>;
export type AlertmanagerAlert = Schema<'AlertmanagerAlert'>;
export type AlertAction = Schema<'AlertAccepted'>['action'];

/** Receiver settings. */
export const ALERTMANAGER_DEFAULTS = {
  /** A group is answered at most once per window; Alertmanager re-sends firing groups meanwhile. @defaultValue 3600 */
  windowSec: 3600,
  /** Most alerts read from one payload (set webhook_config max_alerts to stay under the 64 KiB body). @defaultValue 1000 */
  maxAlerts: 1000,
  /** Most labels or annotations per map. @defaultValue 256 */
  maxMapEntries: 256,
  /** Longest label or annotation value. @defaultValue 16384 */
  maxValueChars: 16 * 1024,
  /** Most characters of alert text given to the engine when no URL is probed. @defaultValue 65536 */
  maxTextChars: 64 * 1024,
  /** Budget of each probe. @defaultValue 10000 */
  probeTimeoutMs: 10_000,
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
// Reading a group

/** Annotations and labels that name the failing endpoint, in order of trust. */
const URL_KEYS = ['url', 'probe_url', 'target', 'endpoint', 'instance'] as const;
/** Annotations whose prose may hold the URL. */
const TEXT_KEYS = ['summary', 'description', 'message'] as const;
const HTTP_URL = /\bhttps?:\/\/[^\s<>"'`|\])}]{1,2048}/i;

function httpUrl(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim();
  return /^https?:\/\/\S{1,2048}$/i.test(t) ? t : undefined;
}

/** Firing alerts first (they are what failed); for a resolved group, all of them. */
function relevantAlerts(w: AlertmanagerWebhook): readonly AlertmanagerAlert[] {
  const firing = w.alerts.filter((a) => a.status === 'firing');
  return firing.length > 0 ? firing : w.alerts;
}

/** The URL the group is about: an endpoint label or annotation, else a URL in the summary or description. */
export function findFailingUrl(w: AlertmanagerWebhook): string | undefined {
  const sources = [...relevantAlerts(w).flatMap((a) => [a.annotations, a.labels]), w.commonAnnotations, w.commonLabels];
  for (const key of URL_KEYS) for (const m of sources) if (httpUrl(m[key])) return httpUrl(m[key]);
  for (const key of TEXT_KEYS)
    for (const m of sources) {
      const found = m[key] === undefined ? undefined : HTTP_URL.exec(m[key])?.[0];
      if (found) return found.replace(/[.,;:]+$/, '');
    }
  return undefined;
}

/** The group as text for the engine: names, summaries, descriptions, then every label and annotation. */
export function alertText(w: AlertmanagerWebhook): string {
  const lines: string[] = [`[${w.status.toUpperCase()}:${w.alerts.length}] ${w.commonLabels.alertname ?? w.groupLabels.alertname ?? ''}`];
  for (const a of relevantAlerts(w).slice(0, 20)) {
    for (const key of TEXT_KEYS) if (a.annotations[key]) lines.push(`${key}: ${a.annotations[key]}`);
    for (const [k, v] of Object.entries(a.annotations)) if (!(TEXT_KEYS as readonly string[]).includes(k)) lines.push(`${k}: ${v}`);
    lines.push(
      Object.entries(a.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(' '),
    );
  }
  return lines.join('\n').slice(0, ALERTMANAGER_DEFAULTS.maxTextChars);
}

/** A stable, short, fixed-charset key for a groupKey (which is long and holds quotes and braces). */
export function groupHash(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex').slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// Answering

/** Where answers go: the Slack poster (src/slack/poster.ts) and the channel. */
export interface AlertmanagerOutput {
  /** ALERTMANAGER_CHANNEL. */
  readonly channel: string;
  post(channel: string, message: PosterMessage): Promise<PostResult>;
  update(channel: string, ts: string, message: PosterMessage): Promise<PostResult>;
}

export interface AlertmanagerDeps {
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly policy: SsrfPolicy;
  readonly store: AlertStore;
  readonly output: AlertmanagerOutput;
  /** Runs work after the answer; the API server counts it and bounds it. */
  readonly background: (work: (signal: AbortSignal) => Promise<void>) => void;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  readonly windowSec?: number;
  readonly lang?: Lang;
}

/** Decide what to do with a checked payload, answer with it, and do it in the background. */
export async function receiveAlertmanager(deps: AlertmanagerDeps, w: AlertmanagerWebhook): Promise<AlertAction> {
  const group = groupHash(w.groupKey);
  const windowSec = deps.windowSec ?? ALERTMANAGER_DEFAULTS.windowSec;
  if (w.status === 'resolved') {
    const entry = await deps.store.takeAnswer(group);
    if (!entry) return 'ignore';
    deps.background(() => markResolved(deps, w, entry));
    return 'resolve';
  }
  if (!(await deps.store.claim(group, windowSec))) return 'duplicate';
  deps.background((signal) => answerGroup(deps, w, group, windowSec, signal));
  return 'answer';
}

/** Post the group's answer; on any failure give the claim back, so the group's next notification retries. */
async function answerGroup(deps: AlertmanagerDeps, w: AlertmanagerWebhook, group: string, windowSec: number, signal: AbortSignal) {
  try {
    const { message, topCause } = await composeAnswer(deps, w, signal);
    const line = `🔔 Alertmanager: ${alertName(w)}, ${w.alerts.filter((a) => a.status === 'firing').length} firing (receiver ${w.receiver})`;
    const posted = await deps.output.post(deps.output.channel, withStatusLine(message.message, line, message.note));
    if (!posted.ok) throw new Error(`posting to ${deps.output.channel} failed (${posted.error})`);
    diagnoses.inc({ entry: 'alertmanager', top_cause: topCause });
    await deps.store.saveAnswer(group, { channel: posted.channel, ts: posted.ts, message: message.message }, windowSec);
  } catch (err) {
    deps.log('warn', redact(`alertmanager: answering a group failed: ${(err as Error).message}; its next notification retries`));
    await deps.store.release(group).catch(() => {});
  }
}

async function markResolved(
  deps: AlertmanagerDeps,
  w: AlertmanagerWebhook,
  answer: { channel: string; ts: string; message: SlackMessage },
) {
  const line = `✅ Resolved at ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${alertName(w)}`;
  const updated = await deps.output.update(answer.channel, answer.ts, withStatusLine(answer.message, line));
  if (!updated.ok) deps.log('warn', redact(`alertmanager: marking the answer resolved failed (${updated.error})`));
}

interface Composed {
  readonly message: SlackMessage;
  /** Why the URL was not probed, when it was not. */
  readonly note?: string;
}

/** Probes when the group names a URL the policy allows; the alert's own text otherwise. */
async function composeAnswer(
  deps: AlertmanagerDeps,
  w: AlertmanagerWebhook,
  signal: AbortSignal,
): Promise<{ message: Composed; topCause: string }> {
  const lang = deps.lang ?? 'en';
  const requestId = randomUUID();
  const raw = findFailingUrl(w);
  const target = raw ? parseTarget({ url: raw }).target : undefined;
  const url = target ? redact(target.url.href) : undefined;
  let note: string | undefined;
  if (target) {
    const check = await deps.policy.check(target.url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
    if (check.ok || check.code === 'DNS_FAILED') {
      try {
        const d = await diagnose(deps.engine, deps.runner, target, {
          lang,
          signal,
          limits: { timeoutMs: ALERTMANAGER_DEFAULTS.probeTimeoutMs },
        });
        return answer(d, { source: 'probes', url: url!, requestId }, lang);
      } catch (err) {
        note = `not probed: ${(err as Error).message.slice(0, 200)}`;
      }
    } else note = `not probed: ${check.reason}`;
  }
  const d = deps.engine.explain(alertText(w), { lang });
  return answer(d, { source: 'text', requestId, ...(url ? { url } : {}) }, lang, note);
}

function answer(
  d: Diagnosis,
  context: { source: 'text' | 'probes'; url?: Masked; requestId: string },
  lang: Lang,
  note?: string,
): { message: Composed; topCause: string } {
  const message = renderDiagnosisBlocks(d, { lang, context });
  return { message: { message, ...(note ? { note } : {}) }, topCause: topCauseLabel(d.causes) };
}

function alertName(w: AlertmanagerWebhook): string {
  return (w.commonLabels.alertname ?? w.groupLabels.alertname ?? w.alerts[0]?.labels.alertname ?? 'alert group').slice(0, 120);
}

/** The answer with one status line under its header (firing, resolved), masked and escaped. */
export function withStatusLine(message: SlackMessage, line: string, note?: string): SlackMessage {
  const text = [line, note].filter(Boolean).join(' · ').slice(0, 600);
  const status: Block = {
    type: 'context',
    block_id: 'alertmanager-status',
    elements: [{ type: 'mrkdwn', text: escapeMrkdwn(redact(text)), verbatim: true }],
  };
  const rest = message.blocks.filter((b) => !('block_id' in b) || b.block_id !== 'alertmanager-status');
  const [first, ...others] = rest;
  return { text: message.text, blocks: (first ? [first, status, ...others] : [status]).slice(0, 50) };
}

/** Thrown when the receiver is called while ALERTMANAGER_CHANNEL or Slack is missing. */
export function notConfigured(): ApiError {
  return new ApiError(
    'ALERTMANAGER_NOT_CONFIGURED',
    'the Alertmanager receiver is off: set ALERTMANAGER_CHANNEL to a Slack channel id, with the Slack bot configured (SLACK_BOT_TOKEN and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET)',
  );
}
