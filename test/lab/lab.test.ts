import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { labCerts } from './certs.js';
import { connectTunnel, followRedirects, measureIdleClose, request, tlsHandshake, type HttpOutcome, type Response } from './client.js';
import { startEchoServer, type NodeServer } from './node-servers.js';
import { LAB_USER } from './scenarios.js';
import { scenarios, startLab, type Lab, type LabOptions, type ScenarioName } from './servers.js';

/**
 * Proof that every lab scenario fails the way it should, with plain node requests against the real
 * processes. Each describe starts its scenario once (beforeAll) and stops it (afterAll).
 */

const covered = new Set<ScenarioName>();

function useLab(name: ScenarioName, options: Partial<LabOptions> = {}): () => Lab {
  let lab: Lab | undefined;
  covered.add(name);
  beforeAll(async () => {
    lab = await startLab(name, options);
  });
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (!lab) throw new Error(`${name} did not start`);
    return lab;
  };
}

function useEcho(): () => NodeServer {
  let server: NodeServer | undefined;
  beforeAll(async () => {
    server = await startEchoServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => server!;
}

/** The response, or a test failure that shows the transport error. */
function response(outcome: HttpOutcome): Response {
  if (!outcome.ok) expect.fail(`expected an HTTP response, got ${outcome.code}: ${outcome.message}`);
  return outcome;
}

const authority = (url: string) => new URL(url).host;
const hostPort = (url: string) => {
  const u = new URL(url);
  return [u.hostname, Number(u.port)] as const;
};
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, number>;
const bearer = (lab: Lab) => (lab.headers.find(([k]) => k === 'Authorization')?.[1] ?? '').replace(/^Bearer /, '');
/** Logs are written by another process: wait (bounded) until `pattern` shows up. */
const logShows = (lab: Lab, log: string, pattern: RegExp) =>
  vi.waitFor(() => expect(lab.readLog(log)).toMatch(pattern), { timeout: 5_000, interval: 50 });

describe('tunnel', () => {
  describe('nginx-no-connect: nginx as a forward proxy has no CONNECT', () => {
    const lab = useLab('nginx-no-connect');
    const echo = useEcho();

    it('answers CONNECT with 400 Bad Request and closes the connection', async () => {
      const r = await connectTunnel(lab().proxyUrl!, authority(lab().url));
      expect(r).toMatchObject({ ok: true, status: 400, statusText: 'Bad Request' });
      if (!r.ok) return;
      expect(r.headers.server).toMatch(/^nginx\/1\./);
      expect(r.headers.connection).toBe('close');
      expect(r.body).toContain('<title>400 Bad Request</title>');
      await logShows(
        lab(),
        'error',
        /client sent invalid request while reading client request line, client: 127\.0\.0\.1, server: lab, request: "CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1"/,
      );
    });

    it('so https:// through it fails, while http:// through it and the target itself work', async () => {
      const viaProxy = await request(lab().url, { proxyUrl: lab().proxyUrl, ca: lab().ca });
      expect(viaProxy).toMatchObject({ ok: false, code: 'ERR_TUNNEL_CONNECTION_FAILED', message: 'CONNECT tunnel failed, response 400' });
      const plain = response(await request(`http://127.0.0.1:${echo().port}/hello`, { proxyUrl: lab().proxyUrl }));
      expect(plain.status).toBe(200);
      expect(JSON.parse(plain.body)).toMatchObject({ url: '/hello' });
      expect(await tlsHandshake(...hostPort(lab().url), { ca: lab().ca })).toMatchObject({ ok: true });
    });
  });

  describe('webserver-as-proxy: a plain web server given as the proxy', () => {
    const lab = useLab('webserver-as-proxy');

    it('answers CONNECT with its 400 page, serves its site to a GET', async () => {
      const r = await connectTunnel(lab().proxyUrl!, authority(lab().url));
      expect(r).toMatchObject({ ok: true, status: 400, statusText: 'Bad Request' });
      if (!r.ok) return;
      expect(r.headers.server).toMatch(/^nginx\/1\./);
      expect(r.body).toContain('<title>400 Bad Request</title>');
      const site = response(await request(lab().proxyUrl!));
      expect(site.status).toBe(200);
      expect(site.body).toContain('<h1>Welcome</h1>');
    });

    it('while the origin, reached directly, presents a certificate the client does not trust', async () => {
      expect(await tlsHandshake(...hostPort(lab().url))).toMatchObject({ ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    });
  });

  describe('proxy-reset-after-connect: the proxy resets the connection right after CONNECT', () => {
    const lab = useLab('proxy-reset-after-connect');

    it('accepts the connection, reads CONNECT and answers with a TCP reset', async () => {
      const r = await connectTunnel(lab().proxyUrl!, authority(lab().url));
      expect(r).toMatchObject({ ok: false, code: 'ECONNRESET' });
      expect(r.ms).toBeLessThan(1_000);
    });

    it('while the origin, reached directly, presents a certificate the client does not trust', async () => {
      expect(await tlsHandshake(...hostPort(lab().url))).toMatchObject({ ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    });
  });

  describe('squid-connect-port-denied: Squid refuses CONNECT to a port not in SSL_ports', () => {
    const lab = useLab('squid-connect-port-denied');
    const echo = useEcho();

    it('answers CONNECT to a non-443 port with 403 and X-Squid-Error: ERR_ACCESS_DENIED', async () => {
      const r = await connectTunnel(lab().proxyUrl!, authority(lab().url));
      expect(r).toMatchObject({ ok: true, status: 403, statusText: 'Forbidden' });
      if (!r.ok) return;
      expect(r.headers['x-squid-error']).toBe('ERR_ACCESS_DENIED 0');
      expect(r.headers.server).toMatch(/^squid\/5\./);
      expect(r.body).toContain('<body id=ERR_ACCESS_DENIED>');
      await logShows(lab(), 'access', /TCP_DENIED\/403 \d+ CONNECT 127\.0\.0\.1:\d+ /);
    });

    it('still proxies plain HTTP to the same kind of port', async () => {
      const r = response(await request(`http://127.0.0.1:${echo().port}/`, { proxyUrl: lab().proxyUrl }));
      expect(r.status).toBe(200);
      expect(r.headers.via).toMatch(/squid/);
    });
  });

  describe('squid-proxy-auth: Squid wants proxy credentials', () => {
    const lab = useLab('squid-proxy-auth');

    it('answers 407 with Proxy-Authenticate: Basic and X-Squid-Error: ERR_CACHE_ACCESS_DENIED', async () => {
      const r = response(await request(lab().url, { proxyUrl: lab().proxyUrl }));
      expect(r.status).toBe(407);
      expect(r.statusText).toBe('Proxy Authentication Required');
      expect(r.headers['proxy-authenticate']).toBe('Basic realm="Gateway Lab Proxy"');
      expect(r.headers['x-squid-error']).toBe('ERR_CACHE_ACCESS_DENIED 0');
      await logShows(lab(), 'access', /TCP_DENIED\/407 \d+ GET http:\/\/127\.0\.0\.1:\d+\/api\/orders - /);
    });

    it('answers 407 to a wrong password and 200 to the right one', async () => {
      const wrong = `Basic ${Buffer.from(`${LAB_USER.user}:nope`).toString('base64')}`;
      const denied = response(await request(lab().url, { proxyUrl: lab().proxyUrl, proxyHeaders: [['Proxy-Authorization', wrong]] }));
      expect(denied.status).toBe(407);
      const ok = response(await request(lab().url, { proxyUrl: lab().proxyUrl, proxyHeaders: lab().workingHeaders }));
      expect(ok.status).toBe(200);
      await logShows(lab(), 'access', new RegExp(`TCP_MISS/200 \\d+ GET http://127\\.0\\.0\\.1:\\d+/api/orders ${LAB_USER.user} `));
    });
  });

  describe('tinyproxy-connect-ok: a working forward proxy, for contrast', () => {
    const lab = useLab('tinyproxy-connect-ok');

    it('answers CONNECT with 200 Connection established, and TLS through the tunnel verifies', async () => {
      const r = await connectTunnel(lab().proxyUrl!, authority(lab().url));
      expect(r).toMatchObject({
        ok: true,
        status: 200,
        statusText: 'Connection established',
        headers: { 'proxy-agent': 'tinyproxy/1.11.1' },
      });
      if (!r.ok || !r.socket) return;
      const tls = await tlsHandshake(...hostPort(lab().url), { ca: lab().ca, socket: r.socket });
      expect(tls).toMatchObject({ ok: true, subject: '127.0.0.1', issuer: 'Gateway Triage Lab Root CA' });
    });

    it('carries a whole https:// request', async () => {
      const r = response(await request(lab().url, { proxyUrl: lab().proxyUrl, ca: lab().ca }));
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ ok: true });
    });
  });
});

describe('availability', () => {
  describe('nginx-upstream-refused: nothing listens at the upstream', () => {
    const lab = useLab('nginx-upstream-refused');

    it('answers 502 Bad Gateway and logs "connect() failed (111: Connection refused)"', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(502);
      expect(r.headers.server).toMatch(/^nginx/);
      expect(r.body).toContain('<title>502 Bad Gateway</title>');
      const { port } = lab().upstream!;
      await logShows(
        lab(),
        'error',
        new RegExp(
          `\\[error\\] .*connect\\(\\) failed \\(111: Connection refused\\) while connecting to upstream, .*upstream: "http://127\\.0\\.0\\.1:${port}/api/orders"`,
        ),
      );
      expect(await request(`http://127.0.0.1:${port}/`)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    });
  });

  describe('nginx-upstream-closed-early: the upstream closes the connection without answering', () => {
    const lab = useLab('nginx-upstream-closed-early');

    it('answers 502 and logs "upstream prematurely closed connection"', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(502);
      await logShows(lab(), 'error', /\[error\] .*upstream prematurely closed connection while reading response header from upstream/);
      expect(await request(`http://127.0.0.1:${lab().upstream!.port}/`)).toMatchObject({
        ok: false,
        code: 'ECONNRESET',
        message: 'socket hang up',
      });
    });
  });

  describe('nginx-upstream-slow: the upstream is slower than proxy_read_timeout 1s', () => {
    const lab = useLab('nginx-upstream-slow');

    it('answers 504 after ~1 s while the upstream itself answers after ~3 s', async () => {
      const [viaNginx, direct] = await Promise.all([
        request(lab().url),
        request(`http://127.0.0.1:${lab().upstream!.port}/`, { timeoutMs: 6_000 }),
      ]);
      const r = response(viaNginx);
      expect(r.status).toBe(504);
      expect(r.body).toContain('<title>504 Gateway Time-out</title>');
      expect(r.ms).toBeGreaterThanOrEqual(950);
      expect(r.ms).toBeLessThan(2_500);
      expect(response(direct).status).toBe(200);
      expect(response(direct).ms).toBeGreaterThanOrEqual(2_950);
      await logShows(
        lab(),
        'error',
        /\[error\] .*upstream timed out \(110: Connection timed out\) while reading response header from upstream/,
      );
    });
  });

  describe('nginx-upstream-slow-direct: the upstream answers in 2 s, proxy_read_timeout is 1s', () => {
    const lab = useLab('nginx-upstream-slow-direct');

    it('answers 504 after ~1 s while the upstream itself answers after ~2 s, then closes the idle connection after ~1 s', async () => {
      const [viaNginx, direct] = await Promise.all([request(lab().url), measureIdleClose(`http://127.0.0.1:${lab().upstream!.port}/`)]);
      const r = response(viaNginx);
      expect(r.status).toBe(504);
      expect(r.ms).toBeGreaterThanOrEqual(950);
      expect(r.ms).toBeLessThan(1_900);
      expect(direct).toMatchObject({ ok: true, statuses: [200, 200], keepAlive: 'timeout=1' });
      if (direct.ok) {
        expect(direct.idleMs).toBeGreaterThanOrEqual(950);
        expect(direct.idleMs).toBeLessThan(1_900);
      }
      await logShows(lab(), 'error', /upstream timed out \(110: Connection timed out\) while reading response header from upstream/);
    });
  });

  describe('haproxy-upstream-slow: the upstream is slower than timeout server 1s', () => {
    const lab = useLab('haproxy-upstream-slow');

    it('answers 504 "The server didn\'t respond in time." after ~1 s, logging termination state sH', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(504);
      expect(r.body).toContain("<h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.");
      expect(r.ms).toBeGreaterThanOrEqual(950);
      expect(r.ms).toBeLessThan(2_500);
      await logShows(lab(), 'output', / lab app\/app1 \d+\/\d+\/\d+\/-1\/\d+ 504 \d+ - - sH-- .*"GET \/reports\/daily HTTP\/1\.1"/);
    });
  });

  describe('haproxy-all-servers-down: every server fails its health check', () => {
    const lab = useLab('haproxy-all-servers-down');

    it('answers 503 "No server is available to handle this request."', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(503);
      expect(r.body).toContain('<h1>503 Service Unavailable</h1>\nNo server is available to handle this request.');
      await logShows(lab(), 'output', /Server app\/app1 is DOWN, reason: Layer7 wrong status, code: 503/);
      await logShows(lab(), 'output', /backend 'app' has no server available!|backend app has no server available!/);
      await logShows(lab(), 'output', / lab app\/<NOSRV> .* 503 \d+ - - SC-- .*"GET \/api\/orders HTTP\/1\.1"/);
    });

    it('though the servers themselves answer, except on /healthz', async () => {
      const { port } = lab().upstream!;
      expect(response(await request(`http://127.0.0.1:${port}/api/orders`)).status).toBe(200);
      expect(response(await request(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
    });
  });

  describe('nginx-limit-req: limit_req sheds a burst', () => {
    const lab = useLab('nginx-limit-req');

    it('answers 503 to the requests beyond rate + burst and logs "limiting requests"', async () => {
      const burst = await Promise.all(Array.from({ length: 8 }, () => request(lab().url)));
      const statuses = burst.map((o) => response(o).status);
      // rate 30r/m + burst 2: 3 pass at once, one more per 2 s; the rest are refused.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(3);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      await logShows(lab(), 'error', /\[error\] .*limiting requests, excess: [\d.]+ by zone "perip", client: 127\.0\.0\.1/);
    });
  });

  describe('upstream-short-keepalive: the upstream closes idle keep-alive connections after 1 s', () => {
    const lab = useLab('upstream-short-keepalive');

    it('advertises Keep-Alive: timeout=1, serves a second request on the connection, and closes it after 1 s idle', async () => {
      const r = await measureIdleClose(lab().url);
      expect(r).toMatchObject({ ok: true, statuses: [200, 200], keepAlive: 'timeout=1' });
      if (!r.ok) return;
      expect(r.idleMs).toBeGreaterThanOrEqual(950);
      expect(r.idleMs).toBeLessThan(1_900);
    });
  });
});

describe('access and auth', () => {
  describe('nginx-deny-all: allow 10.0.0.0/8; deny all', () => {
    const lab = useLab('nginx-deny-all');

    it('answers 403 Forbidden and logs "access forbidden by rule"', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(403);
      expect(r.body).toContain('<title>403 Forbidden</title>');
      await logShows(lab(), 'error', /\[error\] .*access forbidden by rule, client: 127\.0\.0\.1/);
      expect(response(await request(`http://127.0.0.1:${lab().upstream!.port}/admin/`)).status).toBe(200);
    });
  });

  describe('nginx-basic-auth: auth_basic and no credentials', () => {
    const lab = useLab('nginx-basic-auth');

    it('answers 401 with WWW-Authenticate: Basic realm', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="Gateway Lab Admin"');
      expect(r.body).toContain('<title>401 Authorization Required</title>');
      await logShows(lab(), 'error', /no user\/password was provided for basic authentication/);
    });

    it('answers 401 to a wrong password and 200 to the right one', async () => {
      const wrong = `Basic ${Buffer.from(`${LAB_USER.user}:nope`).toString('base64')}`;
      expect(response(await request(lab().url, { headers: [['Authorization', wrong]] })).status).toBe(401);
      await logShows(lab(), 'error', new RegExp(`user "${LAB_USER.user}": password mismatch`));
      expect(response(await request(lab().url, { headers: lab().workingHeaders })).status).toBe(200);
    });
  });

  describe('jwt-missing-token: a Bearer API called without a token', () => {
    const lab = useLab('jwt-missing-token');

    it('answers 401 with WWW-Authenticate: Bearer realm and no error', async () => {
      const r = response(await request(lab().url, { headers: lab().headers }));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gateway-lab-api"');
      expect(response(await request(lab().url, { headers: lab().workingHeaders })).status).toBe(200);
    });
  });

  describe('jwt-expired: a Bearer API called with an expired token', () => {
    const lab = useLab('jwt-expired');

    it('answers 401 Bearer error="invalid_token", error_description="The token expired"', async () => {
      expect(claims(bearer(lab())).exp).toBeLessThan(Date.now() / 1000 - 3 * 3600 + 60);
      const r = response(await request(lab().url, { headers: lab().headers }));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="The token expired"');
      expect(response(await request(lab().url, { headers: lab().workingHeaders })).status).toBe(200);
    });
  });

  describe('jwt-not-yet-valid: a Bearer API called with a token from an issuer whose clock runs ahead', () => {
    const lab = useLab('jwt-not-yet-valid');

    it('answers 401 Bearer error="invalid_token", error_description="The token is not yet valid"', async () => {
      const { nbf, iat } = claims(bearer(lab()));
      expect(nbf).toBeGreaterThan(Date.now() / 1000 + 500);
      expect(iat).toBe(nbf);
      const r = response(await request(lab().url, { headers: lab().headers }));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="The token is not yet valid"');
    });
  });
});

describe('tls', () => {
  describe('nginx-http-to-https-port: plain HTTP to an nginx ssl port', () => {
    const lab = useLab('nginx-http-to-https-port');

    it('answers 400 "The plain HTTP request was sent to HTTPS port"', async () => {
      const r = response(await request(lab().url));
      expect(r.status).toBe(400);
      expect(r.body).toContain('<title>400 The plain HTTP request was sent to HTTPS port</title>');
      await logShows(lab(), 'error', /client sent plain HTTP request to HTTPS port/);
      const https = response(await request(lab().url.replace(/^http:/, 'https:'), { ca: lab().ca }));
      expect(https.status).toBe(200);
    });
  });

  describe('tls-to-plain-port: TLS to a port that speaks plain HTTP', () => {
    const lab = useLab('tls-to-plain-port');

    it('fails the handshake with "wrong version number", while http:// works', async () => {
      const r = await tlsHandshake(...hostPort(lab().url));
      expect(r).toMatchObject({
        ok: false,
        code: 'ERR_SSL_WRONG_VERSION_NUMBER',
        message: expect.stringMatching(/:SSL routines:ssl3_get_record:wrong version number:/),
      });
      // node:https reports the same failure as a write error.
      expect(await request(lab().url)).toMatchObject({
        ok: false,
        code: 'EPROTO',
        message: expect.stringMatching(/^write EPROTO .*wrong version number/),
      });
      expect(response(await request(lab().url.replace(/^https:/, 'http:'))).status).toBe(200);
    });
  });

  describe('certificates (the lab CA trusted, so each one has exactly one fault)', () => {
    const expired = useLab('tls-cert-expired');
    const notYetValid = useLab('tls-cert-not-yet-valid');
    const selfSigned = useLab('tls-self-signed');
    const wrongHost = useLab('tls-wrong-host');
    const missingIntermediate = useLab('tls-missing-intermediate');
    const valid = useLab('tls-valid');
    const handshake = (lab: Lab, extra: { ca?: string[]; servername?: string } = {}) =>
      tlsHandshake(...hostPort(lab.url), { ca: lab.ca, ...extra });

    it('tls-valid: verifies (TLSv1.3, leaf 127.0.0.1 issued by the lab root)', async () => {
      expect(await handshake(valid())).toMatchObject({
        ok: true,
        protocol: 'TLSv1.3',
        subject: '127.0.0.1',
        issuer: 'Gateway Triage Lab Root CA',
      });
      expect(response(await request(valid().url, { ca: valid().ca })).status).toBe(200);
    });

    it('tls-cert-expired: CERT_HAS_EXPIRED "certificate has expired"', async () => {
      expect(await handshake(expired())).toMatchObject({ ok: false, code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' });
      expect(new Date(new X509Certificate((await labCerts()).expired.cert).validTo).getTime()).toBeLessThan(Date.now());
    });

    it('tls-cert-not-yet-valid: CERT_NOT_YET_VALID "certificate is not yet valid"', async () => {
      expect(await handshake(notYetValid())).toMatchObject({
        ok: false,
        code: 'CERT_NOT_YET_VALID',
        message: 'certificate is not yet valid',
      });
      expect(new Date(new X509Certificate((await labCerts()).notYetValid.cert).validFrom).getTime()).toBeGreaterThan(Date.now());
    });

    it('tls-self-signed: DEPTH_ZERO_SELF_SIGNED_CERT "self-signed certificate"', async () => {
      expect(await handshake(selfSigned())).toMatchObject({
        ok: false,
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        message: 'self-signed certificate',
      });
    });

    it('tls-wrong-host: ERR_TLS_CERT_ALTNAME_INVALID for 127.0.0.1, fine for other.example', async () => {
      expect(await handshake(wrongHost())).toMatchObject({
        ok: false,
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      });
      expect(await handshake(wrongHost(), { servername: 'other.example' })).toMatchObject({ ok: true, subject: 'other.example' });
    });

    it('tls-missing-intermediate: UNABLE_TO_VERIFY_LEAF_SIGNATURE, fine when the client has the intermediate', async () => {
      expect(await handshake(missingIntermediate())).toMatchObject({
        ok: false,
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        message: 'unable to verify the first certificate',
      });
      const certs = await labCerts();
      expect(await handshake(missingIntermediate(), { ca: [certs.ca.cert, certs.intermediate.cert] })).toMatchObject({
        ok: true,
        issuer: 'Gateway Triage Lab Intermediate CA',
      });
    });
  });
});

describe('request', () => {
  describe('nginx-redirect-loop: nginx adds the trailing slash, the app strips it', () => {
    const lab = useLab('nginx-redirect-loop');

    it('bounces /app → /app/ → /app with 301s', async () => {
      const { hops, loop } = await followRedirects(lab().url);
      expect(loop).toBe(true);
      expect(hops.map((h) => [new URL(h.url).pathname, response(h.outcome).status, response(h.outcome).headers.location])).toEqual([
        ['/app', 301, `${new URL(lab().url).origin}/app/`],
        ['/app/', 301, '/app'],
      ]);
    });
  });

  describe('nginx-https-redirect-loop: TLS ends at nginx, the app redirects to https://', () => {
    const lab = useLab('nginx-https-redirect-loop');

    it('redirects https://…/account to itself', async () => {
      const { hops, loop } = await followRedirects(lab().url, { ca: lab().ca });
      expect(loop).toBe(true);
      expect(hops).toHaveLength(1);
      const r = response(hops[0]!.outcome);
      expect(r.status).toBe(301);
      expect(r.headers.location).toBe(lab().url);
      expect(r.headers.server).toMatch(/^nginx/);
    });
  });
});

describe('network', () => {
  describe('connection-refused: nothing listens on the port', () => {
    const lab = useLab('connection-refused');

    it('fails at once with ECONNREFUSED', async () => {
      const r = await request(lab().url);
      expect(r).toMatchObject({ ok: false, code: 'ECONNREFUSED', message: `connect ECONNREFUSED ${authority(lab().url)}` });
      expect(r.ms).toBeLessThan(1_000);
    });
  });

  describe('dns-nxdomain: a .invalid name', () => {
    const lab = useLab('dns-nxdomain');

    it('fails with ENOTFOUND from getaddrinfo (EAI_AGAIN where no resolver answers)', async () => {
      const r = await request(lab().url, { timeoutMs: 15_000 });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(r.code);
      expect(r.message).toBe(`getaddrinfo ${r.code} nothing.invalid`);
    });
  });
});

describe('the lab itself', () => {
  it('stop() leaves nothing listening and no files behind, and can be called twice', async () => {
    const lab = await startLab('nginx-upstream-refused');
    const error = lab.logs.error!;
    expect(existsSync(error)).toBe(true);
    await lab.stop();
    await lab.stop();
    expect(await request(lab.url, { timeoutMs: 2_000 })).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    if (process.env.GATEWAY_LAB_KEEP !== '1') expect(existsSync(error)).toBe(false);
  });

  it('has a test above for every scenario', () => {
    expect([...covered].sort()).toEqual(Object.keys(scenarios).sort());
  });
});
