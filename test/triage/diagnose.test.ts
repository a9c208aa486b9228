import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbes } from '../../src/probes/index.js';
import { InlineRunner } from '../../src/queue/runner.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { diagnose, type DiagnoseResult } from '../../src/triage/diagnose.js';
import { createEngine } from '../../src/triage/engine.js';
import { parseTarget } from '../../src/triage/target.js';
import { NGINX_502_PAGE } from '../support/bot-harness.js';

const engine = createEngine();
const runner = new InlineRunner(createProbes(), createSsrfPolicy({ allowAll: true }));
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});
async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** nginx's 502 in front of a backend that answers at once and keeps idle connections ~2.5 s. */
async function badGatewayWithBackend() {
  const proxy = await listen(createServer((_req, res) => res.writeHead(502, { Server: 'nginx/1.25.3' }).end(NGINX_502_PAGE)));
  const backend = createServer((_req, res) => res.end('fine'));
  backend.keepAliveTimeout = 1500;
  const upstream = await listen(backend);
  return parseTarget({ url: `http://${proxy}/api`, upstream }).target!;
}

describe('diagnose: progressive answers', () => {
  it('reports ranked partial results while probes run, then resolves with the complete one', async () => {
    const target = await badGatewayWithBackend();
    const partials: { d: DiagnoseResult; pending: readonly string[]; at: number }[] = [];
    const started = performance.now();
    const final = await diagnose(engine, runner, target, {
      onProgress: (d, pending) => partials.push({ d, pending, at: performance.now() - started }),
    });
    const last = partials[partials.length - 1]!;
    expect(last.pending).toEqual(['upstream']);
    expect(last.d.pending).toEqual(['upstream']);
    expect(last.d.causes.length).toBeGreaterThan(0);
    expect(last.d.probes.map((p) => p.probe)).toEqual(expect.arrayContaining(['tcp', 'http']));
    expect(last.at).toBeLessThan(1000);
    expect(performance.now() - started).toBeGreaterThan(1500);
    expect(final.pending).toBeUndefined();
    expect(final.probes.map((p) => p.probe)).toContain('upstream');
  });

  it('a callback that throws does not stop the run', async () => {
    const target = await badGatewayWithBackend();
    const d = await diagnose(engine, runner, target, {
      onProgress: () => {
        throw new Error('display broke');
      },
    });
    expect(d.causes.length).toBeGreaterThan(0);
  });
});
