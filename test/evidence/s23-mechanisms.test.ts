// Mechanisms added in session 23, each keyed on a product's own vocabulary rather than on one
// sentence. The texts are real (their threads are named); the variants beside them are the same
// mechanism in another wording, which must land too.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const explain = (text: string) => engine.explain(text);
const signals = (text: string) => explain(text).signals.map((s) => s.signal);
const top = (text: string) => explain(text).causes[0]?.id;

describe("Envoy's own words, as people quote them", () => {
  it('reads the local reply body without its reset reason as a 503 from Envoy (istio/istio#1010)', () => {
    const text =
      "I'm getting lots of ```upstream connect error or disconnect/reset before headers``` when running the helloworld example, is this a stability issue ?";
    expect(signals(text)).toEqual(expect.arrayContaining(['http.status=503', 'http.server=envoy']));
    expect(explain(text).symptoms.map((s) => s.id)).toContain('service-unavailable');
    // With its reason the body says more, and the bare reading does not add a second status.
    const full = signals('upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    expect(full).toContain('proxy.upstream_error=prematurely_closed');
    expect(full.filter((s) => s === 'http.status=503')).toHaveLength(1);
  });

  it('reads a flag named after the word "flag", and the headers Envoy adds when it sheds load (emissary-ingress/emissary#1384)', () => {
    const text =
      'When load testing our service with Ambassador in EKS, we ran into an issue where Envoy would trip the circuit breaker due to hitting max pending request. This was verified with the Ambassador logs containing the response flag `UO` and the header ` x-envoy-overloaded` returned with failed requests.';
    expect(signals(text)).toEqual(expect.arrayContaining(['envoy.flag=UO', 'limit.overload', 'http.server=envoy']));
    expect(top(text)).toBe('upstream-overloaded');
    expect(signals('the access log shows response_flags: UH for every request')).toContain('envoy.flag=UH');
    expect(signals('replies carry x-envoy-ratelimited: true')).toContain('limit.rate');
    // Two capitals after "flag" that are not one of Envoy's flags are nothing.
    expect(signals('set the flag OK in the config')).not.toContain('envoy.flag=OK');
  });
});

describe('reason phrases as people shorten them', () => {
  it('"413 entity too large" is a 413 (FineUploader/fine-uploader#230)', () => {
    const text = 'nginx replies with a `413 entity too large` with pretty much default configuration. any ideas? thanks';
    expect(signals(text)).toContain('http.status=413');
    expect(top(text)).toBe('body-too-large');
    // The number must still be the phrase's own (a 502 said in passing is the mention reader's, src/evidence/mention.ts).
    const read = explain('the proxy said 502 entity too large').signals.filter((s) => s.source !== 'mention');
    expect(read.map((s) => s.signal)).not.toContain('http.status=502');
  });
});

describe('TLS alert 46 (certificate_unknown), as each stack names it', () => {
  it('is a certificate the peer could not validate, in Go, OpenSSL, Java and by number', () => {
    for (const [text, cause] of [
      // A TLS-inspecting proxy's log (the client did not trust its CA)
      ['WARN: Cannot handshake client www.baidu.com:443 remote error: tls: unknown certificate', 'tls-cert-untrusted'],
      ['javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown', 'tls-cert-untrusted'],
      // nginx's handshake to its upstream: the same alert, on the proxy's side
      [
        'SSL_do_handshake() failed (SSL: error:0A000416:SSL routines::sslv3 alert certificate unknown:SSL alert number 46) while SSL handshaking to upstream',
        'upstream-tls-failure',
      ],
    ]) {
      expect(signals(text!), text).toContain('tls.error=cert_invalid');
      expect(top(text!), text).toBe(cause);
    }
    // Go's longer alert keeps its own meaning.
    expect(signals('remote error: tls: unknown certificate authority')).toContain('tls.error=client_cert_required');
  });
});

describe('client wordings of known mechanisms', () => {
  it("reads Go's Windows dial timeout, with the syscall's name between", () => {
    const text = 'dial tcp 64.233.188.118:443: ConnectEx tcp: i/o timeout';
    expect(signals(text)).toEqual(expect.arrayContaining(['net.error=connect_timeout', 'net.phase=connect']));
    expect(top(text)).toBe('firewall-drop');
  });

  it('reads "HTTP error code NNN" as a status', () => {
    expect(signals('I receive an error message: HTTP error code 407')).toContain('http.status=407');
    expect(top('got HTTP error code 407 from the proxy')).toBe('proxy-auth-required');
    // A number that is no status is not read as one.
    expect(signals('HTTP error code 42')).toEqual([]);
  });
});

describe('reports that read like descriptions', () => {
  it('an error that happened to the speaker, named in quotes, is reported (traefik/traefik#7739, http-party/node-http-proxy#925)', () => {
    expect(
      top(
        "Few of request failed with error '502 Bad Gateway' caused by: read tcp xx.xx.x.xxx:yyyyy->xx.xx.x.xxx:yyyy: wsarecv: An existing connection was forcibly closed by the remote host",
      ),
    ).toBe('upstream-closed-early');
    expect(
      explain(
        'The proxy server is throwing error "CERT_HAS_EXPIRED" for ssl. How it can be solved?\n\nI\'m Getting this problem too:\nError: certificate has expired',
      ).causes.map((c) => c.id),
    ).toContain('tls-cert-expired');
    // A page naming an error by its quoted name still describes.
    expect(explain("You might see an error of 'Connection Refused' when the upstream is down.").causes).toEqual([]);
  });

  it('first person in verb forms: pt (bacen/pix-perguntas-e-respostas#155)', () => {
    const pt =
      '**Descreva sua dúvida ou problema**\nHoje estávamos recebendo o seguinte erro: PKIX path building failed: unable to find valid certification path to requested target.\nO erro acontecia mais no endpoint do dict e de arquivos. A icom de mensagens estava sempre ok.\n\n**Identificador do Problema**\nQuando tentávamos um acesso na interface do dict (https://dict-h.pi.rsfn.net.br) ou de arquivos (https://arq-h.pi.rsfn.net.br) volta e meia recebíamos o erro descrito acima, como se não fosse possível concluir o handshake tls.';
    expect(top(pt)).toBe('tls-cert-untrusted');
    // The same words in the third person stay a description.
    expect(explain('Quando o cliente não confia na CA, ocorre o erro PKIX path building failed.').causes).toEqual([]);
  });

  it("log lines stamped to the second beside one question are a paste, not a page's example (mumble-voip/mumble#3907)", () => {
    const text =
      '><W>2019-11-30 12:20:14.271 1 => Registration: SSL Handshake error: The certificate has expired\n><W>2019-11-30 12:20:14.271 1 => Registration failed: SSL handshake failed\n\nWhat certificate has expired?\nIs there a Problem with the Auth Server,or is it on my Side?';
    expect(top(text)).toBe('tls-cert-expired');
    // A page that explains its stamped example over several lines still describes.
    const page = [
      '## Troubleshooting 502',
      'When the backend is down, nginx logs an error like this:',
      '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream',
      'This means the upstream is not listening. Check that the service runs.',
    ].join('\n');
    expect(explain(page).causes).toEqual([]);
  });
});

describe("Windows' TLS status codes (SSPI / Schannel, CryptoAPI)", () => {
  it('reads the code in any language, and .NET\'s "Authentication failed, see inner exception" is TLS, not a token', () => {
    // A TLS-inspecting proxy built on SslStream (Titanium.Web.Proxy), as its users paste it.
    const text = [
      "Titanium.Web.Proxy.Exceptions.ProxyConnectException: Couldn't authenticate host 'ssl.gstatic.com' with certificate '*.gstatic.com'.",
      ' ---> System.Security.Authentication.AuthenticationException: Authentication failed, see inner exception.',
      ' ---> System.ComponentModel.Win32Exception (0x80090327): An unknown error occurred while processing the certificate.',
    ].join('\n');
    expect(signals(text)).toContain('tls.error=cert_invalid');
    expect(signals(text)).not.toContain('auth.error=invalid_token');
    expect(top(text)).toBe('tls-cert-untrusted');
    // The same code beside a German message; the name alone; CryptoAPI's code for a name mismatch.
    expect(signals('Win32Exception (0x80090328): Das empfangene Zertifikat ist abgelaufen.')).toContain('tls.error=cert_expired');
    expect(signals('schannel: SEC_E_WRONG_PRINCIPAL (0x80090322) - The target principal name is incorrect.')).toContain(
      'tls.error=hostname_mismatch',
    );
    expect(signals('CertVerifyCertificateChainPolicy failed: 0x800B010F')).toContain('tls.error=hostname_mismatch');
    // A gateway's own "Authentication failed" is still a credential refused.
    expect(signals('{"message":"Authentication failed"}')).toContain('auth.error=invalid_token');
  });
});

describe('WAFs named by their products and rules', () => {
  it('a 403 beside OWASP CRS rule names is the WAF (Azure Application Gateway)', () => {
    const text = [
      'This change is being made after finding that Public API requests with certain `User-Agent` headers were being blocked with 403 Forbidden responses by the Azure Application Gateway.',
      '',
      'Rule set group: `REQUEST-913-SCANNER-DETECTION`',
      "Rule:  `913101 - 'Found User-Agent associated with scripting/generic HTTP client'`",
    ].join('\n');
    expect(signals(text)).toContain('waf.named');
    expect(top(text)).toBe('waf-block');
    // Named without a 403 it is no failure by itself.
    expect(explain('We run ModSecurity with the OWASP CRS in front of the shop.').causes).toEqual([]);
  });

  it("reads a WAF log's action in either quoting, cloudscraper's CloudflareCode1020, and oauth2-proxy's CSRF cookie", () => {
    expect(signals('- WAF ログ:\naction: "BLOCK"\nと記録されている')).toContain('access.waf');
    expect(top('cloudscraper.exceptions.CloudflareCode1020: Cloudflare has blocked this request (Code 1020 Detected).')).toBe('waf-block');
    expect(
      top(
        'Getting a 403 response: "http: named cookie not present" and in Oauth2-Proxy logs: AuthFailure Invalid authentication via OAuth2: unable to obtain CSRF cookie',
      ),
    ).toBe('csrf-failure');
  });
});

describe('runtimes and libraries in the forms their users paste', () => {
  it.each([
    // Android and some loggers drop the spaces after the colons
    ['javax.net.ssl.SSLHandshakeException:Received fatal alert:handshake_failure', 'tls.error=handshake_failure'],
    // OkHttp pads the masked host name
    ['Error: javax.net.ssl.SSLPeerUnverifiedException: Hostname XX-XX-XX  not verified:', 'tls.error=hostname_mismatch'],
    // Rust's std (reqwest, hyper): getaddrinfo failed, whatever its reason
    [
      'reqwest::Error { kind: Request, source: hyper_util::client::legacy::Error(Connect, ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup address information: Invalid flags" })) }',
      'net.error=dns_not_found',
    ],
    // Netty's SSL handler (Elasticsearch)
    ['received plaintext http traffic on an https channel, closing connection', 'tls.error=http_to_https_port'],
    // Python requests' repr, and a status code in quotes
    ['I am trying to request this site, then I am getting <Response [403]>.', 'http.status=403'],
    ["Retrying setup: Request for 'https://api.example.com/v2/getMonitors' failed with status code '429'", 'http.status=429'],
  ])('%s', (text, signal) => {
    expect(signals(text)).toContain(signal);
  });

  it('does not read a bracketed number that is no Response repr', () => {
    expect(signals('matrix <Shape [403]> has 3 rows')).toEqual([]);
  });
});

describe('pages that define statuses, in Ukrainian and Romanian', () => {
  it.each([
    // cr0x.net/uk/docker-nginx-upstream-502-504
    '502 Bad Gateway: Nginx не отримав валідної відповіді від upstream\n\nНа практиці, у Docker, 502 часто означає одне з наступного:\n\n  • Збої з’єднання: Nginx не зміг підключитися до upstream IP:port (контейнер вимкнений, неправильний порт, інша мережа, правила фаєрволу, DNS вказує на стару IP).',
    // blog.silverpc.hu/?p=503389
    'În limbajul HTTP, codul de stare 403 Forbidden indică faptul că serverul a înțeles cererea clientului, dar refuză să o autorizeze. Spre deosebire de o eroare 401 Unauthorized (unde clientul nu a furnizat acreditări valabile), în cazul unui 403, clientul poate fi autentificat, dar pur și simplu nu are drepturile de acces necesare pentru resursa solicitată.',
  ])('gets no cause: %s', (text) => {
    expect(explain(text).causes).toEqual([]);
  });
});
