/**
 * HTTP helpers shared by the http, upstream, auth, cors and repeat probes: one timed request with
 * node:http/https to a pinned address ({@link exchange}), the classification of what went wrong
 * (net.error / tls.error / net.phase), and the text evidence of a response (the registered text
 * extractors run over its status line, headers and body excerpt).
 *
 * Nothing here throws for an expected failure: a refused connect, a reset, a timeout, a parse
 * error and a TLS alert are returned as values ({@link HttpFailure}).
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Extractor } from '../../evidence/extractor.js';
import type { Signal } from '../../evidence/signal.js';
import { TextDoc } from '../../evidence/text.js';
import { redact, trusted, type Masked } from '../../security/redact.js';
import type { SsrfRefusal } from '../../security/ssrf.js';
import type { PhaseTimings, ProbeResult } from '../probe.js';
import type { ProxyRoute } from './route.js';
import type { SharedRequests } from './shared.js';
import { connectAnswerSignals, connectAnswerText, TunnelError, tunnelAgent, type ConnectAnswer, type TunnelMarks } from './tunnel.js';
import { classifySocketError, errorCode, formatMs, type NetError } from './socket.js';

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** A `net.phase` catalogue value. */
export type NetPhase = 'dns' | 'connect' | 'tls' | 'request' | 'response_header' | 'response_body' | 'idle';

/** A `tls.error` catalogue value. */
export type TlsError =
  | 'cert_expired'
  | 'cert_not_yet_valid'
  | 'self_signed'
  | 'unknown_issuer'
  | 'missing_intermediate'
  | 'hostname_mismatch'
  | 'handshake_failure'
  | 'protocol_version'
  | 'no_shared_cipher'
  | 'client_cert_required'
  | 'wrong_version_number'
  | 'http_to_https_port'
  | 'sni_required'
  | 'reset_during_handshake'
  | 'revoked';

/** What went wrong with one request, as a value. */
export interface HttpFailure {
  /** The `net.error` value, when the failure is a socket-level one. */
  readonly net?: NetError;
  /** The `tls.error` value, when it is a TLS one. */
  readonly tls?: TlsError;
  /** The phase it happened in. */
  readonly phase: NetPhase;
  /** The caller aborted (not evidence). */
  readonly aborted?: boolean;
  /** The request's own timeout or the probe's budget ran out. */
  readonly timedOut?: boolean;
  /** The errno / Node / OpenSSL code. @example 'ECONNREFUSED', 'HPE_INVALID_HEADER_TOKEN' */
  readonly code?: string;
  /** What happened, masked, one line. */
  readonly message: Masked;
  /** Response bytes received before the failure. */
  readonly bytesReceived: number;
  /** Where it happened when that is not the URL's host: the proxy. @example 'proxy 127.0.0.1:3128' */
  readonly at?: string;
  /** The proxy's answer to CONNECT when it did not open a tunnel: its own signals say what it was. */
  readonly tunnel?: { readonly answer: ConnectAnswer; readonly where: string; readonly authority: string };
}

/** A response (maybe with a body cut short). */
export interface HttpResponse {
  readonly status: number;
  readonly reason: string;
  /** @example '1.1' */
  readonly httpVersion: string;
  /** Every header in order, names lower-cased, values raw (may hold secrets: redact before output). */
  readonly headers: readonly (readonly [string, string])[];
  /** At most `maxBodyBytes` of the body. */
  readonly body: Buffer;
  /** The body was longer than `maxBodyBytes` and reading stopped there. */
  readonly truncated: boolean;
  /** The body ended early: the peer closed or reset after the head. */
  readonly bodyFailure?: HttpFailure;
}

interface ExchangeCommon {
  /** Phase timings of this request, blackbox_exporter style (no `resolve`: the policy resolves). */
  readonly phases: PhaseTimings;
  /** Start to end (last body byte, or the failure), in ms. */
  readonly ms: number;
  /** Start to the first response byte, in ms, when one came. */
  readonly firstByteMs?: number;
  /** Whether the request went out on a kept-alive socket of the agent. */
  readonly reusedSocket: boolean;
  /** The socket used (with an agent it may still be open in the agent's pool). */
  readonly socket?: Socket;
}

export type Exchange =
  | (ExchangeCommon & { readonly ok: true; readonly response: HttpResponse })
  | (ExchangeCommon & { readonly ok: false; readonly failure: HttpFailure });

/** One request. */
export interface ExchangeOptions {
  /** Path, query, Host and (unless {@link tls} says otherwise) scheme and address come from it. */
  readonly url: URL;
  /** @defaultValue 'GET' */
  readonly method?: string;
  /** Request headers, in order (a user's; may hold secrets). A `Host` here replaces the URL's. */
  readonly headers?: readonly (readonly [string, string])[];
  /** The SSRF policy's pinned lookup for the host connected to. */
  readonly lookup: LookupFunction;
  /** Connect here instead of the URL's host and port (Host still names the URL's). @example the upstream */
  readonly connect?: { readonly host: string; readonly port: number };
  /** Speak TLS. @defaultValue url.protocol === 'https:' */
  readonly tls?: boolean;
  /** CA certificates (PEM) to trust instead of the system's. @defaultValue the system's */
  readonly ca?: string | readonly string[];
  /** A keep-alive agent to reuse connections. @defaultValue a fresh connection, closed after the response */
  readonly agent?: HttpAgent;
  /** Aborts the request and destroys the socket (pass the deadline's signal). */
  readonly signal: AbortSignal;
  /** Whether an abort of `signal` is the probe's budget running out (a timeout) rather than the caller. */
  readonly timedOut?: () => boolean;
  /** This request's own timeout in ms; on expiry the failure is a timeout in the current phase. */
  readonly timeoutMs?: number;
  /** Most body bytes kept. */
  readonly maxBodyBytes: number;
  /**
   * Go through this forward proxy (`planHop`): https:// through a CONNECT tunnel with TLS to the
   * origin inside, http:// as an absolute-form request to the proxy. `lookup` is then the proxy's.
   * @defaultValue direct
   */
  readonly via?: ProxyRoute;
}

// ---------------------------------------------------------------------------------------------
// Classification

const TLS_CODES: Readonly<Record<string, TlsError>> = {
  CERT_HAS_EXPIRED: 'cert_expired',
  CERT_NOT_YET_VALID: 'cert_not_yet_valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self_signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'self_signed',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_issuer',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'missing_intermediate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname_mismatch',
  CERT_REVOKED: 'revoked',
  ERR_SSL_WRONG_VERSION_NUMBER: 'wrong_version_number',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'wrong_version_number',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake_failure',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol_version',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol_version',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'protocol_version',
  ERR_SSL_NO_SHARED_CIPHER: 'no_shared_cipher',
  ERR_SSL_NO_CIPHER_MATCH: 'no_shared_cipher',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client_cert_required',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'client_cert_required',
  ERR_SSL_TLSV1_UNRECOGNIZED_NAME: 'sni_required',
};

/** The first bytes of a TLS record (handshake or alert, any 3.x version): a TLS port answering plain HTTP. */
function looksLikeTls(head: Buffer): boolean {
  return head.length >= 2 && (head[0] === 0x15 || head[0] === 0x16) && head[1] === 0x03;
}

/** State of a request when it failed, to classify the failure. */
interface FailState {
  readonly phase: NetPhase;
  readonly bytes: number;
  readonly head: Buffer;
  readonly tls: boolean;
}

function classify(err: unknown, s: FailState): HttpFailure {
  if (err instanceof TunnelError) return classifyTunnel(err, s);
  const code = errorCode(err);
  const message = redact(err instanceof Error ? err.message : String(err));
  const base = { phase: s.phase, ...(code ? { code } : {}), message, bytesReceived: s.bytes };
  if (code?.startsWith('HPE_')) {
    const raw = (err as { rawPacket?: unknown }).rawPacket;
    if (looksLikeTls(s.head) || (Buffer.isBuffer(raw) && looksLikeTls(raw)))
      return { ...base, tls: 'http_to_https_port', phase: 'response_header' };
    return { ...base, net: 'proto_error', phase: s.phase === 'response_body' ? 'response_body' : 'response_header' };
  }
  const tlsKind =
    (code && TLS_CODES[code]) || (/wrong version number|packet length too long/i.test(message) ? 'wrong_version_number' : undefined);
  if (tlsKind) return { ...base, tls: tlsKind, phase: 'tls' };
  if (s.tls && s.phase === 'tls' && (code === 'ECONNRESET' || code === 'EPIPE')) return { ...base, tls: 'reset_during_handshake' };
  if (code === 'EPROTO' && s.phase === 'tls') return { ...base, tls: 'handshake_failure' };
  const socketKind = classifySocketError(err);
  if (socketKind.kind === 'aborted') return { ...base, aborted: true };
  // Node reports a peer that closed (FIN) as "socket hang up" and a reset (RST) as "read ECONNRESET".
  const fin = /socket hang up|^aborted$/i.test(message);
  if (code === 'ECONNRESET' && fin) {
    if (s.bytes === 0) return { ...base, net: 'empty_reply' };
    return { ...base, net: 'unexpected_eof' };
  }
  return { ...base, net: socketKind.kind };
}

/** A tunnel that did not open, by the step that failed: the proxy's connect or TLS, its CONNECT answer, the origin's TLS. */
function classifyTunnel(err: TunnelError, s: FailState): HttpFailure {
  const f = err.failure;
  const where = err.route.where;
  switch (f.stage) {
    case 'proxy_connect': {
      const k = f.failure;
      const base = { phase: 'connect' as const, ...(k.code ? { code: k.code } : {}), message: k.message, bytesReceived: 0, at: where };
      return k.kind === 'aborted'
        ? { ...base, aborted: true }
        : { ...base, net: k.kind, ...(k.kind === 'connect_timeout' ? { timedOut: true } : {}) };
    }
    case 'proxy_tls':
      return { ...classify(f.error, { ...s, phase: 'tls', tls: true }), at: where };
    case 'origin_tls':
      return classify(f.error, { ...s, phase: 'tls', tls: true });
    case 'connect': {
      const a = f.answer;
      const message = redact(connectAnswerText(a, { where, authority: err.authority, source: '' }));
      const base = { phase: 'request' as const, code: 'ERR_TUNNEL_CONNECTION_FAILED', message, bytesReceived: 0, at: where };
      const tunnel = { answer: a, where, authority: err.authority };
      if (a.kind === 'aborted') return { ...base, aborted: true };
      if (a.kind === 'timeout') return { ...base, net: 'read_timeout', phase: 'response_header', timedOut: true, tunnel };
      if (a.kind === 'hangup') return { ...base, net: 'connection_reset', tunnel };
      if (a.kind === 'garbled') return { ...base, net: a.end === 'eof' || a.end === 'error' ? 'unexpected_eof' : 'proto_error', tunnel };
      return { ...base, tunnel };
    }
  }
}

function timeoutFailure(s: FailState, ms: number): HttpFailure {
  const net: NetError = s.phase === 'connect' ? 'connect_timeout' : s.phase === 'tls' || s.phase === 'dns' ? 'timeout' : 'read_timeout';
  const waiting: Record<NetPhase, string> = {
    dns: 'resolving',
    connect: 'connecting',
    tls: 'in the TLS handshake',
    request: 'sending the request',
    response_header: 'waiting for the response head',
    response_body: 'reading the body',
    idle: 'idle',
  };
  return {
    net,
    phase: s.phase,
    timedOut: true,
    code: 'ETIMEDOUT',
    message: trusted(`timed out after ${formatMs(ms)} ${waiting[s.phase]}`),
    bytesReceived: s.bytes,
  };
}

// ---------------------------------------------------------------------------------------------
// Exchange

/** The User-Agent of probe requests, unless the target's headers set one. */
export const USER_AGENT = 'gateway-triage-probe/0.1';

/** Build node's header object from ordered pairs (repeated names become arrays). */
function headerObject(pairs: readonly (readonly [string, string])[], host: string): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (!names.has('host')) out.Host = host;
  if (!names.has('user-agent')) out['User-Agent'] = USER_AGENT;
  if (!names.has('accept')) out.Accept = '*/*';
  return out;
}

/** A URL's host name without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** The URL's port, or its scheme's default. */
export function portOf(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Make one request and time its phases. Never rejects. Reads at most `maxBodyBytes` of the body
 * (then stops reading and closes the connection).
 */
export function exchange(opts: ExchangeOptions): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const targetTls = opts.tls ?? opts.url.protocol === 'https:';
    const hostname = bareHost(opts.url);
    const via = opts.via;
    /** https:// through a proxy: the agent opens the tunnel and the TLS inside it. */
    const tunnelled = via !== undefined && targetTls;
    /** Whether Node's own socket speaks TLS: to the origin directly, or to an https:// proxy. */
    const tls = tunnelled ? false : via ? via.tls : targetTls;
    const marks: { connect?: number; secure?: number; sent?: number; firstByte?: number } = {};
    /** The tunnel's steps (performance.now() values), written by the tunnel agent. */
    const tunnelMarks: TunnelMarks = { start: t0 };
    const endTunnel = new AbortController();
    const since = (t: number | undefined) => (t === undefined ? undefined : t - t0);
    let bytes = 0;
    let head = Buffer.alloc(0);
    let reused = false;
    let socket: Socket | undefined;
    let settled = false;
    let response: IncomingMessage | undefined;
    let timer: NodeJS.Timeout | undefined;

    const inTunnel = () => tunnelled && !reused && tunnelMarks.connect !== undefined && tunnelMarks.tunnel === undefined;
    const phase = (): NetPhase => {
      if (response) return 'response_body';
      if (tunnelled && !reused) {
        if (tunnelMarks.connect === undefined) return 'connect';
        if (tunnelMarks.tunnel === undefined) return 'request';
        if (tunnelMarks.secure === undefined) return 'tls';
      } else {
        if (!reused && marks.connect === undefined) return 'connect';
        if (!reused && tls && marks.secure === undefined) return 'tls';
      }
      if (marks.sent === undefined) return 'request';
      return 'response_header';
    };
    const state = (): FailState => ({ phase: phase(), bytes, head, tls: tls || tunnelled });
    const phases = (end: number): PhaseTimings => {
      const out: PhaseTimings = {};
      let ready: number | undefined;
      if (reused) ready = 0;
      else if (tunnelled) {
        const [c, t, sec] = [since(tunnelMarks.connect), since(tunnelMarks.tunnel), since(tunnelMarks.secure)];
        if (c !== undefined) out.connect = round(c);
        if (c !== undefined && t !== undefined) out.tunnel = round(t - c);
        if (t !== undefined && sec !== undefined) out.tls = round(sec - t);
        ready = sec;
      } else {
        ready = tls ? marks.secure : marks.connect;
        if (marks.connect !== undefined) out.connect = round(marks.connect);
        if (tls && marks.secure !== undefined && marks.connect !== undefined) out.tls = round(marks.secure - marks.connect);
      }
      const sent = marks.sent ?? ready;
      if (sent !== undefined && marks.firstByte !== undefined) out.processing = round(Math.max(0, marks.firstByte - sent));
      if (marks.firstByte !== undefined) out.transfer = round(Math.max(0, end - marks.firstByte));
      return out;
    };
    const onData = (chunk: Buffer) => {
      marks.firstByte ??= now();
      if (head.length < 16) head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
      bytes += chunk.length;
    };
    const cleanup = () => {
      settled = true;
      // A tunnel still being opened for this request is of no use any more.
      endTunnel.abort();
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket?.removeListener('data', onData);
    };
    const common = (end: number) => ({
      phases: phases(end),
      ms: round(end),
      ...(marks.firstByte !== undefined ? { firstByteMs: round(marks.firstByte) } : {}),
      reusedSocket: reused,
      ...(socket ? { socket } : {}),
    });
    const fail = (failure: HttpFailure) => {
      if (settled) return;
      const end = now();
      cleanup();
      req?.destroy();
      // A failed connect (or TLS) to an absolute-form proxy is the proxy's, not the URL host's.
      const atProxy = via && !failure.at && !tunnelled && (failure.phase === 'connect' || (tls && failure.phase === 'tls'));
      resolve({ ok: false, failure: atProxy ? { ...failure, at: via.where } : failure, ...common(end) });
    };
    const succeed = (res: IncomingMessage, body: Buffer, truncated: boolean, bodyFailure?: HttpFailure) => {
      if (settled) return;
      const end = now();
      cleanup();
      if (truncated || bodyFailure) req?.destroy();
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
      resolve({
        ok: true,
        response: {
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          httpVersion: res.httpVersion,
          headers,
          body,
          truncated,
          ...(bodyFailure ? { bodyFailure } : {}),
        },
        ...common(end),
      });
    };
    /** A timeout in the current phase; while the proxy has not answered CONNECT, a CONNECT timeout. */
    const timedOutNow = (): HttpFailure => {
      const s = state();
      if (!via || !inTunnel()) return timeoutFailure(s, now());
      const waitMs = round(now() - (since(tunnelMarks.connect) ?? 0));
      return classify(new TunnelError({ stage: 'connect', answer: { kind: 'timeout', received: 0, waitMs } }, via, via.authority), s);
    };
    const onAbort = () => {
      const s = state();
      if (opts.timedOut?.()) fail(timedOutNow());
      else
        fail({
          phase: s.phase,
          aborted: true,
          code: 'ABORT_ERR',
          message: trusted(`aborted after ${formatMs(round(now()))}`),
          bytesReceived: bytes,
        });
    };

    let req: ReturnType<typeof httpRequest> | undefined;
    if (opts.signal.aborted) return onAbort();
    const ca = opts.ca === undefined ? undefined : typeof opts.ca === 'string' ? opts.ca : [...opts.ca];
    const path = `${opts.url.pathname}${opts.url.search}`;
    const isProxyAuth = ([n]: readonly [string, string]) => n.toLowerCase() === 'proxy-authorization';
    let options: RequestOptions & { tunnelMarks?: TunnelMarks; tunnelSignal?: AbortSignal };
    if (via && tunnelled) {
      // The credentials for the proxy went with CONNECT; they never go through the tunnel to the origin.
      const agent =
        opts.agent ??
        tunnelAgent({
          route: via,
          host: hostname,
          ...(ca !== undefined ? { ca } : {}),
          signal: opts.signal,
          ...(opts.timedOut ? { timedOut: opts.timedOut } : {}),
          maxBodyBytes: opts.maxBodyBytes,
        });
      options = {
        host: via.proxy.host,
        port: via.proxy.port,
        method: opts.method ?? 'GET',
        path,
        headers: headerObject(
          (opts.headers ?? []).filter((h) => !isProxyAuth(h)),
          opts.url.host,
        ),
        agent,
        tunnelMarks,
        tunnelSignal: AbortSignal.any([opts.signal, endTunnel.signal]),
      };
    } else if (via) {
      const auth: [string, string][] =
        via.authorization !== undefined && !(opts.headers ?? []).some(isProxyAuth) ? [['Proxy-Authorization', via.authorization]] : [];
      options = {
        host: via.proxy.host,
        port: via.proxy.port,
        method: opts.method ?? 'GET',
        path: `http://${via.authority}${path}`,
        headers: headerObject([...(opts.headers ?? []), ...auth], opts.url.host),
        lookup: via.proxy.lookup,
        agent: opts.agent ?? false,
        ...(via.tls ? { servername: isIP(via.proxy.host) ? '' : via.proxy.host, ALPNProtocols: ['http/1.1'] } : {}),
        ...(via.tls && ca !== undefined ? { ca } : {}),
      };
    } else {
      const target = opts.connect ?? { host: hostname, port: portOf(opts.url) };
      options = {
        host: target.host,
        port: target.port,
        method: opts.method ?? 'GET',
        path,
        headers: headerObject(opts.headers ?? [], opts.url.host),
        lookup: opts.lookup,
        agent: opts.agent ?? false,
        ...(tls ? { servername: isIP(hostname) ? '' : hostname, ALPNProtocols: ['http/1.1'] } : {}),
        ...(tls && ca !== undefined ? { ca } : {}),
      };
    }
    try {
      req = (tls ? httpsRequest : httpRequest)(options);
    } catch (err) {
      // Invalid header names or values: the request was never sent.
      return fail({
        phase: 'request',
        code: errorCode(err) ?? 'ERR_INVALID_REQUEST',
        message: redact(`the request could not be built: ${err instanceof Error ? err.message : String(err)}`),
        bytesReceived: 0,
      });
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined) timer = setTimeout(() => fail(timedOutNow()), Math.max(0, opts.timeoutMs));

    req.on('socket', (s: Socket) => {
      socket = s;
      reused = req?.reusedSocket ?? false;
      if (!reused) {
        s.once('connect', () => (marks.connect ??= now()));
        if (tls) s.once('secureConnect', () => (marks.secure ??= now()));
      }
      s.on('data', onData);
    });
    req.on('finish', () => (marks.sent ??= now()));
    req.on('error', (err) => {
      if (response) return; // reported by the response's own handlers
      fail(classify(err, state()));
    });
    req.on('response', (res: IncomingMessage) => {
      marks.firstByte ??= now();
      response = res;
      const chunks: Buffer[] = [];
      let size = 0;
      const bodyFailed = (err: unknown) => succeed(res, Buffer.concat(chunks, size), false, classify(err, state()));
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = opts.maxBodyBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, Math.max(0, room)));
          size += Math.max(0, room);
          return succeed(res, Buffer.concat(chunks, size), true);
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => succeed(res, Buffer.concat(chunks, size), false));
      res.on('error', bodyFailed);
      req?.on('error', bodyFailed);
      res.on('close', () => {
        if (!settled && !res.complete) bodyFailed(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      });
    });
    req.end();
  });
}

/**
 * {@link exchange}, sent once per run: the first probe to ask for this request sends it, the others
 * read the same answer (`ctx.shared`; without it, every call sends). The same request means the
 * same method, URL, headers, pinned `address`, TLS settings and bounds; the CA list is compared by
 * identity. A slow backend is thus asked once, however many probes read its answer.
 */
export function exchangeOnce(shared: SharedRequests | undefined, address: string, opts: ExchangeOptions): Promise<Exchange> {
  if (!shared || opts.agent) return exchange(opts);
  const key = JSON.stringify([
    opts.method ?? 'GET',
    opts.url.href,
    opts.headers ?? [],
    address,
    opts.connect ?? null,
    opts.tls ?? null,
    opts.timeoutMs ?? null,
    opts.maxBodyBytes,
    opts.via ? [opts.via.proxy.pinnedAuthority, opts.via.authority, opts.via.tls, opts.via.authorization !== undefined] : null,
  ]);
  return shared.once(opts.ca, key, () => exchange(opts));
}

/**
 * A keep-alive agent that behaves like a proxy's connection pool: one connection at a time, kept
 * open until the server closes it. Node's own agent retires a socket 1 s before the server's
 * `Keep-Alive: timeout=N` hint; proxies (nginx, ALB) ignore that hint, and so does this agent, so
 * the server's real idle behaviour shows. Destroy it when done.
 */
export function keepAliveAgent(tls: boolean, ca?: string | readonly string[]): HttpAgent {
  const keepSocketAlive = (socket: Socket) => {
    socket.setKeepAlive(true, 1000);
    socket.setTimeout(0);
    return true;
  };
  if (tls) {
    const agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 1,
      ...(ca !== undefined ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
    });
    agent.keepSocketAlive = keepSocketAlive;
    return agent;
  }
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  agent.keepSocketAlive = keepSocketAlive;
  return agent;
}

// ---------------------------------------------------------------------------------------------
// Reading a response

/** All values of header `name` (lower case). */
export function headerValues(res: HttpResponse, name: string): string[] {
  return res.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** The first value of header `name` (lower case), if any. */
export function header(res: HttpResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n === name)?.[1];
}

/** The response headers worth showing, in the order a person reads them. */
export const SHOWN_HEADERS: readonly string[] = [
  'server',
  'via',
  'www-authenticate',
  'proxy-authenticate',
  'retry-after',
  'x-squid-error',
  'proxy-status',
  'x-cache',
  'cf-ray',
  'x-amz-cf-id',
  'x-envoy-upstream-service-time',
  'location',
  'content-type',
];

/** `Name: value` lines of the {@link SHOWN_HEADERS} present, masked, each cut to 300 characters. */
export function shownHeaders(res: HttpResponse): Masked[] {
  return res.headers.filter(([n]) => SHOWN_HEADERS.includes(n)).map(([n, v]) => redact(`${n}: ${v.slice(0, 300)}`));
}

/** Most characters of a body excerpt in details. */
export const BODY_EXCERPT_CHARS = 2048;

/** The body as text (UTF-8), or undefined when it looks binary. */
export function bodyText(body: Buffer): string | undefined {
  if (body.length === 0) return '';
  const text = body.toString('utf8');
  let control = 0;
  for (let i = 0; i < Math.min(text.length, 4096); i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return undefined;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) control++;
  }
  return control > Math.min(text.length, 4096) * 0.1 ? undefined : text;
}

/** A masked body excerpt of at most {@link BODY_EXCERPT_CHARS} characters, whitespace squeezed. */
export function bodyExcerpt(res: HttpResponse): Masked | undefined {
  const text = bodyText(res.body);
  if (text === undefined) return trusted(`(${res.body.length} bytes of binary data)`);
  // Mask first, then cut: a secret cut by the edge is never half printed.
  const squeezed = redact(text.slice(0, BODY_EXCERPT_CHARS * 4))
    .replace(/\s+/g, ' ')
    .trim();
  if (squeezed === '') return undefined;
  return redact(squeezed.length > BODY_EXCERPT_CHARS ? `${squeezed.slice(0, BODY_EXCERPT_CHARS - 1)}…` : squeezed);
}

/** `502 Bad Gateway` */
export function statusText(res: HttpResponse): string {
  return `${res.status}${res.reason ? ` ${res.reason}` : ''}`;
}

/**
 * The text evidence of a response: the extractors run over its status line, headers and body
 * (at most `maxChars`), each signal's source set to `source` (the probe) and its line dropped.
 */
export function responseEvidence(
  res: HttpResponse,
  extractors: readonly Extractor[],
  source: string,
  now: Date,
  maxChars = 65_536,
): Signal[] {
  const title = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
  const lines = [`HTTP/${res.httpVersion} ${statusText(res)}`, ...res.headers.map(([n, v]) => `${title(n)}: ${v}`)];
  const body = bodyText(res.body);
  const text = `${lines.join('\n')}\n\n${body === undefined ? '' : body.slice(0, maxChars)}`;
  let doc: TextDoc;
  try {
    doc = TextDoc.from(text, { now });
  } catch {
    return [];
  }
  const out: Signal[] = [];
  for (const x of extractors) {
    let found: Signal[];
    try {
      found = x.extract(doc);
    } catch {
      continue;
    }
    for (const s of found)
      out.push(
        s.value === undefined ? { name: s.name, excerpt: s.excerpt, source } : { name: s.name, value: s.value, excerpt: s.excerpt, source },
      );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signals and results

/** Keep the first signal of each `name=value`. */
export function dedupeSignals(signals: readonly Signal[]): Signal[] {
  const seen = new Set<string>();
  return signals.filter((s) => {
    const key = s.value === undefined ? s.name : `${s.name}=${s.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The signals of a failure: net.error or tls.error, and net.phase. None for an abort. */
export function failureSignals(f: HttpFailure, source: string, excerpt: Masked): Signal[] {
  if (f.aborted) return [];
  if (f.tunnel) return connectAnswerSignals(f.tunnel.answer, { where: f.tunnel.where, authority: f.tunnel.authority, source });
  if (!f.net && !f.tls) return [];
  const out: Signal[] = [];
  if (f.tls) out.push({ name: 'tls.error', value: f.tls, excerpt, source });
  if (f.net) out.push({ name: 'net.error', value: f.net, excerpt, source });
  out.push({ name: 'net.phase', value: f.phase, excerpt, source });
  return out;
}

/** One line for a failure: `connection refused`, `TLS: wrong_version_number`. */
export function failureText(f: HttpFailure): string {
  const what = f.tls ? `TLS ${f.tls.replace(/_/g, ' ')}` : f.net ? f.net.replace(/_/g, ' ') : 'aborted';
  return `${what} (${f.message})`;
}

/**
 * The result for a target the policy did not allow: `refused`, no traffic. A name that does not
 * resolve is evidence (dns-failure), so DNS_FAILED becomes a `failed` result with net.error.
 */
export function refusedResult(probe: string, refusal: SsrfRefusal, durationMs: number, phases: PhaseTimings = {}): ProbeResult {
  const summary = redact(`${refusal.reason}; ${refusal.hint}`);
  if (refusal.code === 'DNS_FAILED' && !/aborted/.test(refusal.reason)) {
    const value: NetError = /EAI_AGAIN|ESERVFAIL|ETIMEOUT/.test(refusal.reason) ? 'dns_temporary' : 'dns_not_found';
    const excerpt = redact(refusal.reason);
    return {
      probe,
      status: 'failed',
      durationMs,
      phases,
      summary,
      details: { dns: excerpt },
      signals: [
        { name: 'net.error', value, excerpt, source: probe },
        { name: 'net.phase', value: 'dns', excerpt, source: probe },
      ],
    };
  }
  return {
    probe,
    status: 'refused',
    durationMs,
    phases,
    summary,
    details: { refused: redact(refusal.reason), code: trusted(refusal.code) },
    signals: [],
  };
}

/** Add `b`'s phases to `a` (blackbox_exporter sums phases over a redirect chain). */
export function addPhases(a: PhaseTimings, b: PhaseTimings): PhaseTimings {
  const out: PhaseTimings = { ...a };
  for (const k of ['resolve', 'connect', 'tls', 'tunnel', 'processing', 'transfer'] as const) {
    const v = b[k];
    if (v !== undefined) out[k] = round((out[k] ?? 0) + v);
  }
  return out;
}

/** Parse `Retry-After` (seconds or an HTTP date) into whole seconds from `now`; undefined when unreadable. */
export function retryAfterSeconds(value: string, now: Date): number | undefined {
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.round((date - now.getTime()) / 1000));
}

/**
 * The excerpt of a failed request, saying what was measured.
 * @example 'connect to 127.0.0.1:8080 refused after 0.4 ms'
 */
export function describeFailure(f: HttpFailure, what: string, target: string, ms: number): Masked {
  const after = formatMs(round(ms));
  if (f.tunnel) return redact(`${what}: ${f.message}`);
  const authority = f.at ?? target;
  if (f.net === 'connection_refused') return redact(`connect to ${authority} refused after ${after}`);
  if (f.net === 'connect_timeout') return redact(`connect to ${authority}: no answer within ${after}`);
  if (f.timedOut) return redact(`${what}: ${f.message}`);
  if (f.net === 'empty_reply') return redact(`${what}: ${authority} closed the connection without sending a response, after ${after}`);
  if (f.net === 'connection_reset')
    return redact(`${what}: ${authority} reset the connection (${f.phase.replace(/_/g, ' ')}) after ${after}`);
  if (f.net === 'unexpected_eof')
    return redact(
      `${what}: ${authority} closed the connection in the middle of the response (${f.phase.replace(/_/g, ' ')}) after ${after}, ${f.bytesReceived} bytes received`,
    );
  return redact(`${what}: ${failureText(f)} (${f.phase.replace(/_/g, ' ')}) after ${after}`);
}

/** `host:port` of a URL, IPv6 in brackets. */
export function authorityOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The signals a response's status and headers carry by themselves: http.status, http.retry_after,
 * limit.rate (429), limit.overload (503 with Retry-After).
 *
 * @param what what was asked, to start the excerpts: `GET https://shop.example.com/`
 */
export function statusSignals(res: HttpResponse, what: string, source: string, now: Date, ms: number): Signal[] {
  const line = redact(`${what} → ${statusText(res)} after ${formatMs(round(ms))}`);
  const out: Signal[] = [{ name: 'http.status', value: String(res.status), excerpt: line, source }];
  const retryRaw = header(res, 'retry-after');
  const retry = retryRaw === undefined ? undefined : retryAfterSeconds(retryRaw, now);
  if (retryRaw !== undefined) {
    const excerpt = redact(`${statusText(res)} with Retry-After: ${retryRaw.slice(0, 100)}`);
    out.push(
      retry === undefined
        ? { name: 'http.retry_after', value: 'unparsed', excerpt, source }
        : { name: 'http.retry_after', value: String(retry), excerpt, source },
    );
  }
  if (res.status === 429) out.push({ name: 'limit.rate', excerpt: line, source });
  if (res.status === 503 && retryRaw !== undefined)
    out.push({ name: 'limit.overload', excerpt: redact(`${statusText(res)} with Retry-After: ${retryRaw.slice(0, 100)}`), source });
  return out;
}
