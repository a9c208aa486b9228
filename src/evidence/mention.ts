import type { Extractor } from './extractor.js';
import { IN_PASSING, type Signal } from './signal.js';
import type { TextDoc } from './text.js';

/** Most signals kept: a long text that names a code many times says no more than once. */
const MAX = 8;
const NAME = IN_PASSING;

/**
 * The codes whose symptom has a differential of its own (knowledge/symptoms/symptoms.yaml), standing
 * alone: not inside a word, a longer number, a version, a time, an address, a path or brackets (a
 * `[403]` is a list or a repr; the extractors read `<Response [403]>`; a full stop after it ends a
 * sentence, one before it belongs to a version), and not followed
 * by a unit ("took 504 ms", "403 KB"; "502 forks" is left to the model). Chinese and Japanese write a
 * number against the words around it ("好多499的错误"), so only Latin and Cyrillic letters count.
 */
const STATUS =
  /(?:^|[^a-z\u00c0-\u024f\u0400-\u04ff\p{N}_.:/,#@$=<[-])(40[137]|413|429|499|50[234])(?![\p{N}_:/,%>\]-]|\.[\p{L}\p{N}_]|[ \t]?(?:ms|s|kb|mb|gb|px|bytes?)\b)/gimu;

/**
 * A timeout in words, as a word of its own ("timed out", "times out", "timeout", not `proxy_read_timeout`
 * or `ReadTimeout`, which the extractors and patterns read when they mean something), and in the
 * languages of the corpus.
 */
const TIMEOUT =
  /(?:^|[^\p{L}\p{N}_])(?:timed[ -]?out|times? out|timing out|time[ -]?out|timeouts?)(?![\p{L}\p{N}_])|超时|超時|タイムアウト|시간 ?초과|тайм-?аут|превышено время ожидания|tiempo de espera (?:agotado|excedido)|délai d'attente|zeitüberschreitung|tempo limite|zaman aşımı|limit czasu|hết thời gian chờ/gimu;

/** At most this many characters, on one line, between a mechanism's noun and the word that says it failed. */
const GAP = 40;
/** Before and after a word of its own: no Latin or Cyrillic letter, digit, `_` or `-` (`ssl_certificate`, "terrors"). */
const EDGE = 'a-z\\u00c0-\\u024f\\u0400-\\u04ff\\p{N}_-';
/**
 * Words standing alone, the word itself in group 1. Chinese and Japanese write words against each
 * other, so only Latin and Cyrillic letters end a word.
 */
const words = (alternatives: string, flags = 'giu') => new RegExp(`(?:^|[^${EDGE}])(${alternatives})(?![${EDGE}])`, flags);

/** A certificate, or the protocol that checks one. */
const CERT = words(
  'certificates?|certs?|ssl|tls|证书|憑證|証明書|인증서|сертификат\\p{L}*|certificad[oa]s?|certificats?|zertifikat\\p{L}*|certificat[oi]|sertifika\\p{L}*|certyfikat\\p{L}*|chứng chỉ',
);
/** A word that says it failed: error, invalid, not trusted. */
const FAILED = words(
  'errors?|invalid|untrusted|not trusted|failed|failure|错误|錯誤|无效|無效|不受信任|不安全|エラー|無効|에러|오류|실패|ошибк\\p{L}*|недейств\\p{L}*|erro[rs]?|inv[aá]lid[oa]s?|erreur|invalide|fehler\\p{L}*|ungültig\\p{L}*|hata\\p{L}*|geçersiz|błąd\\p{L}*|lỗi|non valido|errore',
);
/** A word that says it ran out: expired. */
const EXPIRED = words(
  'expired|expir[oó]u?|expiré|vencid[oa]|caducad[oa]|abgelaufen|过期|過期|到期|期限切れ|有効期限が切れ|만료\\p{L}*|истек\\p{L}*|просроч\\p{L}*|scadut[oa]|süresi dol\\p{L}*|wygas\\p{L}*|hết hạn',
);
const CORS = words('CORS|cross-origin|跨域|クロスオリジン|교차 출처');
const BLOCKED = words(
  'block\\p{L}*|polic\\p{L}*|errors?|issues?|problems?|bloque\\p{L}*|erro\\p{L}*|错误|报错|问题|問題|拦截|エラー|ブロック|에러|오류|차단|ошибк\\p{L}*|блокир\\p{L}*|fehler|blockiert',
);
const CSRF = words('CSRF|XSRF');
const CSRF_FAILED = words(
  'missing|invalid|mismatch\\p{L}*|failed|errors?|expired|누락\\p{L}*|유효하지|не прош\\p{L}*|ошибк\\p{L}*|错误|无效|失败|inválid\\p{L}*|erro\\p{L}*|fehl\\p{L}*',
);
const CONNECTION = words(
  'connections?|conexi[oó]n|conex[aã]o|connexion|verbindung|соединени\\p{L}*|подключени\\p{L}*|连接|連線|連接|接続|연결|bağlantı\\p{L}*|połączeni\\p{L}*|kết nối',
);
const REFUSED = words(
  'refused|rejected|rechazad[oa]|recusad[oa]|refusée?|abgelehnt|verweigert|отказано|отклонен\\p{L}*|拒绝|拒絕|拒否\\p{L}*|거부\\p{L}*|reddedildi|odrzucon\\p{L}*|bị từ chối',
);
const RESET = words(
  'reset|reiniciad[oa]|restablecid[oa]|redefinid[oa]|réinitialisée?|zurückgesetzt|сброшен\\p{L}*|разорван\\p{L}*|重置|重设|リセット\\p{L}*|재설정\\p{L}*|sıfırlandı|zresetowan\\p{L}*|đặt lại',
);
/** Name resolution, and the words that say it failed. */
const RESOLVE = words(
  'resolve|resolution|dns|名前解決|域名解析|解析域名|resolver|resolución|résolution|résoudre|auflösen|auflösung|namensauflösung|разрешить|разрешени\\p{L}*|이름 확인|çözümle\\p{L}*',
);
const RESOLVE_FAILED = words(
  'failed|failure|errors?|could not|cannot|unable|失败|失敗|错误|できません|エラー|실패|오류|не удалось|ошибк\\p{L}*|no se pudo|n[aã]o foi poss[ií]vel|impossible|konnte nicht|fehl\\p{L}*|hata\\p{L}*',
);
const TOKEN = words('tokens?|jwt|토큰|令牌|токен\\p{L}*|トークン');
/** Expired, said of a token that has (not "expires in 1h", which a configuration says). */
const TOKEN_EXPIRED = words(
  'expired|expirou|expiró|expiré|abgelaufen|过期|期限切れ|만료되\\p{L}*|истек\\p{L}*|просрочен\\p{L}*|scadut[oa]',
);

/**
 * A mechanism named in words rather than shown: the noun of what failed beside (on its line, within
 * {@link GAP} characters, in either order) the word that says it failed, in the languages people
 * report in ("the SSL certificate expired", "证书错误", "SSL 인증서 에러", "CORS 정책 차단", "CSRF токен
 * не прошел проверку", "отказано в подключении", "名前解決に失敗"), and a status said in words. Each reading is a signal that its symptom lists
 * (knowledge/symptoms/symptoms.yaml), so the text gets that symptom's differential; the readings that
 * carry a cause of their own (an expired certificate) rank it first. Expired comes before invalid:
 * "certificado SSL vencido" is the expired reading.
 */
const PAIRS: readonly { noun: RegExp; failed: RegExp; name: string; value?: string }[] = [
  { noun: CERT, failed: EXPIRED, name: 'tls.error', value: 'cert_expired' },
  { noun: CERT, failed: FAILED, name: 'tls.error', value: 'cert_invalid' },
  { noun: CORS, failed: BLOCKED, name: 'cors.error', value: 'blocked' },
  { noun: CSRF, failed: CSRF_FAILED, name: 'access.csrf' },
  { noun: TOKEN, failed: TOKEN_EXPIRED, name: 'auth.error', value: 'token_expired' },
  { noun: CONNECTION, failed: REFUSED, name: 'net.error', value: 'connection_refused' },
  { noun: CONNECTION, failed: RESET, name: 'net.error', value: 'connection_reset' },
  { noun: RESOLVE, failed: RESOLVE_FAILED, name: 'net.error', value: 'dns_not_found' },
];
/** Said in words: `value` the signal's value, `code` when the word is the value, `needs` a word the text must also have. */
const SAID: readonly { re: RegExp; name: string; value?: string; code?: true; needs?: RegExp }[] = [
  {
    re: words(
      'unauthori[sz]ed|未授权|未经授权|認証エラー|인증 실패|не авторизован\\p{L}*|no autorizad[oa]|não autorizad[oa]|nicht autorisiert|non autorisé|yetkisiz',
    ),
    name: 'http.status',
    value: '401',
  },
  {
    re: words(
      'forbidden|禁止访问|拒绝访问|アクセス拒否|접근 거부|доступ запрещ\\p{L}*|acceso denegado|acesso negado|zugriff verweigert|accès refusé',
    ),
    name: 'http.status',
    value: '403',
  },
  {
    re: words(
      'too? many redirects|redirected you too many times|重定向次数过多|重定向过多|リダイレクトが多すぎ|слишком много перенаправлений|demasiadas redirecciones|redirecionamentos? em excesso|muitos redirecionamentos|trop de redirections|zu viele weiterleitungen',
    ),
    name: 'http.redirect_loop',
  },
  // Cloudflare's own codes (520-526), standing alone, in a text that names Cloudflare.
  {
    re: /(?:^|[^\p{L}\p{N}_.:/#@$=-])(52[0-6])(?![\p{N}_:/%-]|\.[\p{L}\p{N}_])/gu,
    name: 'cloudflare.error',
    code: true,
    needs: /cloudflare/i,
  },
];

/** Where each word of `re` (its group 1) stands in the text, in order: [start, end]. */
function spans(doc: TextDoc, re: RegExp): [number, number][] {
  const out: [number, number][] = [];
  for (const m of doc.matches(re)) {
    const word = m[1] ?? '';
    out.push([m.index + m[0].length - word.length, m.index + m[0].length]);
  }
  return out;
}

/**
 * The first noun and failure word on one line within {@link GAP} characters of each other, either order.
 * Both lists are in text order, so one pass over the failure words serves every noun.
 */
function pairIn(doc: TextDoc, noun: RegExp, failed: RegExp): [number, number] | undefined {
  const nouns = spans(doc, noun);
  if (nouns.length === 0) return undefined;
  const fails = spans(doc, failed);
  let first = 0;
  for (const [ns, ne] of nouns) {
    // Failure words that end too far before this noun are too far before every later one.
    while (first < fails.length && fails[first]![1] < ns - GAP) first++;
    for (let k = first; k < fails.length && fails[k]![0] <= ne + GAP; k++) {
      const [fs, fe] = fails[k]!;
      // Overlapping spans are one word read twice, not a noun beside a failure.
      if (fs < ne && fe > ns) continue;
      const [from, to] = fs >= ne ? [ne, fs] : [fe, ns];
      if (!doc.text.slice(from, to).includes('\n')) return [Math.min(ns, fs), Math.max(ne, fe)];
    }
  }
  return undefined;
}

/**
 * The last resort: a failure named in passing, with no format around it that another extractor
 * reads. A status code alone ("hit consistent 502 on every call", "nginx 日志出现好多 499") and a
 * timeout said in words, in the languages people report in.
 *
 * The engine reads it only for a text in which nothing that the extractors and the knowledge patterns
 * read shows a symptom, and keeps its signals only when the discourse rules and the report model both take the text for a
 * failure report (`MENTION_REPORT_AT` in src/triage/engine.ts). The ranking then shows the symptom's
 * differential at low confidence: the guide's list, which is what a thin report deserves. It is not in
 * the registry (src/evidence/index.ts): a probe's response body is never read by it.
 */
export const mentionExtractor: Extractor = {
  name: NAME,
  reads: 'a status code, a timeout or a failed mechanism named in passing, where nothing else read shows a symptom',
  patterns: [STATUS, TIMEOUT, ...PAIRS.flatMap((p) => [p.noun, p.failed]), ...SAID.map((w) => w.re)],
  keys: [],
  extract(doc: TextDoc): Signal[] {
    const out: Signal[] = [];
    for (const m of doc.matches(STATUS)) {
      const code = m[1] ?? '';
      out.push(doc.signal('http.status', code, m.index + m[0].length - code.length, m.index + m[0].length, NAME));
      if (out.length >= MAX) return out;
    }
    for (const m of doc.matches(TIMEOUT)) {
      out.push(doc.signal('net.error', 'timeout', m.index, m.index + m[0].length, NAME));
      if (out.length >= MAX) return out;
    }
    for (const p of PAIRS) {
      const at = pairIn(doc, p.noun, p.failed);
      // Expired and invalid read the same noun: one reading of a certificate is enough.
      if (!at || (p.noun === CERT && out.some((s) => s.name === p.name))) continue;
      out.push(doc.signal(p.name, p.value, at[0], at[1], NAME));
      if (out.length >= MAX) return out;
    }
    for (const w of SAID) {
      if (w.needs && !w.needs.test(doc.text)) continue;
      // One reading of each says all that its repetitions would.
      const [at] = spans(doc, w.re);
      if (!at) continue;
      out.push(doc.signal(w.name, w.code ? doc.text.slice(at[0], at[1]) : w.value, at[0], at[1], NAME));
      if (out.length >= MAX) return out;
    }
    return out;
  },
};
