import { afterEach, describe, expect, it } from 'vitest';
import { tcpProbe } from '../../src/probes/tcp.js';
import { classifySocketError } from '../../src/probes/support/socket.js';
import {
  closedPort,
  makeContext,
  makeTarget,
  recordingPolicy,
  restrictivePolicy,
  startBlackhole,
  startResettingServer,
  startSilentServer,
  type LocalServer,
} from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function server(start: () => Promise<LocalServer>) {
  const s = await start();
  cleanups.push(() => s.close());
  return s;
}
const signal = (r: { signals: readonly { name: string; value?: string }[] }, name: string) => r.signals.find((s) => s.name === name)?.value;

describe('tcp probe', () => {
  it('connects and times the connect, with no idle wait after it', async () => {
    const s = await server(startSilentServer);
    const started = performance.now();
    const result = await tcpProbe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(performance.now() - started, 'no watch for a drop on a timer (it was 20-100 ms)').toBeLessThan(60);
    expect(result.status).toBe('ok');
    expect(result.phases.connect).toBeTypeOf('number');
    expect(result.summary).toMatch(new RegExp(`^connected to 127\\.0\\.0\\.1:${s.port} in [\\d.]+ ms$`));
    expect(result.details.port).toBe(s.port);
    expect(result.signals).toEqual([]);
    expect(s.connections()).toBe(1);
  });

  it('connects to a name through the pinned address and reports the resolve phase', async () => {
    const s = await server(startSilentServer);
    const policy = recordingPolicy();
    const result = await tcpProbe.run(makeContext(`http://localhost:${s.port}/`, { policy }));
    // localhost may resolve to ::1 first on some systems; the pinned address is what was connected to.
    if (result.details.address === '127.0.0.1') {
      expect(result.status).toBe('ok');
      expect(s.connections()).toBe(1);
    }
    expect(policy.calls).toEqual([`check http://localhost:${s.port}/`]);
    expect(result.phases.resolve).toBeTypeOf('number');
  });

  it('tells a refused connect: net.error=connection_refused in the connect phase', async () => {
    const port = await closedPort();
    const result = await tcpProbe.run(makeContext(`http://127.0.0.1:${port}/`));
    expect(result.status).toBe('failed');
    expect(signal(result, 'net.error')).toBe('connection_refused');
    expect(signal(result, 'net.phase')).toBe('connect');
    expect(result.signals[0]!.excerpt).toMatch(
      new RegExp(`^connect to 127\\.0\\.0\\.1:${port} refused after [\\d.]+ ms \\(ECONNREFUSED\\)$`),
    );
    expect(result.signals.every((s) => s.source === 'tcp')).toBe(true);
  });

  it('tells a connect that gets no answer: net.error=connect_timeout', async () => {
    const hole = await startBlackhole();
    cleanups.push(() => hole.close());
    const started = performance.now();
    const result = await tcpProbe.run(makeContext(`http://127.0.0.1:${hole.port}/`, { limits: { timeoutMs: 800 } }));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(result.status).toBe('failed');
    expect(signal(result, 'net.error')).toBe('connect_timeout');
    expect(signal(result, 'net.phase')).toBe('connect');
    expect(result.summary).toMatch(/got no answer after/);
  });

  it('tells a reset that came with the accept: net.error=connection_reset, without waiting on a timer', async () => {
    const s = await server(() => startResettingServer('on-accept'));
    const started = performance.now();
    const result = await tcpProbe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(performance.now() - started).toBeLessThan(50);
    expect(result.status).toBe('failed');
    expect(signal(result, 'net.error')).toBe('connection_reset');
    // On loopback the RST can beat the connect event: either way it is a reset, in the connect phase.
    expect(signal(result, 'net.phase')).toBe('connect');
  });

  it('classifies unreachable errnos', () => {
    const err = (code: string) => Object.assign(new Error(`connect ${code} 10.9.9.9:443`), { code });
    expect(classifySocketError(err('EHOSTUNREACH')).kind).toBe('host_unreachable');
    expect(classifySocketError(err('ENETUNREACH')).kind).toBe('network_unreachable');
    expect(classifySocketError(err('ECONNRESET')).kind).toBe('connection_reset');
    expect(classifySocketError(err('ETIMEDOUT')).kind).toBe('connect_timeout');
    expect(classifySocketError(new Error('socket hang up')).kind).toBe('socket_hang_up');
  });

  it('is refused by a restrictive policy without a connection attempt', async () => {
    const s = await server(startSilentServer);
    const result = await tcpProbe.run(makeContext(`http://127.0.0.1:${s.port}/`, { policy: restrictivePolicy }));
    expect(result.status).toBe('refused');
    expect(result.summary).toMatch(/127\.0\.0\.1.*loopback.*refused.*PROBE_ALLOW/i);
    expect(result.signals).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.connections()).toBe(0);
  });

  it('reports a name that does not resolve as dns evidence, not a refusal', async () => {
    const result = await tcpProbe.run(makeContext('http://does-not-exist.invalid/', { limits: { timeoutMs: 3000 } }));
    expect(result.status).toBe('failed');
    expect(['dns_not_found', 'dns_temporary']).toContain(signal(result, 'net.error'));
    expect(signal(result, 'net.phase')).toBe('dns');
  });

  it('does not apply through a forward proxy (the connect probe covers that path)', () => {
    expect(tcpProbe.applies(makeTarget('http://example.com/'))).toBe(true);
    expect(tcpProbe.applies(makeTarget({ url: 'https://example.com/', proxy: 'http://127.0.0.1:3128' }))).toBe(false);
  });
});
