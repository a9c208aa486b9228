/**
 * The bot under test, built the way `npm start` builds it (src/compose.ts), against the Slack
 * stand-in: HTTP mode on a loopback port (or Socket Mode), real Redis under a fresh key prefix
 * when asked, and a switchable nginx-style 502 upstream to probe. Tests drive the bot only
 * through the stand-in.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { composeApp, type Composed, type ComposeOverrides } from '../../src/compose.js';
import { readServerConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { SIGNING_SECRET } from './samples.js';
import { testRedisUrl } from './redis-url.js';
import { startSlackStandin, type SlackStandin } from './slack-standin.js';

/** The body nginx sends with its own 502 (a proxy whose backend failed). */
export const NGINX_502_PAGE =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>';

export const REDIS_URL = testRedisUrl();
export const BOT_TOKEN = 'xoxb-test-token';
export const APP_TOKEN = 'xapp-1-test-app-token';

export interface BadGateway {
  /** e.g. `http://127.0.0.1:PORT/api` */
  readonly url: string;
  /** The request targets received (path and query, as sent). */
  readonly requests: readonly string[];
  /** Answer this status from now on: 502 sends nginx's page, anything else `ok`. */
  setStatus(status: number): void;
  close(): Promise<void>;
}

/** A loopback server answering like nginx whose upstream fails: 502 with nginx's page (switchable). */
export async function startBadGateway(path = '/api'): Promise<BadGateway> {
  let status = 502;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(status, { Server: 'nginx/1.25.3', 'Content-Type': 'text/html' });
    res.end(status === 502 ? NGINX_502_PAGE : 'ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    requests,
    setStatus: (s) => void (status = s),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface BotHarnessOptions {
  /** Settings as `npm start` reads them (SLACK_*, PORT and QUEUE_PREFIX are filled in). */
  readonly env?: Record<string, string>;
  /** Real Redis (REDIS_URL) under a fresh key prefix. @defaultValue false */
  readonly redis?: boolean;
  /** @defaultValue 'http' */
  readonly mode?: 'http' | 'socket';
  readonly overrides?: ComposeOverrides;
}

export interface BotHarness {
  readonly slack: SlackStandin;
  readonly app: Composed;
  /** Where Slack posts: `http://127.0.0.1:PORT/slack/events` (HTTP mode). */
  readonly url: string;
  /** The app's base URL (the HTTP API). */
  readonly baseUrl: string;
  /** Every Redis key of this harness starts with it. */
  readonly prefix: string;
  readonly redis?: Redis;
  stop(): Promise<void>;
}

/** Start the stand-in and the bot (composed as by src/main.ts), serve it on a loopback port, and start it. */
export async function startBotHarness(options: BotHarnessOptions = {}): Promise<BotHarness> {
  const mode = options.mode ?? 'http';
  const slack = await startSlackStandin({
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    ...(mode === 'socket' ? { appToken: APP_TOKEN } : {}),
  });
  const prefix = `test-${randomUUID()}`;
  const config = readServerConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...(options.redis ? { REDIS_URL } : {}),
    ...options.env,
  });
  // Probes run in this process unless the test brings workers (a runner of its own).
  const policy = options.overrides?.policy ?? createSsrfPolicy({ allow: config.probeAllow });
  const runner = options.overrides?.runner ?? new InlineRunner(createProbes(), policy);
  const app = await composeApp(config, { posting: { perChannelIntervalMs: 50 }, ...options.overrides, policy, runner });
  const { port } = await app.listen(0, '127.0.0.1');
  return {
    slack,
    app,
    url: `http://127.0.0.1:${port}/slack/events`,
    baseUrl: `http://127.0.0.1:${port}`,
    prefix,
    ...(app.redis ? { redis: app.redis } : {}),
    async stop() {
      const redis = app.redis;
      if (redis) {
        const keys = await redis.keys(`${prefix}:*`).catch(() => [] as string[]);
        if (keys.length > 0) await redis.del(...keys).catch(() => 0);
      }
      await app.close();
      await slack.stop();
    },
  };
}

/** Wait a moment for work that should not happen (a post that must not come). */
export const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

type Block = { block_id?: string; type: string; elements?: { action_id?: string; value?: string }[] };

/** A block id without the message version the poster adds (`cause:x~ab12cd34` → `cause:x`). */
export const baseId = (id: string | undefined) => (id ?? '').split('~')[0]!;

/** The blocks of a posted or updated message. */
export const blocksOf = (args: Record<string, unknown>) => (args.blocks as Block[] | undefined) ?? [];

/** The cause ids an answer shows, best first. */
export const causeIdsOf = (args: Record<string, unknown>) =>
  blocksOf(args).flatMap((b) => (baseId(b.block_id).startsWith('cause:') ? [baseId(b.block_id).slice(6)] : []));
