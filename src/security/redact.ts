/**
 * Secret masking. Everything that leaves the process (a log line, a stored record, a Slack post,
 * a CLI line) is built from {@link Masked} strings, which only {@link redact} can make, so a raw
 * token cannot reach an output by accident.
 */

declare const maskedBrand: unique symbol;

/** A string whose secrets have been masked. Obtain one from {@link redact} (or {@link trusted}). */
export type Masked = string & { readonly [maskedBrand]: true };

/** The text that stands in for a masked secret. */
export const MASK = '[masked]';

interface Rule {
  /** What kind of secret the rule finds (for tests and docs). */
  kind: string;
  re: RegExp;
  /** Replacement: keeps the non-secret prefix captured as group 1, masks the rest. */
  replace: (match: string, ...groups: string[]) => string;
}

const keepPrefix = (_m: string, prefix: string) => `${prefix}${MASK}`;

/**
 * Rules, applied in order. Each regex is linear-time (bounded, no nested quantifiers) and global.
 * Header rules mask the whole value up to the end of the line, since a header value can hold
 * several credentials (Cookie) or a scheme plus a credential (Authorization).
 */
const RULES: readonly Rule[] = [
  {
    kind: 'authorization-header',
    re: /((?:^|[\s"'{,<>*])(?:proxy-)?authorization\s{0,4}["']?\s{0,4}[:=]\s{0,4}["']?\s{0,4}(?:(?:bearer|basic|digest|negotiate|ntlm|token|apikey|aws4-hmac-sha256|hmac)\s{1,4})?)[^\s"',;}\r\n][^"'\r\n}]{0,4096}/gim,
    replace: keepPrefix,
  },
  {
    kind: 'cookie-header',
    re: /((?:^|[\s"'{,<>*])(?:set-)?cookie\s{0,4}["']?\s{0,4}[:=]\s{0,4}["']?\s{0,4})[^\s"'\r\n][^"'\r\n]{0,8192}/gim,
    replace: keepPrefix,
  },
  {
    kind: 'api-key-header',
    re: /((?:^|[\s"'{,<>*])(?:x-)?(?:api[-_]?key|api[-_]?token|auth[-_]?token|access[-_]?token|refresh[-_]?token|id[-_]?token|client[-_]?secret|secret[-_]?key|private[-_]?key|x-amz-security-token|x-goog-api-key|x-auth-token|password|passwd|pwd|secret|token)\s{0,4}["']?\s{0,4}[:=]\s{0,4}["']?)[^\s"'&,;}<>\r\n]{1,4096}/gim,
    replace: keepPrefix,
  },
  {
    kind: 'url-query-secret',
    re: /([?&](?:access_token|id_token|refresh_token|token|api_key|apikey|key|sig|signature|password|secret|client_secret|code|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s"'#<>]{1,4096}/gi,
    replace: keepPrefix,
  },
  {
    kind: 'url-password',
    re: /(\b[a-z][a-z0-9+.-]{0,20}:\/\/[^\s:/@"'<>]{1,256}:)[^\s@/"'<>]{1,256}(?=@)/gi,
    replace: keepPrefix,
  },
  {
    kind: 'jwt',
    re: /\beyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,4096}/g,
    replace: () => `${MASK}(jwt)`,
  },
  {
    kind: 'bearer-token',
    re: /(\bbearer\s{1,4})[A-Za-z0-9._~+/=-]{8,8192}/gi,
    replace: keepPrefix,
  },
  {
    kind: 'slack-token',
    re: /\bxox[abposre]-[A-Za-z0-9-]{8,512}|\bxapp-[A-Za-z0-9-]{8,512}/g,
    replace: () => `${MASK}(slack-token)`,
  },
  {
    kind: 'slack-webhook',
    re: /(https:\/\/hooks\.slack\.com\/services\/)[A-Za-z0-9/_-]{8,256}/g,
    replace: keepPrefix,
  },
  {
    kind: 'aws-access-key',
    re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: () => `${MASK}(aws-key)`,
  },
  {
    kind: 'aws-secret-key',
    re: /(aws_secret_access_key\s{0,4}[:=]\s{0,4}["']?)[A-Za-z0-9/+=]{30,60}/gi,
    replace: keepPrefix,
  },
  {
    kind: 'vendor-token',
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255}|glpat-[A-Za-z0-9_-]{20,64}|sk_(?:live|test)_[A-Za-z0-9]{16,128}|sk-[A-Za-z0-9_-]{32,256}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36})\b/g,
    replace: () => `${MASK}(token)`,
  },
  {
    kind: 'private-key',
    re: /-----BEGIN (?:[A-Z]{1,20} )?PRIVATE KEY-----[\s\S]{0,16384}?-----END (?:[A-Z]{1,20} )?PRIVATE KEY-----/g,
    replace: () => `${MASK}(private-key)`,
  },
];

/** Mask every secret in `text`. Idempotent: masking masked text changes nothing. */
export function redact(text: string): Masked {
  let out = text;
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    out = out.replace(rule.re, rule.replace as (m: string, ...g: string[]) => string);
  }
  return out as Masked;
}

/**
 * Mark a string that cannot hold a secret (a number, an enum value, text the program wrote) as
 * masked without scanning it. Use only for program-made text.
 */
export function trusted(text: string): Masked {
  return text as Masked;
}

/** The kinds of secret the rules recognise, for documentation and tests. */
export const SECRET_KINDS: readonly string[] = RULES.map((r) => r.kind);
