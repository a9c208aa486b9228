import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './client.js';
import { startHaproxy, startNginx, startSquid, startTinyproxy } from './daemons.js';
import { LabError } from './errors.js';
import { startJwtApi } from './jwt-api.js';
import {
  startEarlyCloseServer,
  startEchoServer,
  startForceHttpsApp,
  startHttpsServer,
  startResetAfterRequestServer,
  startShortKeepAliveServer,
  startSlashStrippingApp,
  startSlowServer,
  startUnhealthyServer,
} from './node-servers.js';
import { findBinary, unusedPort } from './process.js';
import type { LabCerts } from './certs.js';
import type { Scenario, ScenarioContext } from './servers.js';

/**
 * Every failure mode of the lab, by name. Adding one is one entry here (and its proof in
 * lab.test.ts). Each entry starts only what it needs and registers it with `ctx.own`.
 */

const local = (port: number, path = '/') => `http://127.0.0.1:${port}${path}`;
const localTls = (port: number, path = '/') => `https://127.0.0.1:${port}${path}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Credentials of the lab's basic-auth scenarios (nginx auth_basic, Squid proxy_auth). */
export const LAB_USER = { user: 'alice', password: 'wonderland-42' } as const;

/** An htpasswd line made with `openssl passwd` (-1 is MD5-crypt, read by Squid's basic_ncsa_auth; -apr1 is Apache MD5, read by nginx). */
function htpasswd(user: string, password: string, algorithm: '-1' | '-apr1'): string {
  const hash = execFileSync(findBinary('openssl'), ['passwd', algorithm, '-stdin'], {
    input: password,
    encoding: 'utf8',
    timeout: 10_000,
  }).trim();
  return `${user}:${hash}\n`;
}

const NCSA_AUTH = '/usr/lib/squid/basic_ncsa_auth';

/** Poll `check` until it holds, bounded by `timeoutMs`; throws LAB_NOT_READY with `what` otherwise. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new LabError('LAB_NOT_READY', `${what} within ${timeoutMs} ms`);
}

/** A healthy echo app behind nginx: `proxy_pass` to it, the failure comes from nginx's own rules. */
async function nginxInFrontOfApp(ctx: ScenarioContext, location: string, extra: { http?: string; files?: Record<string, string> } = {}) {
  const app = ctx.own(await startEchoServer());
  const nginx = ctx.own(
    await startNginx({
      readyTimeoutMs: ctx.opts.readyTimeoutMs,
      files: extra.files,
      http: () => extra.http ?? '',
      server: ({ dir }) => `location / {\n      ${location.replaceAll('$DIR', dir)}\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
    }),
  );
  return { nginx, app };
}

/** An HTTPS app (node:https) serving the picked certificate, and the lab CA to trust. */
async function tlsApp(ctx: ScenarioContext, pick: (certs: LabCerts) => { cert: string; key: string }) {
  const certs = await ctx.certs();
  const app = ctx.own(await startHttpsServer(pick(certs)));
  return { url: localTls(app.port), ca: certs.ca.cert };
}

async function jwtScenario(ctx: ScenarioContext, token: 'expired' | 'notYetValid' | null) {
  const api = ctx.own(await startJwtApi());
  return {
    url: local(api.port, '/v1/me'),
    headers: token === null ? [] : ([['Authorization', `Bearer ${api.tokens[token]}`]] as const),
    workingHeaders: [['Authorization', `Bearer ${api.tokens.valid}`]] as const,
  };
}

export const scenarios = {
  // ── tunnel ──────────────────────────────────────────────────────────────────────────────────
  'nginx-no-connect': {
    cause: 'connect-unsupported',
    summary: 'nginx configured as a forward proxy (proxy_pass http://$http_host): plain HTTP works, CONNECT gets 400',
    async start(ctx) {
      const target = await tlsApp(ctx, (c) => c.valid);
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          // IP targets only: a hostname target would also need `resolver`.
          server: () => 'location / {\n      proxy_pass http://$http_host$request_uri;\n    }',
        }),
      );
      return { ...target, proxyUrl: local(nginx.port, ''), logs: nginx.logs };
    },
  },
  'squid-connect-port-denied': {
    cause: 'connect-port-denied',
    summary: 'Squid with the stock `http_access deny CONNECT !SSL_ports`, asked to CONNECT to an HTTPS service on a port other than 443',
    async start(ctx) {
      const target = await tlsApp(ctx, (c) => c.valid);
      const squid = ctx.own(
        await startSquid({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          access: () => 'http_access deny CONNECT !SSL_ports\nhttp_access allow localhost\nhttp_access deny all',
        }),
      );
      return { ...target, proxyUrl: local(squid.port, ''), logs: squid.logs };
    },
  },
  'squid-proxy-auth': {
    cause: 'proxy-auth-required',
    summary: 'Squid with basic proxy authentication (basic_ncsa_auth); the client sends no Proxy-Authorization',
    async start(ctx) {
      if (!existsSync(NCSA_AUTH)) throw new LabError('LAB_BINARY_MISSING', `${NCSA_AUTH} (package squid) is missing`);
      const app = ctx.own(await startEchoServer());
      const squid = ctx.own(
        await startSquid({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          files: { passwd: htpasswd(LAB_USER.user, LAB_USER.password, '-1') },
          access: ({ dir }) =>
            [
              `auth_param basic program ${NCSA_AUTH} ${join(dir, 'passwd')}`,
              'auth_param basic children 2 startup=1 idle=1',
              'auth_param basic realm Gateway Lab Proxy',
              'acl authenticated proxy_auth REQUIRED',
              'http_access deny CONNECT !SSL_ports',
              'http_access deny !authenticated',
              'http_access allow localhost',
              'http_access deny all',
            ].join('\n'),
        }),
      );
      return {
        url: local(app.port, '/api/orders'),
        proxyUrl: local(squid.port, ''),
        workingHeaders: [['Proxy-Authorization', basic(LAB_USER.user, LAB_USER.password)]] as const,
        logs: squid.logs,
      };
    },
  },
  'webserver-as-proxy': {
    cause: 'connect-unsupported',
    summary:
      'a plain nginx web server (a static site, no proxy configuration) given as the proxy: CONNECT gets its 400 page; the HTTPS origin behind has a certificate the client does not trust',
    async start(ctx) {
      // No CA for the client: a probe that reached the origin directly would report a certificate problem instead.
      const certs = await ctx.certs();
      const origin = ctx.own(await startHttpsServer(certs.selfSigned));
      const web = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () =>
            'location / {\n      default_type text/html;\n      return 200 "<html><body><h1>Welcome</h1></body></html>";\n    }',
        }),
      );
      return { url: localTls(origin.port, '/api/orders'), proxyUrl: local(web.port, ''), logs: web.logs };
    },
  },
  'proxy-reset-after-connect': {
    cause: 'connect-unsupported',
    summary:
      'a proxy port that resets the connection right after the CONNECT request (a filter that kills tunnels); the HTTPS origin has a certificate the client does not trust',
    async start(ctx) {
      const certs = await ctx.certs();
      const origin = ctx.own(await startHttpsServer(certs.selfSigned));
      const proxy = ctx.own(await startResetAfterRequestServer());
      return { url: localTls(origin.port, '/api/orders'), proxyUrl: local(proxy.port, '') };
    },
  },
  'tinyproxy-connect-ok': {
    cause: null,
    summary: 'contrast: tinyproxy as a working forward proxy; CONNECT answers 200 and TLS to the target verifies',
    async start(ctx) {
      const target = await tlsApp(ctx, (c) => c.valid);
      const tinyproxy = ctx.own(await startTinyproxy({ readyTimeoutMs: ctx.opts.readyTimeoutMs }));
      return { ...target, proxyUrl: local(tinyproxy.port, ''), logs: tinyproxy.logs };
    },
  },

  // ── availability ────────────────────────────────────────────────────────────────────────────
  'nginx-upstream-refused': {
    cause: 'upstream-refused',
    summary: 'nginx proxy_pass to a port where nothing listens (the backend is down): 502',
    async start(ctx) {
      const port = await unusedPort();
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () => `location / {\n      proxy_pass http://127.0.0.1:${port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/api/orders'), upstream: { host: '127.0.0.1', port }, logs: nginx.logs };
    },
  },
  'nginx-upstream-closed-early': {
    cause: 'upstream-closed-early',
    summary: 'nginx in front of a backend that reads the request and closes the connection without answering (a crashing worker): 502',
    async start(ctx) {
      const app = ctx.own(await startEarlyCloseServer());
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () => `location / {\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/api/orders'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'nginx-upstream-slow': {
    cause: 'upstream-slow',
    summary: 'nginx with proxy_read_timeout 1s in front of a backend that takes 3 s: 504 after ~1 s',
    async start(ctx) {
      const app = ctx.own(await startSlowServer(ctx.opts.slowUpstreamDelayMs));
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () =>
            `location / {\n      proxy_read_timeout ${ctx.opts.proxyTimeoutS}s;\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/reports/daily'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'nginx-upstream-slow-direct': {
    cause: 'upstream-slow',
    summary:
      'nginx with proxy_read_timeout 1s in front of a backend that answers in 2 s, within the probe budget, and closes idle keep-alive connections after 1 s: the backend asked directly is measured slow',
    async start(ctx) {
      const app = ctx.own(await startSlowServer(ctx.opts.directSlowDelayMs, ctx.opts.keepAliveIdleMs));
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () =>
            `location / {\n      proxy_read_timeout ${ctx.opts.proxyTimeoutS}s;\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/reports/daily'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'haproxy-upstream-slow': {
    cause: 'upstream-slow',
    summary: 'HAProxy with `timeout server 1s` in front of a backend that takes 3 s: 504 after ~1 s, log termination state sH',
    async start(ctx) {
      const app = ctx.own(await startSlowServer(ctx.opts.slowUpstreamDelayMs));
      const haproxy = ctx.own(
        await startHaproxy({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          timeoutServer: `${ctx.opts.proxyTimeoutS}s`,
          backend: () => `server app1 127.0.0.1:${app.port}`,
        }),
      );
      return { url: local(haproxy.port, '/reports/daily'), upstream: { host: '127.0.0.1', port: app.port }, logs: haproxy.logs };
    },
  },
  'haproxy-all-servers-down': {
    cause: 'upstream-unhealthy',
    summary: 'HAProxy whose two servers both fail the HTTP health check (GET /healthz → 503): 503 "No server is available"',
    async start(ctx) {
      const a = ctx.own(await startUnhealthyServer());
      const b = ctx.own(await startUnhealthyServer());
      const haproxy = ctx.own(
        await startHaproxy({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          backend: () =>
            [
              'option httpchk GET /healthz',
              'http-check expect status 200',
              // Checks every 200 ms; a generous check timeout so a loaded machine fails them for the status, not for time.
              'timeout check 3s',
              'default-server inter 200ms fall 1 rise 2',
              `server app1 127.0.0.1:${a.port} check`,
              `server app2 127.0.0.1:${b.port} check`,
            ].join('\n  '),
        }),
      );
      const url = local(haproxy.port, '/api/orders');
      await until('HAProxy did not mark both servers down', ctx.opts.readyTimeoutMs, async () => {
        const r = await request(url, { timeoutMs: 1_000 });
        return r.ok && r.status === 503;
      });
      return { url, upstream: { host: '127.0.0.1', port: a.port }, logs: haproxy.logs };
    },
  },
  'nginx-limit-req': {
    cause: 'upstream-overloaded',
    summary: 'nginx limit_req (30r/m, burst=2 nodelay): a burst of requests gets 503 once the burst is spent',
    async start(ctx) {
      const { nginx, app } = await nginxInFrontOfApp(ctx, 'limit_req zone=perip burst=2 nodelay;', {
        http: 'limit_req_zone $binary_remote_addr zone=perip:1m rate=30r/m;',
      });
      return { url: local(nginx.port, '/api/search?q=x'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'upstream-short-keepalive': {
    cause: 'idle-timeout-mismatch',
    summary:
      'an HTTP backend (node:http keepAliveTimeout 1 s) that closes idle keep-alive connections after 1 s, shorter than any proxy pool',
    async start(ctx) {
      const app = ctx.own(await startShortKeepAliveServer(ctx.opts.keepAliveIdleMs));
      return { url: local(app.port, '/api/orders'), upstream: { host: '127.0.0.1', port: app.port } };
    },
  },

  // ── access and auth ─────────────────────────────────────────────────────────────────────────
  'nginx-deny-all': {
    cause: 'acl-deny',
    summary: 'nginx `allow 10.0.0.0/8; deny all;` on the location, the client comes from 127.0.0.1: 403',
    async start(ctx) {
      const { nginx, app } = await nginxInFrontOfApp(ctx, 'allow 10.0.0.0/8;\n      deny all;');
      return { url: local(nginx.port, '/admin/'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'nginx-basic-auth': {
    cause: 'auth-missing',
    summary: 'nginx auth_basic on the location; the client sends no Authorization: 401 with WWW-Authenticate: Basic',
    async start(ctx) {
      const { nginx, app } = await nginxInFrontOfApp(ctx, 'auth_basic "Gateway Lab Admin";\n      auth_basic_user_file $DIR/htpasswd;', {
        files: { htpasswd: htpasswd(LAB_USER.user, LAB_USER.password, '-apr1') },
      });
      return {
        url: local(nginx.port, '/admin/'),
        upstream: { host: '127.0.0.1', port: app.port },
        workingHeaders: [['Authorization', basic(LAB_USER.user, LAB_USER.password)]] as const,
        logs: nginx.logs,
      };
    },
  },
  'jwt-missing-token': {
    cause: 'auth-missing',
    summary: 'an API that wants a Bearer JWT, called without Authorization: 401 WWW-Authenticate: Bearer realm=…',
    start: (ctx) => jwtScenario(ctx, null),
  },
  'jwt-expired': {
    cause: 'token-expired',
    summary: 'an API called with a JWT whose exp passed 3 h ago: 401 Bearer error="invalid_token", error_description="The token expired"',
    start: (ctx) => jwtScenario(ctx, 'expired'),
  },
  'jwt-not-yet-valid': {
    cause: 'token-not-yet-valid',
    summary:
      'an API called with a JWT whose nbf/iat lie 10 min ahead (issuer clock skew): 401 error_description="The token is not yet valid"',
    start: (ctx) => jwtScenario(ctx, 'notYetValid'),
  },

  // ── TLS ─────────────────────────────────────────────────────────────────────────────────────
  'nginx-http-to-https-port': {
    cause: 'http-to-https-port',
    summary: 'plain HTTP to an nginx `listen … ssl` port: 400 "The plain HTTP request was sent to HTTPS port"',
    async start(ctx) {
      const certs = await ctx.certs();
      const app = ctx.own(await startEchoServer());
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          tls: certs.valid,
          server: () => `location / {\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/'), ca: certs.ca.cert, logs: nginx.logs };
    },
  },
  'tls-to-plain-port': {
    cause: 'tls-wrong-version',
    summary: 'https:// to a port that speaks plain HTTP (node:http): the handshake fails with "wrong version number"',
    async start(ctx) {
      const app = ctx.own(await startEchoServer());
      return { url: localTls(app.port) };
    },
  },
  'tls-cert-expired': {
    cause: 'tls-cert-expired',
    summary: 'HTTPS server whose leaf (signed by the lab CA) expired 30 days ago: CERT_HAS_EXPIRED',
    start: (ctx) => tlsApp(ctx, (c) => c.expired),
  },
  'tls-cert-not-yet-valid': {
    cause: 'tls-cert-expired',
    summary: 'HTTPS server whose leaf becomes valid in 30 days: CERT_NOT_YET_VALID',
    start: (ctx) => tlsApp(ctx, (c) => c.notYetValid),
  },
  'tls-self-signed': {
    cause: 'tls-cert-untrusted',
    summary: 'HTTPS server with a self-signed leaf: DEPTH_ZERO_SELF_SIGNED_CERT',
    start: (ctx) => tlsApp(ctx, (c) => c.selfSigned),
  },
  'tls-wrong-host': {
    cause: 'tls-hostname-mismatch',
    summary: 'HTTPS server whose certificate (signed by the lab CA) names only other.example: ERR_TLS_CERT_ALTNAME_INVALID',
    start: (ctx) => tlsApp(ctx, (c) => c.wrongHost),
  },
  'tls-missing-intermediate': {
    cause: 'tls-cert-untrusted',
    summary: 'HTTPS server sending its leaf without the intermediate that signed it: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    start: (ctx) => tlsApp(ctx, (c) => c.viaIntermediate),
  },
  'tls-valid': {
    cause: null,
    summary: 'contrast: HTTPS server with a valid leaf signed by the lab CA',
    start: (ctx) => tlsApp(ctx, (c) => c.valid),
  },

  // ── request ─────────────────────────────────────────────────────────────────────────────────
  'nginx-redirect-loop': {
    cause: 'redirect-loop',
    summary: 'nginx adds a trailing slash (/app → /app/), the app behind it strips it (/app/ → /app): 301 forever',
    async start(ctx) {
      const app = ctx.own(await startSlashStrippingApp());
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          server: () =>
            `location = /app {\n      return 301 /app/;\n    }\n    location /app/ {\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return { url: local(nginx.port, '/app'), upstream: { host: '127.0.0.1', port: app.port }, logs: nginx.logs };
    },
  },
  'nginx-https-redirect-loop': {
    cause: 'redirect-loop',
    summary: 'nginx terminates TLS and proxies over HTTP without X-Forwarded-Proto; the app redirects to https:// — the same URL, forever',
    async start(ctx) {
      const certs = await ctx.certs();
      const app = ctx.own(await startForceHttpsApp());
      const nginx = ctx.own(
        await startNginx({
          readyTimeoutMs: ctx.opts.readyTimeoutMs,
          tls: certs.valid,
          server: () => `location / {\n      proxy_set_header Host $http_host;\n      proxy_pass http://127.0.0.1:${app.port};\n    }`,
        }),
      );
      return {
        url: localTls(nginx.port, '/account'),
        ca: certs.ca.cert,
        upstream: { host: '127.0.0.1', port: app.port },
        logs: nginx.logs,
      };
    },
  },

  // ── network ─────────────────────────────────────────────────────────────────────────────────
  'connection-refused': {
    cause: 'upstream-refused',
    summary: 'a loopback port with nothing listening (bound on port 0, then closed): ECONNREFUSED',
    async start() {
      return { url: local(await unusedPort(), '/health') };
    },
  },
  'dns-nxdomain': {
    cause: 'dns-failure',
    summary: 'a host name under the reserved .invalid TLD (RFC 6761), which never resolves: ENOTFOUND',
    async start() {
      return { url: 'http://nothing.invalid/health' };
    },
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof scenarios;
