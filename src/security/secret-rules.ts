/**
 * Where secrets are in a text. Two sources, one interface ({@link Detector}: find spans, never
 * replace), so that no rule can hide a secret from another:
 *
 * 1. The detection regexes of secretlint's recommended preset, brought in as data by
 *    `npm run gen:secrets` (secret-rules.gen.ts, with the package's name and version).
 * 2. What such sets miss in logs, below: any `NAME=value`, `"name": "value"`, `name: value`,
 *    `--name=value` or `--name value` whose name holds password, passwd, pwd, secret, token, key,
 *    credential, auth, signature, sas or dsn (DB_PASSWORD=, PGPASSWORD=, SENDGRID_API_KEY=,
 *    "SecretAccessKey":); URL userinfo (an empty user too: redis://:pw@host); `curl -u user:pass`;
 *    Go DSNs (user:pw@tcp(db:3306)/app); header values (Authorization, Cookie); JWTs; PEM private
 *    keys, whole or cut; vendor tokens the preset does not know.
 *
 * Every regex here and in the generated file is proved linear-time by recheck in
 * test/security/secret-rules.test.ts; the scanners are single passes.
 */
import { GENERATED_RULES } from './secret-rules.gen.js';

/** A secret's place in the text: [start, end), and what to call it in the mask (`[masked](jwt)`). */
export interface Span {
  start: number;
  end: number;
  label?: string;
}

/** Finds secrets in a text. `lower` is `text.toLowerCase()`, computed once for every detector. */
export interface Detector {
  /** What it finds, for docs and tests. @example 'named-value' */
  readonly kind: string;
  /**
   * Lower-case literals one of which every secret it finds is near: redact() calls `find` only
   * when one is in the text. Absent: always called.
   */
  readonly literals?: readonly string[];
  find(text: string, lower: string, out: Span[]): void;
}

/** One regex of secret-rules.gen.ts (see scripts/gen-secret-rules.js). */
export interface GeneratedRule {
  /** The secretlint rule it comes from. @example '@secretlint/secretlint-rule-npm' */
  readonly rule: string;
  /** Shown after the mask: `[masked](label)`. */
  readonly label?: string;
  readonly source: string;
  /** Always global with indices (`gd`). */
  readonly flags: string;
  /** The named group that holds the secret; the whole match otherwise. */
  readonly group?: string;
  /** Lower-case literals one of which every match holds (read from the pattern by the generator). */
  readonly literals?: readonly string[];
}

interface PatternOptions {
  readonly kind: string;
  /** Global; with `d` when `group` is set. */
  readonly re: RegExp;
  /** The capture group holding the secret (its number or name); the whole match otherwise. */
  readonly group?: number | string;
  readonly label?: string;
  /** Lower-case literals one of which every match contains: the regex runs only when one is present. */
  readonly literals?: readonly string[];
  /** Keep a leading `name=` / `"name": "` of the match visible. @defaultValue false */
  readonly keepName?: boolean;
}

/** `NAME=`, `"name": "`, `name => '`: the visible part of a whole-match rule that includes its name. */
const LEADING_NAME = /^["']?[A-Za-z0-9_.-]{1,64}["']?[ \t]{0,4}(?:=>|:=|[:=])[ \t]{0,4}["']?/;

/** A detector from one regex. */
export function patternDetector(o: PatternOptions): Detector {
  const re = o.re;
  return {
    kind: o.kind,
    ...(o.literals ? { literals: o.literals } : {}),
    find(text, _lower, out) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        let start = m.index;
        let end = start + m[0].length;
        if (o.group !== undefined) {
          const at = typeof o.group === 'number' ? m.indices?.[o.group] : m.indices?.groups?.[o.group];
          if (!at) continue;
          [start, end] = at;
        } else if (o.keepName) {
          const name = LEADING_NAME.exec(m[0]);
          if (name && name[0].length < m[0].length && !m[0].startsWith('//', name[0].length)) start += name[0].length;
        }
        if (end > start) out.push(o.label ? { start, end, label: o.label } : { start, end });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Named values: NAME=value, "name": "value", name: value, --name=value, --name value

/** Words that make a name secret, anywhere in it (DB_PASSWORD, PGPASSWORD, SecretAccessKey). */
const NAME_WORD = /passw(?:or)?d|passphrase|pwd|secret|token|key|credential|auth|signature|sas|dsn|pass|pw|sig|psk/g;
/** Short words that count only as a whole part of the name (DB_PASS, pw, sig; not bypass, design). */
const SHORT_WORDS = new Set(['pass', 'pw', 'sig', 'psk']);
/** Names that hold the keywords but no secret: the shell's PWD, auth challenges, metadata about a key. */
const NOT_SECRET_NAME =
  /^(?:old)?pwd$|^:?authority$|^author$|authenticat(?:e|ed|ion|or)?$|(?:type|alg|algorithm|size|length|len|bits|url|uri|endpoint|file|path|dir|name|format|count|ttl|timeout|method|mode|scheme|realm|status|error|provider|host|port|version|enabled|required|header|expires?|expires_in|expiry)$/;
/** Plain password-like names, under which even a plain word after `name:` is a secret (YAML `password: hunter`). */
const PLAIN_SECRET_NAME = /(?:^|[_.-])(?:password|passwd|pwd|pass|passphrase|secret)$/;
/** Names that are code or error codes: `JwtTokenUtil.java:66`, `SignatureException:`, `ExpiredToken:`. */
const CODE_NAME =
  /\.(?:java|kt|scala|groovy|js|mjs|cjs|ts|py|rb|go|php|cs|cpp|cc|c|h|rs|swift)$|(?:exception|error|errors|failed|failure|util|utils|filter|converter|store|service|manager|handler)$|^(?:expired|invalid|missing|bad|unauthori[sz]ed|unknown|empty|wrong|incorrect|malformed|check|verify|validate|get|set|new|no)[a-z_-]/;

/** Values that are not secrets: flags, placeholders, variable references, already masked. */
const NOT_SECRET_VALUE =
  /^(?:true|false|null|nil|none|undefined|yes|no|on|off|required|optional|redacted|filtered|hidden|\*+|x{3,}|<[^>]{0,40}>|\[[a-z]{0,12}\].*|\$\{?[A-Za-z_][A-Za-z0-9_]{0,64}\}?)$/i;
/** Scheme words after which the secret is the next word (Authorization: Bearer <token>). */
const SCHEMES = new Set([
  'bearer',
  'basic',
  'digest',
  'negotiate',
  'ntlm',
  'token',
  'apikey',
  'api-key',
  'key',
  'sso-key',
  'hmac',
  'aws4-hmac-sha256',
  'sharedaccesssignature',
  'splunk',
  'ssws',
]);
const NAME_MAX = 64;
const VALUE_MAX = 4096;

const isNameChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46; // 0-9 A-Z a-z _ - .
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isUpper = (c: number) => c >= 65 && c <= 90;
const isLower = (c: number) => c >= 97 && c <= 122;
const isBlank = (c: number) => c === 32 || c === 9;
/** Where an unquoted value ends: whitespace and , ; & < > ) } ] " ' ` | */
const isValueEnd = (c: number) =>
  c <= 32 ||
  c === 44 ||
  c === 59 ||
  c === 38 ||
  c === 60 ||
  c === 62 ||
  c === 41 ||
  c === 125 ||
  c === 93 ||
  c === 34 ||
  c === 39 ||
  c === 96 ||
  c === 124;

const isQuote = (c: number) => c === 34 || c === 39;

/**
 * Whether an unquoted value after `name:` looks like a credential: letters with digits, symbols,
 * or long; a plain word only under a password-like name and at the end of its statement.
 */
function credentialLike(v: string, name: string, text: string, end: number): boolean {
  const letters = /[A-Za-z]/.test(v);
  const digits = /\d/.test(v);
  if (letters && digits) return true;
  if (v.length >= 16) return true;
  if (v.length >= 6 && /[^A-Za-z0-9.-]/.test(v)) return true;
  if (!PLAIN_SECRET_NAME.test(name)) return false;
  let i = end;
  while (isBlank(text.charCodeAt(i))) i++;
  return i >= text.length || /[\r\n,;}"']/.test(text[i]!);
}

/** Whether the short keyword at [i, j) of the name [s, e) is a whole part of it (DB_PASS, dbPass, pw). */
function wholePart(text: string, i: number, j: number, s: number, e: number): boolean {
  const before = i > s ? text.charCodeAt(i - 1) : 0;
  const after = j < e ? text.charCodeAt(j) : 0;
  const startOk = i === s || !isLetter(before) || (isLower(before) && isUpper(text.charCodeAt(i)));
  const endOk = j === e || !isLetter(after) || (isLower(text.charCodeAt(j - 1)) && isUpper(after));
  return startOk && endOk;
}

/** The value after a connector at `at`: [start, end), or undefined when there is none worth masking. */
function valueAt(text: string, at: number): [number, number] | undefined {
  let i = at;
  for (let n = 0; n < 4 && isBlank(text.charCodeAt(i)); n++) i++;
  let quote = text.charCodeAt(i);
  let escaped = false;
  if (quote === 92 && text.charCodeAt(i + 1) === 34) {
    // \"value\" inside a JSON string
    escaped = true;
    quote = 34;
    i++;
  }
  if (quote === 34 || quote === 39) {
    const start = i + 1;
    let end = start;
    const limit = Math.min(text.length, start + VALUE_MAX);
    while (end < limit) {
      const c = text.charCodeAt(end);
      if (c === 10 || c === 13) break;
      if (c === quote && (!escaped || text.charCodeAt(end - 1) === 92)) break;
      end++;
    }
    if (escaped && text.charCodeAt(end - 1) === 92) end--;
    return end > start ? [start, end] : undefined;
  }
  const start = i;
  let end = start;
  const limit = Math.min(text.length, start + VALUE_MAX);
  while (end < limit && !isValueEnd(text.charCodeAt(end))) end++;
  if (end === start) return undefined;
  const c = text.charCodeAt(start);
  if (c === 123 || c === 91 || (c === 47 && text.charCodeAt(start + 1) === 47)) {
    // { or [ (a nested object), or // (the rest of a URL): not a value of this name
    if (!text.startsWith('[masked]', start)) return undefined;
  }
  // Authorization: Bearer <token>: the secret is the word after the scheme.
  if (SCHEMES.has(text.slice(start, end).toLowerCase())) {
    let k = end;
    for (let n = 0; n < 4 && isBlank(text.charCodeAt(k)); n++) k++;
    if (k === end) return [start, end];
    let e2 = k;
    const lim2 = Math.min(text.length, k + VALUE_MAX);
    while (e2 < lim2 && !isValueEnd(text.charCodeAt(e2)) && text.charCodeAt(e2) !== 44) e2++;
    return e2 > k ? [k, e2] : undefined;
  }
  return [start, end];
}

/** After the name [s, e): the offset just past its connector (=, :, =>, :=, or a space after --flag), or -1. */
function connectorAt(text: string, s: number, e: number): number {
  let i = e;
  const open = text.charCodeAt(s - 1);
  if ((open === 34 || open === 39) && text.charCodeAt(i) === open) i++;
  else if (open === 34 && text.charCodeAt(i) === 92 && text.charCodeAt(i + 1) === 34) i += 2; // \"name\":
  let blanks = 0;
  while (blanks < 4 && isBlank(text.charCodeAt(i))) {
    i++;
    blanks++;
  }
  const c = text.charCodeAt(i);
  if (c === 61) return text.charCodeAt(i + 1) === 62 ? i + 2 : i + 1; // = or =>
  if (c === 58) return text.charCodeAt(i + 1) === 61 ? i + 2 : i + 1; // : or :=
  // --api-key VALUE, --db-password VALUE: a flag and its argument.
  if (text.charCodeAt(s) === 45 && blanks > 0 && i < text.length && !isValueEnd(c) && c !== 45) return i;
  return -1;
}

const namedValues: Detector = {
  kind: 'named-value',
  literals: ['passw', 'pwd', 'secret', 'token', 'key', 'credential', 'auth', 'signature', 'sas', 'dsn', 'pass', 'pw', 'sig', 'psk'],
  find(text, lower, out) {
    const re = NAME_WORD;
    re.lastIndex = 0;
    for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
      const i = m.index;
      const j = i + m[0].length;
      let s = i;
      while (s > 0 && i - s < NAME_MAX && isNameChar(text.charCodeAt(s - 1))) s--;
      let e = j;
      while (e < text.length && e - j < NAME_MAX && isNameChar(text.charCodeAt(e))) e++;
      re.lastIndex = e;
      if (SHORT_WORDS.has(m[0]) && !wholePart(text, i, j, s, e)) {
        // `pass` in `bypass`: look again from just after it, the name may hold another keyword.
        re.lastIndex = j;
        continue;
      }
      let bare = s;
      while (bare < e && text.charCodeAt(bare) === 45) bare++;
      const name = lower.slice(bare, e);
      if (NOT_SECRET_NAME.test(name) || CODE_NAME.test(name)) continue;
      const after = connectorAt(text, s, e);
      if (after < 0) continue;
      const value = valueAt(text, after);
      if (!value) continue;
      // The value is read once: names inside it are not looked at again (linear time).
      if (value[1] > re.lastIndex) re.lastIndex = value[1];
      const v = text.slice(value[0], value[1]);
      if (NOT_SECRET_VALUE.test(v)) continue;
      // `name: value` unquoted is also how prose and stack traces read ("Token: The security …"):
      // there the value must look like a credential.
      if (text.charCodeAt(after - 1) === 58 && !isQuote(text.charCodeAt(value[0] - 1)) && !credentialLike(v, name, text, value[1]))
        continue;
      out.push({ start: value[0], end: value[1] });
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Go DSNs: user:password@tcp(db:3306)/app

const DSN_NET = /@(?:tcp6?|udp|unix)\(/g;

const goDsn: Detector = {
  kind: 'go-dsn',
  literals: ['@tcp(', '@tcp6(', '@unix(', '@udp('],
  find(text, _lower, out) {
    DSN_NET.lastIndex = 0;
    let floor = 0;
    for (let m = DSN_NET.exec(text); m !== null; m = DSN_NET.exec(text)) {
      const at = m.index;
      let s = at;
      // Back to the start of the DSN, never past the previous one (linear time).
      while (s > floor && at - s < 512 && !isValueEnd(text.charCodeAt(s - 1)) && text.charCodeAt(s - 1) !== 61) s--;
      floor = at + m[0].length;
      const colon = text.indexOf(':', s);
      if (colon >= 0 && colon < at - 1) out.push({ start: colon + 1, end: at });
    }
  },
};

// ---------------------------------------------------------------------------------------------
// PEM private keys: whole (BEGIN … END), or cut before their END (an excerpt's edge, a cut log line)

const PEM_BEGIN = /-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_MAX = 16384;
/** A PEM body's characters, JSON-escaped newlines included. */
const isPemBody = (c: number) =>
  isNameChar(c) || c === 43 || c === 47 || c === 61 || c === 92 || c === 32 || c === 9 || c === 10 || c === 13;

const privateKeys: Detector = {
  kind: 'private-key',
  literals: ['private key'],
  find(text, _lower, out) {
    PEM_BEGIN.lastIndex = 0;
    let end = -1;
    let endAt = -1;
    for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
      const body = m.index + m[0].length;
      if (endAt < body && endAt !== Infinity) {
        PEM_END.lastIndex = body;
        const e = PEM_END.exec(text);
        endAt = e ? e.index : Infinity;
        end = e ? e.index + e[0].length : -1;
      }
      let stop: number;
      if (endAt !== Infinity && endAt - body <= PEM_MAX) stop = end;
      else {
        stop = body;
        const limit = Math.min(text.length, body + PEM_MAX);
        while (stop < limit && isPemBody(text.charCodeAt(stop))) stop++;
      }
      out.push({ start: m.index, end: stop, label: 'private-key' });
      if (stop > PEM_BEGIN.lastIndex) PEM_BEGIN.lastIndex = stop;
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The rules of this project

/** What secretlint's preset does not cover in logs, as this project met it. */
export const LOG_DETECTORS: readonly Detector[] = [
  namedValues,
  goDsn,
  patternDetector({
    kind: 'authorization-header',
    re: /(?:^|[\s"'{,<>*])(?:proxy-)?authorization[ \t]{0,4}["']?[ \t]{0,4}[:=][ \t]{0,4}["']?[ \t]{0,4}(?:(?:bearer|basic|digest|negotiate|ntlm|token|apikey|aws4-hmac-sha256|hmac)[ \t]{1,4})?([^\s"',;}][^"'\r\n}]{0,4096})/dgim,
    group: 1,
    literals: ['authorization'],
  }),
  patternDetector({
    kind: 'cookie-header',
    re: /(?:^|[\s"'{,<>*])(?:set-)?cookie[ \t]{0,4}["']?[ \t]{0,4}[:=][ \t]{0,4}["']?[ \t]{0,4}([^\s"'\r\n][^"'\r\n]{0,8192})/dgim,
    group: 1,
    literals: ['cookie'],
  }),
  patternDetector({
    kind: 'url-query-secret',
    re: /[?&;](?:access_token|id_token|refresh_token|token|api_key|apikey|key|sig|signature|password|secret|client_secret|code|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=([^&\s"'#<>]{1,4096})/dgi,
    group: 1,
    literals: ['token=', 'key=', 'sig=', 'signature=', 'password=', 'secret=', 'code=', 'credential='],
  }),
  patternDetector({
    kind: 'url-password',
    re: /\b[A-Za-z][A-Za-z0-9+.-]{0,20}:\/\/[^\s:/@"'<>]{0,256}:([^\s@/"'<>]{1,256})@/dg,
    group: 1,
    literals: ['://'],
  }),
  patternDetector({
    kind: 'url-token-user',
    re: /:\/\/([A-Za-z0-9_-]{20,256})@/dg,
    group: 1,
    literals: ['://'],
  }),
  patternDetector({
    kind: 'curl-user',
    re: /(?:^|[\s"'])(?:-u|-U|--user|--proxy-user)(?:[ \t]{1,4}|=)?["']?[^\s:"']{0,256}:([^\s"']{1,256})/dg,
    group: 1,
    literals: ['-u', '--user', '--proxy-user'],
  }),
  patternDetector({
    kind: 'jwt',
    re: /\beyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,4096}/g,
    label: 'jwt',
    literals: ['eyj'],
  }),
  patternDetector({
    kind: 'bearer-token',
    // RFC 6750 b64token: `=` only as padding at its end (so "token_type=Bearer expires_in=3600" is no token).
    re: /\bbearer[ \t]{1,4}([A-Za-z0-9._~+/-]{8,8192}=*)(?![A-Za-z0-9._~+/=-])/dgi,
    group: 1,
    literals: ['bearer'],
  }),
  privateKeys,
  patternDetector({
    kind: 'slack-token',
    re: /\bxox[abposre]-[A-Za-z0-9-]{8,512}|\bxapp-[A-Za-z0-9-]{8,512}/g,
    label: 'slack-token',
    literals: ['xox', 'xapp-'],
  }),
  patternDetector({
    kind: 'slack-webhook',
    re: /https:\/\/hooks\.slack\.com\/services\/([A-Za-z0-9/_-]{8,256})/dg,
    group: 1,
    literals: ['hooks.slack.com'],
  }),
  patternDetector({
    kind: 'vendor-token',
    // A Google API key has a fixed length and may end in '-', after which a word boundary never comes: its
    // end is where its alphabet stops, not \b.
    re: /\b(?:(?:sk_(?:live|test)_[A-Za-z0-9]{16,128}|rk_(?:live|test)_[A-Za-z0-9]{16,128}|whsec_[A-Za-z0-9+/=]{16,128}|sk-[A-Za-z0-9_-]{32,256}|SG\.[A-Za-z0-9_-]{16,64}\.[A-Za-z0-9_-]{16,64}|hv[sbr]\.[A-Za-z0-9_-]{20,400}|key-[0-9a-f]{32}|gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255}|glpat-[A-Za-z0-9_-]{20,64}|npm_[A-Za-z0-9]{36})\b|AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-]))/g,
    label: 'token',
    literals: ['sk_', 'rk_', 'whsec_', 'sk-', 'aiza', 'sg.', 'hvs.', 'hvb.', 'hvr.', 'key-', 'gh', 'glpat-', 'npm_'],
  }),
];

/** The preset's regexes as detectors (whole match, or its `password` group; a leading name stays visible). */
export const PRESET_DETECTORS: readonly Detector[] = GENERATED_RULES.map((r) =>
  patternDetector({
    kind: r.rule.replace('@secretlint/secretlint-rule-', 'secretlint/'),
    re: new RegExp(r.source, r.flags),
    ...(r.label ? { label: r.label } : {}),
    ...(r.literals ? { literals: r.literals } : {}),
    ...(r.group ? { group: r.group } : { keepName: true }),
  }),
);

/** Every detector, the preset's first. */
export const DETECTORS: readonly Detector[] = [...PRESET_DETECTORS, ...LOG_DETECTORS];
