import type { AlertState } from '../alert.js';
import { colorState, finish, pairValue, type ChatAlertReader } from '../read-kit.js';

/**
 * CloudWatch alarms in Slack through SNS and AWS Chatbot (Amazon Q Developer in chat
 * applications): title `ALARM: "<alarm name>" in <Region>` (`OK:` when it recovers,
 * `INSUFFICIENT_DATA:`), the alarm's NewStateReason as the body ("Threshold Crossed: 1 out of
 * the last 1 datapoints …"), fields such as Alarm Name, and a CloudWatch console button. The
 * older Chatbot layout reads `CloudWatch Alarm | <name> | <region>`; an SNS notification
 * forwarded raw carries `"AlarmName"` and `"NewStateValue"`.
 */
const SUBJECT = /^(ALARM|OK|INSUFFICIENT_DATA):[ \t]{0,4}"([^"\n]{1,256})"(?:[ \t]{1,4}in[ \t]{1,4}([^\n]{1,80}))?/;
const CHATBOT = /CloudWatch Alarm[ \t]{0,4}\|[ \t]{0,4}([^|\n]{1,256})\|[ \t]{0,4}([a-z]{2}(?:-gov)?-[a-z]{2,10}-\d)/i;
const STATE = /\b(?:state|new state|current state)\*{0,2}:?\*{0,2}[ \t]{0,4}`?(ALARM|OK|INSUFFICIENT_DATA)\b/i;
const SNS_NAME = /"AlarmName"[ \t]{0,4}:[ \t]{0,4}"([^"\n]{1,256})"/;
const SNS_STATE = /"NewStateValue"[ \t]{0,4}:[ \t]{0,4}"(ALARM|OK|INSUFFICIENT_DATA)"/;
const SNS_REGION = /"Region"[ \t]{0,4}:[ \t]{0,4}"([^"\n]{1,80})"/;

export const cloudwatch: ChatAlertReader = {
  source: 'cloudwatch',
  label: 'CloudWatch',
  patterns: [SUBJECT, CHATBOT, STATE, SNS_NAME, SNS_STATE, SNS_REGION],
  recognise(r) {
    if (/\b(?:aws|amazon q|chatbot|cloudwatch)\b/.test(r.m.poster)) return 'poster';
    const shaped =
      SUBJECT.test(r.titleLine) ||
      SUBJECT.test(r.textLine) ||
      CHATBOT.test(r.body) ||
      (SNS_NAME.test(r.body) && SNS_STATE.test(r.body)) ||
      r.links.some((u) => /console\.aws\.amazon\.com\/cloudwatch/i.test(u));
    return shaped ? 'shape' : undefined;
  },
  read(r) {
    const subject = SUBJECT.exec(r.titleLine) ?? SUBJECT.exec(r.textLine) ?? SUBJECT.exec(r.body);
    const chatbot = CHATBOT.exec(r.body);
    const word =
      subject?.[1] ?? SNS_STATE.exec(r.body)?.[1] ?? STATE.exec(r.body)?.[1] ?? pairValue(r.pairs, 'state', 'current state', 'new state');
    const upper = word?.toUpperCase();
    const state: AlertState | undefined =
      upper === 'OK' ? 'resolved' : upper === 'ALARM' || upper === 'INSUFFICIENT_DATA' ? 'firing' : colorState(r.m);
    const alarm =
      subject?.[2] ??
      chatbot?.[1]?.trim() ??
      SNS_NAME.exec(r.body)?.[1] ??
      pairValue(r.pairs, 'alarm name', 'alarm', 'alarmname') ??
      r.titleLine;
    const region = subject?.[3]?.trim() ?? chatbot?.[2] ?? SNS_REGION.exec(r.body)?.[1] ?? pairValue(r.pairs, 'region') ?? '';
    const title = subject
      ? `"${alarm}"${subject[3] ? ` in ${subject[3].trim()}` : ''}`
      : chatbot
        ? alarm
        : `"${alarm}"${region ? ` in ${region}` : ''}`;
    return finish(r, 'cloudwatch', { state, title, name: `${alarm} ${region.toLowerCase()}` });
  },
};
