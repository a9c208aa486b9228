// Mechanisms added in session 26 from the eleventh fresh round (after it was scored), each keyed on a
// product's own output format rather than on one sentence. The real texts name their threads; the
// variants beside them are the same mechanism in another wording, which must land too.
import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/evidence/discourse.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const explain = (text: string) => engine.explain(text);
const signals = (text: string) => explain(text).signals.map((s) => s.signal);
const top = (text: string) => explain(text).causes[0]?.id;

describe('machine output that reads like a definition', () => {
  it(".NET's 'Response status code does not indicate success' is the client's output, not a page explaining a status", () => {
    // NuGet restore behind a proxy (corpus s28a-118, dotnet/cli#3265).
    const text =
      'error: Unable to load the service index for source https://api.nuget.org/v3/index.json.\n**error:   Response status code does not indicate success: 407 (authenticationrequired).**';
    expect(classifyLine('error:   Response status code does not indicate success: 407 (Proxy Authentication Required).')).toBe('machine');
    expect(top(text)).toBe('proxy-auth-required');
    // Any status, any caller: the same message from HttpClient.EnsureSuccessStatusCode in an application log.
    expect(top('System.Net.Http.HttpRequestException: Response status code does not indicate success: 502 (Bad Gateway).')).toBe(
      'upstream-refused',
    );
    // A page that says what a status indicates still describes.
    expect(classifyLine('A 407 status code indicates that the client must first authenticate with the proxy.')).toBe('description');
  });

  it("reads NuGet's padded output labels as output", () => {
    expect(classifyLine('log  : Restoring packages for D:\\src\\app\\project.json...')).toBe('machine');
    expect(classifyLine('info :   GET https://api.nuget.org/v3-flatcontainer/microsoft.netcore.app/index.json')).toBe('machine');
  });
});

describe('a CONNECT tunnel that failed, said by the client without the proxy status', () => {
  it("reads Node's tunnel-agent 'cause=' and Rust's 'unsuccessful tunnel' as a failed tunnel", () => {
    // npm behind a proxy after an OpenSSL upgrade (corpus s28a-102, nodejs/node#7880).
    expect(signals('Error: tunneling socket could not be established, cause=Parse Error')).toContain('connect.failed');
    expect(top('Error: tunneling socket could not be established, cause=Parse Error')).toBe('connect-unsupported');
    // reqwest through a proxy (corpus s28c-023, samtay/so#11).
    const rust =
      '✖ Reqwest error: error sending request for url (https://duckduckgo.com/?q=x): error\ntrying to connect: unsuccessful tunnel';
    expect(signals(rust)).toContain('connect.failed');
    // The cause the client gives still counts: a proxy that refuses the TCP connection is not a proxy without CONNECT.
    expect(top('npm ERR! tunneling socket could not be established, cause=connect ECONNREFUSED 10.0.0.5:3128')).toBe('upstream-refused');
  });
});

describe("products' own messages at gateways (written from round 13 after it was scored)", () => {
  it("reads Home Assistant's refusal of an untrusted reverse proxy as an address rule", () => {
    // home-assistant forum and issue threads quote it in every language of the UI around it.
    expect(
      top(
        'Logger: homeassistant.components.http.forwarded\nA request from a reverse proxy was received from 172.30.33.7, but your HTTP integration is not set-up for reverse proxies',
      ),
    ).toBe('acl-deny');
    expect(top('400: Bad Request\nReceived X-Forwarded-For header from an untrusted proxy 172.17.0.1')).toBe('acl-deny');
  });

  it("reads API Gateway's usage plan quota and its Lambda invoke permission", () => {
    expect(top('(7b81) API Key ****F0yrv6 exceeded quota limit for API Stage rohkz08x02/dev')).toBe('rate-limited');
    expect(
      top('Method completed with status: 500\nExecution failed due to configuration error: Invalid permissions on Lambda function'),
    ).toBe('permission-denied');
  });

  it('reads a header section too large (S3 behind a CDN) and what gateways say about credentials and claims', () => {
    expect(
      top(
        '<Error><Code>RequestHeaderSectionTooLarge</Code><Message>Your request header section exceeds the maximum allowed size.</Message></Error>',
      ),
    ).toBe('header-too-large');
    expect(top('$ curl -H "x-huge: ..." https://shop.example.com/\nHTTP header is larger than 16384 bytes.')).toBe('header-too-large');
    expect(top('msg="Attempted access with malformed header, no auth header found." api_id=1 mw=AuthKey')).toBe('auth-missing');
    expect(top('{"message":"missing user key in JWT token"}')).toBe('token-invalid');
    expect(top('this fails with `JWT validation failed: Audiences not allowed`')).toBe('token-invalid');
  });
});

describe('a catalogue message wrapped across lines', () => {
  it("reads Apache's localized error pages as the page prints them, broken and indented", () => {
    // apache/httpd docs/error/HTTP_BAD_GATEWAY.html.var (it) and HTTP_GATEWAY_TIME_OUT.html.var (de), as served.
    const it502 = 'Gateway errato!\n\n    Il server proxy ha ricevuto una risposta\n    non valida dal server precedente.';
    expect(signals(it502)).toContain('http.status=502');
    const de504 =
      'Gateway-Zeitüberschreitung!\n\n    Der Proxy-Server hat innerhalb der vorgegebenen Zeit\n    keine Antwort von einem übergeordneten Server erhalten.';
    expect(top(de504)).toBe('upstream-slow');
    // The excerpt is the original text, line breaks and all, and its line is where the message starts.
    const s = explain(it502).signals.find((x) => x.signal === 'http.status=502');
    expect(s?.line).toBe(3);
    expect(s?.excerpt).toContain('non valida dal server precedente');
  });
});
