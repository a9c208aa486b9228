/**
 * The tls probe: a TLS handshake with the URL's host (SNI = the host, ALPN h2 and http/1.1) and a
 * full certificate analysis, done even when verification fails: the handshake runs with
 * `rejectUnauthorized: false` and the probe verifies the chain itself (node:crypto
 * X509Certificate, tls.checkServerIdentity, the trust store) so that it reports EVERY problem —
 * expired, not yet valid, hostname mismatch, self-signed, missing intermediate, unknown issuer,
 * an intercepting corporate CA — not just the first one OpenSSL stops at.
 *
 * Handshake failures are told apart too: plain HTTP on the port (wrong_version_number), protocol
 * version, no shared cipher (a second handshake with legacy settings tells them from a generic
 * handshake_failure), a client certificate required, SNI required, a reset during the handshake.
 *
 * The connect probe reuses {@link tlsHandshake} and {@link tlsSignals} through a tunnel.
 */

import { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import * as tls from 'node:tls';
import type { Signal } from '../evidence/signal.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import {
  formatMs,
  guardedRun,
  probeSignal,
  refusalResult,
  stopwatch,
  stoppedResult,
  timedConnect,
  type Deadline,
  type SocketFailure,
} from './support/socket.js';
import type { TlsError } from './support/http.js';

const NAME = 'tls';

/** This probe never goes through a proxy (it does not apply with one). */
const DIRECT = trusted('direct');

// ---------------------------------------------------------------------------------------------
// Trust store

/** The certificates a probe trusts, parsed once, with the secure contexts built from them. */
export interface TlsTrust {
  /** Trust anchors, indexed by subject (X509Certificate `subject` text). */
  readonly bySubject: ReadonlyMap<string, readonly X509Certificate[]>;
  /** Fingerprints (SHA-256) of every anchor. */
  readonly fingerprints: ReadonlySet<string>;
  /** A secure context trusting the anchors; `legacy` also allows TLS 1.0+ and every cipher (security level 0). */
  context(legacy?: boolean): tls.SecureContext;
}

/** How to build a {@link TlsTrust}. */
export interface TlsTrustOptions {
  /**
   * Extra CA certificates (PEM text, bundles allowed), trusted on top of the roots: what
   * NODE_EXTRA_CA_CERTS names, read by the config layer (the probe never reads process.env).
   * @defaultValue []
   */
  readonly extraCaPems?: readonly string[];
  /**
   * The roots. @defaultValue `tls.rootCertificates` (Node's bundled Mozilla store)
   */
  readonly rootPems?: readonly string[];
}

/** The PEM certificates in a bundle. */
export function splitPemBundle(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Trust stores over the bundled roots, by the extra-CA list they were built with (the config returns the same list while its file is unchanged). */
const withBundledRoots = new WeakMap<readonly string[], TlsTrust>();
const NO_EXTRA: readonly string[] = [];

/** Build a trust store (parsed lazily, on first use); over the bundled roots, one per extra-CA list. */
export function createTlsTrust(options: TlsTrustOptions = {}): TlsTrust {
  if (options.rootPems) return buildTlsTrust(options);
  const key = options.extraCaPems ?? NO_EXTRA;
  let trust = withBundledRoots.get(key);
  if (!trust) withBundledRoots.set(key, (trust = buildTlsTrust(options)));
  return trust;
}

function buildTlsTrust(options: TlsTrustOptions): TlsTrust {
  const pems = [...(options.rootPems ?? tls.rootCertificates), ...(options.extraCaPems ?? []).flatMap(splitPemBundle)];
  let index: { bySubject: Map<string, X509Certificate[]>; fingerprints: Set<string> } | undefined;
  const contexts = new Map<boolean, tls.SecureContext>();
  const build = () => {
    if (index) return index;
    const bySubject = new Map<string, X509Certificate[]>();
    const fingerprints = new Set<string>();
    for (const pem of pems) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(pem);
      } catch {
        continue;
      }
      fingerprints.add(cert.fingerprint256);
      bySubject.set(cert.subject, [...(bySubject.get(cert.subject) ?? []), cert]);
    }
    index = { bySubject, fingerprints };
    return index;
  };
  return {
    get bySubject() {
      return build().bySubject;
    },
    get fingerprints() {
      return build().fingerprints;
    },
    context(legacy = false) {
      let ctx = contexts.get(legacy);
      if (!ctx) {
        ctx = tls.createSecureContext({ ca: pems, ...(legacy ? { minVersion: 'TLSv1' as const, ciphers: 'ALL:@SECLEVEL=0' } : {}) });
        contexts.set(legacy, ctx);
      }
      return ctx;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Certificate analysis

/** One thing wrong with the certificate chain. */
export interface CertProblem {
  readonly error: TlsError;
  /** What exactly, for the excerpt. @example 'certificate CN=api.example.com expired 3d 4h ago (notAfter 2024-03-01T00:00:00.000Z)' */
  readonly text: string;
}

/** What the presented certificate chain says, and everything wrong with it. */
export interface CertAnalysis {
  readonly subject: string;
  readonly issuer: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days until notAfter (negative when expired). */
  readonly daysLeft: number;
  /** Certificates the server presented (as the handshake reported them). */
  readonly chainLength: number;
  /** Subjects of the verified path, leaf first, as far as it could be built. */
  readonly path: readonly string[];
  /** Whether the path reaches a trust anchor. */
  readonly trusted: boolean;
  /** Every problem found; empty when the certificate is good for the host. */
  readonly problems: readonly CertProblem[];
  /** The vendor when an issuer is a known TLS-intercepting proxy CA. @example 'Zscaler' */
  readonly interceptedBy?: string;
  /** The subject when it is a proxy's built-in fallback certificate. */
  readonly defaultCert?: string;
  /** OpenSSL's own verdict (`authorizationError`), for reference. */
  readonly openssl?: string;
  readonly fingerprint256: string;
}

/** Issuer names of TLS-intercepting proxies and endpoint security products, and the vendor they mean. */
const INTERCEPTORS: readonly (readonly [RegExp, string])[] = [
  [/zscaler/i, 'Zscaler'],
  [/netskope/i, 'Netskope'],
  [/fortinet|fortigate/i, 'Fortinet'],
  [/blue ?coat/i, 'Blue Coat'],
  [/palo ?alto/i, 'Palo Alto Networks'],
  [/cisco umbrella|opendns/i, 'Cisco Umbrella'],
  [/sophos/i, 'Sophos'],
  [/kaspersky/i, 'Kaspersky'],
  [/\bavast\b/i, 'Avast'],
  [/\bAVG\b/, 'AVG'],
  [/eset ssl filter/i, 'ESET'],
  [/bitdefender/i, 'Bitdefender'],
  [/mcafee web gateway|skyhigh/i, 'McAfee / Skyhigh'],
  [/forcepoint|websense/i, 'Forcepoint'],
  [/check ?point/i, 'Check Point'],
  [/barracuda/i, 'Barracuda'],
  [/sonicwall/i, 'SonicWall'],
  [/watchguard/i, 'WatchGuard'],
  [/menlo security/i, 'Menlo Security'],
  [/lightspeed/i, 'Lightspeed'],
  [/securly/i, 'Securly'],
  [/smoothwall/i, 'Smoothwall'],
  [/cloudflare for teams|cloudflare gateway/i, 'Cloudflare Gateway'],
  [/mitmproxy/i, 'mitmproxy'],
  [/charles proxy/i, 'Charles Proxy'],
  [/fiddler/i, 'Fiddler'],
  [/portswigger|burp/i, 'Burp Suite'],
];

const DEFAULT_CERTS = /TRAEFIK DEFAULT CERT|Kubernetes Ingress Controller Fake Certificate/;

const DAY_MS = 86_400_000;

/** `3d 4h`, `5h 12m`, `42m`, `30s`. */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

const cn = (dn: string) => /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1] ?? dn.split('\n').join(', ');
const oneLine = (dn: string) => dn.split('\n').join(', ');

/** The certificates of a peer chain as the handshake reported them, leaf first, without repeats. */
function peerChain(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: tls.DetailedPeerCertificate | undefined = peer;
  while (cur?.raw && out.length < 16) {
    const cert = new X509Certificate(cur.raw);
    if (seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    out.push(cert);
    cur = cur.issuerCertificate === cur ? undefined : cur.issuerCertificate;
  }
  return out;
}

/** Signed by its own key (a leaf made with `openssl req -x509` often lacks the keyCertSign that checkIssued wants). */
function selfIssued(c: X509Certificate): boolean {
  try {
    return c.subject === c.issuer && c.verify(c.publicKey);
  } catch {
    return false;
  }
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

const OPENSSL_TO_ERROR: Readonly<Record<string, TlsError>> = {
  CERT_HAS_EXPIRED: 'cert_expired',
  CERT_NOT_YET_VALID: 'cert_not_yet_valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self_signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_issuer',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'missing_intermediate',
  CERT_REVOKED: 'revoked',
};

/**
 * Analyse a peer certificate chain for `host`: build the path to a trust anchor yourself and
 * collect every problem (dates of every certificate on the path, hostname, self-signed, missing
 * intermediate, unknown issuer), plus intercepting-CA and default-certificate hints.
 */
export function analyseCertificate(
  peer: tls.DetailedPeerCertificate,
  host: string,
  trust: TlsTrust,
  now: Date,
  openssl?: string,
): CertAnalysis {
  const presented = peerChain(peer);
  const leaf = presented[0]!;
  const problems: CertProblem[] = [];
  const add = (p: CertProblem) => {
    if (!problems.some((q) => q.error === p.error && q.text === p.text)) problems.push(p);
  };

  // The path: leaf → presented intermediates → an anchor.
  const path: X509Certificate[] = [leaf];
  let isTrusted = false;
  for (let cur = leaf; path.length <= 10;) {
    if (trust.fingerprints.has(cur.fingerprint256)) {
      isTrusted = true;
      break;
    }
    const anchor = (trust.bySubject.get(cur.issuer) ?? []).find((a) => safeVerify(cur, a));
    if (anchor) {
      path.push(anchor);
      isTrusted = true;
      break;
    }
    if (selfIssued(cur)) {
      if (cur === leaf) add({ error: 'self_signed', text: `certificate ${oneLine(cur.subject)} is self-signed and not trusted` });
      else add({ error: 'unknown_issuer', text: `the chain ends at root ${oneLine(cur.subject)}, which is not trusted` });
      break;
    }
    const next = presented.find((c) => c !== cur && !path.includes(c) && safeVerify(cur, c));
    if (next) {
      path.push(next);
      cur = next;
      continue;
    }
    if (cur === leaf) {
      add({
        error: 'missing_intermediate',
        text: `issuer ${oneLine(cur.issuer)} of ${cn(cur.subject)} was not sent by the server and is not a trusted root (missing intermediate, or a private CA)`,
      });
    } else {
      add({ error: 'unknown_issuer', text: `issuer ${oneLine(cur.issuer)} of ${cn(cur.subject)} is not a trusted root` });
    }
    break;
  }

  // Dates of every certificate on the path (and any other one presented).
  for (const cert of [...path, ...presented.filter((c) => !path.includes(c))]) {
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    const which = cert === leaf ? `certificate ${cn(cert.subject)}` : `${cert.ca ? 'CA' : 'chain'} certificate ${cn(cert.subject)}`;
    if (now.getTime() > notAfter.getTime()) {
      add({
        error: 'cert_expired',
        text: `${which} expired ${formatDuration(now.getTime() - notAfter.getTime())} ago (notAfter ${notAfter.toISOString()})`,
      });
    }
    if (now.getTime() < notBefore.getTime()) {
      add({
        error: 'cert_not_yet_valid',
        text: `${which} is not valid for another ${formatDuration(notBefore.getTime() - now.getTime())} (notBefore ${notBefore.toISOString()})`,
      });
    }
  }

  // Hostname.
  const sans = (leaf.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.trim())
    .filter(Boolean);
  const identityError = tls.checkServerIdentity(host, peer);
  if (identityError) {
    add({
      error: 'hostname_mismatch',
      text: `certificate ${cn(leaf.subject)} does not name ${host}; it names ${sans.length > 0 ? sans.join(', ') : `only CN=${cn(leaf.subject)}`}`,
    });
  }

  // OpenSSL saw something the path building did not (e.g. a revoked or unusable certificate).
  if (openssl && problems.length === 0 && !isTrusted) {
    add({ error: OPENSSL_TO_ERROR[openssl] ?? 'unknown_issuer', text: `OpenSSL: ${openssl}` });
  } else if (openssl && OPENSSL_TO_ERROR[openssl] === 'revoked') {
    add({ error: 'revoked', text: `OpenSSL: ${openssl}` });
  }

  const names = [...path, ...presented].map((c) => `${c.issuer}\n${c.subject}`).join('\n');
  const interceptedBy = INTERCEPTORS.find(([re]) => re.test(names))?.[1];
  const defaultCert = DEFAULT_CERTS.test(leaf.subject) ? cn(leaf.subject) : undefined;
  const notAfter = new Date(leaf.validTo);
  return {
    subject: oneLine(leaf.subject),
    issuer: oneLine(leaf.issuer),
    sans,
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    chainLength: presented.length,
    path: path.map((c) => oneLine(c.subject)),
    trusted: isTrusted,
    problems,
    ...(interceptedBy ? { interceptedBy } : {}),
    ...(defaultCert ? { defaultCert } : {}),
    ...(openssl ? { openssl } : {}),
    fingerprint256: leaf.fingerprint256,
  };
}

// ---------------------------------------------------------------------------------------------
// Handshake

/** Options of {@link tlsHandshake}. */
export interface HandshakeOptions {
  /** A connected TCP socket (direct, or a CONNECT tunnel). The handshake owns it from here on. */
  readonly socket: Socket;
  /** The host asked for: SNI (unless an IP address) and the identity the certificate must name. */
  readonly host: string;
  readonly trust: TlsTrust;
  /** Aborts the handshake (pass `deadline.signal`). */
  readonly signal: AbortSignal;
  /** The clock for certificate dates. */
  readonly now: Date;
  /** Allow TLS 1.0+ and every cipher (the second handshake that tells version / cipher problems apart). @defaultValue false */
  readonly legacy?: boolean;
  /**
   * How long to wait after a TLS 1.3 handshake for a post-handshake alert (a server that wants a
   * client certificate says so only after the client's Finished). @defaultValue 0
   */
  readonly alertWaitMs?: number;
  /** Keep the TLS socket open on success and return it (to speak through it, e.g. to an https proxy). @defaultValue false */
  readonly keepOpen?: boolean;
}

/** A handshake that completed. */
export interface HandshakeOk {
  readonly ok: true;
  readonly ms: number;
  readonly protocol: string;
  readonly cipher: string;
  /** The ALPN protocol chosen, or '' when none. */
  readonly alpn: string;
  readonly cert?: CertAnalysis;
  /** The open TLS socket, with {@link HandshakeOptions.keepOpen} (the caller destroys it). */
  readonly socket?: tls.TLSSocket;
}

/** A handshake that failed (or was stopped). */
export interface HandshakeFailed {
  readonly ok: false;
  readonly ms: number;
  /** `aborted`: the signal fired (a timeout when the caller's deadline expired). */
  readonly error: TlsError | 'aborted';
  readonly code?: string;
  readonly message: Masked;
  /** Whether key material was derived before the failure (the server got past ServerHello). */
  readonly keysDerived: boolean;
  /** Set when the failure came after the client finished its side (TLS 1.3 client certificate alerts). */
  readonly afterHandshake?: { readonly protocol: string; readonly cipher: string; readonly alpn: string; readonly cert?: CertAnalysis };
}

export type HandshakeOutcome = HandshakeOk | HandshakeFailed;

/** Classify a TLS handshake error (code and message) into a `tls.error` value. */
export function classifyTlsError(err: unknown, keysDerived: boolean): TlsError {
  const code = String((err as { code?: unknown } | undefined)?.code ?? '');
  const text = `${code} ${err instanceof Error ? err.message : String(err)}`.toLowerCase().replace(/[_-]/g, ' ');
  if (/wrong version number|packet length too long|http request|unknown protocol|record layer failure/.test(text))
    return 'wrong_version_number';
  if (/certificate required|peer did not return a certificate|alert bad certificate/.test(text)) return 'client_cert_required';
  if (/unrecognized name/.test(text)) return 'sni_required';
  if (/protocol version|unsupported protocol|no protocols available|version too low|inappropriate fallback/.test(text))
    return 'protocol_version';
  if (/no shared cipher|no cipher match|no ciphers available|insufficient security/.test(text)) return 'no_shared_cipher';
  if (/certificate revoked/.test(text)) return 'revoked';
  // A handshake_failure alert after key material was derived came after the server's certificate:
  // in TLS 1.2 that is the server rejecting the empty client Certificate it asked for.
  if (/handshake failure/.test(text)) return keysDerived ? 'client_cert_required' : 'handshake_failure';
  if (/econnreset|epipe|socket disconnected|socket hang up|econnaborted|eof/.test(text)) return 'reset_during_handshake';
  return 'handshake_failure';
}

/**
 * Run a TLS handshake on a connected socket with verification off, analyse the certificate, and
 * close. Never throws; destroys the socket in every case.
 */
export function tlsHandshake(opts: HandshakeOptions): Promise<HandshakeOutcome> {
  const clock = stopwatch();
  return new Promise((resolve) => {
    let keysDerived = false;
    let settled = false;
    let secured: HandshakeOk | undefined;
    let alertTimer: NodeJS.Timeout | undefined;
    const servername = isIP(opts.host) === 0 ? opts.host : undefined;
    let sock: tls.TLSSocket;
    try {
      sock = tls.connect({
        socket: opts.socket,
        ...(servername ? { servername } : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        secureContext: opts.trust.context(opts.legacy ?? false),
      });
    } catch (err) {
      opts.socket.destroy();
      resolve({ ok: false, ms: clock(), error: 'handshake_failure', message: redact(String(err)), keysDerived: false });
      return;
    }
    const finish = (outcome: HandshakeOutcome) => {
      if (settled) return;
      settled = true;
      if (alertTimer) clearTimeout(alertTimer);
      opts.signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      sock.removeAllListeners('close');
      sock.removeAllListeners('keylog');
      sock.on('error', () => {});
      if (outcome.ok && opts.keepOpen && !sock.destroyed) {
        resolve({ ...outcome, socket: sock });
        return;
      }
      sock.destroy();
      opts.socket.destroy();
      resolve(outcome);
    };
    const fail = (err: unknown) => {
      const error = classifyTlsError(err, keysDerived);
      const code = (err as { code?: unknown } | undefined)?.code;
      const base = {
        ok: false as const,
        ms: secured ? secured.ms : clock(),
        error,
        ...(typeof code === 'string' ? { code } : {}),
        message: redact(err instanceof Error ? err.message : String(err)),
        keysDerived,
      };
      finish(
        secured
          ? {
              ...base,
              afterHandshake: {
                protocol: secured.protocol,
                cipher: secured.cipher,
                alpn: secured.alpn,
                ...(secured.cert ? { cert: secured.cert } : {}),
              },
            }
          : base,
      );
    };
    const onAbort = () =>
      finish({
        ok: false,
        ms: clock(),
        error: 'aborted',
        message: trusted(`stopped during the TLS handshake after ${formatMs(clock())}`),
        keysDerived,
      });
    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    sock.on('keylog', () => (keysDerived = true));
    sock.on('error', fail);
    sock.once('close', () => {
      if (secured) finish(secured);
      else fail(Object.assign(new Error('the server closed the connection during the TLS handshake'), { code: 'ECONNRESET' }));
    });
    sock.once('secureConnect', () => {
      const ms = clock();
      let cert: CertAnalysis | undefined;
      try {
        const peer = sock.getPeerCertificate(true);
        if (peer?.raw) cert = analyseCertificate(peer, opts.host.replace(/^\[|\]$/g, ''), opts.trust, opts.now, authorizationCode(sock));
      } catch {
        cert = undefined;
      }
      const cipher = sock.getCipher();
      secured = {
        ok: true,
        ms,
        protocol: sock.getProtocol() ?? 'unknown',
        cipher: cipher?.standardName || cipher?.name || 'unknown',
        alpn: typeof sock.alpnProtocol === 'string' ? sock.alpnProtocol : '',
        ...(cert ? { cert } : {}),
      };
      const wait = opts.alertWaitMs ?? 0;
      if (secured.protocol === 'TLSv1.3' && wait > 0) {
        sock.resume();
        alertTimer = setTimeout(() => finish(secured!), wait);
      } else {
        finish(secured);
      }
    });
  });
}

function authorizationCode(sock: tls.TLSSocket): string | undefined {
  const e = sock.authorizationError as unknown;
  if (!e) return undefined;
  return typeof e === 'string' ? e : String((e as { code?: unknown }).code ?? (e as Error).message ?? e);
}

// ---------------------------------------------------------------------------------------------
// Signals and details

/** Signals for a handshake outcome: one `tls.error` per problem, `net.phase=tls` on failure, interception hints. */
export function tlsSignals(probe: string, outcome: HandshakeOutcome, where: string): Signal[] {
  const signals: Signal[] = [];
  const cert = outcome.ok ? outcome.cert : outcome.afterHandshake?.cert;
  if (!outcome.ok && outcome.error !== 'aborted') {
    const excerpt = redact(`TLS handshake with ${where} failed after ${formatMs(outcome.ms)}: ${outcome.message}`);
    signals.push(probeSignal(probe, 'tls.error', outcome.error, excerpt), probeSignal(probe, 'net.phase', 'tls', excerpt));
  }
  if (cert) {
    const seen = new Set<string>();
    for (const p of cert.problems) {
      if (seen.has(p.error)) continue;
      seen.add(p.error);
      const texts = cert.problems.filter((q) => q.error === p.error).map((q) => q.text);
      signals.push(probeSignal(probe, 'tls.error', p.error, redact(`${where}: ${texts.join('; ')}`)));
    }
    if (cert.interceptedBy) {
      signals.push(
        probeSignal(
          probe,
          'tls.intercepted',
          undefined,
          redact(`${where}: certificate issued by ${cert.interceptedBy} (issuer ${cert.issuer}; path ${cert.path.join(' ← ')})`),
        ),
      );
    }
    if (cert.defaultCert) {
      signals.push(
        probeSignal(
          probe,
          'tls.default_cert',
          undefined,
          redact(`${where}: the server presented a default certificate: ${cert.defaultCert}`),
        ),
      );
    }
  }
  return signals;
}

/** Details for a handshake outcome (prefix e.g. 'tls.' for the connect probe). */
export function tlsDetails(outcome: HandshakeOutcome, prefix = ''): Record<string, Masked | number | boolean | readonly Masked[]> {
  const d: Record<string, Masked | number | boolean | readonly Masked[]> = {};
  const info = outcome.ok ? outcome : outcome.afterHandshake;
  if (info) {
    d[`${prefix}protocol`] = trusted(info.protocol);
    d[`${prefix}cipher`] = trusted(info.cipher);
    d[`${prefix}alpn`] = trusted(info.alpn);
  }
  if (!outcome.ok) {
    d[`${prefix}error`] = trusted(outcome.error);
    if (outcome.code) d[`${prefix}code`] = redact(outcome.code);
    d[`${prefix}message`] = outcome.message;
  }
  const cert = info?.cert;
  if (cert) {
    d[`${prefix}subject`] = redact(cert.subject);
    d[`${prefix}issuer`] = redact(cert.issuer);
    d[`${prefix}sans`] = cert.sans.map((s) => redact(s));
    d[`${prefix}notBefore`] = trusted(cert.notBefore);
    d[`${prefix}notAfter`] = trusted(cert.notAfter);
    d[`${prefix}daysLeft`] = cert.daysLeft;
    d[`${prefix}chainLength`] = cert.chainLength;
    d[`${prefix}path`] = cert.path.map((s) => redact(s));
    d[`${prefix}trusted`] = cert.trusted;
    d[`${prefix}problems`] = cert.problems.map((p) => redact(p.text));
    d[`${prefix}fingerprint256`] = trusted(cert.fingerprint256);
    if (cert.openssl) d[`${prefix}openssl`] = redact(cert.openssl);
    if (cert.interceptedBy) d[`${prefix}interceptedBy`] = redact(cert.interceptedBy);
  }
  return d;
}

/** One line for a handshake outcome. */
export function tlsSummary(outcome: HandshakeOutcome, where: string): string {
  if (!outcome.ok) {
    const after = outcome.afterHandshake ? ` (after a ${outcome.afterHandshake.protocol} handshake)` : '';
    return `TLS with ${where}: ${outcome.error}${after}: ${outcome.message}`;
  }
  const head = `TLS with ${where}: ${outcome.protocol} ${outcome.cipher}${outcome.alpn ? ` ALPN ${outcome.alpn}` : ''} in ${formatMs(outcome.ms)}`;
  const cert = outcome.cert;
  if (!cert) return `${head}; no certificate`;
  if (cert.problems.length === 0) return `${head}; certificate ${cert.subject} valid for ${cert.daysLeft} more days`;
  return `${head}; certificate problems: ${cert.problems.map((p) => p.text).join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// The probe

/** Options of {@link createTlsProbe}. */
export interface TlsProbeOptions extends TlsTrustOptions {
  /**
   * Longest wait after a TLS 1.3 handshake for a post-handshake alert (client certificate
   * required); the probe waits twice the TCP connect time, at least 50 ms, at most this.
   * @defaultValue 500
   */
  readonly alertWaitMs?: number;
}

/** A tls probe with its own trust store (extra CA certificates from config, or test CAs). */
export function createTlsProbe(options: TlsProbeOptions = {}): Probe {
  const trust = createTlsTrust(options);
  const maxAlertWait = options.alertWaitMs ?? 500;

  async function handshakeTo(
    ctx: ProbeContext,
    deadline: Deadline,
    checked: { host: string; port: number; lookup: import('node:net').LookupFunction },
    legacy: boolean,
  ) {
    const connected = await timedConnect({ host: checked.host, port: checked.port, lookup: checked.lookup, signal: deadline.signal });
    if (!connected.ok) return { connected } as const;
    const alertWaitMs = Math.min(maxAlertWait, Math.max(50, connected.ms * 2), deadline.remaining());
    const outcome = await tlsHandshake({
      socket: connected.socket,
      host: checked.host,
      trust,
      signal: deadline.signal,
      now: ctx.now(),
      legacy,
      alertWaitMs,
    });
    return { connected, outcome } as const;
  }

  async function runTls(ctx: ProbeContext, deadline: Deadline): Promise<ProbeResult> {
    const clock = stopwatch();
    const checked = await ctx.policy.check(ctx.target.url, { signal: deadline.signal });
    const resolveMs = clock();
    if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
    if (!checked.ok) return refusalResult(NAME, checked, resolveMs);
    const where = checked.host === checked.address.address ? checked.authority : `${checked.authority} (${checked.address.address})`;
    const phases = checked.host === checked.address.address ? {} : { resolve: resolveMs };

    const first = await handshakeTo(ctx, deadline, checked, false);
    if (!first.connected.ok) return connectFailure(first.connected.failure, first.connected.ms, where, phases, deadline, clock());
    let outcome = first.outcome!;
    const connectMs = first.connected.ms;
    const signals: Signal[] = [];
    const extra: Record<string, Masked | number | boolean> = {};

    if (!outcome.ok && outcome.error === 'aborted') {
      if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
      const excerpt = trusted(
        `TLS handshake with ${where} did not complete in ${formatMs(outcome.ms)} (TCP connected in ${formatMs(connectMs)})`,
      );
      return {
        probe: NAME,
        status: 'failed',
        durationMs: clock(),
        phases: { ...phases, connect: connectMs, tls: outcome.ms },
        summary: redact(excerpt),
        details: { connectMs, handshakeTimeout: true },
        signals: [
          probeSignal(NAME, 'net.tls_handshake_timeout', undefined, redact(excerpt)),
          probeSignal(NAME, 'net.phase', 'tls', redact(excerpt)),
        ],
      };
    }

    // A generic handshake failure or a version refusal: a second handshake with legacy versions and
    // ciphers tells "the server speaks only TLS 1.0/1.1" and "no cipher in common" apart.
    if (
      !outcome.ok &&
      !outcome.keysDerived &&
      (outcome.error === 'handshake_failure' || outcome.error === 'protocol_version') &&
      deadline.remaining() > 0
    ) {
      const second = await handshakeTo(ctx, deadline, checked, true);
      if (second.outcome?.ok) {
        const legacyOld = /^(SSLv3|TLSv1|TLSv1\.1)$/.test(second.outcome.protocol);
        extra.legacyProtocol = trusted(second.outcome.protocol);
        extra.legacyCipher = trusted(second.outcome.cipher);
        const why = legacyOld
          ? `the server accepts only ${second.outcome.protocol} (below the TLS 1.2 minimum)`
          : `no cipher in common: the server accepts only ${second.outcome.cipher}`;
        outcome = {
          ...outcome,
          error: legacyOld ? 'protocol_version' : 'no_shared_cipher',
          message: redact(`${outcome.message} — ${why}`),
        };
      }
    }

    signals.push(...tlsSignals(NAME, outcome, where));
    const failed = !outcome.ok || (outcome.cert?.problems.length ?? 0) > 0;
    return {
      probe: NAME,
      status: failed ? 'failed' : 'ok',
      durationMs: clock(),
      phases: { ...phases, connect: connectMs, tls: outcome.ms },
      summary: redact(tlsSummary(outcome, where)),
      details: {
        host: redact(checked.host),
        port: checked.port,
        address: trusted(checked.address.address),
        connectMs,
        ...tlsDetails(outcome),
        ...extra,
      },
      signals,
    };
  }

  return {
    name: NAME,
    describes:
      'TLS handshake with the URL host (SNI, ALPN): protocol, cipher, and every certificate problem (expiry, hostname, chain, interception)',
    applies: (target) => target.url.protocol === 'https:' && target.proxy === undefined,
    run: async (ctx) => ({ ...(await guardedRun(NAME, ctx, (deadline) => runTls(ctx, deadline))), route: DIRECT }),
  };
}

/** The tls probe trusting Node's bundled roots. Build one with {@link createTlsProbe} to add NODE_EXTRA_CA_CERTS. */
export const tlsProbe: Probe = createTlsProbe();

function connectFailure(
  failure: SocketFailure,
  ms: number,
  where: string,
  phases: { resolve?: number },
  deadline: Deadline,
  durationMs: number,
): ProbeResult {
  let f = failure;
  if (f.kind === 'aborted') {
    if (!deadline.expired()) return stoppedResult(NAME, deadline, durationMs);
    f = { kind: 'connect_timeout', code: 'ETIMEDOUT', message: trusted('no answer before the deadline') };
  }
  const excerpt = redact(`connect to ${where} failed after ${formatMs(ms)}: ${f.kind}${f.code ? ` (${f.code})` : ''}`);
  return {
    probe: NAME,
    status: 'failed',
    durationMs,
    phases: { ...phases, connect: ms },
    summary: excerpt,
    details: { connectMs: ms, error: trusted(f.kind) },
    signals: [probeSignal(NAME, 'net.error', f.kind, excerpt), probeSignal(NAME, 'net.phase', 'connect', excerpt)],
  };
}
