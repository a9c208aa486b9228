import { createServer as createHttpServer, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { corsProbe, createCorsProbe } from '../../src/probes/cors.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { serve, type NodeServer } from '../lab/node-servers.js';
import { makeContext, restrictivePolicy, startSilentServer } from './support.js';

const ORIGIN = 'https://app.example.com';
const open: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A server answering the preflight with `status` and `headers`, recording the request. */
async function preflight(status: number, headers: OutgoingHttpHeaders, seen: IncomingMessage[] = []): Promise<NodeServer> {
  const s = await serve(
    createHttpServer((req, res) => {
      seen.push(req);
      res.writeHead(status, headers).end();
    }),
  );
  open.push(s);
  return s;
}

const good: OutgoingHttpHeaders = {
  'Access-Control-Allow-Origin': ORIGIN,
  'Access-Control-Allow-Methods': 'GET, PUT, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, X-Tenant',
  'Access-Control-Allow-Credentials': 'true',
};

const run = (port: number, probe = corsProbe) =>
  probe.run(
    makeContext({
      url: `http://127.0.0.1:${port}/api/orders`,
      origin: ORIGIN,
      headers: [
        ['Authorization', 'Bearer secrettoken123456'],
        ['X-Tenant', 'blue'],
      ],
    }),
  );

const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));

describe('cors probe', () => {
  it('applies only with an origin', () => {
    expect(corsProbe.applies(makeContext('http://127.0.0.1/').target)).toBe(false);
    expect(corsProbe.applies(makeContext({ url: 'http://127.0.0.1/', origin: ORIGIN }).target)).toBe(true);
  });

  it('sends the preflight a browser would, without credentials', async () => {
    const seen: IncomingMessage[] = [];
    const s = await preflight(204, good, seen);
    const r = await run(s.port);
    expect(r.status).toBe('ok');
    expect(r.signals).toEqual([]);
    const req = seen[0]!;
    expect(req.method).toBe('OPTIONS');
    expect(req.headers.origin).toBe(ORIGIN);
    expect(req.headers['access-control-request-method']).toBe('GET');
    expect(req.headers['access-control-request-headers']).toBe('authorization,x-tenant');
    expect(req.headers.authorization).toBeUndefined();
    expect(r.details.allowHeaders).toContain('access-control-allow-origin: https://app.example.com');
  });

  it.each<[string, number, OutgoingHttpHeaders, string[]]>([
    ['a 401 on OPTIONS (auth runs on the preflight)', 401, {}, ['http.status=401', 'cors.error=preflight_failed']],
    ['a 403 on OPTIONS', 403, {}, ['http.status=403', 'cors.error=preflight_failed']],
    ['a 404 on OPTIONS', 404, good, ['http.status=404', 'cors.error=preflight_status']],
    ['a redirect on OPTIONS', 301, { Location: '/login' }, ['http.status=301', 'cors.error=preflight_status']],
    ['no Access-Control-Allow-Origin', 204, { ...good, 'Access-Control-Allow-Origin': undefined }, ['cors.error=no_allow_origin']],
    ['another origin', 204, { ...good, 'Access-Control-Allow-Origin': 'https://other.example.com' }, ['cors.error=origin_mismatch']],
    [
      'two origins',
      204,
      { ...good, 'Access-Control-Allow-Origin': `${ORIGIN}, https://other.example.com` },
      ['cors.error=multiple_origins'],
    ],
    ['two Allow-Origin headers', 204, { ...good, 'Access-Control-Allow-Origin': [ORIGIN, ORIGIN] }, ['cors.error=multiple_origins']],
    ["'*' with credentials", 204, { ...good, 'Access-Control-Allow-Origin': '*' }, ['cors.error=wildcard_credentials']],
    [
      'Allow-Headers without authorization',
      204,
      { ...good, 'Access-Control-Allow-Headers': 'X-Tenant, Content-Type' },
      ['cors.error=header_not_allowed'],
    ],
    [
      "Allow-Headers '*' (never covers authorization)",
      204,
      { ...good, 'Access-Control-Allow-Headers': '*', 'Access-Control-Allow-Credentials': undefined },
      ['cors.error=header_not_allowed'],
    ],
  ])('%s', async (_name, status, headers, expected) => {
    const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as OutgoingHttpHeaders;
    const s = await preflight(status, clean);
    const r = await run(s.port);
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(expected);
    expect(r.signals[0]?.excerpt).toMatch(/^OPTIONS http:\/\/127\.0\.0\.1:\d+\/api\/orders \(Origin: https:\/\/app\.example\.com\) → /);
  });

  it("'*' without credentials and with authorization listed is fine", async () => {
    const s = await preflight(200, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'authorization, *' });
    const r = await run(s.port);
    expect(r.status).toBe('ok');
  });

  it('a method the answer does not list → method_not_allowed', async () => {
    const seen: IncomingMessage[] = [];
    const s = await preflight(204, { ...good, 'Access-Control-Allow-Methods': 'GET, POST' }, seen);
    const r = await run(s.port, createCorsProbe({ method: 'delete' }));
    expect(seen[0]?.headers['access-control-request-method']).toBe('DELETE');
    expect(keys(r)).toEqual(['cors.error=method_not_allowed']);
  });

  it('never prints the credentials of the target', async () => {
    const s = await preflight(401, { 'WWW-Authenticate': 'Bearer' });
    const r = await run(s.port);
    expect(JSON.stringify(r)).not.toContain('secrettoken123456');
  });

  it('a restrictive policy refuses 127.0.0.1 without connecting', async () => {
    const s = await startSilentServer();
    try {
      const r = await corsProbe.run(makeContext({ url: `http://127.0.0.1:${s.port}/`, origin: ORIGIN }, { policy: restrictivePolicy }));
      expect(r.status).toBe('refused');
      expect(s.connections()).toBe(0);
    } finally {
      await s.close();
    }
  });
});
