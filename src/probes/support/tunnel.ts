/**
 * Forward-proxy plumbing shared by the connect probe and every HTTP-level probe routed through a
 * proxy: the CONNECT request and its bounded answer ({@link sendConnect}), what that answer says
 * as signals ({@link connectAnswerSignals}), and an `http.Agent` whose connections are tunnels with
 * TLS to the origin inside ({@link tunnelAgent}).
 *
 * A CONNECT the proxy does not understand — a 400/405/501, a web page instead of a tunnel, a reset,
 * a close — is reported as what it is (connect.unsupported, connect.reset_after …) and nothing is
 * tried after it: a TLS error behind it would only be its consequence.
 */

import { Agent as HttpAgent } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Signal } from '../../evidence/signal.js';
import { redact, type Masked } from '../../security/redact.js';
import type { ProxyRoute } from './route.js';
import { serverProduct } from '../../evidence/vocab/products.js';
import {
  formatMs,
  headEnd,
  headerValue,
  parseHttpHead,
  probeSignal,
  readBounded,
  timedConnect,
  type HttpHead,
  type ReadEnd,
  type SocketFailure,
} from './socket.js';

/** Most bytes of a proxy's response head read before giving up on it. @defaultValue 16 KiB */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Body bytes of a refusal kept for the excerpt. */
export const BODY_EXCERPT_CHARS = 300;

const UNSUPPORTED_TEXT =
  /method CONNECT is not allowed|CONNECT is not (?:implemented|supported)|CONNECT method (?:is )?not (?:allowed|supported)|Unsupported method|Method Not Allowed|Not Implemented/i;
const PORT_DENIED_TEXT =
  /Refused CONNECT method on port|Forbidden port|Tunnel Forbidden|CONNECT to port \d+ (?:is )?(?:not allowed|denied|forbidden)/i;

// ---------------------------------------------------------------------------------------------
// The CONNECT exchange

/** The proxy's answer to CONNECT, as a value. */
export type ConnectAnswer =
  /** 2xx and nothing else: the tunnel is open. */
  | { readonly kind: 'tunnel'; readonly head: HttpHead; readonly waitMs: number }
  /** 2xx with content (a web page): a server answering as a web server, not a tunnel. */
  | { readonly kind: 'page'; readonly head: HttpHead; readonly waitMs: number; readonly body: string }
  /** Any other status: the proxy refused. */
  | { readonly kind: 'refused'; readonly head: HttpHead; readonly waitMs: number; readonly body: string }
  /** The proxy reset or closed the connection without a byte of answer. */
  | { readonly kind: 'hangup'; readonly how: 'reset' | 'close'; readonly code?: string; readonly waitMs: number }
  /** Bytes that are not an HTTP answer (or a head cut off). */
  | { readonly kind: 'garbled'; readonly why: string; readonly printable: string; readonly end: ReadEnd; readonly waitMs: number }
  /** No answer before the deadline. */
  | { readonly kind: 'timeout'; readonly received: number; readonly waitMs: number }
  /** The caller aborted (not evidence). */
  | { readonly kind: 'aborted'; readonly waitMs: number };

/** What {@link sendConnect} sends. */
export interface ConnectRequest {
  /** The CONNECT target. @example 'api.example.com:443' */
  readonly authority: string;
  /** The `Proxy-Authorization` value (a secret: sent, never printed). */
  readonly authorization?: string;
  readonly signal: AbortSignal;
  /** Whether an abort of `signal` is the budget running out (a timeout) rather than the caller. */
  readonly timedOut?: () => boolean;
  /** Most body bytes of a refusal read. */
  readonly maxBodyBytes: number;
  /** Longest wait for more of a refusal's body, in ms. @defaultValue 1000 */
  readonly bodyIdleMs?: number;
}

/** The CONNECT request line and headers as sent (without the secret). */
export function connectRequestLine(authority: string): string {
  return `CONNECT ${authority} HTTP/1.1`;
}

/**
 * Send `CONNECT authority HTTP/1.1` on a connected socket (to the proxy) and read its answer:
 * the head (at most {@link MAX_HEAD_BYTES}), and a refusal's body (bounded). On `tunnel` the
 * socket is left open and paused for the caller; otherwise the caller destroys it.
 */
export async function sendConnect(socket: Socket | tls.TLSSocket, req: ConnectRequest): Promise<ConnectAnswer> {
  const started = performance.now();
  const waited = () => Math.round((performance.now() - started) * 10) / 10;
  const lines = [connectRequestLine(req.authority), `Host: ${req.authority}`, 'User-Agent: gateway-triage-probe'];
  if (req.authorization) lines.push(`Proxy-Authorization: ${req.authorization}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const head = await readBounded(socket, { maxBytes: MAX_HEAD_BYTES, signal: req.signal, until: (data) => headEnd(data) });
  const waitMs = head.firstByteMs ?? waited();
  if (head.end === 'aborted') {
    return req.timedOut?.() ? { kind: 'timeout', received: head.data.length, waitMs: waited() } : { kind: 'aborted', waitMs: waited() };
  }
  if (head.data.length === 0) {
    return head.end === 'error'
      ? { kind: 'hangup', how: 'reset', ...(head.failure?.code ? { code: head.failure.code } : {}), waitMs: waited() }
      : { kind: 'hangup', how: 'close', waitMs: waited() };
  }
  const parsed = head.end === 'complete' ? parseHttpHead(head.data) : undefined;
  if (!parsed) {
    const printable = head.data
      .subarray(0, 48)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    const why =
      head.end === 'limit'
        ? `no end of the response head within ${MAX_HEAD_BYTES} bytes`
        : head.end === 'complete'
          ? 'not an HTTP response'
          : `the connection ended mid-head (${head.end})`;
    return { kind: 'garbled', why, printable, end: head.end, waitMs };
  }
  const ok2xx = parsed.status >= 200 && parsed.status < 300;
  const length = headerValue(parsed, 'content-length');
  const chunked = /\bchunked\b/i.test(headerValue(parsed, 'transfer-encoding') ?? '');
  // A tunnel sends nothing before the client's ClientHello: content here is a web server's page.
  const content = chunked || (length !== undefined && /^\d+$/.test(length) && Number(length) > 0) || socket.readableLength > 0;
  if (ok2xx && !content) return { kind: 'tunnel', head: parsed, waitMs };
  const body = await readBody(socket, parsed, req.maxBodyBytes, req.signal, req.bodyIdleMs ?? 1000);
  return ok2xx ? { kind: 'page', head: parsed, waitMs, body } : { kind: 'refused', head: parsed, waitMs, body };
}

/**
 * Read a response body: Content-Length bytes, a chunked body up to its last chunk, or until the
 * proxy closes; at most `max` bytes, stopping at the signal or after `idleMs` without data.
 * Returns it as text with tags stripped.
 */
async function readBody(socket: Socket, head: HttpHead, max: number, signal: AbortSignal, idleMs: number): Promise<string> {
  const chunked = /\bchunked\b/i.test(headerValue(head, 'transfer-encoding') ?? '');
  const lengthHeader = headerValue(head, 'content-length');
  const length = !chunked && lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const want = Math.min(max, length ?? max);
  const text = (data: Buffer) => stripTags((chunked ? dechunk(data) : data.subarray(0, want)).toString('utf8'));
  if (want === 0 || length === 0) return '';
  const lastChunk = (tail: Buffer) => chunked && /(?:^|\r\n)0\r\n\r\n$/.test(tail.subarray(-16).toString('latin1'));
  let seen: Buffer = Buffer.alloc(0);
  const rest = await readBounded(socket, {
    maxBytes: want,
    signal,
    idleMs: Math.max(1, idleMs),
    until: (data) => {
      seen = data;
      return lastChunk(data) ? data.length : -1;
    },
  });
  return text(rest.data.length > 0 ? rest.data : seen);
}

/** Decode as much of a chunked body as is there (a cut-off last chunk is kept as far as it goes). */
function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < data.length) {
    const eol = data.indexOf('\r\n', off);
    if (eol < 0) break;
    const size = parseInt(data.subarray(off, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(data.subarray(eol + 2, Math.min(data.length, eol + 2 + size)));
    off = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function stripTags(html: string): string {
  return html
    .replace(/<(script|style)[^>]{0,200}>[\s\S]{0,20000}?<\/\1>/gi, ' ')
    .replace(/<[^>]{0,500}>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// What the answer says

/** Where the answer came from and what was asked, for the excerpts. */
export interface AnswerContext {
  /** @example 'proxy 127.0.0.1:3128' */
  readonly where: string;
  /** The CONNECT target. */
  readonly authority: string;
  /** The probe the signals belong to. */
  readonly source: string;
}

/** One line for an answer. @example 'proxy 127.0.0.1:3128 refused CONNECT api:443: HTTP/1.1 400 Bad Request after 0.6 ms' */
export function connectAnswerText(answer: ConnectAnswer, c: AnswerContext): string {
  const line = (h: HttpHead) => `${h.version} ${h.status} ${h.reason}`.trim();
  switch (answer.kind) {
    case 'tunnel':
      return `${c.where}: CONNECT ${c.authority} → ${answer.head.status} in ${formatMs(answer.waitMs)}`;
    case 'page':
      return `${c.where} answered CONNECT ${c.authority} with a web page (${line(answer.head)}${contentType(answer.head)}), not a tunnel, after ${formatMs(answer.waitMs)}`;
    case 'refused':
      return `${c.where} refused CONNECT ${c.authority}: ${line(answer.head)} after ${formatMs(answer.waitMs)}`;
    case 'hangup':
      return `${c.where} ${answer.how === 'reset' ? `reset the connection (${answer.code ?? 'RST'})` : 'closed the connection (FIN)'} ${formatMs(answer.waitMs)} after CONNECT ${c.authority}, without an answer`;
    case 'garbled':
      return `${c.where} answered CONNECT ${c.authority} with ${answer.why}: "${answer.printable}"`;
    case 'timeout':
      return `no answer to CONNECT ${c.authority} from ${c.where} within ${formatMs(answer.waitMs)} (${answer.received} bytes received)`;
    case 'aborted':
      return `CONNECT ${c.authority} to ${c.where}: aborted after ${formatMs(answer.waitMs)}`;
  }
}

const contentType = (h: HttpHead) => {
  const t = headerValue(h, 'content-type');
  return t ? `, ${t.split(';')[0]!.trim().slice(0, 40)}` : '';
};

/**
 * The signals of a CONNECT answer: connect.status, proxy.auth_required, squid.error, http.server
 * from the head; connect.unsupported for 405/501, an "unsupported" text or a web page instead of a
 * tunnel; connect.port_denied; connect.reset_after and net.error for a reset or close; net.error
 * for garbled or missing answers. None for an abort.
 */
export function connectAnswerSignals(answer: ConnectAnswer, c: AnswerContext): Signal[] {
  const excerpt = redact(connectAnswerText(answer, c));
  const s = (name: string, value: string | undefined, e: Masked = excerpt) => probeSignal(c.source, name, value, e);
  switch (answer.kind) {
    case 'aborted':
      return [];
    case 'timeout':
      return [s('net.error', 'read_timeout'), s('net.phase', 'response_header')];
    case 'hangup':
      return [s('connect.reset_after', undefined), s('net.error', 'connection_reset')];
    case 'garbled':
      return [
        s('net.error', answer.end === 'eof' || answer.end === 'error' ? 'unexpected_eof' : 'proto_error'),
        s('net.phase', 'response_header'),
      ];
    case 'tunnel':
      return headSignals(answer.head, c, true);
    case 'page':
      return [...headSignals(answer.head, c, true), s('connect.unsupported', undefined)];
    case 'refused': {
      const out = headSignals(answer.head, c, true);
      const where = `${c.where} answered ${answer.head.status}`;
      const text = answer.body;
      if (
        answer.head.status === 405 ||
        answer.head.status === 501 ||
        UNSUPPORTED_TEXT.test(text) ||
        UNSUPPORTED_TEXT.test(answer.head.reason)
      ) {
        const m = UNSUPPORTED_TEXT.exec(text) ?? UNSUPPORTED_TEXT.exec(answer.head.reason);
        out.push(s('connect.unsupported', undefined, redact(`${where} to CONNECT${m ? `: "${m[0]}"` : ''}`)));
      }
      const portDenied = PORT_DENIED_TEXT.exec(text) ?? PORT_DENIED_TEXT.exec(answer.head.reason);
      if (portDenied) out.push(s('connect.port_denied', undefined, redact(`${where} to CONNECT ${c.authority}: "${portDenied[0]}"`)));
      return out;
    }
  }
}

/**
 * The signals a proxy's response head carries by itself: its status (connect.status for a CONNECT,
 * http.status otherwise), proxy.auth_required on 407 or a Proxy-Authenticate, squid.error from
 * X-Squid-Error, http.server from Server.
 */
export function headSignals(head: HttpHead, c: AnswerContext, isConnect: boolean): Signal[] {
  const line = `${head.version} ${head.status} ${head.reason}`.trim();
  const out: Signal[] = [
    probeSignal(c.source, isConnect ? 'connect.status' : 'http.status', String(head.status), redact(`${c.where}: ${line}`)),
  ];
  const challenge = head.headers.filter(([n]) => n === 'proxy-authenticate').map(([, v]) => v.split(/\s/)[0] ?? v);
  if (head.status === 407 || challenge.length > 0) {
    out.push(
      probeSignal(
        c.source,
        'proxy.auth_required',
        undefined,
        redact(`${c.where}: ${line}${challenge.length > 0 ? `; Proxy-Authenticate: ${challenge.join(', ')}` : ''}`),
      ),
    );
  }
  const squid = headerValue(head, 'x-squid-error');
  const squidName = squid ? /^(ERR_[A-Z_]+)/.exec(squid)?.[1] : undefined;
  if (squidName) out.push(probeSignal(c.source, 'squid.error', squidName, redact(`${c.where}: X-Squid-Error: ${squid}`)));
  const server = headerValue(head, 'server');
  const product = server ? serverProduct(server) : undefined;
  if (product) out.push(probeSignal(c.source, 'http.server', product, redact(`${c.where}: Server: ${server}`)));
  return out;
}

/** The head's headers worth showing, masked. */
export function shownHeadHeaders(head: HttpHead): Masked[] {
  return head.headers
    .filter(([n]) =>
      ['proxy-authenticate', 'x-squid-error', 'server', 'via', 'content-type', 'content-length', 'x-cache', 'retry-after'].includes(n),
    )
    .map(([n, v]) => redact(`${n}: ${v}`.slice(0, 300)));
}

// ---------------------------------------------------------------------------------------------
// Tunnels as an http.Agent

/** Why a tunnel could not be opened: the proxy connect, its TLS, the CONNECT answer, or the origin's TLS. */
export type TunnelFailure =
  | { readonly stage: 'proxy_connect'; readonly failure: SocketFailure }
  | { readonly stage: 'proxy_tls'; readonly error: Error }
  | { readonly stage: 'connect'; readonly answer: ConnectAnswer }
  | { readonly stage: 'origin_tls'; readonly error: Error };

/** The error a tunnel agent's connection fails with; `exchange()` turns it into an HttpFailure. */
export class TunnelError extends Error {
  constructor(
    readonly failure: TunnelFailure,
    readonly route: ProxyRoute,
    readonly authority: string,
  ) {
    super(
      failure.stage === 'connect'
        ? connectAnswerText(failure.answer, { where: route.where, authority, source: '' })
        : failure.stage === 'proxy_connect'
          ? `connect to ${route.where} failed: ${failure.failure.kind}${failure.failure.code ? ` (${failure.failure.code})` : ''}`
          : failure.error.message,
    );
    this.name = 'TunnelError';
  }
}

/**
 * When each step of a tunnel completed (performance.now() values). A request passes one in its
 * options as `tunnelMarks`; the agent writes the steps into it as they complete.
 */
export interface TunnelMarks {
  readonly start: number;
  connect?: number;
  tunnel?: number;
  secure?: number;
}

/** Options of {@link tunnelAgent}. */
export interface TunnelAgentOptions {
  readonly route: ProxyRoute;
  /** The origin's host (name or IP) the certificate must name; a name is also sent as SNI. */
  readonly host: string;
  /** CA certificates to trust for the origin (and an https:// proxy). @defaultValue the system's */
  readonly ca?: string | readonly string[];
  /** Aborts a tunnel being opened (a request may pass its own as `tunnelSignal` in its options). */
  readonly signal: AbortSignal;
  readonly timedOut?: () => boolean;
  readonly maxBodyBytes: number;
  /** Keep tunnels open for the next request (the repeat probe). @defaultValue false */
  readonly keepAlive?: boolean;
}

/**
 * An http.Agent whose every connection is a tunnel through the route's proxy — TCP to the proxy
 * (the pinned address), TLS to it for an https:// proxy, CONNECT, then TLS with the origin inside,
 * verified with `ca` — so an `http.request` through it is an https request via the proxy. A
 * failure at any step fails the request with a {@link TunnelError}; nothing after a failed step is
 * tried.
 */
export function tunnelAgent(opts: TunnelAgentOptions): HttpAgent {
  const ca = opts.ca === undefined ? {} : { ca: typeof opts.ca === 'string' ? opts.ca : [...opts.ca] };
  const { route } = opts;
  const open = async (marks: TunnelMarks, signal: AbortSignal): Promise<Duplex> => {
    const fail = (f: TunnelFailure): never => {
      throw new TunnelError(f, route, route.authority);
    };
    const connected = await timedConnect({ host: route.proxy.host, port: route.proxy.port, lookup: route.proxy.lookup, signal });
    if (!connected.ok) {
      const failure =
        connected.failure.kind === 'aborted' && opts.timedOut?.()
          ? { ...connected.failure, kind: 'connect_timeout' as const }
          : connected.failure;
      return fail({ stage: 'proxy_connect', failure });
    }
    marks.connect = performance.now();
    let toProxy: Socket = connected.socket;
    const destroyAll = () => toProxy.destroy();
    signal.addEventListener('abort', destroyAll, { once: true });
    try {
      if (route.tls) {
        toProxy = await secure(toProxy, { host: route.proxy.host, ...ca }).catch((error: Error) => fail({ stage: 'proxy_tls', error }));
      }
      const answer = await sendConnect(toProxy, {
        authority: route.authority,
        ...(route.authorization ? { authorization: route.authorization } : {}),
        signal,
        ...(opts.timedOut ? { timedOut: opts.timedOut } : {}),
        maxBodyBytes: opts.maxBodyBytes,
      });
      if (answer.kind !== 'tunnel') return fail({ stage: 'connect', answer });
      marks.tunnel = performance.now();
      const origin = await secure(toProxy, { host: opts.host, ...ca }).catch((error: Error) => fail({ stage: 'origin_tls', error }));
      marks.secure = performance.now();
      origin.once('close', () => toProxy.destroy());
      return origin;
    } catch (err) {
      toProxy.destroy();
      connected.socket.destroy();
      throw err;
    } finally {
      signal.removeEventListener('abort', destroyAll);
    }
  };
  const agent = new HttpAgent({ keepAlive: opts.keepAlive ?? false, maxSockets: 1 });
  agent.createConnection = (options, callback) => {
    // exchange() passes its marks object with the request options, to time the steps (and a timeout among them).
    const given = options as { tunnelMarks?: TunnelMarks; tunnelSignal?: AbortSignal };
    open(given.tunnelMarks ?? { start: performance.now() }, given.tunnelSignal ?? opts.signal).then(
      (socket) => callback?.(null, socket),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  };
  if (opts.keepAlive) {
    agent.keepSocketAlive = (socket) => {
      (socket as Socket).setTimeout?.(0);
      return true;
    };
  }
  return agent;
}

/** TLS on a connected socket, verified (`ca`, the certificate must name `host`; a name goes as SNI), ALPN http/1.1. */
function secure(socket: Socket, opts: { host: string; ca?: string | string[] }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      socket,
      host: opts.host,
      ...(isIP(opts.host) === 0 ? { servername: opts.host } : {}),
      ALPNProtocols: ['http/1.1'],
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    });
    const onError = (err: Error) => {
      s.destroy();
      reject(err);
    };
    s.once('error', onError);
    s.once('secureConnect', () => {
      s.removeListener('error', onError);
      resolve(s);
    });
  });
}

/** The tunnel failure's masked one-line message. */
export function tunnelFailureMessage(err: TunnelError): Masked {
  return redact(err.message.slice(0, 500));
}
