/**
 * Test helpers shared by every probe test: a {@link makeContext} that builds a ProbeContext from a
 * URL string, a {@link recordingPolicy} that counts policy calls, and small real local servers
 * (node:net on 127.0.0.1 port 0) that accept and hang, stream forever, reset or refuse.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { DEFAULT_PROBE_LIMITS, type ProbeContext, type ProbeLimits, type ProbeTarget } from '../../src/probes/probe.js';
import { createSsrfPolicy, type SsrfPolicy } from '../../src/security/ssrf.js';

/** A target as tests write it: URLs as strings, headers optional. */
export interface TargetInit {
  readonly url: string | URL;
  readonly proxy?: string | URL;
  readonly upstream?: { readonly host: string; readonly port: number };
  readonly headers?: readonly (readonly [string, string])[];
  readonly origin?: string;
}

/** Options of {@link makeContext}. */
export interface ContextOptions {
  /** @defaultValue `createSsrfPolicy({ allowAll: true })` (loopback allowed) */
  readonly policy?: SsrfPolicy;
  /** Merged over {@link DEFAULT_PROBE_LIMITS}. @example { timeoutMs: 1000, maxBodyBytes: 4096 } */
  readonly limits?: Partial<ProbeLimits>;
  /** @defaultValue a signal that never aborts */
  readonly signal?: AbortSignal;
  /** The clock. @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/** The policy tests use: allow-all (loopback allowed), built once. */
export const allowAllPolicy: SsrfPolicy = createSsrfPolicy({ allowAll: true });

/** The restrictive policy (public addresses only): refuses 127.0.0.1 and localhost. */
export const restrictivePolicy: SsrfPolicy = createSsrfPolicy({ allowAll: false });

/** Build a target from strings. */
export function makeTarget(init: TargetInit | string | URL): ProbeTarget {
  const t: TargetInit = typeof init === 'string' || init instanceof URL ? { url: init } : init;
  return {
    url: new URL(t.url),
    ...(t.proxy !== undefined ? { proxy: new URL(t.proxy) } : {}),
    ...(t.upstream !== undefined ? { upstream: t.upstream } : {}),
    headers: t.headers ?? [],
    ...(t.origin !== undefined ? { origin: t.origin } : {}),
  };
}

/**
 * A ProbeContext for `target`, with the allow-all policy and default limits unless told.
 * @example makeContext(`http://127.0.0.1:${port}/`, { limits: { timeoutMs: 1000 } })
 */
export function makeContext(target: TargetInit | string | URL, opts: ContextOptions = {}): ProbeContext {
  const now = opts.now ?? (() => new Date());
  return {
    target: makeTarget(target),
    limits: { ...DEFAULT_PROBE_LIMITS, ...opts.limits },
    signal: opts.signal ?? new AbortController().signal,
    policy: opts.policy ?? allowAllPolicy,
    now,
  };
}

/** A policy that forwards to `inner` and records each call (method and argument). */
export function recordingPolicy(inner: SsrfPolicy = allowAllPolicy): SsrfPolicy & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    allowAll: inner.allowAll,
    check: (url, o) => (calls.push(`check ${String(url)}`), inner.check(url, o)),
    checkRedirect: (loc, from, o) => (calls.push(`checkRedirect ${loc}`), inner.checkRedirect(loc, from, o)),
    checkProxy: (url, o) => (calls.push(`checkProxy ${String(url)}`), inner.checkProxy(url, o)),
    checkConnectTarget: (a, o) => (calls.push(`checkConnectTarget ${a}`), inner.checkConnectTarget(a, o)),
    checkAddress: (a) => (calls.push(`checkAddress ${a}`), inner.checkAddress(a)),
  };
}

// ---------------------------------------------------------------------------------------------
// Local servers

/** A started TCP server: its port, how many connections it saw, the sockets still open, close(). */
export interface LocalServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Bytes the server received so far. */
  readonly received: () => number;
  /** Bytes the server wrote so far. */
  readonly written: () => number;
  /** Resolves when every accepted socket has closed (the client hung up). */
  readonly allClosed: () => Promise<void>;
  readonly server: Server;
  close(): Promise<void>;
}

/** Start a node:net server on 127.0.0.1 port 0 running `onSocket` for each connection. */
export async function startTcpServer(onSocket: (socket: Socket, count: { write(n: number): void }) => void): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let received = 0;
  let written = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket, { write: (n) => (written += n) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    connections: () => connections,
    received: () => received,
    written: () => written,
    allClosed: async () => {
      await Promise.all([...sockets].map((s) => (s.closed ? undefined : new Promise((resolve) => s.once('close', resolve)))));
    },
    server,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Accepts connections and never sends a byte (reads and discards what it gets). */
export function startSilentServer(): Promise<LocalServer> {
  return startTcpServer((socket) => socket.resume());
}

/**
 * Streams bytes forever on every connection, as fast as the client reads. `prefix` is sent first
 * (e.g. an HTTP status line and headers); then `X` bytes without end (no line breaks, so an
 * HTTP head never ends either unless the prefix ends it).
 */
export function startStreamingServer(prefix = ''): Promise<LocalServer> {
  const chunk = Buffer.alloc(16 * 1024, 'X');
  return startTcpServer((socket, count) => {
    let stopped = false;
    socket.once('close', () => (stopped = true));
    const pump = () => {
      while (!stopped && !socket.destroyed) {
        count.write(chunk.length);
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    // Answer once the client has spoken (a TLS ClientHello, a request line) or after 20 ms.
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      if (prefix) {
        count.write(Buffer.byteLength(prefix));
        socket.write(prefix);
      }
      pump();
    };
    socket.once('data', start);
    setTimeout(start, 20).unref();
  });
}

/** Accepts, then resets (RST) each connection after the first bytes from the client, or at once. */
export function startResettingServer(when: 'on-accept' | 'on-data' = 'on-data'): Promise<LocalServer> {
  return startTcpServer((socket) => {
    if (when === 'on-accept') socket.resetAndDestroy();
    else socket.once('data', () => socket.resetAndDestroy());
  });
}

/** A port with nothing listening on it (bound, then closed). Connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const s = await startTcpServer(() => {});
  await s.close();
  return s.port;
}

/** A UDP socket on 127.0.0.1 that receives and never answers (a DNS server that does not answer). */
export async function startSilentUdp(port = 0): Promise<{ port: number; received: () => number; close(): Promise<void> }> {
  const socket: UdpSocket = createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  return {
    port: socket.address().port,
    received: () => received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * A port where a TCP connect gets no answer at all (SYNs dropped), as behind a firewall: a child
 * node process listens with backlog 1 and is stopped (SIGSTOP), and two held connections fill its
 * accept queue, so the kernel drops further SYNs. close() kills the child.
 */
export async function startBlackhole(): Promise<{ host: '127.0.0.1'; port: number; close(): Promise<void> }> {
  const script = `const s=require('net').createServer(()=>{}).listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  process.kill(child.pid!, 'SIGSTOP');
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    await Promise.race([once(s, 'connect'), new Promise((r) => setTimeout(r, 300))]);
  }
  return {
    host: '127.0.0.1',
    port,
    async close() {
      for (const s of fillers) s.destroy();
      kill();
      process.removeListener('exit', kill);
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}

/** Resolves with how long `promise` took, in ms. */
export async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - start };
}

/** A request a {@link startForwardProxy} proxy saw. */
export interface ProxySeen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

/**
 * A small forward proxy on node:http: CONNECT (the 'connect' event) tunnels to the target, other
 * requests in absolute form are forwarded. With `auth`, it wants that Proxy-Authorization (Squid's
 * 407 otherwise). `seen` lists what it was asked, in order.
 */
export async function startForwardProxy(
  opts: { auth?: string } = {},
): Promise<{ port: number; seen: ProxySeen[]; close(): Promise<void> }> {
  const seen: ProxySeen[] = [];
  const sockets = new Set<Socket>();
  const denied = (headers: IncomingMessage['headers']) => opts.auth !== undefined && headers['proxy-authorization'] !== opts.auth;
  const SQUID_407 =
    'HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\n' +
    'Proxy-Authenticate: Basic realm="Squid proxy-caching web server"\r\nContent-Length: 0\r\n\r\n';
  const server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (denied(req.headers)) {
      res.socket?.end(SQUID_407);
      return;
    }
    const upstream = httpRequest(req.url ?? '', { method: req.method, headers: { host: req.headers.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'text/plain', via: '1.1 test-proxy' });
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end('bad gateway'));
    upstream.end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', url: req.url ?? '', headers: req.headers });
    client.on('error', () => {});
    if (denied(req.headers)) return void client.end(SQUID_407);
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    const up = netConnect({ host: m?.[1] ?? '', port: Number(m?.[2]) }, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A "proxy" that answers every request with `response` (raw), or resets / closes right after it. */
export function startCannedProxy(response: string | 'reset' | 'close'): Promise<LocalServer> {
  return startTcpServer((socket) => {
    socket.once('data', () => {
      if (response === 'reset') socket.resetAndDestroy();
      else if (response === 'close') socket.end();
      else socket.end(response);
    });
  });
}
