import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { authProbe, parseChallenges } from '../../src/probes/auth.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { serve, type NodeServer } from '../lab/node-servers.js';
import { makeContext, restrictivePolicy, startSilentServer } from './support.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const t = (offsetSeconds: number) => Math.floor(NOW.getTime() / 1000) + offsetSeconds;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;

const open: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function http(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<NodeServer> {
  const s = await serve(createHttpServer(handler));
  open.push(s);
  return s;
}

/** A server answering 401 with this challenge (and body). */
const challenge = (value: string, body = '') =>
  http((_req, res) => res.writeHead(401, { 'WWW-Authenticate': value, 'Content-Type': 'application/json' }).end(body));

const run = (port: number, headers: [string, string][] = []) =>
  authProbe.run(makeContext({ url: `http://127.0.0.1:${port}/api`, headers }, { now: () => NOW }));

const keys = (r: ProbeResult) => r.signals.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));

describe('parseChallenges', () => {
  it('reads schemes, quoted and bare params, several challenges per value', () => {
    expect(
      parseChallenges([
        'Bearer realm="api", error="invalid_token", error_description="The token \\"expired\\""',
        'Basic realm=corp, Negotiate abc123==',
      ]),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'api', error: 'invalid_token', error_description: 'The token "expired"' } },
      { scheme: 'basic', params: { realm: 'corp' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });
});

describe('auth probe: the challenge', () => {
  it('an expired token: auth.error=token_expired, the challenge in details', async () => {
    const s = await challenge('Bearer realm="api", error="invalid_token", error_description="The access token expired"');
    const r = await run(s.port, [['Authorization', 'Bearer opaque-token-value-123']]);
    expect(r.status).toBe('failed');
    expect(keys(r)).toEqual(expect.arrayContaining(['http.status=401', 'auth.www_authenticate=bearer', 'auth.error=token_expired']));
    expect(r.details.realm).toBe('api');
    expect(r.details.error).toBe('invalid_token');
    expect(r.details.error_description).toBe('The access token expired');
    expect(r.signals.every((x) => x.source === 'auth')).toBe(true);
    expect(JSON.stringify(r)).not.toContain('opaque-token-value-123');
  });

  it.each([
    ['error="invalid_token", error_description="Token is not yet valid"', 'auth.error=token_not_yet_valid'],
    ['error="invalid_token", error_description="token used before nbf"', 'auth.error=token_not_yet_valid'],
    ['error="invalid_token"', 'auth.error=invalid_token'],
    ['error="insufficient_scope", scope="orders:write"', 'auth.forbidden_role'],
  ])('Bearer %s → %s', async (params, expected) => {
    const s = await challenge(`Bearer realm="api", ${params}`);
    const r = await run(s.port, [['Authorization', 'Bearer opaque-token-value-123']]);
    expect(keys(r)).toContain(expected);
  });

  it('no Authorization header and a 401 → missing_credentials', async () => {
    const s = await challenge('Bearer realm="api"');
    const r = await run(s.port);
    expect(keys(r)).toEqual(['http.status=401', 'auth.www_authenticate=bearer', 'auth.error=missing_credentials']);
  });

  it('Basic sent where Bearer is asked → wrong_scheme', async () => {
    const s = await challenge('Bearer realm="api"');
    const r = await run(s.port, [['Authorization', 'Basic dXNlcjpwYXNzd29yZA==']]);
    expect(keys(r)).toContain('auth.error=wrong_scheme');
    expect(keys(r)).not.toContain('auth.error=missing_credentials');
    expect(r.details.authorizationScheme).toBe('basic');
    expect(JSON.stringify(r)).not.toContain('dXNlcjpwYXNzd29yZA');
  });

  it("reads auth middleware messages in a 401's body", async () => {
    const s = await challenge('Bearer', '{"message":"jwt expired"}');
    const r = await run(s.port, [['Authorization', 'Bearer opaque-token-value-123']]);
    expect(keys(r)).toContain('auth.error=token_expired');
  });

  it('a server that says no token arrived although one was sent → header_stripped', async () => {
    const s = await http((_req, res) => res.writeHead(401).end('UnauthorizedError: No authorization token was found'));
    const r = await run(s.port, [['Authorization', 'Bearer opaque-token-value-123']]);
    expect(keys(r)).toContain('auth.error=header_stripped');
    expect(keys(r)).not.toContain('auth.error=missing_credentials');
  });
});

describe('auth probe: the JWT', () => {
  it('decodes exp, nbf and iat against ctx.now() and never prints the token', async () => {
    const token = jwt({
      sub: 'alice',
      iss: 'https://login.example.com/',
      aud: 'orders-api',
      exp: t(-3 * 3600 - 12 * 60),
      nbf: t(2 * 3600),
      iat: t(2 * 3600),
    });
    const s = await challenge('Bearer error="invalid_token"');
    const r = await run(s.port, [['Authorization', `Bearer ${token}`]]);
    expect(keys(r)).toEqual(expect.arrayContaining(['jwt.present', 'jwt.exp_past=3h12m', 'jwt.nbf_future=2h', 'jwt.iat_future=2h']));
    expect(String(r.details.jwt)).toMatch(/iss=https:\/\/login\.example\.com\/, aud=orders-api/);
    const text = JSON.stringify(r);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[1]);
  });

  it('a valid token and a 200: ok, jwt.present and jwt.valid_now only', async () => {
    const token = jwt({ sub: 'alice', exp: t(3600), iat: t(-60) });
    const s = await http((_req, res) => res.end('{"orders":[]}'));
    const r = await run(s.port, [['Authorization', `Bearer ${token}`]]);
    expect(r.status).toBe('ok');
    expect(keys(r)).toEqual(['jwt.present', 'jwt.valid_now']);
    expect(JSON.stringify(r)).not.toContain(token);
  });

  it('a JWT-like token that does not decode → jwt.malformed', async () => {
    const s = await challenge('Bearer error="invalid_token"');
    const r = await run(s.port, [['Authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJub3QganNvbg.sig']]);
    expect(keys(r)).toContain('jwt.malformed');
  });
});

describe('auth probe: policy', () => {
  it('a restrictive policy refuses 127.0.0.1 without connecting', async () => {
    const s = await startSilentServer();
    try {
      const r = await authProbe.run(makeContext(`http://127.0.0.1:${s.port}/`, { policy: restrictivePolicy }));
      expect(r.status).toBe('refused');
      expect(s.connections()).toBe(0);
    } finally {
      await s.close();
    }
  });
});
