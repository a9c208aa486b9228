/**
 * Real parts for the API tests: a local upstream that answers like nginx with no backend (502),
 * and the API served by the real handler on port 0 with the real engine, probes and policy.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler, type ApiDeps, type ApiHandler } from '../../src/api/server.js';
import { memoryDiagnosisStore } from '../../src/api/diagnosis-store.js';
import { createReadiness } from '../../src/api/ready.js';
import { readServerConfig } from '../../src/config.js';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { startHttpServer, stopHttpServer } from '../../src/server.js';
import { createEngine, type Engine } from '../../src/triage/engine.js';

export const TOKEN = 'test-token-0123456789abcdef';

export { NGINX_REFUSED } from '../support/samples.js';

/** An upstream that answers every request like nginx whose backend is down. */
export async function startBadGateway(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(502, { Server: 'nginx/1.25.3', 'Content-Type': 'text/html' });
    res.end(
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>',
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    close: () => closeServer(server),
  };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await closeServer(s);
  return port;
}

let sharedEngine: Engine | undefined;
/** One engine for the tests of a file: loading the knowledge base takes a moment. */
export function engine(): Engine {
  return (sharedEngine ??= createEngine());
}

export interface RunningApi {
  readonly url: string;
  readonly handler: ApiHandler;
  stop(): Promise<void>;
}

/**
 * The API on 127.0.0.1, port 0. Built from API_TOKENS and PROBE_ALLOW=127.0.0.0/8 through
 * readServerConfig, like src/main.ts; `deps` replaces any part.
 */
export async function startApi(deps: Partial<ApiDeps> = {}, env: Record<string, string> = {}): Promise<RunningApi> {
  const config = readServerConfig({ API_TOKENS: TOKEN, PROBE_ALLOW: '127.0.0.0/8', PORT: '0', ...env });
  const policy = createSsrfPolicy({ allow: config.probeAllow });
  const handler = createApiHandler({
    engine: engine(),
    runner: new InlineRunner(createProbes(), policy),
    runnerVia: 'inline',
    policy,
    tokenDigests: config.api.tokenDigests,
    diagnoses: memoryDiagnosisStore(),
    readiness: createReadiness([]),
    log: () => {},
    ...deps,
    // The rate limit has its own tests (rate-limit.test.ts); elsewhere it would only slow them.
    options: { ratePerMinute: 0, ...deps.options },
  });
  const { server, port } = await startHttpServer(0, { api: handler }, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    handler,
    async stop() {
      await stopHttpServer(server);
      await handler.close();
    },
  };
}
