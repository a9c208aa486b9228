import type { AlertState } from '../alert.js';
import { finish, linkId, linksTo, pairValue, stableText, type ChatAlertReader } from '../read-kit.js';

/**
 * Opsgenie's Slack app. A new alert is one attachment titled `#<tiny id>: <message>` linking to
 * `https://<account>.app.opsgenie.com/alert/detail/<alert id>/details`, with Priority, Routed
 * Teams, Source and Tags fields (the layout Opsgenie's chat integrations share; the Mattermost
 * Opsgenie plugin mirrors it). Later actions are messages such as `<who> acknowledged alert
 * <link|#1234>: "<message>"` and `<who> closed alert <link|#1234>: "<message>"`: closing is the
 * resolution. The fingerprint is the alert id (or the tiny id), so they all meet.
 */
const TITLE = /^#(\d{1,12}):[ \t]{0,4}(.{1,1000})$/;
const ACTION =
  /\b(closed|acknowledged|unacknowledged|created|escalated|snoozed)[ \t]{1,4}alert[ \t]{1,4}#(\d{1,12})(?:[ \t]{1,4}\([^)\s]{1,2048}\))?:?[ \t]{0,4}"?([^"\n]{0,1000})"?/i;

export const opsgenie: ChatAlertReader = {
  source: 'opsgenie',
  label: 'Opsgenie',
  patterns: [TITLE, ACTION],
  recognise(r) {
    if (/opsgenie/.test(r.m.poster)) return 'poster';
    return linksTo(r, /(?:^|\.)opsgenie\.com$/) ? 'shape' : undefined;
  },
  read(r) {
    const action = ACTION.exec(r.body);
    const titled = TITLE.exec(r.titleLine);
    const tiny = titled?.[1] ?? action?.[2];
    const title = (titled?.[2] ?? action?.[3] ?? r.titleLine).trim();
    const verb = action?.[1]?.toLowerCase();
    const status = pairValue(r.pairs, 'status', 'state')?.toLowerCase();
    let state: AlertState | undefined;
    if (verb === 'closed' || status === 'closed' || status === 'resolved') state = 'resolved';
    else if (verb !== undefined || titled !== null || status !== undefined) state = 'firing';
    const id = linkId(r, /\/alert\/detail\/([0-9a-f-]{8,80})/i);
    const name = id !== undefined ? `alert:${id}` : tiny !== undefined ? `alert:#${tiny}` : stableText(title);
    return finish(r, 'opsgenie', { state, title, name, nameOnly: id !== undefined || tiny !== undefined });
  },
};
