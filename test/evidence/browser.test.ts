import { describe, expect, it } from 'vitest';
import { BROWSER_PATTERNS, browserExtractor } from '../../src/evidence/browser.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(browserExtractor, text);

const CHROME_PREFLIGHT = `Access to fetch at 'https://api.example.com/v1/me' from origin 'https://app.example.com' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: It does not have HTTP ok status.
OPTIONS https://api.example.com/v1/me 401 (Unauthorized)`;

const FIREFOX_CORS = `Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/v1/me. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200.`;

const SAMPLES = [
  CHROME_PREFLIGHT,
  FIREFOX_CORS,
  'GET https://api.example.com/v1/items net::ERR_CONNECTION_REFUSED',
  "WebSocket connection to 'wss://chat.example.com/socket' failed: Error during WebSocket handshake: Unexpected response code: 400",
  'This site can’t provide a secure connection\nshop.example.com sent an invalid response.\nERR_SSL_PROTOCOL_ERROR',
  'Failed to load resource: net::ERR_TUNNEL_CONNECTION_FAILED',
];

describe('browser extractor', () => {
  it('reads Chrome net error codes', () => {
    expect(keys('GET https://api.example.com/v1/items net::ERR_CONNECTION_REFUSED')).toEqual([
      'net.error=connection_refused',
      'net.phase=connect',
    ]);
    expect(keys('Failed to load resource: net::ERR_CONNECTION_RESET')).toEqual(['net.error=connection_reset']);
    expect(keys('Failed to load resource: net::ERR_CONNECTION_TIMED_OUT')).toEqual(['net.error=connect_timeout', 'net.phase=connect']);
    expect(keys('net::ERR_NAME_NOT_RESOLVED')).toEqual(['net.error=dns_not_found', 'net.phase=dns', 'browser.error_page']);
    expect(keys('DNS_PROBE_FINISHED_NXDOMAIN')).toEqual(['net.error=dns_not_found', 'net.phase=dns', 'browser.error_page']);
    expect(keys('net::ERR_EMPTY_RESPONSE')).toContain('net.error=empty_reply');
    expect(keys('ERR_TOO_MANY_REDIRECTS')).toEqual(['http.redirect_loop', 'browser.error_page']);
    expect(keys('net::ERR_HTTP2_PROTOCOL_ERROR 200 (OK)')).toContain('h2.error=protocol_error');
  });

  it('reads certificate and TLS codes from Chrome and Firefox', () => {
    expect(keys('NET::ERR_CERT_DATE_INVALID')).toEqual(['tls.error=cert_expired', 'net.phase=tls', 'browser.error_page']);
    expect(keys('NET::ERR_CERT_AUTHORITY_INVALID')).toContain('tls.error=unknown_issuer');
    expect(keys('NET::ERR_CERT_COMMON_NAME_INVALID')).toContain('tls.error=hostname_mismatch');
    expect(keys('ERR_SSL_VERSION_OR_CIPHER_MISMATCH')).toContain('tls.error=protocol_version');
    expect(keys('ERR_SSL_PROTOCOL_ERROR')).toContain('tls.error=handshake_failure');
    expect(keys('Error code: SEC_ERROR_EXPIRED_CERTIFICATE')).toContain('tls.error=cert_expired');
    expect(keys('Error code: MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT')).toContain('tls.error=self_signed');
    expect(keys('Error code: SSL_ERROR_RX_RECORD_TOO_LONG')).toContain('tls.error=wrong_version_number');
    expect(keys('Error code: SSL_ERROR_BAD_CERT_DOMAIN')).toContain('tls.error=hostname_mismatch');
    expect(keys('Error code: MOZILLA_PKIX_ERROR_MITM_DETECTED')).toContain('tls.intercepted');
  });

  it("knows a browser's own error page by its code alone on a line, not by a code named in a sentence", () => {
    // Edge's certificate interstitial (zh-CN), which explains itself in prose around the code
    const page =
      '你的连接不是专用连接\n攻击者可能试图从 auth0.example.com 窃取你的信息(例如，密码、消息或信用卡)。\nNET::ERR_CERT_DATE_INVALID\n';
    expect(keys(page)).toContain('browser.error_page');
    expect(keys('Fehlercode: SEC_ERROR_UNKNOWN_ISSUER')).toContain('browser.error_page');
    expect(keys('`ERR_CONNECTION_REFUSED`')).toContain('browser.error_page');
    expect(keys('ERR_CONNECTION_REFUSED means that the server refused the connection.')).not.toContain('browser.error_page');
    expect(keys('GET https://api.example.com/v1/items net::ERR_CONNECTION_REFUSED')).not.toContain('browser.error_page');
  });

  it("leaves other products' ERR_ codes alone", () => {
    expect(keys("code: 'ERR_TLS_CERT_ALTNAME_INVALID'")).toEqual([]);
    expect(keys('X-Squid-Error: ERR_ACCESS_DENIED 0')).toEqual([]);
    expect(keys('curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to x:443')).toEqual([]);
  });

  it('reads forward proxy errors', () => {
    expect(keys('Failed to load resource: net::ERR_TUNNEL_CONNECTION_FAILED')).toEqual(['proxy.forward', 'connect.sent', 'connect.failed']);
    expect(keys('net::ERR_PROXY_CONNECTION_FAILED')).toEqual(['proxy.forward', 'net.error=connection_refused', 'browser.error_page']);
    expect(keys('Failed to load resource: the server responded with a status of 407 (Proxy Authentication Required)')).toEqual([
      'http.status=407',
      'proxy.auth_required',
    ]);
  });

  it('reads Chrome CORS messages', () => {
    expect(keys(CHROME_PREFLIGHT)).toEqual(
      expect.arrayContaining([
        'cors.error=blocked',
        'cors.error=preflight_failed',
        'cors.error=preflight_status',
        'http.method=OPTIONS',
        'http.status=401',
      ]),
    );
    expect(
      keys(
        "Access to XMLHttpRequest at 'https://api.example.com/x' from origin 'http://localhost:3000' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
      ),
    ).toEqual(expect.arrayContaining(['cors.error=blocked', 'cors.error=no_allow_origin']));
    expect(keys('Request header field authorization is not allowed by Access-Control-Allow-Headers in preflight response.')).toEqual([
      'cors.error=header_not_allowed',
    ]);
    expect(keys('Method PATCH is not allowed by Access-Control-Allow-Methods in preflight response.')).toEqual([
      'cors.error=method_not_allowed',
    ]);
    expect(
      keys("The 'Access-Control-Allow-Origin' header contains multiple values 'https://a.example, *', but only one is allowed."),
    ).toContain('cors.error=multiple_origins');
    expect(
      keys(
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
      ),
    ).toContain('cors.error=wildcard_credentials');
    expect(
      keys("The 'Access-Control-Allow-Origin' header has a value 'https://staging.example.com' that is not equal to the supplied origin."),
    ).toContain('cors.error=origin_mismatch');
  });

  it('reads Firefox and Safari CORS messages', () => {
    expect(keys(FIREFOX_CORS)).toEqual(expect.arrayContaining(['cors.error=blocked', 'cors.error=no_allow_origin']));
    expect(keys('Cross-Origin Request Blocked: … (Reason: CORS preflight response did not succeed). Status code: 403.')).toEqual(
      expect.arrayContaining(['cors.error=preflight_failed', 'cors.error=preflight_status']),
    );
    expect(
      keys(
        '(Reason: header ‘authorization’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).',
      ),
    ).toContain('cors.error=header_not_allowed');
    expect(keys('(Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’).')).toContain(
      'cors.error=wildcard_credentials',
    );
    expect(keys('(Reason: Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed).')).toContain('cors.error=multiple_origins');
    expect(keys('Preflight response is not successful. Status code: 401')).toContain('cors.error=preflight_status');
    expect(keys('XMLHttpRequest cannot load https://api.example.com/x due to access control checks.')).toContain('cors.error=blocked');
  });

  it('reads failed WebSocket handshakes', () => {
    expect(
      keys(
        "WebSocket connection to 'wss://chat.example.com/socket' failed: Error during WebSocket handshake: Unexpected response code: 400",
      ),
    ).toEqual(['ws.upgrade_failed', 'http.status=400']);
    expect(keys('Firefox can’t establish a connection to the server at wss://chat.example.com/socket.')).toEqual(['ws.upgrade_failed']);
  });

  it('reads English error pages and devtools panels', () => {
    expect(keys('This site can’t be reached\nlocalhost refused to connect.')).toEqual(['net.error=connection_refused']);
    expect(keys('This site can’t be reached\napi.example.com took too long to respond.')).toEqual(['net.error=connect_timeout']);
    expect(
      keys(
        'This site can’t be reached\nCheck if there is a typo in intranet.\nDNS_PROBE_FINISHED_NXDOMAIN\nintranet’s server IP address could not be found.',
      ),
    ).toContain('net.error=dns_not_found');
    expect(keys('This page isn’t working\nexample.com redirected you too many times.')).toEqual(['http.redirect_loop']);
    expect(keys('The page isn’t redirecting properly')).toEqual(['http.redirect_loop']);
    expect(keys('Request URL: https://api.example.com/x\nRequest Method: OPTIONS\nStatus Code: 403 Forbidden')).toEqual([
      'http.method=OPTIONS',
      'http.status=403',
    ]);
  });
});

describeConformance(browserExtractor, BROWSER_PATTERNS, SAMPLES);
