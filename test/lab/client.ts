import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * curl-like requests with plain node:http/https/net/tls, for proving what a lab scenario does.
 * Expected failures are values (`{ ok: false, code, message }`), never thrown; every call is
 * bounded by `timeoutMs`.
 */

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** A transport-level failure: the code node reports (ECONNREFUSED, CERT_HAS_EXPIRED, ETIMEDOUT …) and its message. */
export interface Failure {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly ms: number;
}

/** An HTTP response (any status). */
export interface Response {
  readonly ok: true;
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
  /** Whether the request went out on a kept-alive connection (with an `agent`). */
  readonly reusedSocket: boolean;
}

export type HttpOutcome = Response | Failure;

export interface RequestOptions {
  /** @defaultValue 'GET' */
  readonly method?: string;
  readonly headers?: HeaderList;
  /** Send the request through this forward proxy: absolute-form for http://, CONNECT for https://. */
  readonly proxyUrl?: string;
  /** Headers for the proxy only (Proxy-Authorization), sent on the CONNECT or with the request. */
  readonly proxyHeaders?: HeaderList;
  /** PEM CA certificates to trust instead of the system store. */
  readonly ca?: string | readonly string[];
  /** A keep-alive agent to reuse connections; by default every request has its own connection. */
  readonly agent?: Agent;
  /** Bound on the whole exchange. @defaultValue 10000 */
  readonly timeoutMs?: number;
}

const MAX_BODY = 256 * 1024;

const failure = (err: unknown, started: number): Failure => {
  const e = err as { code?: unknown; message?: unknown };
  return { ok: false, code: typeof e.code === 'string' ? e.code : 'ERROR', message: String(e.message ?? err), ms: Date.now() - started };
};

class Timeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
  }
}

/** One HTTP(S) request, body read up to 256 KiB. */
export async function request(url: string, opts: RequestOptions = {}): Promise<HttpOutcome> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const headers: (readonly [string, string])[] = [...(opts.headers ?? [])];
  let createConnection: (() => Socket) | undefined;
  let path = `${target.pathname}${target.search}`;
  let host = target.hostname.replace(/^\[|\]$/g, '');
  let port = Number(target.port || (https ? 443 : 80));

  if (opts.proxyUrl && https) {
    const tunnel = await connectTunnel(opts.proxyUrl, `${host}:${port}`, { headers: opts.proxyHeaders, timeoutMs });
    if (!tunnel.ok) return tunnel;
    if (!tunnel.socket)
      return {
        ok: false,
        code: 'ERR_TUNNEL_CONNECTION_FAILED',
        message: `CONNECT tunnel failed, response ${tunnel.status}`,
        ms: Date.now() - started,
      };
    const socket = tunnel.socket;
    createConnection = () => tlsConnect({ socket, ca: opts.ca as string[] | undefined, servername: isIP(host) ? undefined : host });
  } else if (opts.proxyUrl) {
    const proxy = new URL(opts.proxyUrl);
    path = url;
    headers.push(['Host', target.host], ...(opts.proxyHeaders ?? []));
    host = proxy.hostname;
    port = Number(proxy.port || 80);
  }

  return new Promise<HttpOutcome>((resolve) => {
    const send = https ? httpsRequest : httpRequest;
    const req = send({
      host,
      port,
      path,
      method: opts.method ?? 'GET',
      headers: Object.fromEntries(headers),
      ca: opts.ca as string[] | undefined,
      servername: https && !isIP(host) ? host : undefined,
      agent: opts.agent ?? false,
      createConnection,
    });
    const timer = setTimeout(() => req.destroy(new Timeout(timeoutMs)), timeoutMs);
    const done = (outcome: HttpOutcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    req.once('error', (err) => done(failure(err, started)));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      res.once('error', (err) => done(failure(err, started)));
      res.once('end', () =>
        done({
          ok: true,
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: Date.now() - started,
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.end();
  });
}

/** The proxy's answer to CONNECT. On 2xx, `socket` is the open tunnel (the caller owns it). */
export interface TunnelResponse {
  readonly ok: true;
  readonly status: number;
  readonly statusText: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly ms: number;
  readonly socket?: Socket;
}

/** `CONNECT authority HTTP/1.1` to a proxy over raw TCP, reading the answer the way curl does. */
export function connectTunnel(
  proxyUrl: string,
  authority: string,
  opts: { headers?: HeaderList | undefined; timeoutMs?: number } = {},
): Promise<TunnelResponse | Failure> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const proxy = new URL(proxyUrl);
  return new Promise((resolve) => {
    const socket = netConnect({ host: proxy.hostname, port: Number(proxy.port || 80) });
    let buffer = Buffer.alloc(0);
    let head: Omit<TunnelResponse, 'body' | 'ms' | 'socket'> | undefined;
    let bodyLength = Infinity;
    let settled = false;
    const timer = setTimeout(() => finish(new Timeout(timeoutMs)), timeoutMs);
    const finish = (outcome: Error | 'tunnel' | 'body') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (outcome === 'tunnel' && head) {
        socket.pause();
        return resolve({ ...head, body: '', ms: Date.now() - started, socket });
      }
      socket.destroy();
      if (head)
        return resolve({ ...head, body: buffer.subarray(0, Math.min(buffer.length, MAX_BODY)).toString('utf8'), ms: Date.now() - started });
      resolve(failure(outcome instanceof Error ? outcome : new Error('closed'), started));
    };
    socket.once('connect', () => {
      const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`, ...(opts.headers ?? []).map(([k, v]) => `${k}: ${v}`)];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!head) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(statusLine);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const name = line.slice(0, i).trim().toLowerCase();
          const value = line.slice(i + 1).trim();
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        head = { ok: true, status: Number(m?.[1] ?? 0), statusText: m?.[2] ?? '', headers };
        buffer = buffer.subarray(end + 4);
        if (head.status >= 200 && head.status < 300) return finish('tunnel');
        if (headers['content-length'] !== undefined) bodyLength = Number(headers['content-length']);
      }
      if (buffer.length >= Math.min(bodyLength, MAX_BODY)) finish('body');
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(head ? 'closed' : 'the proxy closed the connection without an answer')));
  });
}

/** The outcome of a TLS handshake with certificate and hostname verification on. */
export type TlsOutcome =
  { readonly ok: true; readonly protocol: string | null; readonly subject: string; readonly issuer: string; readonly ms: number } | Failure;

/** Handshake with `host:port` (or over `socket`), verifying against `ca` (or the system store), then close. */
export function tlsHandshake(
  host: string,
  port: number,
  opts: { ca?: string | readonly string[] | undefined; socket?: Socket; servername?: string; timeoutMs?: number } = {},
): Promise<TlsOutcome> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve) => {
    const servername = opts.servername ?? (isIP(host) ? undefined : host);
    const socket: TLSSocket = tlsConnect({
      host,
      port,
      socket: opts.socket,
      ca: opts.ca as string[] | undefined,
      servername,
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => socket.destroy(new Timeout(timeoutMs)), timeoutMs);
    const done = (outcome: TlsOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      done({
        ok: true,
        protocol: socket.getProtocol(),
        subject: String(cert.subject?.CN ?? ''),
        issuer: String(cert.issuer?.CN ?? ''),
        ms: Date.now() - started,
      });
    });
    socket.once('error', (err) => done(failure(err, started)));
  });
}

/** One hop of {@link followRedirects}. */
export interface Hop {
  readonly url: string;
  readonly outcome: HttpOutcome;
}

/** Follow Location headers like `curl -L --max-redirs max`; `loop` is true when a URL comes back. */
export async function followRedirects(url: string, opts: RequestOptions & { max?: number } = {}): Promise<{ hops: Hop[]; loop: boolean }> {
  const hops: Hop[] = [];
  const seen = new Set<string>();
  let next: string | undefined = url;
  while (next !== undefined && hops.length <= (opts.max ?? 10)) {
    if (seen.has(next)) return { hops, loop: true };
    seen.add(next);
    const outcome = await request(next, opts);
    hops.push({ url: next, outcome });
    const location = outcome.ok && outcome.status >= 300 && outcome.status < 400 ? outcome.headers.location : undefined;
    next = location === undefined ? undefined : new URL(location, next).toString();
  }
  return { hops, loop: false };
}

/** What {@link measureIdleClose} saw. */
export type IdleOutcome =
  | {
      readonly ok: true;
      /** Status of the two requests sent back to back on one connection. */
      readonly statuses: readonly number[];
      /** The server's `Keep-Alive` header, if any. @example 'timeout=1' */
      readonly keepAlive: string | undefined;
      /** Time from the end of the last response to the server closing the connection. */
      readonly idleMs: number;
    }
  | Failure;

/**
 * Open one TCP connection, send two keep-alive GETs on it back to back, then wait (up to
 * `timeoutMs`) for the server to close the idle connection, measuring how long it kept it.
 * Reads Content-Length and chunked bodies.
 */
export function measureIdleClose(url: string, opts: { timeoutMs?: number } = {}): Promise<IdleOutcome> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const target = new URL(url);
  const requestText = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = netConnect({ host: target.hostname, port: Number(target.port || 80), allowHalfOpen: true });
    const statuses: number[] = [];
    let keepAlive: string | undefined;
    let buffer = Buffer.alloc(0);
    let idleSince: number | undefined;
    const timer = setTimeout(() => done(failure(new Timeout(timeoutMs), started)), timeoutMs);
    const done = (outcome: IdleOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    /** Take one complete response off the buffer, if there is one. */
    const takeResponse = (): boolean => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const head = buffer.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      let total: number;
      if (length !== undefined) total = end + 4 + Number(length);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = buffer.indexOf('\r\n0\r\n\r\n', end);
        if (last < 0) return false;
        total = last + 7;
      } else return false;
      if (buffer.length < total) return false;
      statuses.push(Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1] ?? 0));
      keepAlive = /\r\nkeep-alive:\s*([^\r]*)/i.exec(head)?.[1] ?? keepAlive;
      buffer = buffer.subarray(total);
      return true;
    };
    socket.once('connect', () => socket.write(requestText));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (takeResponse()) {
        if (statuses.length === 1) socket.write(requestText);
        else idleSince = Date.now();
      }
    });
    socket.once('end', () => {
      if (idleSince === undefined)
        return done({ ok: false, code: 'ECONNRESET', message: `closed after ${statuses.length} of 2 responses`, ms: Date.now() - started });
      done({ ok: true, statuses, keepAlive, idleMs: Date.now() - idleSince });
    });
    socket.once('error', (err) => done(failure(err, started)));
  });
}
