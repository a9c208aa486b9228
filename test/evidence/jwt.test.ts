import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { duration, JWT_PATTERNS, jwtExtractor } from '../../src/evidence/jwt.js';
import { TextDoc } from '../../src/evidence/text.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const NOW = new Date('2024-05-01T13:12:00Z');
const now = Math.floor(NOW.getTime() / 1000);
const keys = (text: string) => keysOf(jwtExtractor, text, NOW);
const signals = (text: string) => jwtExtractor.extract(TextDoc.from(text, { now: NOW }));

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }) =>
  `${b64(header)}.${b64(payload)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;

const EXPIRED = token({ sub: 'u-42', iss: 'https://auth.example.com', aud: 'api', exp: now - (3 * 3600 + 12 * 60), iat: now - 5 * 3600 });

const SAMPLES = [
  `> GET /v1/orders HTTP/1.1\n> Authorization: Bearer ${EXPIRED}\n< HTTP/1.1 401 Unauthorized\n< WWW-Authenticate: Bearer error="invalid_token", error_description="The token expired"`,
  'TokenExpiredError: jwt expired\n    at /app/node_modules/jsonwebtoken/verify.js:190:21',
  'jwt.exceptions.ImmatureSignatureError: The token is not yet valid (nbf)',
  '{"detail":"Authentication credentials were not provided."}',
];

describe('jwt extractor: API keys and bare JSON auth fields', () => {
  it('reads a missing or invalid API key, and a JSON error that says only "unauthenticated" or "access denied"', () => {
    expect(keys('{"error":"API key missing"}')).toContain('auth.error=missing_credentials');
    expect(keys('{"message":"No API key found in request"}')).toContain('auth.error=missing_credentials');
    expect(keys('{"error":"Invalid API key"}')).toContain('auth.error=invalid_token');
    expect(keys('{"error":"Unauthenticated."}')).toContain('auth.error=missing_credentials');
    expect(keys('{"message":"Authentication required"}')).toContain('auth.error=missing_credentials');
    expect(keys('{"error":"Access denied"}')).toContain('auth.forbidden_role');
    expect(keys('{"message":"Requires authentication","documentation_url":"https://docs.github.com/rest"}')).toContain(
      'auth.error=missing_credentials',
    );
    expect(keys('{"error":{"message":"Incorrect API key provided: sk-abc***.","code":"invalid_api_key"}}')).toContain(
      'auth.error=invalid_token',
    );
    expect(keys('{"error":{"code":"InvalidAuthenticationTokenTenant","message":"The access token is from the wrong issuer"}}')).toContain(
      'auth.error=invalid_issuer',
    );
    // The same words in running text are not a JSON error field.
    expect(keys('Unauthenticated requests are limited to 60 per hour.')).toEqual([]);
    expect(keys('This endpoint requires authentication.')).toEqual([]);
  });
});

describe('jwt extractor: tokens', () => {
  it('decodes a token without verifying it and says how long ago it expired', () => {
    expect(keys(`Authorization: Bearer ${EXPIRED}`)).toEqual(['jwt.present', 'jwt.exp_past=3h12m']);
  });

  it('writes its own excerpt, without the token, with iss and aud', () => {
    for (const s of signals(`curl -H "Authorization: Bearer ${EXPIRED}" https://api.example.com/v1/orders`)) {
      expect(s.excerpt).toBe('JWT (alg RS256) exp 2024-05-01T10:00:00Z (3h12m ago), iss=https://auth.example.com, aud=api');
      expect(s.excerpt).not.toContain(EXPIRED.split('.')[0]);
      expect(s.source).toBe('jwt');
      expect(s.line).toBe(1);
    }
  });

  it('masks secrets that a claim carries', () => {
    const t = token({ iss: 'https://auth.example.com/?token=s3cr3tvalue', aud: ['api', 'admin'], exp: now + 3600 });
    const [present] = signals(`token=${t}`);
    expect(present?.excerpt).toContain('aud=api,admin');
    expect(present?.excerpt).toContain('[masked]');
    expect(present?.excerpt).not.toContain('s3cr3tvalue');
    expect(present?.excerpt).toContain('(in 1h)');
  });

  it('gives nbf and iat a 60 s leeway, and exp none', () => {
    expect(keys(token({ nbf: now + 600, exp: now + 3600 }))).toEqual(['jwt.present', 'jwt.nbf_future=10m']);
    expect(keys(token({ nbf: now + 30, exp: now + 3600 }))).toEqual(['jwt.present', 'jwt.valid_now']);
    expect(keys(token({ iat: now + 7200 }))).toEqual(['jwt.present', 'jwt.iat_future=2h']);
    expect(keys(token({ exp: now }))).toEqual(['jwt.present', 'jwt.exp_past=0s']);
    expect(keys(token({ exp: now + 1 }))).toEqual(['jwt.present', 'jwt.valid_now']);
  });

  it('finds tokens in cookies, JSON and query strings, once each', () => {
    const t = token({ exp: now - 90 });
    expect(keys(`Cookie: session=${t}; theme=dark`)).toEqual(['jwt.present', 'jwt.exp_past=1m30s']);
    expect(keys(`{"access_token":"${t}","token_type":"Bearer"}`)).toEqual(['jwt.present', 'jwt.exp_past=1m30s']);
    expect(keys(`GET /ws?access_token=${t} HTTP/1.1\nGET /ws?access_token=${t} HTTP/1.1`)).toEqual(['jwt.present', 'jwt.exp_past=1m30s']);
  });

  it('flags a token that does not decode', () => {
    expect(keys('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY')).toEqual(['jwt.malformed']);
    expect(keys('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln')).toEqual(['jwt.malformed']);
    expect(keys('see https://jwt.io, a token looks like eyJhbGciOi... in the header')).toEqual([]);
  });

  it('does not read claims of an encrypted token', () => {
    const jwe = `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYI.XFBoMYUZodetZdvTiFvSkQ`;
    const s = signals(jwe);
    expect(s.map((x) => x.name)).toEqual(['jwt.present']);
    expect(s[0]?.excerpt).toContain('JWE');
  });

  it('reads claims that look like dates only when they are NumericDates', () => {
    expect(keys(token({ exp: '2024-01-01' }))).toEqual(['jwt.present']);
    expect(keys(token({ exp: 1e15 }))).toEqual(['jwt.present']);
  });

  it('formats durations compactly', () => {
    expect(duration(45_000)).toBe('45s');
    expect(duration(320_000)).toBe('5m20s');
    expect(duration((3 * 3600 + 12 * 60) * 1000)).toBe('3h12m');
    expect(duration(2 * 86400_000 + 4 * 3600_000 + 59_000)).toBe('2d4h');
    expect(duration(7200_000)).toBe('2h');
  });
});

describe('jwt extractor: challenges and auth errors', () => {
  it('reads WWW-Authenticate and the RFC 6750 error', () => {
    const k = keys('< WWW-Authenticate: Bearer error="invalid_token", error_description="The token expired"');
    expect(k).toEqual(expect.arrayContaining(['auth.www_authenticate=bearer', 'auth.error=token_expired']));
    expect(k).not.toContain('auth.error=invalid_token');
    expect(keys('WWW-Authenticate: Bearer realm="api"')).toEqual(['auth.www_authenticate=bearer', 'auth.error=missing_credentials']);
    expect(keys('WWW-Authenticate: Basic realm="Restricted"')).toEqual(['auth.www_authenticate=basic']);
    expect(keys('WWW-Authenticate: Bearer error="insufficient_scope", scope="orders:write"')).toEqual(
      expect.arrayContaining(['auth.www_authenticate=bearer', 'auth.forbidden_role']),
    );
    expect(keys('Bearer error="invalid_token", error_description="The audience \'api://x\' is invalid"')).toEqual(
      expect.arrayContaining(['auth.www_authenticate=bearer', 'auth.error=invalid_audience']),
    );
    expect(keys('\'www-authenticate\', \'Bearer realm="https://api.example.com", error="invalid_token"\'')).toEqual(
      expect.arrayContaining(['auth.www_authenticate=bearer', 'auth.error=invalid_token']),
    );
    expect(keys('npm ERR! Unable to authenticate, need: Basic realm="Artifactory Realm"')).toEqual([
      'auth.www_authenticate=basic',
      'auth.error=missing_credentials',
    ]);
  });

  it('reads JWT library errors', () => {
    expect(keys('TokenExpiredError: jwt expired')).toEqual(['auth.error=token_expired']);
    expect(keys('NotBeforeError: jwt not active')).toEqual(['auth.error=token_not_yet_valid']);
    expect(keys('JsonWebTokenError: invalid signature')).toContain('auth.error=invalid_signature');
    expect(keys('JsonWebTokenError: jwt malformed')).toEqual(['auth.error=invalid_token']);
    expect(keys('JsonWebTokenError: jwt audience invalid. expected: api')).toContain('auth.error=invalid_audience');
    expect(keys('UnauthorizedError: No authorization token was found')).toEqual(['auth.error=missing_credentials']);
    expect(keys('UnauthorizedError: Format is Authorization: Bearer [token]')).toEqual(['auth.error=wrong_scheme']);
    expect(keys('jwt.exceptions.ExpiredSignatureError: Signature has expired')).toEqual(['auth.error=token_expired']);
    expect(keys('jwt.exceptions.ImmatureSignatureError: The token is not yet valid (iat)')).toEqual(['auth.error=token_not_yet_valid']);
    expect(keys("jwt.exceptions.InvalidAudienceError: Audience doesn't match")).toContain('auth.error=invalid_audience');
    expect(keys('jwt.exceptions.InvalidIssuerError: Invalid issuer')).toContain('auth.error=invalid_issuer');
    expect(keys('io.jsonwebtoken.security.SignatureException: JWT signature does not match locally computed signature.')).toEqual([
      'auth.error=invalid_signature',
    ]);
    expect(
      keys(
        'org.springframework.security.oauth2.jwt.JwtValidationException: An error occurred while attempting to decode the Jwt: Jwt expired at 2024-05-01T09:00:00Z',
      ),
    ).toEqual(['auth.error=token_expired']);
    expect(keys('token has invalid claims: token is expired')).toContain('auth.error=token_expired');
    expect(keys('Token used before issued')).toEqual(['auth.error=token_not_yet_valid']);
    expect(keys('IDX10223: Lifetime validation failed. The token is expired.')).toEqual(['auth.error=token_expired']);
    expect(keys('{"detail":"Authentication credentials were not provided."}')).toEqual(['auth.error=missing_credentials']);
    expect(keys('{"msg":"Missing Authorization Header"}')).toEqual(['auth.error=missing_credentials']);
  });

  it('reads the times jjwt reports', () => {
    expect(
      keys(
        'io.jsonwebtoken.ExpiredJwtException: JWT expired at 2024-05-01T10:00:00Z. Current time: 2024-05-01T13:12:00Z, a difference of 11520000 milliseconds.  Allowed clock skew: 0 milliseconds.',
      ),
    ).toEqual(['auth.error=token_expired', 'jwt.exp_past=3h12m']);
    expect(
      keys(
        'io.jsonwebtoken.PrematureJwtException: JWT must not be accepted before 2024-05-01T13:12:03Z. Current time: 2024-05-01T13:12:00Z, a difference of 3000 milliseconds.  Allowed clock skew: 0 milliseconds.',
      ),
    ).toEqual(expect.arrayContaining(['auth.error=token_not_yet_valid', 'jwt.nbf_future=3s', 'auth.error=clock_skew']));
  });

  it('separates clock skew from the note that only mentions it', () => {
    expect(keys('Allowed clock skew: 0 milliseconds.')).toEqual([]);
    expect(keys('The token was rejected: clock skew between the issuer and this host')).toEqual(['auth.error=clock_skew']);
  });

  it('keeps CSRF tokens out of auth errors, and a generic "invalid token" out when a reason is named', () => {
    expect(keys('ForbiddenError: invalid csrf token')).toEqual([]);
    expect(keys('{"detail":"CSRF Failed: CSRF token missing."}')).toEqual([]);
    expect(keys("Invalid Token: The token can't be used before 2024-04-29T04:27:39Z")).toEqual(['auth.error=token_not_yet_valid']);
    expect(keys('{"error":"insufficient_scope","error_description":"The request requires higher privileges"}')).toEqual([
      'auth.forbidden_role',
    ]);
  });
});

describeConformance(jwtExtractor, JWT_PATTERNS, SAMPLES);
