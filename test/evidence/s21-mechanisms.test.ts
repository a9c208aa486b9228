import { describe, expect, it } from 'vitest';
import { TextDoc } from '../../src/evidence/text.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const top = (text: string) => engine.explain(text).causes[0]?.id;

describe("Terraform's boxed diagnostics", () => {
  // terraform init behind a firewall (hashicorp/terraform-provider-aws issue threads): the Go error is
  // hard-wrapped inside the box, "(Client.Timeout exceeded while awaiting" / "│ headers)".
  const boxed = [
    '$ terraform init',
    '╷',
    '│ Error: Failed to query available provider packages',
    '│ ',
    '│ Could not retrieve the list of available versions for provider hashicorp/aws: could not query',
    '│ provider registry for registry.terraform.io/hashicorp/aws: the request failed after 2 attempts,',
    '│ please try again later: Get "https://registry.terraform.io/v1/providers/hashicorp/aws/versions":',
    '│ net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting',
    '│ headers)',
    '╵',
  ].join('\n');

  it('joins each wrapped paragraph onto its first line and keeps the line numbers', () => {
    const doc = TextDoc.from(boxed);
    const lines = doc.text.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[2]).toBe('Error: Failed to query available provider packages');
    expect(lines[4]).toMatch(
      /^Could not retrieve .* could not query provider registry .*\(Client\.Timeout exceeded while awaiting headers\)$/,
    );
    expect(lines.slice(5, 9)).toEqual(['', '', '', '']);
  });

  it('reads the joined Go error: a dial that timed out', () => {
    const d = engine.explain(boxed);
    expect(d.signals.map((s) => s.signal)).toContain('net.error=connect_timeout');
    expect(d.causes[0]?.id).toBe('firewall-drop');
  });

  it('leaves text without a box, and lines outside the box, as they are', () => {
    const plain = 'a │ b\n│ not a box\nc';
    expect(TextDoc.from(plain).text).toBe(plain);
    expect(TextDoc.from(`x\n${boxed}\n│ after`).text.split('\n').at(-1)).toBe('│ after');
  });
});

describe("Firefox's page for an intercepted connection", () => {
  it('is a certificate that does not verify (MOZILLA_PKIX_ERROR_MITM_DETECTED), in any language', () => {
    expect(top('Software is Preventing Firefox From Safely Connecting to This Site')).toBe('tls-cert-untrusted');
    expect(top('有软件正在阻止 Firefox 安全地连接至此网站')).toBe('tls-cert-untrusted');
  });
});

describe('mechanisms of round 4 (test/corpus/dev/collected-s21-*)', () => {
  it('reads Winsock resolver failures, and lua-resty-dns answers behind Kong / OpenResty', () => {
    expect(top('GetAddrInfoW returned WSANO_RECOVERY')).toBe('dns-failure');
    expect(top('connect failed: WSANO_DATA')).toBe('dns-failure');
    expect(
      top(
        "2017/04/05 18:54:12 [error] 77#0: *19193 [lua] responses.lua:101: before(): failed the initial dns/balancer resolve for 'go-microservice' with: dns server error; 2 server failure",
      ),
    ).toBe('dns-failure');
  });

  it("takes the status from git's old RPC failure line", () => {
    expect(top('error: RPC failed; result=22, HTTP code = 413\nfatal: The remote end hung up unexpectedly')).toBe('body-too-large');
  });

  it('reads "token invalid" in either word order', () => {
    expect(top('{"msg":"token invalid","trace":"","ret":401}')).toBe('token-invalid');
    expect(top('HTTP 401: access token is not valid')).toBe('token-invalid');
  });

  it("reads the AWS SDKs' client-side call timeouts", () => {
    const d = engine.explain(
      'com.amazonaws.http.timers.client.ClientExecutionTimeoutException: Client execution did not complete before the specified timeout configuration',
    );
    expect(d.signals.map((s) => s.signal)).toContain('net.error=timeout');
    expect(
      engine.explain('software.amazon.awssdk.core.exception.ApiCallTimeoutException: Client execution did not complete').causes,
    ).not.toEqual([]);
  });

  it("reads nginx's HTTP/2 frame complaints about its upstream", () => {
    expect(
      top(
        '2019/07/16 00:29:18 [error] 135#135: *1745 upstream sent too large http2 frame: 4740180 while reading response header from upstream, client: 10.240.0.5',
      ),
    ).toBe('upstream-bad-response');
  });

  it("reads Windows' certificate dialog", () => {
    expect(top('This certificate cannot be verified up to a trusted certification authority.')).toBe('tls-cert-untrusted');
    expect(top('"Этот сертификат не удалось проверить, проследив его до доверенного центра сертификации".')).toBe('tls-cert-untrusted');
  });
});

describe('reference listings', () => {
  it('gives no cause to a table that names five kinds of failure once each', () => {
    const table = [
      'ECONNRESET | 104 | Connection reset by peer |',
      'ETIMEDOUT | 110 | Connection timed out |',
      'ECONNREFUSED | 111 | Connection refused |',
      'EHOSTUNREACH | 113 | No route to host |',
      'ENETUNREACH | 101 | Network is unreachable |',
    ].join('\n');
    expect(engine.explain(table).causes).toEqual([]);
  });

  it('keeps a log in which the failures repeat', () => {
    const log = [
      '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream',
      '2024/03/01 10:00:01 [error] 31#31: *8 upstream timed out (110: Connection timed out) while reading response header from upstream',
      '2024/03/01 10:00:02 [error] 31#31: *9 recv() failed (104: Connection reset by peer) while reading response header from upstream',
      '2024/03/01 10:00:03 [error] 31#31: *10 connect() failed (113: No route to host) while connecting to upstream',
      '2024/03/01 10:00:04 [error] 31#31: *11 connect() failed (101: Network is unreachable) while connecting to upstream',
      '2024/03/01 10:00:05 [error] 31#31: *12 connect() failed (111: Connection refused) while connecting to upstream',
    ].join('\n');
    expect(engine.explain(log).causes).not.toEqual([]);
  });
});

describe('more of round 4: product lines and plain words', () => {
  it("reads an Envoy TCP proxy's access line, which has no request", () => {
    expect(
      top(
        '[2024-03-25T08:56:41.328Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" outbound|443||api.example.com - 10.0.0.1:8443 10.0.0.2:38532 api.example.com -',
      ),
    ).toBe('upstream-unhealthy');
  });

  it('hears a redirect loop named in words, in several languages', () => {
    expect(
      top('I am terminating TLS at the load balancer and I was getting the infinite redirect loop when I turned on force-ssl-redirect'),
    ).toBe('redirect-loop');
    expect(top('Nach dem Umstellen auf HTTPS hängt die Seite in einer Weiterleitungsschleife.')).toBe('redirect-loop');
  });

  it('hears a token said to be expired in Korean and German', () => {
    expect(top('API 호출을 했는데 자꾸 401 에러가 떴다. 혹시 토큰이 만료됐나 싶어서 확인했다.')).toBe('token-expired');
    expect(top('HTTP 401: Das Token ist abgelaufen')).toBe('token-expired');
  });

  it("reads Application Gateway's backend-certificate verdicts and Cloudflare's 403s", () => {
    expect(
      top('the health probe is unhealthy with the "Backend server certificate is not whitelisted with Application Gateway." error'),
    ).toBe('upstream-tls-failure');
    expect(top('g4f.errors.ResponseStatusError: Response 403: Cloudflare detected')).toBe('waf-block');
  });

  it('takes an OPTIONS request answered 405 for a failed preflight', () => {
    expect(top('The service does not implement the OPTIONS method and returns a 405 to the browser')).toBe('cors-preflight');
  });

  it('takes definitions in Polish and Vietnamese for descriptions', () => {
    expect(
      top(
        '502 Bad Gateway to komunikat HTTP oznaczający, że serwer pełniący rolę bramy/proxy otrzymał nieprawidłową odpowiedź od serwera nadrzędnego.',
      ),
    ).toBeUndefined();
    expect(
      top(
        'Lỗi 502 Bad Gateway là một mã lỗi HTTP báo hiệu rằng máy chủ đang hoạt động như một gateway hoặc proxy server, đã nhận được phản hồi không hợp lệ.',
      ),
    ).toBeUndefined();
  });
});

describe('statuses reported in prose', () => {
  it('hears more verbs before a status, and a Title-Case reason phrase without its code', () => {
    expect(
      engine.explain('nginx replies with a 413 entity too large with pretty much default configuration').signals.map((s) => s.signal),
    ).toContain('http.status=413');
    expect(engine.explain('I get intermittent 502 responses from my load balancer').signals.map((s) => s.signal)).toContain(
      'http.status=502',
    );
    expect(engine.explain('Sometimes displayed as Bad Gateway after start web').signals.map((s) => s.signal)).toContain('http.status=502');
    // lower case is prose about gateways, not a status
    expect(engine.explain('we got a bad gateway config from the vendor').signals.map((s) => s.signal)).not.toContain('http.status=502');
    // a count is not a status
    expect(engine.explain('we get 500 new users a day').signals.map((s) => s.signal)).not.toContain('http.status=500');
  });

  it("hears Envoy's flags named in prose", () => {
    expect(top('A lot of UH errors on istio egress gateway. We are seeing these errors as intermittent.')).toBe('upstream-unhealthy');
  });
});

describe('mechanisms of round 5 (test/corpus/dev/collected-s22-*)', () => {
  it('does not take Squid\'s English page title "Read Timeout" for a failure in prose about settings', () => {
    expect(engine.explain('This PR is to bump the read timeout to 1 hour (3600 seconds). The default timeout is 60s.').causes).toEqual([]);
  });

  it("does not read OkHttp's connectTimeout(10, …) setting as Python's ConnectTimeout(…)", () => {
    expect(
      engine.explain('OkHttpClient client = new OkHttpClient.Builder()\n    .connectTimeout(10, TimeUnit.SECONDS)\n    .build();').causes,
    ).toEqual([]);
  });

  it('hears certificates that "seem to have expired", and Japanese 証明書がきれて', () => {
    expect(top('The certificate seemed to have expired a few minutes ago')).toBe('tls-cert-expired');
    expect(top('https://service.example.jp/ の証明書がきれていて、ログインが出来ない状態になっています。')).toBe('tls-cert-expired');
  });

  it("reads Cloudflare's origin-TLS pages, HAProxy's stats check column, a socket file refused, Cloudflare's challenge page", () => {
    expect(top('525 Origin SSL Handshake Error\n------\ncloudflare-nginx')).toBe('upstream-tls-failure');
    expect(top('I currently faced SSL Certificate Error :\nThe origin web server does not have a valid SSL certificate.')).toBe(
      'upstream-tls-failure',
    );
    expect(top('stats page:\n10m16s DOWN L7STS/302 in 10ms')).toBe('upstream-unhealthy');
    expect(top('**What is the problem?**\nvalet.sock permission denied')).toBe('upstream-socket-permission');
    expect(top('curl https://www.example.com/api/generate returns some HTML containing `Checking your browser before accessing`.')).toBe(
      'waf-block',
    );
  });

  it('keeps a Squid error page that explains itself a failure', () => {
    expect(
      top(
        'The following error was encountered while trying to retrieve the URL: http://example.io/tests\nUnable to determine IP address from host name example.io\nThe DNS server returned:\nServer Failure: The name server was unable to process this query.\nThis means that the cache was not able to resolve the hostname presented in the URL. Check if the address is correct.',
      ),
    ).toBe('dns-failure');
  });

  it('hears packet loss reported, and more verbs before a status', () => {
    expect(top('We are experiencing packet loss between our edge and the Fastly datacenters in Brazil.')).toBe('network-unstable');
    expect(engine.explain('But it still reports error 413').signals.map((s) => s.signal)).toContain('http.status=413');
  });
});
