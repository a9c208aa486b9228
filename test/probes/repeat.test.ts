import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probes/probe.js';
import { quantile, repeatProbe, schedule, settledSeries } from '../../src/probes/repeat.js';
import { trusted } from '../../src/security/redact.js';
import { serve, type NodeServer } from '../lab/node-servers.js';
import { closedPort, makeContext, restrictivePolicy, startSilentServer, startTcpServer, type LocalServer } from './support.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function http(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<NodeServer> {
  const s = await serve(createHttpServer(handler));
  open.push(s);
  return s;
}

async function tcp(onSocket: Parameters<typeof startTcpServer>[0]): Promise<LocalServer> {
  const s = await startTcpServer(onSocket);
  open.push(s);
  return s;
}

const fast = { repeatCount: 8, repeatSpreadMs: 200, timeoutMs: 3000 };
const run = (port: number, limits: Record<string, number> = fast) =>
  repeatProbe.run(makeContext(`http://127.0.0.1:${port}/api`, { limits }));
const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));

describe('schedule and quantile', () => {
  it('alternates back-to-back requests with doubling pauses that sum to the spread', () => {
    expect(schedule(8, 4000)).toEqual([0, 571, 0, 1143, 0, 2286, 0]);
    expect(schedule(2, 1000)).toEqual([1000]);
    expect(schedule(1, 1000)).toEqual([]);
    expect(schedule(5, 300).reduce((a, b) => a + b, 0)).toBe(300);
  });

  it('nearest-rank quantiles', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 100];
    expect(quantile(v, 0.5)).toBe(4);
    expect(quantile(v, 0.95)).toBe(100);
    expect(quantile([], 0.5)).toBe(0);
  });
});

describe('repeat probe', () => {
  it('a healthy server: N×200 on one reused connection, ok, no signals', async () => {
    const s = await http((_req, res) => res.end('ok'));
    const r = await run(s.port);
    expect(r.status).toBe('ok');
    expect(r.details.mix).toBe('8×200');
    expect(r.details.sent).toBe(8);
    expect(r.signals).toEqual([]);
    expect((r.details.requests as readonly string[]).filter((l) => l.includes('reused connection')).length).toBeGreaterThanOrEqual(6);
    expect(r.details.p50Ms).toBeGreaterThanOrEqual(0);
  });

  it('spreads the requests over repeatSpreadMs', async () => {
    const s = await http((_req, res) => res.end('ok'));
    const started = performance.now();
    await run(s.port, { ...fast, repeatSpreadMs: 600 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
  });

  it('some 503s: intermittent, the status mix, overload', async () => {
    let n = 0;
    const s = await http((_req, res) => {
      n++;
      if (n % 3 === 0) res.writeHead(503).end('busy');
      else res.end('ok');
    });
    const r = await run(s.port);
    expect(r.status).toBe('failed');
    expect(r.details.mix).toBe('6×200, 2×503');
    expect(keys(r)).toEqual(expect.arrayContaining(['net.intermittent', 'http.status=503', 'limit.overload']));
    expect(r.signals.every((x) => x.source === 'repeat')).toBe(true);
  });

  it('429s → limit.rate', async () => {
    let n = 0;
    const s = await http((_req, res) => res.writeHead(++n > 4 ? 429 : 200).end());
    const r = await run(s.port);
    expect(keys(r)).toEqual(expect.arrayContaining(['limit.rate', 'http.status=429', 'net.intermittent']));
  });

  it('a server that resets reused connections: the keep-alive race', async () => {
    // Answers the first request of each connection, resets the connection on the second.
    const s = await tcp((socket) => {
      let requests = 0;
      let head = '';
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        while (head.includes('\r\n\r\n')) {
          head = head.slice(head.indexOf('\r\n\r\n') + 4);
          if (++requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
          else return socket.resetAndDestroy();
        }
      });
    });
    const r = await run(s.port);
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(expect.arrayContaining(['net.keepalive_race', 'net.intermittent', 'net.error=connection_reset']));
    expect(r.details.reusedResets).toBeGreaterThanOrEqual(3);
    expect(String(r.details.mix)).toMatch(/×200/);
    expect(String(r.details.mix)).toMatch(/×connection reset/);
  });

  it('a slow request among fast ones → net.latency_spread', async () => {
    let n = 0;
    const s = await http((_req, res) => {
      if (++n === 4) setTimeout(() => res.end('slow'), 300);
      else res.end('fast');
    });
    const r = await run(s.port, { ...fast, repeatCount: 8 });
    const spread = r.signals.find((x) => x.name === 'net.latency_spread');
    expect(Number(spread?.value)).toBeGreaterThanOrEqual(3);
    expect(spread?.excerpt).toMatch(/p50 [\d.]+ ms, p95 [\d.]+ ms/);
    expect(Number(r.details.maxMs)).toBeGreaterThanOrEqual(290);
  });

  it('a request that hangs times out on its own, the others go on', async () => {
    let n = 0;
    const s = await http((_req, res) => {
      if (++n !== 2) res.end('ok');
    });
    const r = await run(s.port, { repeatCount: 4, repeatSpreadMs: 100, timeoutMs: 1500 });
    expect(r.details.timeouts).toBe(1);
    expect(r.details.sent).toBe(4);
    expect(keys(r)).toEqual(expect.arrayContaining(['net.intermittent', 'net.error=read_timeout']));
  });

  it('nothing listening: every request refused', async () => {
    const port = await closedPort();
    const r = await run(port, { repeatCount: 3, repeatSpreadMs: 50, timeoutMs: 2000 });
    expect(r.details.mix).toBe('3×connection refused');
    expect(keys(r)).toEqual(['net.error=connection_refused']);
  });

  it('stops after three identical refusals: the rest cannot change the verdict', async () => {
    const port = await closedPort();
    const started = performance.now();
    const r = await run(port, { repeatCount: 8, repeatSpreadMs: 4000, timeoutMs: 10_000 });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(r.details).toMatchObject({ planned: 8, sent: 3, stoppedEarly: true, mix: '3×connection refused' });
    expect(r.summary).toMatch(/stopped after 3 identical answers/);
  });

  it('stops after three identical 401s, but goes on through 200s and 503s', async () => {
    const denied = await http((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
      res.end();
    });
    expect((await run(denied.port, { repeatCount: 6, repeatSpreadMs: 100 })).details.sent).toBe(3);
    const fine = await http((_req, res) => res.end('ok'));
    expect((await run(fine.port, { repeatCount: 6, repeatSpreadMs: 100 })).details.sent).toBe(6);
    const busy = await http((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    expect((await run(busy.port, { repeatCount: 6, repeatSpreadMs: 100 })).details.sent).toBe(6);
  });

  it('settledSeries: the first outcomes are one deterministic answer', () => {
    const refused = { failure: { net: 'connection_refused', phase: 'connect', message: trusted('x'), bytesReceived: 0 } as const };
    const timeout = {
      failure: { net: 'read_timeout', phase: 'response_header', timedOut: true, message: trusted('x'), bytesReceived: 0 } as const,
    };
    expect(settledSeries([refused, refused], 3)).toBe(false);
    expect(settledSeries([refused, refused, refused], 3)).toBe(true);
    expect(settledSeries([refused, { status: 200 }, refused], 3)).toBe(false);
    expect(settledSeries([timeout, timeout, timeout], 3)).toBe(false);
    expect(settledSeries([{ status: 404 }, { status: 404 }, { status: 404 }], 3)).toBe(true);
    expect(settledSeries([{ status: 429 }, { status: 429 }, { status: 429 }], 3)).toBe(false);
  });

  it('stops at once when the caller aborts between requests', async () => {
    const s = await http((_req, res) => res.end('ok'));
    const controller = new AbortController();
    const running = repeatProbe.run(
      makeContext(`http://127.0.0.1:${s.port}/`, { signal: controller.signal, limits: { repeatSpreadMs: 4000, timeoutMs: 20_000 } }),
    );
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    const r = await running;
    expect(performance.now() - started).toBeLessThan(500);
    expect(r.signals).toEqual([]);
  });

  it('a restrictive policy refuses 127.0.0.1 without connecting', async () => {
    const s = await startSilentServer();
    open.push(s);
    const r = await repeatProbe.run(makeContext(`http://127.0.0.1:${s.port}/`, { policy: restrictivePolicy }));
    expect(r.status).toBe('refused');
    expect(s.connections()).toBe(0);
  });
});
