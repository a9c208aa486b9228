/**
 * What TLS libraries say went wrong, in their own words: OpenSSL's verify strings (X509_verify_cert_error_string:
 * "unable to get local issuer certificate", "certificate has expired"), its alerts and reasons, and the Schannel,
 * GnuTLS and NSS equivalents. Every runtime that wraps one of them (curl, Python's ssl, Ruby, PHP, Node) passes the
 * wording on, so this is the one table of it; the extractors decide where in a text the wording counts.
 */
/** Library wording → tls.error value, first match wins. */
export const TLS_REASONS: readonly (readonly [RegExp, string])[] = [
  [/wrong version number|packet length too long|unexpected tls packet|record too long/, 'wrong_version_number'],
  [/certificate has expired|cert_expired|peer's certificate has expired|sec_error_expired/, 'cert_expired'],
  [/not yet valid/, 'cert_not_yet_valid'],
  [/self[- ]signed certificate/, 'self_signed'],
  [
    /unable to get local issuer|unable to get issuer|untrusted_root|unknown_issuer|issuer has been marked as not trusted|issuer is not recognized/,
    'unknown_issuer',
  ],
  [/unable to verify (?:the )?first certificate|unable to verify leaf signature/, 'missing_intermediate'],
  [
    /does not match target host|no alternative certificate subject name|wrong_principal|hostname mismatch|ip address mismatch/,
    'hostname_mismatch',
  ],
  [/revoked/, 'revoked'],
  [
    /alert certificate required|alert bad certificate|alert unknown ca|peer did not return a certificate|certificate_required/,
    'client_cert_required',
  ],
  [/unrecognized name|unrecognized_name/, 'sni_required'],
  [/no shared cipher|no cipher match|no ciphers available|cipher_overlap|no_cipher/, 'no_shared_cipher'],
  [/alert protocol version|unsupported protocol|no protocols available|protocol_version|sec_e_unsupported_function/, 'protocol_version'],
  [/handshake failure|illegal_message|handshake failed|unknown ssl protocol error/, 'handshake_failure'],
  [/ssl_error_syscall|reset by peer|non-properly terminated|unexpected eof|connection was reset/, 'reset_during_handshake'],
];

export function tlsReason(text: string): string | undefined {
  const l = text.toLowerCase();
  if (/verify result: ok\b/.test(l)) return undefined;
  for (const [re, value] of TLS_REASONS) if (re.test(l)) return value;
  return undefined;
}
