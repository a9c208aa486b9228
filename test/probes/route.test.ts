/**
 * Every HTTP-level probe goes the target's route: through its forward proxy (CONNECT for https://,
 * absolute-form for http://) and says so; a CONNECT the proxy does not understand decides the
 * answer, with no TLS symptom after it. Real local proxies and origins.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthProbe } from '../../src/probes/auth.js';
import { createCorsProbe } from '../../src/probes/cors.js';
import { createHttpProbe } from '../../src/probes/http.js';
import { createProbes } from '../../src/probes/index.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { createRepeatProbe } from '../../src/probes/repeat.js';
import { runProbes } from '../../src/probes/run.js';
import { createEngine } from '../../src/triage/engine.js';
import { deriveSignals } from '../../src/probes/derive.js';
import { labCerts, type LabCerts } from '../lab/certs.js';
import { allowAllPolicy, makeContext, makeTarget, restrictivePolicy, startCannedProxy, startForwardProxy } from './support.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function serve(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) });
  return (server.address() as AddressInfo).port;
}
async function proxy(auth?: string) {
  const p = await startForwardProxy(auth ? { auth } : {});
  open.push(p);
  return p;
}
const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));
const SECRET = 'pr0xy-s3cret';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

let certs: LabCerts;
beforeAll(async () => {
  certs = await labCerts();
});

describe('http:// through a proxy: absolute-form requests', () => {
  it('the http probe asks the proxy in absolute form, with the proxy credentials, and says so', async () => {
    const seenByOrigin: IncomingHttpHeaders[] = [];
    const origin = await serve(createHttpServer((req, res) => (seenByOrigin.push(req.headers), res.end('fine'))));
    const p = await proxy(basic('alice', SECRET));
    const target = { url: `http://127.0.0.1:${origin}/health?x=1`, proxy: `http://alice:${SECRET}@127.0.0.1:${p.port}` };
    const r = await createHttpProbe({ extractors: [] }).run(makeContext(target));
    expect(r.status).toBe('ok');
    expect(p.seen).toEqual([expect.objectContaining({ method: 'GET', url: `http://127.0.0.1:${origin}/health?x=1` })]);
    expect(p.seen[0]!.headers['proxy-authorization']).toBe(basic('alice', SECRET));
    expect(r.route).toBe(`proxy http://127.0.0.1:${p.port} (absolute-form GET)`);
    expect(r.details.address).toBe(`127.0.0.1:${p.port}`);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('a 407 from the proxy is proxy.auth_required', async () => {
    const origin = await serve(createHttpServer((_req, res) => res.end('fine')));
    const p = await proxy(basic('alice', SECRET));
    const r = await createHttpProbe().run(makeContext({ url: `http://127.0.0.1:${origin}/`, proxy: `http://127.0.0.1:${p.port}` }));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=407', 'proxy.auth_required', 'squid.error=ERR_CACHE_ACCESS_DENIED']));
  });

  it('a proxy that refuses the connection is named as the proxy, not as the URL host', async () => {
    const p = await proxy();
    const port = p.port;
    await p.close();
    const r = await createHttpProbe({ extractors: [] }).run(makeContext({ url: 'http://127.0.0.1:9/', proxy: `http://127.0.0.1:${port}` }));
    expect(keys(r)).toContain('net.error=connection_refused');
    expect(r.summary).toMatch(new RegExp(`connect to proxy 127\\.0\\.0\\.1:${port} refused`));
  });
});

describe('https:// through a proxy: CONNECT, then TLS with the origin in the tunnel', () => {
  const origin = async (onHeaders?: (h: IncomingHttpHeaders) => void) =>
    serve(
      createHttpsServer({ cert: certs.valid.cert, key: certs.valid.key }, (req, res) => {
        onHeaders?.(req.headers);
        res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="api"' }).end('no token');
      }),
    );

  it('http, auth and cors go through the tunnel; the proxy credentials stay with CONNECT', async () => {
    const originSaw: IncomingHttpHeaders[] = [];
    const port = await origin((h) => originSaw.push(h));
    const p = await proxy(basic('alice', SECRET));
    const target = makeTarget({
      url: `https://127.0.0.1:${port}/me`,
      proxy: `http://alice:${SECRET}@127.0.0.1:${p.port}`,
      origin: 'https://app.example.com',
    });
    const ca = [certs.ca.cert];
    const results = await runProbes([createHttpProbe({ ca, extractors: [] }), createAuthProbe({ ca }), createCorsProbe({ ca })], target, {
      policy: allowAllPolicy,
    });
    const [http, auth, cors] = results;
    expect(http!.route).toBe(`proxy http://127.0.0.1:${p.port} (CONNECT 127.0.0.1:${port})`);
    expect(cors!.route).toBe(`proxy http://127.0.0.1:${p.port} (CONNECT 127.0.0.1:${port})`);
    expect(keys(http!)).toContain('http.status=401');
    expect(keys(auth!)).toContain('auth.error=missing_credentials');
    expect(http!.phases).toMatchObject({ connect: expect.any(Number), tunnel: expect.any(Number), tls: expect.any(Number) });
    // http and auth share one GET; cors sends its OPTIONS: two tunnels.
    expect(p.seen.map((s) => s.method)).toEqual(['CONNECT', 'CONNECT']);
    expect(p.seen.every((s) => s.headers['proxy-authorization'] === basic('alice', SECRET))).toBe(true);
    expect(originSaw.every((h) => h['proxy-authorization'] === undefined)).toBe(true);
    expect(JSON.stringify(results)).not.toContain(SECRET);
  });

  it('the repeat probe keeps one tunnel open for its requests, as a client pool does', async () => {
    const port = await serve(createHttpsServer({ cert: certs.valid.cert, key: certs.valid.key }, (_req, res) => res.end('ok')));
    const p = await proxy();
    const r = await createRepeatProbe({ ca: [certs.ca.cert] }).run(
      makeContext(
        { url: `https://127.0.0.1:${port}/`, proxy: `http://127.0.0.1:${p.port}` },
        { limits: { repeatCount: 4, repeatSpreadMs: 100 } },
      ),
    );
    expect(r.details.mix).toBe('4×200');
    expect(p.seen.map((s) => s.method)).toEqual(['CONNECT']);
    expect(r.route).toMatch(/^proxy http:\/\/127\.0\.0\.1:\d+ \(CONNECT 127\.0\.0\.1:\d+\)$/);
  });

  it('an origin certificate problem behind a working proxy is still a TLS finding', async () => {
    const port = await serve(createHttpsServer({ cert: certs.expired.cert, key: certs.expired.key }, (_req, res) => res.end('ok')));
    const p = await proxy();
    const r = await createHttpProbe({ ca: [certs.ca.cert] }).run(
      makeContext({ url: `https://127.0.0.1:${port}/`, proxy: `http://127.0.0.1:${p.port}` }),
    );
    expect(keys(r)).toEqual(expect.arrayContaining(['tls.error=cert_expired', 'net.phase=tls']));
  });

  it('a restrictive policy refuses a loopback proxy without connecting to it', async () => {
    const p = await proxy();
    const r = await createHttpProbe().run(
      makeContext({ url: 'https://example.com/', proxy: `http://127.0.0.1:${p.port}` }, { policy: restrictivePolicy }),
    );
    expect(r.status).toBe('refused');
    expect(p.seen).toEqual([]);
  });
});

describe('a CONNECT the proxy does not understand decides the answer', () => {
  const engine = createEngine();
  const page = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  const cases: [string, string | 'reset' | 'close', RegExp][] = [
    ['400 page', page('400 Bad Request', '<html><title>400 Bad Request</title></html>'), /connect\.status=400/],
    ['405', page('405 Method Not Allowed', '<h1>Method Not Allowed</h1>'), /connect\.unsupported/],
    ['501', page('501 Not Implemented', "Unsupported method ('CONNECT')"), /connect\.unsupported/],
    ['200 with a web page', page('200 OK', '<html><body><h1>Welcome</h1></body></html>'), /connect\.unsupported/],
    ['a reset', 'reset', /connect\.reset_after/],
    ['a close', 'close', /connect\.reset_after/],
  ];
  for (const [name, answer, expected] of cases) {
    it(`${name}: ${expected.source.replace(/\\/g, '')}, connect-unsupported or connect-malformed first, no TLS symptom`, async () => {
      const s = await startCannedProxy(answer);
      open.push(s);
      // An origin nobody reaches: any TLS symptom would have to be invented.
      const target = makeTarget({ url: 'https://127.0.0.1:9/api', proxy: `http://127.0.0.1:${s.port}` });
      const probes = createProbes({ extraCaPems: [] }).filter((p) => ['connect', 'http', 'auth'].includes(p.name));
      const results = await runProbes(probes, target, { policy: allowAllPolicy });
      const all = results.flatMap(keys);
      expect(all.join(' ')).toMatch(expected);
      expect(all.filter((k) => k.startsWith('tls.'))).toEqual([]);
      const d = engine.rankSignals([...results.flatMap((r) => r.signals), ...deriveSignals(results)]);
      expect(['connect-unsupported', 'connect-malformed'], d.causes.map((c) => `${c.id}:${c.score}`).join(' ')).toContain(d.causes[0]?.id);
    });
  }
});
