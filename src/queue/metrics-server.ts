import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from '../metrics-registry.js';

export interface MetricsServerOptions {
  /** The port; 0 picks a free one (tests). */
  readonly port: number;
  /** @defaultValue every interface */
  readonly host?: string;
  /** Whether the process can do its work: GET /healthz answers 200 when true, 503 when false. */
  readonly ready: () => boolean;
}

export interface MetricsServer {
  readonly server: Server;
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The worker's small HTTP server: GET /metrics (the process's Prometheus registry) and GET
 * /healthz. Rejects when the port cannot be bound.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'GET only\n');
    if (path === '/healthz') {
      const ok = opts.ready();
      return send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        () => send(500, 'text/plain; charset=utf-8', 'metrics could not be collected\n'),
      );
      return;
    }
    send(404, 'text/plain; charset=utf-8', 'GET /metrics or /healthz\n');
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port, opts.host);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
