import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probes/probe.js';
import { createUpstreamProbe, upstreamProbe } from '../../src/probes/upstream.js';
import { serve, type NodeServer } from '../lab/node-servers.js';
import {
  closedPort,
  makeContext,
  recordingPolicy,
  restrictivePolicy,
  startResettingServer,
  startSilentServer,
  startTcpServer,
  type LocalServer,
} from './support.js';

const probe = createUpstreamProbe({ extractors: [] });

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function http(handler: (req: IncomingMessage, res: ServerResponse) => void, keepAliveTimeout?: number): Promise<NodeServer> {
  const server = createHttpServer(handler);
  if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
  const s = await serve(server);
  open.push(s);
  return s;
}

async function tcp(onSocket: Parameters<typeof startTcpServer>[0]): Promise<LocalServer> {
  const s = await startTcpServer(onSocket);
  open.push(s);
  return s;
}

/** Answer every request head with `response` (the socket stays open unless `end`). */
const raw = (response: string, end = true) =>
  tcp((socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      if (end) socket.end(response);
      else socket.write(response);
    });
  });

const ctxFor = (port: number, limits = {}, extra: Parameters<typeof makeContext>[1] = {}) =>
  makeContext({ url: 'http://shop.example.com/api/orders?page=2', upstream: { host: '127.0.0.1', port } }, { limits, ...extra });

const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));

describe('upstream probe', () => {
  it('applies only with an upstream', () => {
    expect(upstreamProbe.applies(makeContext('http://127.0.0.1/').target)).toBe(false);
    expect(upstreamProbe.applies(ctxFor(80).target)).toBe(true);
  });

  it('sends the same path with the Host of the URL, straight to the backend (no DNS for the URL)', async () => {
    let seen: { host?: string; url?: string } = {};
    const s = await http((req, res) => {
      seen = { host: req.headers.host, url: req.url };
      res.writeHead(200, { Connection: 'close' }).end('ok');
    });
    const policy = recordingPolicy();
    const r = await probe.run(ctxFor(s.port, {}, { policy }));
    expect(r.status).toBe('ok');
    expect(seen).toEqual({ host: 'shop.example.com', url: '/api/orders?page=2' });
    expect(policy.calls).toEqual([`checkConnectTarget 127.0.0.1:${s.port}`]);
    expect(r.signals.every((x) => x.source === 'upstream')).toBe(true);
    expect(r.details.keepAlive).toBe(false);
  });

  it('a backend that refuses → upstream-refused evidence', async () => {
    const port = await closedPort();
    const r = await probe.run(ctxFor(port));
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual([
      'net.error=connection_refused',
      'net.phase=connect',
      'proxy.upstream_error=connection_refused',
      'proxy.upstream_phase=connecting',
    ]);
    expect(r.signals[0]?.excerpt).toMatch(new RegExp(`^connect to 127\\.0\\.0\\.1:${port} refused after [\\d.]+ ms$`));
  });

  it('a backend that accepts and closes without an answer → empty reply, prematurely closed', async () => {
    const s = await tcp((socket) => socket.once('data', () => socket.end()));
    const r = await probe.run(ctxFor(s.port));
    expect(keys(r)).toEqual([
      'net.error=empty_reply',
      'net.phase=response_header',
      'proxy.upstream_error=prematurely_closed',
      'proxy.upstream_phase=reading_response_header',
    ]);
  });

  it('a backend that resets → connection reset, prematurely closed', async () => {
    const s = await startResettingServer('on-data');
    open.push(s);
    const r = await probe.run(ctxFor(s.port));
    expect(keys(r)).toEqual(expect.arrayContaining(['net.error=connection_reset', 'proxy.upstream_error=prematurely_closed']));
  });

  it('a backend that dies in the middle of the body', async () => {
    const s = await raw('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial');
    const r = await probe.run(ctxFor(s.port));
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(
      expect.arrayContaining([
        'http.status=200',
        'net.error=unexpected_eof',
        'proxy.upstream_error=prematurely_closed',
        'proxy.upstream_phase=reading_response_body',
      ]),
    );
  });

  it('a slow backend: time to first byte and timing.duration_s', async () => {
    const s = await http((_req, res) => {
      setTimeout(() => res.writeHead(200, { Connection: 'close' }).end('late'), 300);
    });
    const r = await createUpstreamProbe({ extractors: [], slowMs: 200 }).run(ctxFor(s.port));
    expect(r.status).toBe('ok');
    expect(r.details.firstByteMs).toBeGreaterThanOrEqual(290);
    const d = r.signals.find((x) => x.name === 'timing.duration_s');
    expect(Number(d?.value)).toBeGreaterThanOrEqual(0.29);
    expect(d?.excerpt).toMatch(/to the first byte/);
  });

  it('a backend that never answers → read timeout', async () => {
    const s = await startSilentServer();
    open.push(s);
    const r = await probe.run(ctxFor(s.port, { timeoutMs: 400 }));
    expect(keys(r)).toEqual(
      expect.arrayContaining([
        'net.error=read_timeout',
        'proxy.upstream_error=read_timeout',
        'proxy.upstream_phase=reading_response_header',
      ]),
    );
    expect(Number(r.signals.find((x) => x.name === 'timing.duration_s')?.value)).toBeGreaterThanOrEqual(0.3);
  });

  it('invalid headers → invalid_header; a huge header → too_big_header', async () => {
    const bad = await raw('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n');
    const r1 = await probe.run(ctxFor(bad.port));
    expect(keys(r1)).toEqual(expect.arrayContaining(['net.error=proto_error', 'proxy.upstream_error=invalid_header']));
    expect(r1.details.code).toBe('HPE_INVALID_HEADER_TOKEN');
    const big = await raw(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const r2 = await probe.run(ctxFor(big.port));
    expect(keys(r2)).toContain('proxy.upstream_error=too_big_header');
  });

  it("a backend's 503 with Retry-After is load shedding", async () => {
    const s = await http((_req, res) => res.writeHead(503, { 'Retry-After': '5', Connection: 'close' }).end('busy'));
    const r = await probe.run(ctxFor(s.port));
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=503', 'limit.overload', 'http.retry_after=5']));
  });

  it("measures the backend's keep-alive idle timeout and flags it as shorter than the proxies'", async () => {
    // Node 20 closes an idle connection keepAliveTimeout + 1 s after the response (its timeout buffer).
    const s = await http((_req, res) => res.end('ok'), 200);
    const started = performance.now();
    const r = await probe.run(ctxFor(s.port, { timeoutMs: 5000 }));
    expect(performance.now() - started).toBeLessThan(2500);
    expect(r.status).toBe('ok');
    const idle = r.signals.find((x) => x.name === 'probe.upstream_idle_timeout_ms');
    expect(Number(idle?.value)).toBeGreaterThanOrEqual(150);
    expect(Number(idle?.value)).toBeLessThan(1800);
    expect(idle?.excerpt).toMatch(/^127\.0\.0\.1:\d+ closed an idle keep-alive connection after [\d.]+ s \(Keep-Alive: timeout=0\)$/);
    const intermittent = r.signals.find((x) => x.name === 'net.intermittent');
    expect(intermittent?.excerpt).toMatch(/idle timeout \([\d.]+ s\) is shorter than .*\(10 s\).*60 s/);
    expect(r.details.idleTimeoutMs).toBe(Number(idle?.value));
  });

  it('a backend that keeps idle connections open past the wait reports a lower bound, no signal', async () => {
    const s = await raw('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', false);
    const r = await createUpstreamProbe({ extractors: [], maxIdleWaitMs: 300 }).run(ctxFor(s.port));
    expect(r.status).toBe('ok');
    expect(r.details.idleTimeoutMs).toMatch(/^> 0\.[34]\d? s$/);
    expect(keys(r)).toEqual(['http.status=200']);
    await s.allClosed();
  });

  it('does not wait for an idle close after a slow answer: the slowness is the finding', async () => {
    const s = await http((_req, res) => void setTimeout(() => res.end('late'), 300), 60_000);
    const started = performance.now();
    const r = await createUpstreamProbe({ extractors: [], slowMs: 200 }).run(ctxFor(s.port, { timeoutMs: 5000 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.details.idleTimeoutMs).toBeUndefined();
    expect(keys(r)).not.toContain('probe.upstream_idle_timeout_ms');
  });

  it('stops watching for the idle close when the run has settled its answer, and says so', async () => {
    const s = await http((_req, res) => res.end('ok'), 60_000);
    const settled = new AbortController();
    setTimeout(() => settled.abort(), 200);
    const started = performance.now();
    const r = await probe.run({ ...ctxFor(s.port, { timeoutMs: 5000 }), settled: settled.signal });
    expect(performance.now() - started).toBeLessThan(800);
    expect(r.details.idleTimeoutMs).toMatch(/^not measured: the answer did not depend on it/);
    expect(keys(r)).toEqual(['http.status=200']);
  });

  it('a restrictive policy refuses 127.0.0.1 without connecting', async () => {
    const s = await startSilentServer();
    open.push(s);
    const r = await probe.run(ctxFor(s.port, {}, { policy: restrictivePolicy }));
    expect(r.status).toBe('refused');
    expect(String(r.summary)).toMatch(/loopback/);
    expect(s.connections()).toBe(0);
  });
});
