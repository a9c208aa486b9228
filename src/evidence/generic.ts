import type { Extractor } from './extractor.js';
import { eachMatch, SignalSink } from './proxy-common.js';
import { lineBefore, lineOf } from './rule-kit.js';
import type { TextDoc } from './text.js';
import { tlsReason } from './vocab/tls-reasons.js';

/**
 * The words every English error message uses for a few mechanisms, whatever program printed it:
 * timeout class names (SocketTimeoutException, ReadTimeoutError, TimeoutError …), "timed out",
 * "deadline exceeded"; a connection closed or lost; could not connect; a certificate that failed
 * verification; a TLS or SSL handshake that failed. They give the symptom (so that a failure the
 * specific extractors do not know still gets its differential) and weak evidence; the program's own
 * wording, read by the other extractors, decides between the causes.
 */

/** `SocketTimeoutException`, `ReadTimeoutError`, `ConnectTimeoutException`, `TimeoutError`, `HttpTimeoutException`. */
const TIMEOUT_CLASS = /\b(Connect|Connection|Read|Socket|Request|Response|Http|Gateway|Idle|Write)?Time[Oo]ut(?:Error|Exception)\b/g;
const TIMED_OUT =
  /\b(?:timed out|time[d ]?-?out (?:error|exception|exceeded|expired|occurred)|deadline exceeded|timeout (?:of \d{1,9} ?m?s )?(?:was |has been )?(?:exceeded|expired|reached|elapsed))\b/gi;
/** A name that would not resolve, in plain words: "DNS lookup failed", "unable to resolve host" (not webpack's "Can't resolve './x'"). */
const DNS_FAILED =
  /\bDNS (?:lookup|resolution|query|resolve) (?:failed|failure|error|timed out)\b|\b(?:failed|unable|could not|couldn['’]t|cannot|can['’]t) (?:to )?resolve (?:the )?(?:host(?:name)?|domain(?: name)?|DNS name|server name|address for)\b/gi;
/** A caller without the rights, in plain words: "insufficient permissions", "does not have sufficient permission", "not authorized to perform". */
const NO_PERMISSION =
  /\b(?:insufficient|not enough) (?:permissions?|privileges?|access rights|scopes?)\b|\bdoes(?: not|n['’]t) have (?:sufficient |the required |enough |the necessary )?(?:permissions?|privileges?)\b|\bnot (?:permitted|authori[sz]ed) to (?:perform|access|call|invoke|use)\b/gi;
/** A response that could not be used, in plain words: "malformed response", "invalid HTTP response". */
const BAD_RESPONSE = /\b(?:malformed|garbled|corrupt(?:ed)?|unparseable|unparsable) (?:HTTP )?response\b|\binvalid HTTP response\b/gi;
/** Something that took longer than its caller waited, in plain words. */
const TOOK_TOO_LONG = /\btook too long(?: to (?:respond|complete|answer|load|reply))?\b/gi;
/**
 * A kind of timeout named as the failure: "ERROR connection timeout after 30000 ms", "RuntimeException:
 * connection timeout", msg="request timeout". The line must say it failed (an error level, an
 * exception, "failed") or the words must be the whole message; "connection timeout: 30s" is a setting.
 */
const NAMED_TIMEOUT = /\b(connect|connection|read|socket|request|response|gateway|upstream|proxy)[ _-]time-?out\b/gi;
const FAILED_BEFORE = /(?:error|err|failed|failure|fatal|exception|crit(?:ical)?)\b[\]:=\s"'|-]{0,6}(?:[^\n]{0,40}[\s:"'=])?$/i;
/** Nothing but punctuation, or a message field, before the words: they are the whole message. */
const MESSAGE_BEFORE = /^\W{0,12}$|(?:msg|message|error|reason)=?["']?$/i;
const MESSAGE_AFTER = /^(?:[ \t]{0,2}(?:after|exceeded|expired|occurred|reached|error)\b|[ \t]*["'.]?[ \t]*$)/i;
/** After "connection closed": the status it closed with ("Connection closed with HTTP 401"), an exchange answered, not a connection lost. */
const ANSWERED_AFTER = /^\s+with\s+(?:HTTP|status|code)\b/i;
/** Before "bad certificate": a TLS alert ("TLS alert, bad certificate", "sslv3 alert bad certificate"), the peer refusing the client's certificate. */
const ALERT_BEFORE = /\balert,? $/i;
/** A line of sshd's log, which reports SSH sessions, not HTTP. */
const SSHD_LINE = /\bsshd\[\d{1,7}\]:|\[preauth\]/;
/** A monitor's reason for a down alert: `Reason: Connection Timeout`, `Cause: Timeout (no headers received)`. */
const REASON_TIMEOUT =
  /\b(?:Reason|Cause|Error|Result)[ \t]{0,2}[:=-][ \t]{0,2}(Connection |Connect |Read |Request |Socket )?Time-?out\b/gi;
/** A certificate said to be expired in plain words: `SSL certificate has expired`, `Reason: SSL Expired`, `expired certificate`. */
const CERT_EXPIRED =
  /\b(?:certificate|cert)s? (?:has |have |had |is |was |(?:seems|seemed|appears|appeared) to have )?(?:just )?expired\b|\b(?:SSL|TLS) (?:cert(?:ificate)? )?(?:has )?expired\b|\bexpired (?:SSL |TLS |server )?(?:certificate|cert)\b|\b(?:certificate|cert)\b[^\n.;]{1,80}? (?:is|has|was) expired \((?:was valid until|expired on|since)\b/gi;
/**
 * The same said in the other languages people paste, as a statement (a verb, not a title's noun phrase): "Das
 * SSL-Zertifikat … ist abgelaufen", "le certificat a expiré", "el certificado ha caducado", "сертификат истёк",
 * "证书已过期", "証明書の有効期限が切れ", "인증서가 만료되었습니다".
 */
const CERT_EXPIRED_WORDS =
  /zertifikat(?:[^\n.;]|\.(?=\S)){0,60}?(?:ist|war|sind|waren) (?:heute |gestern |bereits |schon )?abgelaufen|certificat[^\n.;]{0,40}?(?:a|est) expiré|certificado[^\n.;]{0,40}?(?:ha expirado|ha caducado|ha vencido|está (?:vencido|caducado|expirado)|expiró|caducó|venció|expirou|venceu)|certificato[^\n.;]{0,40}?è scaduto|сертификат[^\n.;]{0,40}?(?:истёк|истек|просрочен)|(?:истёк|истек) срок действия[^\n.;]{0,20}?сертификата|срок действия[^\n.;]{0,20}?сертификата (?:истёк|истек)|(?:证书|證書|憑證)(?:已经|已經|已)(?:过期|過期)|证书过期了|証明書(?:の有効期限|の期限)?が(?:切れ|きれ)|인증서(?:가|의 유효 기간이) 만료되/gi;
/** A certificate said not to match the name asked for: urllib3's "Certificate did not match expected hostname". */
const NAME_MISMATCH =
  /\b(?:certificate|cert)\b[^\n]{0,60}?\b(?:does not|doesn['’]t|did not|didn['’]t) match (?:the )?(?:expected |requested |target )?(?:host ?name|host|domain(?: name)?|server name)\b/gi;
/**
 * OpenSSL's reason codes and their texts, which BoringSSL, gRPC, Python, Ruby and redsocks print as they are:
 * `OPENSSL_internal:WRONG_VERSION_NUMBER`, `ssl3_get_record: wrong version number`, `SSLV3_ALERT_HANDSHAKE_FAILURE`.
 */
const OPENSSL_REASON =
  /\b(?:WRONG[_ ]VERSION[_ ]NUMBER|SSLV3[_ ]ALERT[_ ][A-Z]{2,12}(?:[_ ][A-Z]{2,12}){0,2}|TLSV1[0-9]?[_ ]ALERT[_ ][A-Z]{2,12}(?:[_ ][A-Z]{2,12}){0,2}|TLSV1[_ ]UNRECOGNIZED[_ ]NAME|NO[_ ]SHARED[_ ]CIPHER|NO_CIPHERS_AVAILABLE|NO_PROTOCOLS_AVAILABLE|UNEXPECTED_EOF_WHILE_READING|PACKET_LENGTH_TOO_LONG)\b/gi;
/** OpenSSL's certificate verify strings, which every runtime that wraps it passes on word for word. */
const VERIFY_STRING =
  /\bunable to get (?:local )?issuer certificate\b|\bself[- ]signed certificate in certificate chain\b|\bunable to verify the first certificate\b|\bcertificate is not yet valid\b/gi;
const CONNECT_TIMED_OUT =
  /\b(?:connect(?:ion)? (?:attempt )?(?:timed out|timeout (?:error|exceeded|expired|occurred))|timed out (?:while )?(?:connecting|trying to connect|waiting for (?:a )?connection))\b/gi;
const READ_TIMED_OUT =
  /\b(?:read(?:ing)? (?:timed out|timeout (?:error|exceeded|expired|occurred))|timed out (?:while )?(?:reading|waiting for (?:the )?(?:response|headers|data)))\b/gi;
const CLOSED =
  /\b(?:connection (?:was |has been )?(?:closed|lost|dropped|terminated)(?: unexpectedly| prematurely| by (?:the )?(?:remote|peer|server|foreign host))?|(?:remote|peer|server|foreign host) (?:has )?closed (?:the )?connection|connection closed by (?:remote|peer|foreign) host)\b/gi;
const CANNOT_CONNECT =
  /\b(?:could not|couldn['’]t|unable to|failed to|cannot|can['’]t|can not) (?:connect(?: to)?|establish (?:a |the )?connection|open (?:a )?connection|reach) /gi;
const CERT_FAILED =
  /\bCERTIFICATE_VERIFY_FAILED\b|\b(?:certificate|cert)(?: chain)? (?:verify failed|verification failed|validation failed|is (?:not valid|invalid|not trusted|untrusted)|error)\b|\b(?:invalid|untrusted|bad) (?:SSL |TLS |server )?certificate\b/gi;
const TLS_FAILED =
  /\b(?:SSL|TLS)(?:\/TLS)?(?: connection| handshake| negotiation)? (?:error|failed|failure)\b|\bhandshake (?:failed|failure|error)\b|\b(?:cannot|could not|couldn['’]t|unable to|failed to) (?:make|establish|create|open|negotiate) (?:an? |the )?(?:SSL|TLS|SSL\/TLS|secure) (?:connection|channel|session)\b/gi;

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'generic');
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];
  eachMatch(TIMEOUT_CLASS, doc, (m) => {
    const kind = (m[1] ?? '').toLowerCase();
    const value =
      kind === 'connect' || kind === 'connection'
        ? 'connect_timeout'
        : kind === 'read' || kind === 'socket' || kind === 'response'
          ? 'read_timeout'
          : 'timeout';
    sink.add('net.error', value, ...at(m));
  });
  eachMatch(CONNECT_TIMED_OUT, doc, (m) => sink.add('net.error', 'connect_timeout', ...at(m)));
  eachMatch(READ_TIMED_OUT, doc, (m) => sink.add('net.error', 'read_timeout', ...at(m)));
  eachMatch(TIMED_OUT, doc, (m) => sink.add('net.error', 'timeout', ...at(m)));
  eachMatch(REASON_TIMEOUT, doc, (m) => sink.add('net.error', /^conn/i.test(m[1] ?? '') ? 'connect_timeout' : 'timeout', ...at(m)));
  eachMatch(CERT_EXPIRED, doc, (m) => sink.add('tls.error', 'cert_expired', ...at(m)));
  eachMatch(CERT_EXPIRED_WORDS, doc, (m) => sink.add('tls.error', 'cert_expired', ...at(m)));
  eachMatch(OPENSSL_REASON, doc, (m) => {
    const value = tlsReason(m[0].replace(/_/g, ' '));
    if (value) sink.add('tls.error', value, ...at(m));
  });
  eachMatch(NAME_MISMATCH, doc, (m) => sink.add('tls.error', 'hostname_mismatch', ...at(m)));
  eachMatch(VERIFY_STRING, doc, (m) => sink.add('tls.error', tlsReason(m[0]) ?? 'cert_invalid', ...at(m)));
  eachMatch(NAMED_TIMEOUT, doc, (m) => {
    const before = lineBefore(m);
    const after = m.input.slice(m.index + m[0].length, m.index + m[0].length + 40).split('\n', 1)[0] ?? '';
    // As the whole message the words are prose ("request timeout"), not a setting's name alone on its line (`proxy_timeout`).
    const whole = !m[0].includes('_') && MESSAGE_AFTER.test(after) && MESSAGE_BEFORE.test(before.trimEnd());
    if (!FAILED_BEFORE.test(before) && !whole) return;
    const kind = (m[1] ?? '').toLowerCase();
    sink.add(
      'net.error',
      kind === 'connect' || kind === 'connection' ? 'connect_timeout' : kind === 'read' || kind === 'socket' ? 'read_timeout' : 'timeout',
      ...at(m),
    );
  });
  eachMatch(DNS_FAILED, doc, (m) => sink.add('net.error', 'dns_not_found', ...at(m)));
  eachMatch(NO_PERMISSION, doc, (m) => sink.add('auth.forbidden_role', undefined, ...at(m)));
  eachMatch(BAD_RESPONSE, doc, (m) => sink.add('net.error', 'proto_error', ...at(m)));
  eachMatch(TOOK_TOO_LONG, doc, (m) => sink.add('net.error', 'timeout', ...at(m)));
  eachMatch(CLOSED, doc, (m) => {
    // sshd's pre-authentication noise (scanners knocking on port 22) is not an HTTP failure.
    const after = m.input.slice(m.index + m[0].length, m.index + m[0].length + 24);
    if (!SSHD_LINE.test(lineOf(m)) && !ANSWERED_AFTER.test(after)) sink.add('net.error', 'unexpected_eof', ...at(m));
  });
  eachMatch(CANNOT_CONNECT, doc, (m) => sink.add('net.error', 'connect_failed', ...at(m)));
  eachMatch(CERT_FAILED, doc, (m) => {
    if (!ALERT_BEFORE.test(lineBefore(m))) sink.add('tls.error', 'cert_invalid', ...at(m));
  });
  eachMatch(TLS_FAILED, doc, (m) => sink.add('tls.error', 'handshake_failure', ...at(m)));
  return sink;
}

export const GENERIC_PATTERNS: readonly RegExp[] = [
  TIMEOUT_CLASS,
  TIMED_OUT,
  REASON_TIMEOUT,
  NAMED_TIMEOUT,
  CERT_EXPIRED,
  CERT_EXPIRED_WORDS,
  VERIFY_STRING,
  NAME_MISMATCH,
  OPENSSL_REASON,
  DNS_FAILED,
  NO_PERMISSION,
  BAD_RESPONSE,
  TOOK_TOO_LONG,
  CONNECT_TIMED_OUT,
  READ_TIMED_OUT,
  CLOSED,
  CANNOT_CONNECT,
  CERT_FAILED,
  TLS_FAILED,
];

export const genericExtractor: Extractor = {
  name: 'generic',
  reads:
    'the words any English error message uses for timeouts, closed connections, failed connects, failed certificate checks and failed TLS handshakes',
  patterns: GENERIC_PATTERNS,
  fallback: true,
  extract: (doc) => extract(doc).signals,
};
