import type { Extractor } from './extractor.js';
import { eachMatch, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * ping (Linux, BSD/macOS and Windows in the languages Windows prints), mtr and traceroute: lost
 * probes, the loss summary, unreachable destinations and unknown hosts. mtr loss counts only at the
 * last hop: loss at a router in the middle that the hops after it do not show is ICMP rate limiting,
 * not loss on the path.
 */

/** `4 packets transmitted, 0 received, 100% packet loss` (Linux, BSD). */
const UNIX_SUMMARY =
  /\b\d{1,9} packets transmitted, \d{1,9} (?:packets )?received,(?: \+\d{1,9} (?:errors|duplicates),)* (\d{1,3}(?:\.\d{1,4})?)% packet loss/g;
/** Windows: `Lost = 4 (100% loss)` and its translations (some of which wrap the percentage to the next line). */
const WINDOWS_SUMMARY =
  /(?:\bLost|丢失|遺失|\bVerloren|\bperdidos|\bPerdus|\bPerdidos|потеряно|損失|손실|\bpersi)[ \t]{0,2}=[ \t]{0,2}\d{1,9},?[ \t]{0,2}(?:\r?\n[ \t]{0,8})?\((?:perte |perdita )?(\d{1,3})[ \t]?%/gi;
/** Monitoring checks' summaries: Nagios/Icinga check_ping `PING CRITICAL - Packet loss = 100%`, fping `xmt/rcv/%loss = 5/0/100%`. */
const CHECK_SUMMARY = /\bPacket loss = (\d{1,3})%|\bxmt\/rcv\/%loss = \d{1,9}\/\d{1,9}\/(\d{1,3})%/gi;
/**
 * Loss stated by a monitor or a person, with its percentage: Zabbix's `High ICMP ping loss 33.33 %`, a
 * retyped `0 received, 100% packet loss`, `ping 超时，100% 丢包`.
 */
const PERCENT_LOSS =
  /\b(\d{1,3}(?:\.\d{1,4})?) ?% (?:packet loss|loss\b|丢包)|\b(?:ICMP ping|ping|packet) loss(?: is| of| =|:)? ?(\d{1,3}(?:\.\d{1,4})?) ?%|丢包率?[:：为是 ]{0,3}(\d{1,3}(?:\.\d{1,4})?) ?%/gi;
/** Loss in the words of other languages, without a figure: 丢包 (zh), パケットロス and ping の無応答 (ja). */
const LOSS_WORDS = /丢包|掉包|パケットロス|ping ?(?:で|に)?(?:の)?応答がありません|ping ?超时|ping 超時/gi;
/** One unanswered probe. */
const NO_REPLY =
  /^(?:Request timed out\.|请求超时。|要求已逾時。|Zeitüberschreitung der Anforderung\.|Tiempo de espera agotado para esta solicitud\.|Délai d[’']attente de la demande dépassé\.|Esgotado o tempo limite do pedido\.|Превышен интервал ожидания для запроса\.|要求がタイムアウトしました。|요청 시간이 만료되었습니다\.)|\bno answer yet for icmp_seq=\d{1,6}|\bRequest timeout for icmp_seq \d{1,6}|\[\d{1,6} pings missing\b/gim;
const UNREACHABLE =
  /\b(?:Destination host unreachable|Destination net unreachable)|\b(?:CRITICAL|DOWN) - Host Unreachable\b|无法访问目标主机|無法連線到目的地主機|Zielhost nicht erreichbar|Host de destino inaccesible|Impossible de joindre l[’']hôte de destination|Host de destino inacessível|Заданный узел недоступен|宛先ホストに到達できません|대상 호스트에 연결할 수 없습니다/gi;
const UNKNOWN_HOST =
  /\bPing request could not find host\b|Ping 请求找不到主机|Ping 要求找不到主機|Ping-Anforderung konnte Host|La solicitud de ping no pudo encontrar el host|La requête Ping n[’']a pas pu trouver l[’']hôte|A solicitação ping não pôde encontrar o host|При проверке связи не удалось обнаружить узел|ping 要求ではホスト|Ping 요청에서 호스트|\bping: (?:unknown host|cannot resolve)\b/gi;
/** An mtr report line: ` 12.|-- 203.0.113.7   25.0%    20 …`. */
const MTR_HOP = /^ {0,3}(\d{1,3})\.(?:\|--|\|`--|--)? {0,2}\S{1,255} {1,40}(\d{1,3}(?:\.\d{1,2})?)%/gm;

function loss(sink: SignalSink, percent: number, start: number, end: number): void {
  if (!(percent > 0)) return;
  sink.add('net.loss_seen', undefined, start, end);
  sink.add('net.packet_loss', String(percent), start, end);
  if (percent >= 100) sink.add('net.all_lost', undefined, start, end);
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'ping');
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];
  eachMatch(UNIX_SUMMARY, doc, (m) => loss(sink, Number(m[1]), ...at(m)));
  eachMatch(WINDOWS_SUMMARY, doc, (m) => loss(sink, Number(m[1]), ...at(m)));
  eachMatch(CHECK_SUMMARY, doc, (m) => loss(sink, Number(m[1] ?? m[2]), ...at(m)));
  eachMatch(PERCENT_LOSS, doc, (m) => loss(sink, Number(m[1] ?? m[2] ?? m[3]), ...at(m)));
  eachMatch(LOSS_WORDS, doc, (m) => sink.add('net.loss_seen', undefined, ...at(m)));
  eachMatch(NO_REPLY, doc, (m) => sink.add('net.loss_seen', undefined, ...at(m)));
  eachMatch(UNREACHABLE, doc, (m) => sink.add('net.error', 'host_unreachable', ...at(m)));
  eachMatch(UNKNOWN_HOST, doc, (m) => sink.add('net.error', 'dns_not_found', ...at(m)));
  // mtr: the last hop of each report (hop numbers restart at 1 for a new report).
  let last: RegExpExecArray | undefined;
  const flush = () => last && loss(sink, Number(last[2]), ...at(last));
  eachMatch(MTR_HOP, doc, (m) => {
    if (last && Number(m[1]) <= Number(last[1])) flush();
    last = m;
  });
  flush();
  return sink;
}

export const PING_PATTERNS: readonly RegExp[] = [
  UNIX_SUMMARY,
  WINDOWS_SUMMARY,
  CHECK_SUMMARY,
  PERCENT_LOSS,
  LOSS_WORDS,
  NO_REPLY,
  UNREACHABLE,
  UNKNOWN_HOST,
  MTR_HOP,
];

export const pingExtractor: Extractor = {
  name: 'ping',
  reads:
    'ping, mtr and traceroute output (Linux, macOS, Windows in many languages): loss, unanswered probes, unreachable and unknown hosts',
  patterns: PING_PATTERNS,
  extract: (doc) => extract(doc).signals,
};
