import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { settlesWithin } from './process.js';

/**
 * Small in-process servers the lab puts behind (or instead of) the real proxies. Each listens on
 * 127.0.0.1 port 0 and closes with every connection destroyed and every timer cleared.
 */
export interface NodeServer {
  readonly port: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Listen on 127.0.0.1:0 and return a handle whose close() also destroys open connections. */
export async function serve(server: Server, onClose: () => void = () => {}): Promise<NodeServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return {
    port: address.port,
    async close() {
      onClose();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await settlesWithin(closed, 2_000);
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body) + '\n');
};

/** What a healthy app answers: 200 with the request it saw (method, url, headers) as JSON. */
const echo: Handler = (req, res) => json(res, 200, { ok: true, method: req.method, url: req.url, headers: req.headers });

/** A healthy HTTP app: 200 JSON echo of the request. */
export function startEchoServer(): Promise<NodeServer> {
  return serve(createHttpServer(echo));
}

/** An HTTPS app with the given certificate chain (PEM; leaf first) that answers like {@link startEchoServer}. */
export function startHttpsServer(tls: { cert: string; key: string }): Promise<NodeServer> {
  return serve(createHttpsServer({ cert: tls.cert, key: tls.key }, echo));
}

/**
 * An app that answers 200 only after `delayMs` (a slow query): slower than the proxy's read timeout.
 * With `idleMs` it also closes idle keep-alive connections after that long (like
 * {@link startShortKeepAliveServer}), so a client that waits after the answer can measure it.
 */
export function startSlowServer(delayMs: number, idleMs?: number): Promise<NodeServer> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createHttpServer((req, res) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (idleMs !== undefined) res.once('finish', () => req.socket.setTimeout(idleMs));
      echo(req, res);
    }, delayMs);
    timers.add(timer);
  });
  if (idleMs !== undefined) server.keepAliveTimeout = idleMs;
  return serve(server, () => {
    for (const timer of timers) clearTimeout(timer);
  });
}

/**
 * An app that reads the whole request head and then closes the connection without a byte of
 * response (a worker that crashes or is OOM-killed mid-request). It reads first so the close is a
 * clean FIN ("prematurely closed"), not a reset.
 */
export function startEarlyCloseServer(): Promise<NodeServer> {
  return serve(
    createNetServer((socket) => {
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) socket.destroy();
      });
      socket.on('error', () => {});
    }),
  );
}

/**
 * An app that closes keep-alive connections after exactly `idleMs` idle and says so
 * (`Keep-Alive: timeout=1`). Node's `keepAliveTimeout` alone would wait one more second
 * (node ≥ 20.?, HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER), so the idle timer is set again, to
 * `idleMs`, once each response has finished (after node's own 'finish' listener).
 */
export function startShortKeepAliveServer(idleMs: number): Promise<NodeServer> {
  const server = createHttpServer((req, res) => {
    res.once('finish', () => req.socket.setTimeout(idleMs));
    echo(req, res);
  });
  server.keepAliveTimeout = idleMs;
  return serve(server);
}

/**
 * A TCP listener that reads a request head and answers it with a TCP reset, no byte of response (a
 * filtering proxy or a firewall in front of one that kills CONNECT). Reading first makes the reset
 * land after the request, as clients see it: "Connection reset by peer" right after CONNECT.
 */
export function startResetAfterRequestServer(): Promise<NodeServer> {
  return serve(
    createNetServer((socket) => {
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) socket.resetAndDestroy();
      });
      socket.on('error', () => {});
    }),
  );
}

/** An app that works but whose health check fails: `GET /healthz` answers 503 (its database is down). */
export function startUnhealthyServer(): Promise<NodeServer> {
  return serve(
    createHttpServer((req, res) => {
      if (req.url === '/healthz') json(res, 503, { status: 'down', checks: { database: 'connection refused' } });
      else echo(req, res);
    }),
  );
}

/**
 * An app behind a TLS-terminating proxy that insists on HTTPS: it redirects every request that
 * does not carry `X-Forwarded-Proto: https` to the https:// URL of the same Host and path.
 */
export function startForceHttpsApp(): Promise<NodeServer> {
  return serve(
    createHttpServer((req, res) => {
      if (req.headers['x-forwarded-proto'] === 'https') return echo(req, res);
      res.writeHead(301, { Location: `https://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, 'Content-Length': '0' });
      res.end();
    }),
  );
}

/** An app that canonicalises paths without a trailing slash: `/app/` → 301 `Location: /app`. */
export function startSlashStrippingApp(): Promise<NodeServer> {
  return serve(
    createHttpServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.length > 1 && path.endsWith('/')) {
        res.writeHead(301, { Location: path.slice(0, -1), 'Content-Length': '0' });
        return res.end();
      }
      echo(req, res);
    }),
  );
}
