import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHttpServer, stopHttpServer } from '../../src/server.js';
import type { Bot } from '../../src/slack/app.js';

/** The body nginx sends with its own 502 (a proxy whose backend failed). */
export const NGINX_502_PAGE =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>';

export interface BadGateway {
  /** e.g. `http://127.0.0.1:PORT/api` */
  readonly url: string;
  /** Answer this status from now on: 502 sends nginx's page, anything else `ok`. */
  setStatus(status: number): void;
  close(): Promise<void>;
}

/** A loopback server answering like nginx whose upstream fails: 502 with nginx's page (switchable). */
export async function startBadGateway(path = '/api'): Promise<BadGateway> {
  let status = 502;
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { Server: 'nginx/1.25.3', 'Content-Type': 'text/html' });
    res.end(status === 502 ? NGINX_502_PAGE : 'ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    setStatus: (s) => void (status = s),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The bot in HTTP mode on a loopback port: the URL Slack posts to, and how to stop it. */
export async function serveBot(bot: Bot): Promise<{ url: string; stop(): Promise<void> }> {
  const { server, port } = await startHttpServer(0, { slack: bot.requestListener! }, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/slack/events`, stop: () => stopHttpServer(server) };
}
