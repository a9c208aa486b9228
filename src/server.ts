import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientError } from './api/http.js';

/** What one HTTP port serves: Slack's requests (HTTP mode) and the rest (API, health, metrics). */
export interface HttpRoutes {
  /** POST /slack/events: commands, events and interactivity (Bolt's HTTP receiver). */
  readonly slack?: RequestListener;
  /** Every other path: the HTTP API, /healthz, /readyz, /metrics. */
  readonly api?: RequestListener;
}

/** The process's one HTTP server (PORT): Slack under /slack/events, everything else to the API. */
export async function startHttpServer(port: number, routes: HttpRoutes, host?: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (routes.slack && path === '/slack/events') return void routes.slack(req, res);
    if (routes.api) return void routes.api(req, res);
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `nothing at ${path}: Slack posts to /slack/events` } }));
  });
  // Oversized headers and malformed requests get the API's JSON error, not Node's bare one.
  server.on('clientError', answerClientError);
  // Slack's and load balancers' keep-alive connections outlive Node's 5 s default otherwise.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  server.listen(port, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Close the server and wait for it; open keep-alive sockets are closed too. */
export async function stopHttpServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
