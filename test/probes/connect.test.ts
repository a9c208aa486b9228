import { once } from 'node:events';
import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Server } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectProbe, createConnectProbe } from '../../src/probes/connect.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { labCerts, type LabCerts } from '../lab/certs.js';
import {
  closedPort,
  makeContext,
  makeTarget,
  restrictivePolicy,
  startCannedProxy,
  startForwardProxy,
  startSilentServer,
} from './support.js';

const proxies: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
/** A forward proxy closed after the test. */
async function startProxy(opts: { auth?: string } = {}): ReturnType<typeof startForwardProxy> {
  const p = await startForwardProxy(opts);
  proxies.push(p);
  return p;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s instanceof HttpServer) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
async function listen<T extends Server>(server: T): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

const value = (r: ProbeResult, name: string) => r.signals.find((s) => s.name === name)?.value;
const has = (r: ProbeResult, name: string) => r.signals.some((s) => s.name === name);

describe('connect probe', () => {
  let certs: LabCerts;
  let probe: ReturnType<typeof createConnectProbe>;
  let originPort: number;
  beforeAll(async () => {
    certs = await labCerts();
    probe = createConnectProbe({ extraCaPems: [certs.ca.cert] });
  });
  const startOrigin = async (cert = certs.valid) => {
    originPort = await listen(createHttpsServer({ cert: cert.cert, key: cert.key }, (_q, r) => r.end('origin')));
    return originPort;
  };

  it('tunnels through the proxy and handshakes with the origin: connect, tunnel and tls phases', async () => {
    const origin = await startOrigin();
    const proxy = await startProxy();
    const result = await probe.run(makeContext({ url: `https://127.0.0.1:${origin}/api`, proxy: `http://127.0.0.1:${proxy.port}` }));
    expect(result.status).toBe('ok');
    expect(proxy.seen[0]).toMatchObject({ method: 'CONNECT', url: `127.0.0.1:${origin}` });
    expect(proxy.seen[0]!.headers.host).toBe(`127.0.0.1:${origin}`);
    expect(value(result, 'connect.status')).toBe('200');
    expect(has(result, 'connect.sent')).toBe(true);
    expect(has(result, 'connect.nonstandard_port')).toBe(true);
    expect(result.signals.filter((s) => s.name === 'tls.error')).toEqual([]);
    expect(result.phases.connect).toBeTypeOf('number');
    expect(result.phases.tunnel).toBeTypeOf('number');
    expect(result.phases.tls).toBeTypeOf('number');
    expect(result.details['tls.protocol']).toBe('TLSv1.3');
    expect(result.details['tls.subject']).toBe('CN=127.0.0.1');
    expect(result.summary).toMatch(/CONNECT 127\.0\.0\.1:\d+ → 200 in .*TLS with origin 127\.0\.0\.1:\d+ through the tunnel: TLSv1\.3/);
  });

  it('sends Basic Proxy-Authorization from the proxy URL, and never prints it', async () => {
    const origin = await startOrigin();
    const expected = `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`;
    const proxy = await startProxy({ auth: expected });
    const result = await probe.run(
      makeContext({ url: `https://127.0.0.1:${origin}/`, proxy: `http://alice:p%40ss%20word@127.0.0.1:${proxy.port}` }),
    );
    expect(proxy.seen[0]!.headers['proxy-authorization']).toBe(expected);
    expect(result.status).toBe('ok');
    expect(result.details.authSent).toBe(true);
    const json = JSON.stringify(result);
    expect(json).not.toContain('p@ss');
    expect(json).not.toContain('p%40ss');
    expect(json).not.toContain(Buffer.from('alice:p@ss word').toString('base64'));
  });

  it('tells a proxy that wants credentials: 407, proxy.auth_required, squid.error, http.server', async () => {
    const origin = await startOrigin();
    const proxy = await startProxy({ auth: 'Basic x' });
    const result = await probe.run(makeContext({ url: `https://127.0.0.1:${origin}/`, proxy: `http://127.0.0.1:${proxy.port}` }));
    expect(result.status).toBe('failed');
    expect(value(result, 'connect.status')).toBe('407');
    expect(has(result, 'proxy.auth_required')).toBe(true);
    expect(result.signals.find((s) => s.name === 'proxy.auth_required')!.excerpt).toMatch(/Proxy-Authenticate: Basic/);
    expect(value(result, 'squid.error')).toBe('ERR_CACHE_ACCESS_DENIED');
    expect(value(result, 'http.server')).toBe('squid');
    expect(result.details.authSent).toBe(false);
  });

  const canned: [string, string, Record<string, string | true>][] = [
    [
      '405 from nginx',
      'HTTP/1.1 405 Not Allowed\r\nServer: nginx/1.24.0\r\nContent-Type: text/html\r\nContent-Length: 157\r\n\r\n<html><head><title>405 Not Allowed</title></head><body><center><h1>405 Not Allowed</h1></center><hr><center>nginx/1.24.0</center></body></html>\r\n',
      { 'connect.status': '405', 'connect.unsupported': true, 'http.server': 'nginx' },
    ],
    [
      '501 Not Implemented',
      'HTTP/1.0 501 Not Implemented\r\nContent-Length: 0\r\n\r\n',
      { 'connect.status': '501', 'connect.unsupported': true },
    ],
    [
      '400 from nginx',
      'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n',
      { 'connect.status': '400', 'http.server': 'nginx' },
    ],
    [
      '403 tinyproxy port deny',
      'HTTP/1.0 403 Access violation\r\nServer: tinyproxy/1.11.1\r\nContent-Type: text/html\r\n\r\n<html><body><h1>Access violation</h1><p>Refused CONNECT method on port 8443</p></body></html>',
      { 'connect.status': '403', 'connect.port_denied': true, 'http.server': 'tinyproxy' },
    ],
    [
      '403 squid ACL',
      'HTTP/1.1 403 Forbidden\r\nServer: squid/6.6\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 0\r\n\r\n',
      { 'connect.status': '403', 'squid.error': 'ERR_ACCESS_DENIED', 'http.server': 'squid' },
    ],
    [
      '502 from squid',
      'HTTP/1.1 502 Bad Gateway\r\nServer: squid\r\nX-Squid-Error: ERR_CONNECT_FAIL 111\r\nContent-Length: 0\r\n\r\n',
      { 'connect.status': '502', 'squid.error': 'ERR_CONNECT_FAIL' },
    ],
  ];
  it.each(canned)('tells the proxy answer apart: %s', async (_name, response, expected) => {
    const s = await startCannedProxy(response);
    try {
      const result = await connectProbe.run(makeContext({ url: 'https://api.example.com:8443/', proxy: `http://127.0.0.1:${s.port}` }));
      expect(result.status).toBe('failed');
      for (const [name, v] of Object.entries(expected)) {
        if (v === true) expect(has(result, name), name).toBe(true);
        else expect(value(result, name), name).toBe(v);
      }
      expect(has(result, 'connect.reset_after')).toBe(false);
      expect(result.summary).toMatch(/refused CONNECT api\.example\.com:8443: HTTP\/1\.\d \d{3}/);
      if (!('connect.unsupported' in expected)) expect(has(result, 'connect.unsupported')).toBe(false);
    } finally {
      await s.close();
    }
  });

  it.each(['reset', 'close'] as const)('tells a %s right after CONNECT: connect.reset_after + net.error=connection_reset', async (how) => {
    const s = await startCannedProxy(how);
    try {
      const result = await connectProbe.run(makeContext({ url: 'https://api.example.com/', proxy: `http://127.0.0.1:${s.port}` }));
      expect(result.status).toBe('failed');
      expect(has(result, 'connect.reset_after')).toBe(true);
      expect(value(result, 'net.error')).toBe('connection_reset');
      expect(has(result, 'connect.status')).toBe(false);
      expect(result.details.closedBy).toBe(how);
    } finally {
      await s.close();
    }
  });

  it('gives the origin certificate verdict through the tunnel', async () => {
    const origin = await startOrigin(certs.expired);
    const proxy = await startProxy();
    const result = await probe.run(makeContext({ url: `https://127.0.0.1:${origin}/`, proxy: `http://127.0.0.1:${proxy.port}` }));
    expect(result.status).toBe('failed');
    expect(value(result, 'connect.status')).toBe('200');
    expect(value(result, 'tls.error')).toBe('cert_expired');
    expect(result.signals.find((s) => s.name === 'tls.error')!.excerpt).toMatch(/through the tunnel: certificate 127\.0\.0\.1 expired/);
  });

  it('tells a tunnel to a port that speaks plain HTTP', async () => {
    const plain = await listen(createHttpServer((_q, r) => r.end('plain')));
    const proxy = await startProxy();
    const result = await probe.run(makeContext({ url: `https://127.0.0.1:${plain}/`, proxy: `http://127.0.0.1:${proxy.port}` }));
    expect(value(result, 'connect.status')).toBe('200');
    expect(value(result, 'tls.error')).toBe('wrong_version_number');
  });

  it('tells a proxy that refuses the TCP connection', async () => {
    const port = await closedPort();
    const result = await connectProbe.run(makeContext({ url: 'https://api.example.com/', proxy: `http://127.0.0.1:${port}` }));
    expect(value(result, 'net.error')).toBe('connection_refused');
    expect(value(result, 'net.phase')).toBe('connect');
    expect(result.summary).toMatch(/^connect to proxy 127\.0\.0\.1:\d+ failed after/);
  });

  it('tells an https:// proxy URL for a plain HTTP proxy: tls.error=wrong_version_number', async () => {
    const proxy = await startProxy();
    const result = await connectProbe.run(makeContext({ url: 'https://api.example.com/', proxy: `https://127.0.0.1:${proxy.port}` }));
    expect(value(result, 'tls.error')).toBe('wrong_version_number');
    expect(result.signals.find((s) => s.name === 'tls.error')!.excerpt).toMatch(/proxy 127\.0\.0\.1/);
  });

  it('tells a proxy that never answers CONNECT: read_timeout', async () => {
    const s = await startSilentServer();
    try {
      const result = await connectProbe.run(
        makeContext({ url: 'https://api.example.com/', proxy: `http://127.0.0.1:${s.port}` }, { limits: { timeoutMs: 600 } }),
      );
      expect(value(result, 'net.error')).toBe('read_timeout');
      expect(has(result, 'connect.sent')).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('sends the pinned address in CONNECT under a restrictive policy', async () => {
    const proxy = await startProxy();
    const policy = createSsrfPolicy({ allow: '127.0.0.0/8, ::1/128' });
    await probe.run(makeContext({ url: 'https://localhost:9/', proxy: `http://127.0.0.1:${proxy.port}` }, { policy }));
    expect(proxy.seen[0]!.url).toMatch(/^(127\.0\.0\.1|\[::1\]):9$/);
  });

  it('is refused by a restrictive policy without a connection to the proxy', async () => {
    const s = await startSilentServer();
    try {
      const result = await connectProbe.run(
        makeContext({ url: 'https://api.example.com/', proxy: `http://127.0.0.1:${s.port}` }, { policy: restrictivePolicy }),
      );
      expect(result.status).toBe('refused');
      expect(result.summary).toMatch(/proxy 127\.0\.0\.1.*refused/);
      expect(s.connections()).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('applies only with a proxy, to https:// targets (http:// goes through the proxy in absolute form in the http probe)', () => {
    expect(connectProbe.applies(makeTarget('https://example.com/'))).toBe(false);
    expect(connectProbe.applies(makeTarget({ url: 'https://example.com/', proxy: 'http://proxy:3128' }))).toBe(true);
    expect(connectProbe.applies(makeTarget({ url: 'http://example.com/', proxy: 'http://proxy:3128' }))).toBe(false);
  });
});
