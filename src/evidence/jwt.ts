import { Buffer } from 'node:buffer';
import { redact, trusted } from '../security/redact.js';
import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineBefore, lineOf, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * JWTs and authentication errors.
 *
 * Tokens (`eyJ….eyJ….sig` in headers, cookies, JSON, query strings) are decoded without verifying
 * the signature, and their exp / nbf / iat compared with `doc.now`: jwt.present, jwt.exp_past (no
 * leeway), jwt.nbf_future and jwt.iat_future (60 s leeway), jwt.valid_now (its times all hold), jwt.malformed. The excerpt of these
 * signals never holds the token: it is written here from the decoded header and claims.
 *
 * Texts: WWW-Authenticate challenges (auth.www_authenticate, and auth.error from error= /
 * error_description=) and the messages of JWT libraries and auth middleware (jsonwebtoken,
 * express-jwt, PyJWT, jjwt, auth0 java-jwt, Spring Security, golang-jwt, go-jose, jose, .NET
 * IdentityModel, Keycloak, DRF, flask-jwt-extended) → auth.error.
 */
export const jwtExtractor: Extractor = {
  name: 'jwt',
  reads: 'JWTs (decoded, never verified) and auth error messages, WWW-Authenticate challenges',
  get patterns() {
    return JWT_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy([...tokens(doc), ...challenges(doc), ...runRules(doc, active(doc), 'jwt')]);
  },
};

/** Limits for token decoding. */
export const JWT_LIMITS = {
  /** Distinct tokens decoded per document. @defaultValue 20 */
  maxTokens: 20,
  /** Leeway for nbf and iat, in seconds (none for exp). @defaultValue 60 */
  leewaySeconds: 60,
  /** Longest iss / aud shown in an excerpt. @defaultValue 120 */
  claimChars: 120,
} as const;

interface Decoded {
  readonly header: Record<string, unknown>;
  readonly payload?: Record<string, unknown>;
}

function tokens(doc: TextDoc): Signal[] {
  const out: Signal[] = [];
  const seen = new Set<string>();
  for (const { token, index } of candidates(doc.text)) {
    if (seen.has(token)) continue;
    seen.add(token);
    if (seen.size > JWT_LIMITS.maxTokens) break;
    const line = doc.lineOf(index);
    const emit = (name: string, value: string | undefined, excerpt: string) =>
      out.push({ name, ...(value === undefined ? {} : { value }), excerpt: trusted(excerpt), source: 'jwt', line });
    const decoded = decode(token);
    if (!decoded) {
      emit('jwt.malformed', undefined, 'a JWT-like token whose header or payload does not decode (bad base64url or JSON)');
      continue;
    }
    const { header, payload } = decoded;
    const alg = typeof header.alg === 'string' && /^[A-Za-z0-9+_-]{1,20}$/.test(header.alg) ? header.alg : '?';
    if (!payload) {
      emit('jwt.present', undefined, `JWE (alg ${alg}), encrypted: claims not readable`);
      continue;
    }
    const now = doc.now.getTime();
    const exp = seconds(payload.exp);
    const nbf = seconds(payload.nbf);
    const iat = seconds(payload.iat);
    const leeway = JWT_LIMITS.leewaySeconds * 1000;
    const parts = [`JWT (alg ${alg})`];
    if (exp !== undefined) parts.push(`exp ${iso(exp)} (${relative(exp - now)})`);
    if (nbf !== undefined && nbf - now > leeway) parts.push(`nbf ${iso(nbf)} (${relative(nbf - now)})`);
    if (iat !== undefined && iat - now > leeway) parts.push(`iat ${iso(iat)} (${relative(iat - now)})`);
    let excerpt = parts.join(' ');
    const iss = claimText(payload.iss);
    const aud = claimText(payload.aud);
    if (iss !== undefined) excerpt += `, iss=${redact(iss)}`;
    if (aud !== undefined) excerpt += `, aud=${redact(aud)}`;
    emit('jwt.present', undefined, excerpt);
    if (exp !== undefined && now >= exp) emit('jwt.exp_past', duration(now - exp), excerpt);
    if (nbf !== undefined && nbf - now > leeway) emit('jwt.nbf_future', duration(nbf - now), excerpt);
    if (iat !== undefined && iat - now > leeway) emit('jwt.iat_future', duration(iat - now), excerpt);
    const timed = exp !== undefined || nbf !== undefined || iat !== undefined;
    const inTime =
      (exp === undefined || now < exp) && (nbf === undefined || nbf - now <= leeway) && (iat === undefined || iat - now <= leeway);
    if (timed && inTime) emit('jwt.valid_now', undefined, excerpt);
  }
  return out;
}

/**
 * Tokens shaped `eyJ<header>.<payload>[.<signature>]`, found by a single forward scan (each
 * character is read a bounded number of times, whatever the input): a run of base64url characters
 * is consumed whole, so a long blob is skipped rather than re-scanned from every "eyJ" inside it.
 */
function* candidates(text: string): Generator<{ token: string; index: number }> {
  for (let from = 0; ;) {
    const i = text.indexOf('eyJ', from);
    if (i < 0) return;
    const headerEnd = runEnd(text, i);
    from = headerEnd;
    if (i > 0 && isWordChar(text.charCodeAt(i - 1))) continue;
    const headerLength = headerEnd - i;
    if (headerLength < 8 || headerLength > 4099 || text.charCodeAt(headerEnd) !== DOT) continue;
    const payloadEnd = runEnd(text, headerEnd + 1);
    from = payloadEnd;
    const payloadLength = payloadEnd - headerEnd - 1;
    if (payloadLength < 2 || payloadLength > 16384) continue;
    let end = payloadEnd;
    if (text.charCodeAt(payloadEnd) === DOT) {
      const signatureEnd = runEnd(text, payloadEnd + 1);
      from = signatureEnd;
      if (signatureEnd - payloadEnd - 1 > 4096) continue;
      end = signatureEnd;
    }
    yield { token: text.slice(i, end), index: i };
  }
}

const DOT = 46;

function isBase64Url(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
}

function isWordChar(c: number): boolean {
  return isBase64Url(c) && c !== 45;
}

function runEnd(text: string, i: number): number {
  let j = i;
  while (j < text.length && isBase64Url(text.charCodeAt(j))) j++;
  return j;
}

/** Header and payload as JSON objects, or undefined when either does not decode. JWE: header only. */
function decode(token: string): Decoded | undefined {
  const [h = '', p = ''] = token.split('.');
  const header = json(h);
  if (!header) return undefined;
  if (typeof header.enc === 'string') return { header };
  const payload = json(p);
  return payload ? { header, payload } : undefined;
}

function json(segment: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]{2,16384}$/.test(segment) || segment.length % 4 === 1) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A NumericDate claim in milliseconds, when it is a plausible one. */
function seconds(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e11 ? v * 1000 : undefined;
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function relative(deltaMs: number): string {
  return deltaMs <= 0 ? `${duration(-deltaMs)} ago` : `in ${duration(deltaMs)}`;
}

/** A human duration: 45s, 5m20s, 3h12m, 2d4h. */
export function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return h > 0 ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  if (m > 0) return sec > 0 ? `${m}m${sec}s` : `${m}m`;
  return `${sec}s`;
}

/** iss / aud for display: strings (or a list of them), one line, cut. */
function claimText(v: unknown): string | undefined {
  const list = Array.isArray(v) ? v : [v];
  const text = list
    .filter((x): x is string => typeof x === 'string')
    .join(',')
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim();
  if (text === '') return undefined;
  return text.length > JWT_LIMITS.claimChars ? `${text.slice(0, JWT_LIMITS.claimChars)}…` : text;
}

const WWW_AUTHENTICATE = /\bwww-authenticate["']?[:=,] {0,2}["']?([A-Za-z]{2,12})/gi;
const BARE_BEARER_ERROR = /\bBearer (?:realm="[^"\n]{0,300}", ?)?error="([a-z_]{2,40})"/g;
const NEED_SCHEME = /\bUnable to authenticate, need: (Basic|Bearer|Digest|Negotiate|NTLM)\b/g;

/** WWW-Authenticate challenges, with or without the header name. */
function challenges(doc: TextDoc): Signal[] {
  const out: Signal[] = [];
  const each = (re: RegExp, fn: (m: RegExpExecArray, emit: (name: string, value?: string) => void) => void) => {
    re.lastIndex = 0;
    let n = 0;
    for (let m = re.exec(doc.text); m !== null && n < 20; m = re.exec(doc.text), n++) {
      const at = m;
      fn(at, (name, value) => out.push(doc.signal(name, value, at.index, at.index + at[0].length, 'jwt')));
    }
  };
  if (doc.mayContain('www-authenticate')) {
    each(WWW_AUTHENTICATE, (m, emit) => {
      const scheme = (m[1] ?? '').toLowerCase();
      emit('auth.www_authenticate', scheme);
      if (scheme === 'bearer') bearerError(lineOf(m), emit);
    });
  }
  if (doc.mayContain('bearer')) {
    each(BARE_BEARER_ERROR, (m, emit) => {
      const line = lineOf(m);
      if (/www-authenticate/i.test(line)) return;
      emit('auth.www_authenticate', 'bearer');
      bearerError(line, emit);
    });
  }
  if (doc.mayContain('unable to authenticate, need')) {
    each(NEED_SCHEME, (m, emit) => {
      emit('auth.www_authenticate', (m[1] ?? '').toLowerCase());
      emit('auth.error', 'missing_credentials');
    });
  }
  return out;
}

/** RFC 6750: no error code means no credentials were sent; otherwise the code and its description. */
function bearerError(line: string, emit: (name: string, value?: string) => void): void {
  const code = /\berror="?\*{0,2}([a-z_]{2,40})/.exec(line)?.[1];
  const description = (/\berror_description="([^"\n]{0,300})"/.exec(line)?.[1] ?? '').toLowerCase();
  if (code === undefined) return emit('auth.error', 'missing_credentials');
  if (code === 'insufficient_scope') return emit('auth.forbidden_role');
  if (description.includes('expired')) return emit('auth.error', 'token_expired');
  if (/not yet valid|not valid yet|before/.test(description)) return emit('auth.error', 'token_not_yet_valid');
  if (description.includes('audience')) return emit('auth.error', 'invalid_audience');
  if (description.includes('issuer')) return emit('auth.error', 'invalid_issuer');
  if (description.includes('signature')) return emit('auth.error', 'invalid_signature');
  if (code === 'invalid_request') return emit('auth.error', 'missing_credentials');
  if (code === 'invalid_token') return emit('auth.error', 'invalid_token');
}

const EXPIRED =
  /\bExpired at \d{10}\b[^\n]{0,40}\bleeway\b|\bExpired JWT(?=[\].'"\n]|$)|\bJwt is expired\b|\bTokenExpiredError\b|\bjwt expired\b|\bExpiredSignatureError\b|\bSignature has expired\b|\bExpiredJwtException\b|\bTokenExpiredException\b|\bThe Token has expired\b|\bSecurityTokenExpiredException\b|\bIDX10223\b|\bERR_JWT_EXPIRED\b|\bJWTExpired\b|"exp" claim timestamp check failed|\b(?:access |id |refresh |jwt |the )?token (?:is |has )?(?:been |already )?expired\b|\bexpired (?:access |jwt |bearer )?token\b|\bToken is not active\b/gi;
const NOT_YET_VALID =
  /\bNotBeforeError\b|\bjwt not active\b|\bImmatureSignatureError\b|\bThe token is not yet valid\b|\bPrematureJwtException\b|\bJWT must not be accepted before\b|\bThe Token can't be used before\b|\bJwt used before\b|\btoken used before issued\b|\btoken is not valid yet\b|\btoken not valid yet\b|\btoken issued in the future\b|\bclaim is in the future\b|\bSecurityTokenNotYetValidException\b|\bIDX10222\b|"nbf" claim timestamp check failed/gi;
const BAD_SIGNATURE =
  /\binvalid (?:JWT |JWS |token )?signature\b|\bInvalidSignatureError\b|\bsignature verification failed\b|\bSignatureException\b|\bSignatureVerificationException\b|\bSignatureInvalidException\b|\bsignature is invalid\b|\bJWSSignatureVerificationFailed\b|\bERR_JWS_SIGNATURE_VERIFICATION_FAILED\b|\bSecurityTokenInvalidSignatureException\b|\bSecurityTokenSignatureKeyNotFoundException\b|\bIDX105(?:01|03|11)\b|\bInvalid token signature\b|\bThe Token's Signature resulted invalid\b|\bJWT signature does not match\b|\bServer failed to authenticate the request\. Make sure the value of Authorization header is formed correctly including the signature\b/gi;
const BAD_AUDIENCE =
  /\bjwt audience invalid\b|\bInvalidAudienceError\b|\bInvalid audience\b|\bAudience doesn't match\b|\bThe audience is invalid\b|\bSecurityTokenInvalidAudienceException\b|\bIDX10214\b|\btoken has invalid audience\b|\bThe Claim 'aud' value doesn't contain the required audience\b|"aud" claim check failed|\bThe required audience is missing\b|\bAudience validation failed\b/gi;
const BAD_AUDIENCE_NAMED = /\bThe audience '[^'\n]{0,100}' is invalid\b/gi;
const BAD_ISSUER =
  /\bJwt authentication completed with: (?:Unknown issuer|Jwt issuer is not configured)\b|\bjwt issuer invalid\b|\bInvalidIssuerError\b|\bInvalid (?:token )?issuer\b|\btoken has invalid issuer\b|\bSecurityTokenInvalidIssuerException\b|\bIDX10205\b|\bThe Claim 'iss' value doesn't match\b|\bThe iss claim is not valid\b|"iss" claim check failed|\bIssuer validation failed\b|\b(?:access )?token is from the wrong issuer\b|\bInvalidAuthenticationTokenTenant\b/gi;
const BAD_TOKEN =
  /\bjwt malformed\b|\bMalformedJwtException\b|\bUnsupportedJwtException\b|\bJWTDecodeException\b|\bDecodeError: Not enough segments\b|\bInvalidTokenError\b|\btoken is malformed\b|\btoken contains an invalid number of segments\b|\bAn error occurred while attempting to decode the Jwt\b|\bfailed to verify jwt\b|\bInvalid JWT\b|\binvalid[_ ]token\b|\b(?:(?:access|auth|bearer|jwt|id) )?token (?:is )?(?:invalid|not valid)\b|\binvalid_grant\b|\bFailed to validate the token\b|\bToken verification failed\b|\bJsonWebTokenError\b|\b(?:invalid|incorrect|wrong|bad) (?:x-)?api[ _-]?key\b|\bapi[ _-]?key (?:is )?(?:invalid|not valid|incorrect|malformed)\b|"code"[ \t]{0,2}:[ \t]{0,2}"invalid_api_key"|\bInvalidAuthenticationToken\b/gi;
const MISSING =
  /\bNo authorization token was found\b|\bAuthentication credentials were not provided\b|\bMissing Authorization Header\b|\bAuthorization header (?:is )?(?:missing|not (?:found|provided|present))\b|\b(?:Bearer|JWT|auth|access|authorization) token (?:is )?(?:missing|required|not (?:found|provided|present))\b|\bMissing (?:bearer |access |auth |jwt )?token\b|\bNo (?:auth |access |bearer )?token provided\b|\btoken missing\b|\bno basic auth credentials\b|\bFull authentication is required to access this resource\b|\bjwt must be provided\b|\bcredentials_required\b|\b(?:api[ _-]?key|apikey|token) (?:is )?(?:missing|not (?:provided|found|present|supplied))\b|\b(?:missing|no) api[ _-]?key\b|\bdid not provide an API key\b|\bapi[ _-]?key (?:is )?required\b/gi;
/** "authentication required" said by the server the caller talks to: not a proxy's 407, whose reason phrase says the same. */
const AUTH_REQUIRED = /\bauthentication (?:is )?required\b/gi;

/** A JSON error field that says only that the caller is not authenticated: Laravel's "Unauthenticated.", "Authentication required". */
const UNAUTHENTICATED_FIELD =
  /"(?:message|error|detail|msg|error_description|title|reason)"[ \t]{0,2}:[ \t]{0,2}"(?:Unauthenticated|Not authenticated|Authentication (?:is )?required|Requires authentication|Login required|You are not logged in)\.?"/gi;
/** A JSON error field that says only that the caller may not: "Not authorized", "Access denied", "Permission denied". */
const NOT_ALLOWED_FIELD =
  /"(?:message|error|detail|msg|error_description|title|reason)"[ \t]{0,2}:[ \t]{0,2}"(?:Not authori[sz]ed|Access denied|Permission denied|Insufficient permissions?|You do not have (?:the )?permissions?)\.?"/gi;
/**
 * An auth verdict as the whole message of an error field, in the languages APIs answer in:
 * "Authentication failed", "ログインしてください", "인증 실패", "Не авторизован", "Acceso denegado".
 */
const AUTH_FIELD_WORDS: readonly [RegExp, string][] = [
  [
    /^(?:authentication (?:error|failed|failure)|認証エラー|認証に失敗しました|ログイン認証エラー|인증 ?(?:실패|오류)|ошибка (?:авторизации|аутентификации)|autenticación fallida|error de autenticación|falha (?:na|de) autenticação|authentifizierung fehlgeschlagen|échec de l['’]authentification|autenticazione fallita)/i,
    'invalid_token',
  ],
  [
    /^(?:ログインしてください|ログインが必要です|로그인이 필요합니다|로그인 ?후 ?이용|не авторизован|требуется авторизация|no autorizado|não autorizado|nicht autorisiert|non autorisé|non autorizzato|anmeldung erforderlich|inicia sesión)/i,
    'missing_credentials',
  ],
  [
    /^(?:アクセスする権限がありません|権限がありません|アクセスが拒否されました|권한이 없습니다|접근 ?권한이 없습니다|доступ запрещ[её]н|нет доступа|acceso denegado|no tiene permiso|acesso negado|sem permissão|zugriff verweigert|keine berechtigung|accès refusé|accesso negato)/i,
    'forbidden',
  ],
];
const AUTH_FIELD =
  /["'](?:message|messages|msg|error|error_msg|errmsg|error_description|detail|description|reason|title)["'][ \t]{0,2}:[ \t]{0,2}\[?[ \t]{0,2}["']([^"'\n]{2,80})["']/gi;
const authFieldClass = (m: RegExpExecArray): string | undefined => {
  const text = (m[1] ?? '').trim();
  return AUTH_FIELD_WORDS.find(([re]) => re.test(text))?.[1];
};

const WRONG_SCHEME =
  /\bFormat is Authorization: Bearer \[token\]|\bcredentials_bad_(?:scheme|format)\b|\bAuthorization header must start with "?Bearer\b|\binvalid scheme\b|\bBad Authorization header\b|\bExpected 'Authorization: Bearer\b|\bUnsupported authorization (?:type|scheme)\b/gi;
/**
 * A machine error code in a field of a JSON body, a Python dict or a struct dump:
 * `"code":"expired_access_token"`, `'error': 'missing_scope'`, `Code: "SIGN_ERROR"`. The code is read
 * by its words (codeClass), so a new product's code for a known mechanism lands without a new pattern.
 */
const ERROR_CODE_FIELD =
  /["']?\b(?:code|error|error_?code|err|err_?code|type|reason|detail|status|error_?type|sub_?code|kind|error_?name)["']?[ \t]{0,2}[:=][ \t]{0,2}["']([A-Za-z][A-Za-z0-9]{0,40}(?:[_.-][A-Za-z0-9]{1,40}){0,6})["']/gi;
/**
 * The same codes unquoted in a message: Slack's SDKs ("An API error occurred: not_authed"), Go structs printed with %+v
 * ("Error:invalid_auth"), `error=token_revoked`. Only snake_case codes: their words are read like a field's.
 */
const ERROR_CODE_TEXT = /\b(?:An API error occurred|error|err)[ \t]{0,2}[:=][ \t]{0,2}([a-z][a-z0-9]{1,30}(?:_[a-z0-9]{1,30}){1,5})\b/gi;
const CLOCK_SKEW = /\bclock (?:skew|drift)\b|\bclocks? (?:are |is )?out of sync\b/gi;
const SCOPE = /\binsufficient[_ ]scope\b/gi;
const JJWT_EXPIRED = /\bJWT expired at [^\s]{10,40}\. Current time: [^\s]{10,40}, a difference of (\d{1,15}) milliseconds/gi;
const JJWT_PREMATURE =
  /\bJWT must not be accepted before [^\s]{10,40}\. Current time: [^\s]{10,40}, a difference of (\d{1,15}) milliseconds/gi;

/** Skew small enough to be clocks disagreeing rather than a token from the future. */
const SKEW_MS = 5 * 60 * 1000;

const RULES: readonly Rule[] = [
  { key: 'expired', re: EXPIRED, name: 'auth.error', value: 'token_expired' },
  { key: 'idx10223', re: EXPIRED, name: 'auth.error', value: 'token_expired' },
  { key: 'token is not active', re: EXPIRED, name: 'auth.error', value: 'token_expired' },
  { key: '"exp"', re: EXPIRED, name: 'auth.error', value: 'token_expired' },
  { key: 'not active', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'not yet valid', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'not valid yet', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'notbefore', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'immature', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: '"nbf"', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'before', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'future', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'idx10222', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'premature', re: NOT_YET_VALID, name: 'auth.error', value: 'token_not_yet_valid' },
  { key: 'signature', re: BAD_SIGNATURE, name: 'auth.error', value: 'invalid_signature' },
  { key: 'idx105', re: BAD_SIGNATURE, name: 'auth.error', value: 'invalid_signature' },
  { key: 'audience', re: BAD_AUDIENCE, name: 'auth.error', value: 'invalid_audience' },
  { key: 'the audience', re: BAD_AUDIENCE_NAMED, name: 'auth.error', value: 'invalid_audience' },
  { key: 'idx10214', re: BAD_AUDIENCE, name: 'auth.error', value: 'invalid_audience' },
  { key: '"aud"', re: BAD_AUDIENCE, name: 'auth.error', value: 'invalid_audience' },
  { key: 'issuer', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: '"iss"', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: "'iss'", re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: 'the iss claim', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: 'idx10205', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: 'jwt', re: BAD_TOKEN, name: 'auth.error', value: (m) => genericInvalid(m) },
  { key: 'token', re: BAD_TOKEN, name: 'auth.error', value: (m) => genericInvalid(m) },
  { key: 'segments', re: BAD_TOKEN, name: 'auth.error', value: 'invalid_token' },
  { key: 'token', re: MISSING, name: 'auth.error', value: notCsrf('missing_credentials') },
  { key: 'authorization', re: MISSING, name: 'auth.error', value: notCsrf('missing_credentials') },
  { key: 'credentials', re: MISSING, name: 'auth.error', value: notCsrf('missing_credentials') },
  { key: 'full authentication is required', re: MISSING, name: 'auth.error', value: notCsrf('missing_credentials') },
  { key: 'api', re: MISSING, name: 'auth.error', value: notCsrf('missing_credentials') },
  {
    key: 'authentication',
    re: AUTH_REQUIRED,
    name: 'auth.error',
    value: (m) => (/proxy[ -]?$/i.test(lineBefore(m)) || /\b407\b|proxy-authenticate/i.test(lineOf(m)) ? undefined : 'missing_credentials'),
  },
  { key: 'api', re: BAD_TOKEN, name: 'auth.error', value: 'invalid_token' },
  { key: 'invalidauthenticationtoken', re: BAD_TOKEN, name: 'auth.error', value: 'invalid_token' },
  { key: 'server failed to authenticate the request', re: BAD_SIGNATURE, name: 'auth.error', value: 'invalid_signature' },
  { key: 'wrong issuer', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: 'invalidauthenticationtokentenant', re: BAD_ISSUER, name: 'auth.error', value: 'invalid_issuer' },
  { key: '":', re: UNAUTHENTICATED_FIELD, name: 'auth.error', value: 'missing_credentials' },
  { key: '":', re: NOT_ALLOWED_FIELD, name: 'auth.forbidden_role' },
  {
    key: ':',
    re: AUTH_FIELD,
    name: 'auth.error',
    value: (m) => {
      const c = authFieldClass(m);
      return c === 'forbidden' ? undefined : c;
    },
  },
  { key: ':', re: AUTH_FIELD, name: 'auth.forbidden_role', value: (m) => (authFieldClass(m) === 'forbidden' ? '' : undefined) },
  { key: 'bearer', re: WRONG_SCHEME, name: 'auth.error', value: 'wrong_scheme' },
  { key: 'scheme', re: WRONG_SCHEME, name: 'auth.error', value: 'wrong_scheme' },
  { key: 'authorization', re: WRONG_SCHEME, name: 'auth.error', value: 'wrong_scheme' },
  // No key: the field names are the regex's own alternatives, and one key per name ran it once per name.
  { key: '', re: ERROR_CODE_FIELD, name: 'auth.error', value: (m) => codeAuthError(m) },
  { key: '', re: ERROR_CODE_FIELD, name: 'auth.forbidden_role', value: (m) => codeForbidden(m) },
  { key: 'err', re: ERROR_CODE_TEXT, name: 'auth.error', value: (m) => codeAuthError(m) },
  { key: 'err', re: ERROR_CODE_TEXT, name: 'auth.forbidden_role', value: (m) => codeForbidden(m) },
  { key: 'clock', re: CLOCK_SKEW, name: 'auth.error', value: (m) => (isAllowedSkewNote(m) ? undefined : 'clock_skew') },
  { key: 'scope', re: SCOPE, name: 'auth.forbidden_role' },
  { key: 'jwt expired at', re: JJWT_EXPIRED, name: 'jwt.exp_past', value: (m) => duration(Number(m[1])) },
  { key: 'jwt must not be accepted before', re: JJWT_PREMATURE, name: 'jwt.nbf_future', value: (m) => duration(Number(m[1])) },
  {
    key: 'jwt must not be accepted before',
    re: JJWT_PREMATURE,
    name: 'auth.error',
    value: (m) => (Number(m[1]) <= SKEW_MS ? 'clock_skew' : undefined),
  },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const JWT_PATTERNS: readonly RegExp[] = [...new Set([WWW_AUTHENTICATE, BARE_BEARER_ERROR, NEED_SCHEME, ...RULES.map((r) => r.re)])];

/** What an error code's words say, for the auth codes this extractor reads. */
const AUTH_CODE: Readonly<Record<string, string>> = {
  expired: 'token_expired',
  invalid: 'invalid_token',
  signature: 'invalid_signature',
  missing: 'missing_credentials',
};

const CREDENTIAL = new Set([
  'token',
  'authed',
  'jwt',
  'credential',
  'credentials',
  'apikey',
  'key',
  'authorization',
  'auth',
  'authentication',
  'bearer',
  'session',
  'login',
  'password',
  'secret',
  'accesstoken',
]);
const SIGNATURE = new Set(['signature', 'sign', 'signed']);

/**
 * The mechanism an error code names, from its words (`expired_access_token` → expired,
 * `SIGN_ERROR` → signature, `missing_scope` → forbidden, `InvalidApiKey` → invalid): a credential
 * word with a state word. A code that names neither (`not_found`, `E1234`) says nothing.
 */
export function codeClass(code: string): 'expired' | 'invalid' | 'signature' | 'missing' | 'forbidden' | undefined {
  const words = code
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_.-]+/)
    .flatMap((w) => (w === 'apikey' ? ['api', 'key'] : [w]));
  if (words.length < 2 && words[0] !== 'unauthenticated') return undefined;
  const has = (...ws: string[]) => ws.some((w) => words.includes(w));
  const credential = words.some((w) => CREDENTIAL.has(w));
  if (has('csrf', 'xsrf')) return undefined;
  if (
    has('scope', 'scopes', 'permission', 'permissions', 'privilege', 'privileges', 'role', 'roles') &&
    has('missing', 'insufficient', 'invalid', 'denied', 'no', 'lacks', 'not')
  )
    return 'forbidden';
  if (has('forbidden') || (has('access') && has('denied'))) return 'forbidden';
  if (has('expired', 'expire', 'expiry', 'expires') && (credential || has('access', 'signature', 'cookie', 'refresh', 'id')))
    return 'expired';
  if (words.some((w) => SIGNATURE.has(w)) && has('error', 'invalid', 'mismatch', 'bad', 'wrong', 'failed', 'failure', 'incorrect', 'not'))
    return 'signature';
  if (credential && has('invalid', 'bad', 'wrong', 'malformed', 'incorrect', 'mismatch', 'unknown', 'revoked', 'unverified'))
    return 'invalid';
  if (credential && has('missing', 'no', 'required', 'absent', 'empty', 'not')) return 'missing';
  if (has('unauthenticated')) return 'missing';
  return undefined;
}

/** The class of an error-code field; none inside an RFC 6750 challenge, which the challenge reader reads with its description. */
function fieldCode(m: RegExpExecArray): ReturnType<typeof codeClass> {
  const c = codeClass(m[1] ?? '');
  return c && !/www-authenticate|error_description/i.test(lineOf(m)) ? c : undefined;
}

/** What an error code (quoted in a field or bare in a message) says of the credentials, as an auth.error value. */
function codeAuthError(m: RegExpExecArray): string | undefined {
  return AUTH_CODE[fieldCode(m) ?? ''];
}

/** An error code that says the caller may not: auth.forbidden_role. */
function codeForbidden(m: RegExpExecArray): string | undefined {
  return fieldCode(m) === 'forbidden' ? '' : undefined;
}

/** CSRF tokens are not credentials. */
function notCsrf(value: string): (m: RegExpExecArray) => string | undefined {
  return (m) => (/csrf/i.test(lineOf(m)) ? undefined : value);
}

/** A generic "invalid token" says nothing more when the line already names what was wrong. */
function genericInvalid(m: RegExpExecArray): string | undefined {
  if (MALFORMED.test(m[0])) return 'invalid_token';
  // A parser's "invalid token" (JSON, YAML, a template, a compiler) is about syntax, not credentials.
  if (PARSER_TOKEN.test(lineOf(m))) return undefined;
  return SPECIFIC.test(lineOf(m)) ? undefined : 'invalid_token';
}

/** A syntax error's token: "found invalid token at character 9", "Unexpected token", "invalid token at line 3, column 7". */
export const PARSER_TOKEN =
  /\b(?:found|unexpected|unrecognized|unrecognised)(?: an?)? invalid token\b|\binvalid token (?:at|in|near) (?:character|char|position|pos|line|column|col|offset|index)\b|\binvalid token (?:at|in|near) (?:line|column) \d/i;

/** Wording that says the token itself is malformed, whatever else the line says. */
const MALFORMED = /malformed|segments|decodeexception|unsupportedjwt/i;

/** Wording that names what was wrong with a token (or that it was a CSRF token). */
const SPECIFIC = /error_description=|csrf|expire|before|not (?:yet )?valid|audience|issuer|signature|future/i;

/** jjwt prints "Allowed clock skew: 0 milliseconds" in every message; that is not a finding. */
function isAllowedSkewNote(m: RegExpExecArray): boolean {
  return /allowed $/i.test(m.input.slice(Math.max(0, m.index - 8), m.index));
}
