import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { serve, type NodeServer } from './node-servers.js';

/** Claims the lab puts in a token. Times are seconds since the epoch. */
export interface JwtClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly nbf?: number;
}

const ISSUER = 'https://issuer.lab.invalid/';
const AUDIENCE = 'gateway-lab-api';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** An HS256 JWT signed with `secret`. */
export function signJwt(claims: JwtClaims, secret: Buffer): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

type Verdict = { ok: true; claims: JwtClaims } | { ok: false; description: string };

/** Verify like a strict resource server: signature, issuer, audience, then exp and nbf with no leeway. */
export function verifyJwt(token: string, secret: Buffer, nowS: number): Verdict {
  const [head, body, sig] = token.split('.');
  if (head === undefined || body === undefined || sig === undefined) return { ok: false, description: 'The token is malformed' };
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, description: 'The token signature is invalid' };
  let claims: JwtClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as JwtClaims;
  } catch {
    return { ok: false, description: 'The token is malformed' };
  }
  if (claims.iss !== ISSUER || claims.aud !== AUDIENCE) return { ok: false, description: 'The token issuer or audience is invalid' };
  if (typeof claims.exp === 'number' && claims.exp <= nowS) return { ok: false, description: 'The token expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > nowS) return { ok: false, description: 'The token is not yet valid' };
  return { ok: true, claims };
}

/** The JWT API and the tokens that exercise it. */
export interface JwtApi extends NodeServer {
  readonly tokens: {
    /** Signed correctly, valid now. */
    readonly valid: string;
    /** exp 3 hours ago (issued 4 hours ago, lived 1 hour). */
    readonly expired: string;
    /** iat and nbf 10 minutes in the future: the issuer's clock runs ahead. */
    readonly notYetValid: string;
  };
}

/**
 * An API that wants `Authorization: Bearer <HS256 JWT>`, answering per RFC 6750:
 * - no token: 401 `WWW-Authenticate: Bearer realm="gateway-lab-api"`;
 * - a token that fails: 401 `WWW-Authenticate: Bearer error="invalid_token", error_description="The token expired"`
 *   (or "The token is not yet valid", "The token signature is invalid" …);
 * - a valid token: 200 JSON with the subject.
 */
export async function startJwtApi(): Promise<JwtApi> {
  const secret = randomBytes(32);
  const server = await serve(
    createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!match?.[1]) {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${AUDIENCE}"`, 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'unauthorized', message: 'Bearer token required' }) + '\n');
        return;
      }
      const verdict = verifyJwt(match[1], secret, Math.floor(Date.now() / 1000));
      if (!verdict.ok) {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer error="invalid_token", error_description="${verdict.description}"`,
          'Content-Type': 'application/json',
        });
        res.end(JSON.stringify({ error: 'invalid_token', message: verdict.description }) + '\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, sub: verdict.claims.sub }) + '\n');
    }),
  );
  const now = Math.floor(Date.now() / 1000);
  const base = { sub: 'lab-user', iss: ISSUER, aud: AUDIENCE };
  return {
    ...server,
    tokens: {
      valid: signJwt({ ...base, iat: now - 60, nbf: now - 60, exp: now + 3600 }, secret),
      expired: signJwt({ ...base, iat: now - 4 * 3600, nbf: now - 4 * 3600, exp: now - 3 * 3600 }, secret),
      notYetValid: signJwt({ ...base, iat: now + 600, nbf: now + 600, exp: now + 4200 }, secret),
    },
  };
}
