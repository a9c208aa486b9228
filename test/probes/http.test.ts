import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudExtractor } from '../../src/evidence/cloud.js';
import { envoyExtractor } from '../../src/evidence/envoy.js';
import { haproxyExtractor } from '../../src/evidence/haproxy.js';
import { httpExtractor } from '../../src/evidence/http.js';
import { nginxExtractor } from '../../src/evidence/nginx.js';
import { squidExtractor } from '../../src/evidence/squid.js';
import type { Signal } from '../../src/evidence/signal.js';
import { createHttpProbe } from '../../src/probes/http.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { labCerts, type LabCerts } from '../lab/certs.js';
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

const EXTRACTORS = [httpExtractor, nginxExtractor, haproxyExtractor, envoyExtractor, squidExtractor, cloudExtractor];
const probe = createHttpProbe({ extractors: EXTRACTORS });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function http(handler: Handler): Promise<NodeServer> {
  const s = await serve(createHttpServer(handler));
  open.push(s);
  return s;
}

async function tcp(onSocket: Parameters<typeof startTcpServer>[0]): Promise<LocalServer> {
  const s = await startTcpServer(onSocket);
  open.push(s);
  return s;
}

/** A raw server answering every request head with `response` and closing. */
const raw = (response: string) =>
  tcp((socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(response);
    });
  });

const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));
const find = (r: ProbeResult, name: string): Signal | undefined => r.signals.find((s) => s.name === name);

describe('http probe: responses', () => {
  it('reads a healthy 200 with its phases and headers', async () => {
    const s = await http((_req, res) => {
      res.writeHead(200, { Server: 'gunicorn', 'Content-Type': 'text/plain', 'X-Other': 'not shown' });
      res.end('hello');
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/health`));
    expect(r.status).toBe('ok');
    expect(keys(r)).toContain('http.status=200');
    expect(r.details.status).toBe(200);
    expect(r.details.headers).toEqual(['server: gunicorn', 'content-type: text/plain']);
    expect(r.details.body).toBe('hello');
    expect(r.phases.resolve).toBeGreaterThanOrEqual(0);
    expect(r.phases.connect).toBeGreaterThanOrEqual(0);
    expect(r.phases.processing).toBeGreaterThanOrEqual(0);
    expect(r.phases.transfer).toBeGreaterThanOrEqual(0);
    expect(r.phases.tls).toBeUndefined();
    expect(find(r, 'http.status')?.excerpt).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/health → 200 OK after [\d.]+ ms$/);
  });

  it('sends target.headers and the Host of the URL', async () => {
    let seen: IncomingMessage['headers'] = {};
    const s = await http((req, res) => {
      seen = req.headers;
      res.end('ok');
    });
    await probe.run(makeContext({ url: `http://127.0.0.1:${s.port}/`, headers: [['X-Tenant', 'blue']] }));
    expect(seen['x-tenant']).toBe('blue');
    expect(seen.host).toBe(`127.0.0.1:${s.port}`);
  });

  it("reads nginx's 502 error page as evidence", async () => {
    const s = await raw(
      'HTTP/1.1 502 Bad Gateway\r\nServer: nginx/1.25.3\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=502', 'http.server=nginx', 'http.body.error_page']));
    expect(r.signals.every((x) => x.source === 'http')).toBe(true);
    expect(r.signals.every((x) => x.line === undefined)).toBe(true);
    expect(String(r.details.body)).toContain('<center>nginx/1.25.3</center>');
    expect(new Set(keys(r)).size).toBe(r.signals.length);
  });

  it("reads HAProxy's 'No server is available' page", async () => {
    const s = await raw(
      'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=503', 'proxy.upstream_error=no_live_upstreams', 'http.server=haproxy']));
  });

  it("reads Envoy's 'upstream connect error' body", async () => {
    const s = await raw(
      'HTTP/1.1 503 Service Unavailable\r\nServer: envoy\r\nContent-Type: text/plain\r\nContent-Length: 91\r\n\r\nupstream connect error or disconnect/reset before headers. reset reason: connection failure',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(
      expect.arrayContaining([
        'http.status=503',
        'http.server=envoy',
        'envoy.details=upstream_reset_before_response_started{connection_failure}',
      ]),
    );
    // 503 without Retry-After is not load shedding
    expect(keys(r)).not.toContain('limit.overload');
  });

  it("reads nginx's 'plain HTTP request was sent to HTTPS port'", async () => {
    const s = await raw(
      'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nConnection: close\r\n\r\n<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body><center><h1>400 Bad Request</h1></center><center>The plain HTTP request was sent to HTTPS port</center><hr><center>nginx</center></body></html>',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=400', 'tls.error=http_to_https_port', 'http.server=nginx']));
  });

  it('reads a Squid error page and its X-Squid-Error header', async () => {
    const s = await raw(
      'HTTP/1.1 503 Service Unavailable\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_CONNECT_FAIL 111\r\nConnection: close\r\n\r\n<p>The system returned: <i>(111) Connection refused</i></p>',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(expect.arrayContaining(['squid.error=ERR_CONNECT_FAIL', 'http.server=squid']));
    expect(r.details.headers).toContain('x-squid-error: ERR_CONNECT_FAIL 111');
  });

  it('reads a Cloudflare error code', async () => {
    const s = await raw(
      'HTTP/1.1 522 \r\nServer: cloudflare\r\nCF-RAY: 8a1b2c3d4e5f6789-FRA\r\nConnection: close\r\n\r\n<title>example.com | 522: Connection timed out</title> Error code 522',
    );
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=522', 'cloudflare.error=522', 'http.server=cloudflare']));
    expect(r.details.headers).toContain('cf-ray: 8a1b2c3d4e5f6789-FRA');
  });

  it('429 → limit.rate and http.retry_after; 503 with Retry-After → limit.overload', async () => {
    const s = await http((req, res) => {
      res.writeHead(req.url === '/busy' ? 503 : 429, { 'Retry-After': '30' });
      res.end();
    });
    const limited = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(limited)).toEqual(expect.arrayContaining(['http.status=429', 'limit.rate', 'http.retry_after=30']));
    const busy = await probe.run(makeContext(`http://127.0.0.1:${s.port}/busy`));
    expect(keys(busy)).toEqual(expect.arrayContaining(['http.status=503', 'limit.overload', 'http.retry_after=30']));
    expect(find(busy, 'limit.overload')?.excerpt).toContain('Retry-After: 30');
  });

  it('a Retry-After date becomes seconds from ctx.now()', async () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const s = await http((_req, res) => {
      res.writeHead(429, { 'Retry-After': 'Wed, 01 Jan 2025 00:02:00 GMT' });
      res.end();
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { now: () => now }));
    expect(keys(r)).toContain('http.retry_after=120');
  });

  it('a 504 gives its duration (timing.duration_s)', async () => {
    const s = await http((_req, res) => {
      setTimeout(() => {
        res.writeHead(504, { Server: 'nginx' });
        res.end(
          '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>',
        );
      }, 120);
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    const d = find(r, 'timing.duration_s');
    expect(Number(d?.value)).toBeGreaterThanOrEqual(0.1);
    expect(Number(d?.value)).toBeLessThan(2);
    expect(keys(r)).not.toContain('timing.near_timeout');
  });

  it('reads at most maxBodyBytes and shows at most 2 KB of it', async () => {
    const s = await http((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('y'.repeat(100_000));
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { limits: { maxBodyBytes: 5000 } }));
    expect(r.details.bodyBytes).toBe(5000);
    expect(r.details.truncated).toBe(true);
    expect(String(r.details.body).length).toBeLessThanOrEqual(2048);
  });

  it('masks secrets the server echoes back, and never prints the request credentials', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
    const s = await http((req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="api"', 'Set-Cookie': 'sid=cookiesecret123456' });
      res.end(`you sent Authorization: ${req.headers.authorization ?? ''}\naccess_token=${token}`);
    });
    const r = await probe.run(
      makeContext({ url: `http://127.0.0.1:${s.port}/?token=querysecret123`, headers: [['Authorization', `Bearer ${token}`]] }),
    );
    const text = JSON.stringify(r);
    expect(text).not.toContain(token);
    expect(text).not.toContain('cookiesecret123456');
    expect(text).not.toContain('querysecret123');
    expect(text).toContain('[masked]');
  });

  it('stops with a 200 when the URL is not a redirect, even with maxRedirects 0', async () => {
    const s = await http((_req, res) => {
      res.writeHead(302, { Location: '/elsewhere' });
      res.end();
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { limits: { maxRedirects: 0 } }));
    expect(r.details.status).toBe(302);
    expect(keys(r)).not.toContain('http.redirect_loop');
  });
});

describe('http probe: redirects', () => {
  it('follows a chain, checking every hop with the policy', async () => {
    const s = await http((req, res) => {
      const next: Record<string, string> = { '/a': '/b', '/b': '/c' };
      const to = next[req.url ?? ''];
      if (to) res.writeHead(301, { Location: to }).end();
      else res.end('landed');
    });
    const policy = recordingPolicy();
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/a`, { policy }));
    expect(r.status).toBe('ok');
    expect(r.details.status).toBe(200);
    expect(r.details.redirects).toHaveLength(3);
    expect(policy.calls).toEqual([`check http://127.0.0.1:${s.port}/a`, 'checkRedirect /b', 'checkRedirect /c']);
    expect(String(r.summary)).toContain('after 2 redirects');
  });

  it('a URL seen twice is a loop', async () => {
    const s = await http((req, res) => {
      res.writeHead(302, { Location: req.url === '/a' ? '/b' : '/a' }).end();
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/a`));
    expect(r.status).toBe('failed');
    expect(keys(r)).toContain('http.redirect_loop');
    expect(find(r, 'http.redirect_loop')?.excerpt).toMatch(/visited before/);
  });

  it('hitting maxRedirects is a loop', async () => {
    let n = 0;
    const s = await http((_req, res) => {
      res.writeHead(302, { Location: `/step${++n}` }).end();
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { limits: { maxRedirects: 3 } }));
    expect(n).toBe(4);
    expect(keys(r)).toContain('http.redirect_loop');
    expect(find(r, 'http.redirect_loop')?.excerpt).toMatch(/after 3 redirects \(the limit\)/);
  });

  it('stops at a hop the policy refuses, without connecting there', async () => {
    const s = await http((_req, res) => {
      res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(r.details.status).toBe(302);
    expect(String(r.details.redirectRefused)).toMatch(/metadata/);
  });

  it('drops credentials on a cross-origin redirect, and a 401 there is auth.error=header_stripped', async () => {
    let sawAuth: string | undefined = 'unset';
    const b = await http((req, res) => {
      sawAuth = req.headers.authorization;
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
    });
    const a = await http((_req, res) => {
      res.writeHead(307, { Location: `http://localhost:${b.port}/api` }).end();
    });
    const r = await probe.run(
      makeContext({ url: `http://127.0.0.1:${a.port}/api`, headers: [['Authorization', 'Bearer abcdefghijklmnop']] }),
    );
    expect(sawAuth).toBeUndefined();
    expect(keys(r)).toContain('auth.error=header_stripped');
    expect(r.details.credentialsDropped).toBe(true);
  });
});

describe('http probe: failures', () => {
  it('connection refused', async () => {
    const port = await closedPort();
    const r = await probe.run(makeContext(`http://127.0.0.1:${port}/`));
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(['net.error=connection_refused', 'net.phase=connect']);
    expect(r.signals[0]?.excerpt).toMatch(new RegExp(`^connect to 127\\.0\\.0\\.1:${port} refused after [\\d.]+ ms$`));
  });

  it('a reset after the request', async () => {
    const s = await startResettingServer('on-data');
    open.push(s);
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['net.error=connection_reset', 'net.phase=response_header']);
  });

  it('a close without a response is an empty reply', async () => {
    const s = await tcp((socket) => socket.once('data', () => socket.end()));
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['net.error=empty_reply', 'net.phase=response_header']);
  });

  it('a close in the middle of the body', async () => {
    const s = await tcp((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc')));
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=200', 'net.error=unexpected_eof', 'net.phase=response_body']));
    expect(r.details.body).toBe('abc');
  });

  it('a server that never answers: read timeout within the budget', async () => {
    const s = await startSilentServer();
    open.push(s);
    const started = performance.now();
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { limits: { timeoutMs: 400 } }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(keys(r)).toEqual(['net.error=read_timeout', 'net.phase=response_header']);
  });

  it('a server that does not speak HTTP', async () => {
    const s = await tcp((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['net.error=proto_error', 'net.phase=response_header']);
    expect(r.details.code).toBe('HPE_INVALID_CONSTANT');
  });

  it('a TLS port answering a plain request with an alert → tls.error=http_to_https_port', async () => {
    const s = await tcp((socket) => socket.once('data', () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))));
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['tls.error=http_to_https_port', 'net.phase=response_header']);
  });

  it('an https URL on a plain HTTP port → wrong version number', async () => {
    const s = await http((_req, res) => res.end('plain'));
    const r = await probe.run(makeContext(`https://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['tls.error=wrong_version_number', 'net.phase=tls']);
  });

  it('a restrictive policy refuses 127.0.0.1 without connecting', async () => {
    const s = await startSilentServer();
    open.push(s);
    const r = await probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { policy: restrictivePolicy }));
    expect(r.status).toBe('refused');
    expect(String(r.summary)).toMatch(/loopback/);
    expect(r.signals).toEqual([]);
    expect(s.connections()).toBe(0);
  });

  it('a name that does not resolve is dns-failure evidence', async () => {
    const r = await probe.run(makeContext('http://does-not-exist.invalid/'));
    expect(r.status).toBe('failed');
    // NXDOMAIN from the resolver; EAI_AGAIN (temporary) where no resolver answers, as in a network namespace with only loopback.
    expect([
      ['net.error=dns_not_found', 'net.phase=dns'],
      ['net.error=dns_temporary', 'net.phase=dns'],
    ]).toContainEqual(keys(r));
  });

  it('stops at once when the caller aborts', async () => {
    const s = await startSilentServer();
    open.push(s);
    const controller = new AbortController();
    const running = probe.run(makeContext(`http://127.0.0.1:${s.port}/`, { signal: controller.signal, limits: { timeoutMs: 20_000 } }));
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const r = await running;
    expect(performance.now() - started).toBeLessThan(500);
    expect(r.signals).toEqual([]);
    await s.allClosed();
  });
});

describe('http probe: TLS', () => {
  let certs: LabCerts;
  beforeAll(async () => {
    certs = await labCerts();
  });

  async function https(cert: { cert: string; key: string }, handler: Handler, seenSni: string[] = []): Promise<NodeServer> {
    const server = createHttpsServer(
      {
        cert: cert.cert,
        key: cert.key,
        SNICallback: (name, cb) => {
          seenSni.push(name);
          cb(null, undefined);
        },
      },
      handler,
    );
    const s = await serve(server);
    open.push(s);
    return s;
  }

  it('connects with the pinned address, sends SNI for a name, and times the handshake', async () => {
    const sni: string[] = [];
    const s = await https(certs.valid, (_req, res) => res.end('secure'), sni);
    const tlsProbe = createHttpProbe({ extractors: EXTRACTORS, ca: certs.ca.cert });
    const r = await tlsProbe.run(makeContext(`https://localhost:${s.port}/`));
    expect(r.status).toBe('ok');
    expect(sni).toEqual(['localhost']);
    expect(r.phases.tls).toBeGreaterThan(0);
    expect(r.details.address).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);
  });

  it('an untrusted certificate is a TLS error in the tls phase', async () => {
    const s = await https(certs.selfSigned, (_req, res) => res.end('x'));
    const r = await probe.run(makeContext(`https://127.0.0.1:${s.port}/`));
    expect(keys(r)).toEqual(['tls.error=self_signed', 'net.phase=tls']);
  });

  it('an https URL redirected to itself → http.redirect_to_https and a loop', async () => {
    const s = await https(certs.valid, (req, res) => {
      res.writeHead(301, { Location: `https://${req.headers.host ?? ''}${req.url ?? '/'}` }).end();
    });
    const tlsProbe = createHttpProbe({ extractors: EXTRACTORS, ca: certs.ca.cert });
    const r = await tlsProbe.run(makeContext(`https://127.0.0.1:${s.port}/app`));
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=301', 'http.redirect_to_https', 'http.redirect_loop']));
    expect(r.status).toBe('failed');
  });
});
