import { describe, expect, it } from 'vitest';
import { codeClass } from '../../src/evidence/jwt.js';
import { dotnetExtractor } from '../../src/evidence/dotnet.js';
import { goExtractor } from '../../src/evidence/go.js';
import { httpExtractor } from '../../src/evidence/http.js';
import { jwtExtractor } from '../../src/evidence/jwt.js';
import { socketExtractor } from '../../src/evidence/socket.js';
import { keysOf } from './conformance-kit.js';

describe('socket extractor: runtimes that name their own transport errors', () => {
  it("reads Elixir Mint's transport errors", () => {
    expect(keysOf(socketExtractor, '%Mint.TransportError{reason: :closed}')).toEqual(['net.error=unexpected_eof']);
    expect(keysOf(socketExtractor, '[error] ** (Mint.TransportError) timeout')).toEqual(['net.error=timeout']);
    expect(keysOf(socketExtractor, 'Mint.TransportError is the struct Mint returns')).toEqual([]);
  });

  it("reads Windows' semaphore timeout and Node's socket connection timeout as a connect timeout", () => {
    expect(
      keysOf(socketExtractor, 'SocketException: Превышен таймаут семафора.\n (OS Error: Превышен таймаут семафора., errno = 121)'),
    ).toContain('net.error=connect_timeout');
    expect(keysOf(socketExtractor, 'cause: Error [ERR_SOCKET_CONNECTION_TIMEOUT]: Socket connection timeout')).toContain(
      'net.error=connect_timeout',
    );
  });
});

describe('dotnet extractor: WebException and CurlHandler messages', () => {
  it('reads the connection closed unexpectedly in Chinese, and CurlHandler passing on a partial transfer', () => {
    expect(keysOf(dotnetExtractor, 'System.Net.WebException: 基础连接已经关闭: 连接被意外关闭。')).toContain('net.error=unexpected_eof');
    expect(keysOf(dotnetExtractor, 'System.Net.Http.CurlException: Transferred a partial file')).toContain('net.error=unexpected_eof');
  });
});

describe('go extractor: certificates the client cannot parse', () => {
  it('reads a certificate that does not parse as one that does not verify', () => {
    expect(
      keysOf(
        goExtractor,
        'Get "https://charts.example.com/index.yaml": tls: failed to parse certificate from server: x509: negative serial number',
      ),
    ).toContain('tls.error=cert_invalid');
  });
});

describe('http extractor: statuses in build tools', () => {
  it("reads Maven's return code", () => {
    expect(
      keysOf(httpExtractor, 'Failed to transfer file: http://nexus.example.com/a.pom. Return code is: 502 , ReasonPhrase:Bad Gateway.'),
    ).toContain('http.status=502');
  });
});

describe('jwt extractor: machine error codes read by their words', () => {
  it('classifies codes by a credential word and a state word', () => {
    expect(codeClass('expired_access_token')).toBe('expired');
    expect(codeClass('token_expired')).toBe('expired');
    expect(codeClass('ExpiredToken')).toBe('expired');
    expect(codeClass('SIGN_ERROR')).toBe('signature');
    expect(codeClass('invalid_api_key')).toBe('invalid');
    expect(codeClass('InvalidAuthenticationToken')).toBe('invalid');
    expect(codeClass('missing_token')).toBe('missing');
    expect(codeClass('UNAUTHENTICATED')).toBe('missing');
    expect(codeClass('missing_scope')).toBe('forbidden');
    expect(codeClass('PERMISSION_DENIED')).toBe('forbidden');
    expect(codeClass('AccessDenied')).toBe('forbidden');
  });

  it('says nothing of codes that name no auth mechanism, or a CSRF token', () => {
    for (const code of [
      'not_found',
      'user_created',
      'E1234',
      'ok',
      'invalid_request',
      'csrf_token_missing',
      'Unauthorized',
      'rate_limited',
    ])
      expect(codeClass(code), code).toBeUndefined();
  });

  it('reads them in JSON bodies, Python dicts and struct dumps', () => {
    expect(keysOf(jwtExtractor, '401 {"message":"アクセスする権限がありません","code":"expired_access_token"}')).toContain(
      'auth.error=token_expired',
    );
    expect(keysOf(jwtExtractor, "{'ok': False, 'error': 'missing_scope', 'needed': 'groups:history'}")).toContain('auth.forbidden_role');
    expect(keysOf(jwtExtractor, 'error http response:[StatusCode: 401 Code: "SIGN_ERROR"')).toContain('auth.error=invalid_signature');
    expect(keysOf(jwtExtractor, '{"type":"user_created","status":"ok"}')).toEqual([]);
  });
});

describe('more runtimes that name the mechanism', () => {
  it("reads nimbus's and Envoy jwt_authn's token verdicts, but not a sentence about expired tokens", () => {
    expect(keysOf(jwtExtractor, 'com.nimbusds.jwt.proc.BadJWTException: Expired JWT')).toContain('auth.error=token_expired');
    expect(keysOf(jwtExtractor, 'jwt_authenticator.cc:243] Jwt authentication completed with: Unknown issuer')).toContain(
      'auth.error=invalid_issuer',
    );
    expect(keysOf(jwtExtractor, 'An expired JWT should return a 401 so the client knows to re-authenticate.')).toEqual([]);
  });

  it("reads Android's missing trust anchor and Windows' unknown host in Dutch", async () => {
    const { javaExtractor } = await import('../../src/evidence/java.js');
    expect(
      keysOf(
        javaExtractor,
        'javax.net.ssl.SSLHandshakeException: java.security.cert.CertPathValidatorException: Trust anchor for certification path not found.',
      ),
    ).toContain('tls.error=unknown_issuer');
    expect(keysOf(socketExtractor, 'System.Net.Sockets.SocketException (0x80004005): Host is onbekend')).toContain(
      'net.error=dns_not_found',
    );
  });
});

describe('HTTP/2 errors by their names and their words', () => {
  it("reads nghttp2's prefixed codes and the Rust h2 crate's reason words", async () => {
    const { grpcExtractor } = await import('../../src/evidence/grpc.js');
    expect(keysOf(grpcExtractor, 'Error [ERR_HTTP2_STREAM_ERROR]: Stream closed with error code NGHTTP2_REFUSED_STREAM')).toContain(
      'h2.error=refused_stream',
    );
    expect(
      keysOf(
        grpcExtractor,
        'h2 protocol error: error reading a body from connection: stream error received: unexpected internal error encountered',
      ),
    ).toContain('h2.error=internal_error');
    expect(keysOf(socketExtractor, 'Error: connect ENETDOWN 10.0.0.5:443')).toContain('net.error=network_unreachable');
  });
});

describe('auth verdicts as the whole message of an error field, in other languages', () => {
  it('reads failed, missing and refused authentication from JSON error fields, and not from running text', () => {
    expect(keysOf(jwtExtractor, '{"message":"Authentication failed"}')).toContain('auth.error=invalid_token');
    expect(keysOf(jwtExtractor, '{"messages":["ログインしてください"]}')).toContain('auth.error=missing_credentials');
    expect(keysOf(jwtExtractor, '401 {"Code":4001007,"Message":"ログイン認証エラー"}')).toContain('auth.error=invalid_token');
    expect(keysOf(jwtExtractor, '{"error":"Acceso denegado"}')).toContain('auth.forbidden_role');
    expect(keysOf(jwtExtractor, 'Authentication failed is logged when a user mistypes the password.')).toEqual([]);
    expect(keysOf(httpExtractor, '401 {"Code":4001007,"Message":"ログイン認証エラー"}')).toContain('http.status=401');
    expect(keysOf(httpExtractor, 'took 401 {ms}')).toEqual([]);
  });
});
