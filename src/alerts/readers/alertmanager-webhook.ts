import { redact, type Masked } from '../../security/redact.js';
import { ALERT_URL_MAX, fingerprintOf, type Alert } from '../alert.js';
import { firstHttpUrl } from '../../triage/urls.js';

/**
 * Alertmanager's webhook (webhook_config, payload version 4): one notification per alert group.
 * The group is the alert: its groupKey is the identity (Alertmanager re-sends a firing group
 * every repeat_interval and sends it once more, `status: resolved`, when every alert in it is).
 * The payload was checked at the edge (src/api/alertmanager.ts) before it gets here.
 */
export interface AlertmanagerPayload {
  readonly status: 'firing' | 'resolved';
  readonly groupKey: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly alerts: readonly {
    readonly status: 'firing' | 'resolved';
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  }[];
}

/** Most characters of a group's text given to the engine. */
const MAX_TEXT = 64 * 1024;
/** Annotations and labels that name the failing endpoint, in order of trust. */
const URL_KEYS = ['url', 'probe_url', 'target', 'endpoint', 'instance'] as const;
/** Annotations whose prose may hold the URL. */
const TEXT_KEYS = ['summary', 'description', 'message'] as const;

export function readAlertmanagerWebhook(w: AlertmanagerPayload): Alert {
  const firing = w.alerts.filter((a) => a.status === 'firing').length;
  const url = findFailingUrl(w);
  return {
    source: 'alertmanager',
    state: w.status,
    fingerprint: fingerprintOf('alertmanager', `group:${w.groupKey}`),
    title: redact(groupTitle(w)),
    text: redact(alertText(w)).slice(0, MAX_TEXT) as Masked,
    ...(url && url.length <= ALERT_URL_MAX ? { url: redact(url) } : {}),
    ...(firing > 0 ? { seenCount: firing } : {}),
  };
}

/** Alertmanager's own subject without its status prefix: the group labels, then the other common labels. */
function groupTitle(w: AlertmanagerPayload): string {
  const group = Object.keys(w.groupLabels)
    .sort()
    .map((k) => w.groupLabels[k]);
  const others = Object.keys(w.commonLabels)
    .filter((k) => !(k in w.groupLabels))
    .sort()
    .map((k) => w.commonLabels[k]);
  const head = group.join(' ') || w.commonLabels.alertname || w.alerts[0]?.labels.alertname || 'alert group';
  return `${head}${others.length > 0 ? ` (${others.join(' ')})` : ''}`.slice(0, 300);
}

function httpUrl(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t && /^https?:\/\/\S{1,2048}$/i.test(t) ? t : undefined;
}

/** Firing alerts first (they are what failed); for a resolved group, all of them. */
function relevantAlerts(w: AlertmanagerPayload): AlertmanagerPayload['alerts'] {
  const firing = w.alerts.filter((a) => a.status === 'firing');
  return firing.length > 0 ? firing : w.alerts;
}

/** The URL the group is about: an endpoint label or annotation, else a URL in the summary or description. */
export function findFailingUrl(w: AlertmanagerPayload): string | undefined {
  const sources = [...relevantAlerts(w).flatMap((a) => [a.annotations, a.labels]), w.commonAnnotations, w.commonLabels];
  for (const key of URL_KEYS) for (const m of sources) if (httpUrl(m[key])) return httpUrl(m[key]);
  for (const key of TEXT_KEYS)
    for (const m of sources) {
      const found = m[key] === undefined ? undefined : firstHttpUrl(m[key]);
      if (found) return found.replace(/[.,;:]+$/, '');
    }
  return undefined;
}

/** The group as text for the engine: names, summaries, descriptions, then every label and annotation. */
export function alertText(w: AlertmanagerPayload): string {
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
  return lines.join('\n').slice(0, MAX_TEXT);
}
