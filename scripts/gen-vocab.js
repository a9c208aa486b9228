// npm run gen:vocab: scripts/data/localized.jsonl (localized failure messages from translation catalogues:
// glibc, Firefox, Chromium, APT, wget, git, and server/framework error pages and messages; provenance in
// scripts/data/localized.md) → src/evidence/vocab/localized.gen.ts.
// --check fails when the generated file is stale.
import { readFileSync, writeFileSync } from 'node:fs';

const SRC = 'scripts/data/localized.jsonl';
const OUT = 'src/evidence/vocab/localized.gen.ts';

/** The signals each message means, by its English original (the catalogues' mechanism names are too coarse). */
const BY_ENGLISH = [
  [
    /^Unable to connect$|^Connection failed$|^Cannot initiate the connection|^Could not connect to %s:%s \(%s\)\.$|^This site can’t be reached$|^Unable to connect to %s:%s:$/,
    'connect_failed',
  ],
  [/^Connecting to %s|^failed: %s\.$|^unable to access|^This page isn’t working$/, null], // progress lines and generic wrappers: no mechanism
  [
    /has terminated unexpectedly|^The connection was interrupted$|^the remote end hung up|unexpectedly closed the connection|Remote end closed connection/,
    'unexpected_eof',
  ],
  [/^The operation timed out when attempting/, 'timeout'],
  [/^The proxy server is refusing connections$|refused when attempting to contact the proxy server/, 'proxy_refused'],
  [/^Unable to find the proxy server$|proxy server you have configured could not be found/, 'proxy_not_found'],
  [/^Proxy tunneling failed/, 'tunnel_failed'],
  [/^To connect to %s insecurely|^An error occurred during a connection to|^Secure Connection Failed$/, 'tls_failed'],
  [/uses an invalid security certificate|^Warning: Potential Security Risk Ahead$|cannot verify %s's certificate/, 'tls_cert_invalid'],
];

/** Mechanism → [signal name, value] pairs. */
const SIGNALS = {
  connection_refused: [['net.error', 'connection_refused']],
  connection_reset: [['net.error', 'connection_reset']],
  unexpected_eof: [['net.error', 'unexpected_eof']],
  connect_timeout: [['net.error', 'connect_timeout']],
  timeout: [['net.error', 'timeout']],
  connect_failed: [['net.error', 'connect_failed']],
  host_unreachable: [['net.error', 'host_unreachable']],
  network_unreachable: [['net.error', 'network_unreachable']],
  connection_aborted: [['net.error', 'connection_aborted']],
  broken_pipe: [['net.error', 'broken_pipe']],
  dns_not_found: [['net.error', 'dns_not_found']],
  dns_temporary: [['net.error', 'dns_temporary']],
  empty_reply: [['net.error', 'empty_reply']],
  cors_blocked: [['cors.error', 'blocked']],
  cors_no_allow_origin: [['cors.error', 'no_allow_origin']],
  cors_preflight_failed: [['cors.error', 'preflight_failed']],
  cors_header_not_allowed: [['cors.error', 'header_not_allowed']],
  cors_origin_mismatch: [['cors.error', 'origin_mismatch']],
  cors_multiple_origins: [['cors.error', 'multiple_origins']],
  cors_method_not_allowed: [['cors.error', 'method_not_allowed']],
  cors_wildcard_credentials: [['cors.error', 'wildcard_credentials']],
  redirect_loop: [['http.redirect_loop']],
  proxy_refused: [['proxy.forward'], ['net.error', 'connection_refused']],
  proxy_not_found: [['proxy.forward'], ['net.error', 'dns_not_found']],
  tunnel_failed: [['proxy.forward'], ['connect.failed']],
  tls_failed: [['tls.error', 'failed']],
  tls_cert_invalid: [['tls.error', 'cert_invalid']],
  tls_unknown_issuer: [['tls.error', 'unknown_issuer']],
  tls_cert_expired: [['tls.error', 'cert_expired']],
  tls_hostname_mismatch: [['tls.error', 'hostname_mismatch']],
  tls_handshake_failure: [['tls.error', 'handshake_failure']],
  // NSS/PSM's messages (Firefox's nsserrors.properties) and Firefox's certificate-error page, one mechanism per error code
  tls_self_signed: [['tls.error', 'self_signed']],
  tls_not_yet_valid: [['tls.error', 'cert_not_yet_valid']],
  tls_revoked: [['tls.error', 'revoked']],
  tls_wrong_version: [['tls.error', 'wrong_version_number']],
  tls_no_shared_cipher: [['tls.error', 'no_shared_cipher']],
  tls_protocol_version: [['tls.error', 'protocol_version']],
  tls_client_cert_required: [['tls.error', 'client_cert_required']],
  tls_sni_required: [['tls.error', 'sni_required']],
  // Firefox's MITM page is shown only when the chain fails with an unknown issuer (MOZILLA_PKIX_ERROR_MITM_DETECTED)
  tls_intercepted: [['tls.intercepted'], ['tls.error', 'unknown_issuer']],
  bad_gateway: [
    ['http.status', '502'],
    ['proxy.upstream_error', 'invalid_header'],
  ],
  access_denied_rule: [['access.denied_rule']],
  csrf_invalid: [['access.csrf']],
  auth_missing: [['auth.error', 'missing_credentials']],
  permission_denied: [['auth.forbidden_role']],
  token_invalid: [['auth.error', 'invalid_token']],
  // A status as an error page or framework message states it (src/evidence/localized.ts emits it with
  // addStatus, so what a status implies, STATUS_IMPLIES in src/evidence/proxy-common.ts, comes with it).
  rate_limited: [['http.status', '429']],
  status_400: [['http.status', '400']],
  status_401: [['http.status', '401']],
  status_403: [['http.status', '403']],
  status_407: [['http.status', '407']],
  status_408: [['http.status', '408']],
  status_413: [['http.status', '413']],
  status_429: [['http.status', '429']],
  status_502: [['http.status', '502']],
  status_503: [['http.status', '503']],
  status_504: [['http.status', '504']],
};

const rows = readFileSync(SRC, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
// The English originals are printed too (LANG=C, en-US builds): one row each, cut at placeholders like the translations.
const english = new Map();
for (const r of rows) {
  const parts = r.english.split(/%\d?\$?[sdSu]|%[A-Za-z]|\{[^}]*\}|<[A-Z_]+>|\|%s\|/);
  for (const part of parts) {
    const text = part.replace(/[‘’"'`.:,;!]+$|^[‘’"'`\s:,;]+/g, '').trim();
    // A piece cut out of a longer message must be long enough to say something by itself.
    if (parts.length > 1 && text.length < 20) continue;
    const rule = BY_ENGLISH.find(([re]) => re.test(r.english));
    const mechanism = rule ? rule[1] : r.mechanism;
    if (mechanism !== null && text.length >= 12 && !english.has(text.toLowerCase()))
      english.set(text.toLowerCase(), { ...r, lang: 'en', text, mechanism });
  }
}
/** English fragments cut from longer strings say less than the whole: what they mean by themselves. */
const ENGLISH_FRAGMENT = [
  [/^sorry, you are not currently allowed to request$/, null], // Squid ERR_CACHE_ACCESS_DENIED before its %U: says nothing alone
  [/^could not connect to$/, 'connect_failed'],
  [/^read timeout$/, null], // Squid ERR_READ_TIMEOUT's title: in English prose it names a setting ("bump the read timeout to 1 hour")
  [/^connection timed out$/, 'timeout'],
  [/access-control-allow-origin.? missing/, 'cors_no_allow_origin'],
  [/missing token|access-control-allow-headers/, 'cors_header_not_allowed'],
  [/did not find method/, 'cors_method_not_allowed'],
  [/preflight/, 'cors_preflight_failed'],
  [/access-control-allow-origin.? does not match/, 'cors_origin_mismatch'],
  [/multiple cors header/, 'cors_multiple_origins'],
  [/credential is not supported/, 'cors_wildcard_credentials'],
];
for (const r of english.values()) {
  const hit = ENGLISH_FRAGMENT.find(([re]) => re.test(r.text.toLowerCase()));
  if (hit) r.mechanism = hit[1];
}
const sources = [];
const seen = new Set();
const out = [];
for (const r of [...rows, ...english.values()]) {
  const rule = r.lang === 'en' ? undefined : BY_ENGLISH.find(([re]) => re.test(r.english));
  const mechanism = rule ? rule[1] : r.mechanism;
  if (mechanism === null) continue;
  if (!SIGNALS[mechanism]) throw new Error(`${SRC}: unknown mechanism ${mechanism}`);
  const text = r.text.toLowerCase().replace(/\s+/g, ' ').trim();
  const cjk = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(text);
  if (text.length < (cjk ? 4 : 8)) continue;
  // Straight and typographic apostrophes both occur in pasted text.
  for (const t of new Set([text, text.replace(/[’‘]/g, "'")])) {
    if (seen.has(t)) continue;
    seen.add(t);
    const source = r.source.replace(/ \(.*$/, '');
    let si = sources.indexOf(source);
    if (si < 0) si = sources.push(source) - 1;
    out.push([t, r.lang, mechanism, si]);
  }
}
out.sort((a, b) => a[2].localeCompare(b[2]) || a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
const body = `// Generated by scripts/gen-vocab.js from ${SRC}: do not edit; run npm run gen:vocab.

/** Signals of each mechanism: [name, value?]. */
export const LOCALIZED_SIGNALS: Readonly<Record<string, readonly (readonly [string, string?])[]>> = ${JSON.stringify(SIGNALS)};

/** Catalogue files the texts come from (repository:path). */
export const LOCALIZED_SOURCES: readonly string[] = ${JSON.stringify(sources, null, 2)};

/** [lower-case text, language, mechanism, source index]. */
export const LOCALIZED: readonly (readonly [string, string, string, number])[] = [
${out.map((r) => `  ${JSON.stringify(r)},`).join('\n')}
];
`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== body) {
    console.error(`${OUT} is stale: run npm run gen:vocab`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, body);
  console.log(`${OUT}: ${out.length} texts from ${sources.length} catalogue files`);
}
