import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/evidence/discourse.js';
import { genericExtractor } from '../../src/evidence/generic.js';
import { httpExtractor } from '../../src/evidence/http.js';
import { jwtExtractor } from '../../src/evidence/jwt.js';
import { pingExtractor } from '../../src/evidence/ping.js';
import { pythonExtractor } from '../../src/evidence/python.js';
import { socketExtractor } from '../../src/evidence/socket.js';
import { TextDoc } from '../../src/evidence/text.js';
import { createEngine } from '../../src/triage/engine.js';
import { keysOf } from './conformance-kit.js';

const engine = createEngine();
const top = (text: string) => engine.explain(text).causes[0]?.id;

describe('reports introduced in any language, API references as descriptions', () => {
  it('hears "this error appeared:" and first-person verbs of other languages as a report', () => {
    expect(classifyLine('When creating a new account this error appeared:')).toBe('report');
    expect(classifyLine('Boa tarde, ao tentar enviar os dados, estamos tendo a seguinte mensagem, com recorrência.')).toBe('report');
    expect(classifyLine('Seit dem Update bekomme ich beim Abruf diese Meldung zurück.')).toBe('report');
    // the same words in the present tense, as docs write them, still describe
    expect(classifyLine('This error occurs when the upstream closes the connection early.')).toBe('description');
    expect(
      top('When creating a new account this error appeared:\nError en el servidor remoto: (407) Se requiere autenticación del proxy.'),
    ).toBe('proxy-auth-required');
  });

  it('takes the declarations of an API reference for descriptions, so a reference entry gets no cause', () => {
    for (const line of [
      'export const ERR_TIMED_OUT = -7;',
      'public const int Status407ProxyAuthenticationRequired = 407;',
      'public static final int SC_GATEWAY_TIMEOUT = 504;',
      'static var connectionRefused: Errno { get }',
      'pub const BAD_GATEWAY: Code;',
      'class Status407 {}',
    ])
      expect(classifyLine(line), line).toBe('description');
    expect(classifyLine('let me explain this')).not.toBe('description');
    expect(classifyLine('const res = await fetch(url);')).not.toBe('description');
    expect(top('// An operation timed out.\nexport const ERR_TIMED_OUT = -7;')).toBeUndefined();
    expect(top('connectionRefused\nConnection refused.\nstatic var connectionRefused: Errno { get }')).toBeUndefined();
  });

  it("keeps a browser's interstitial, which explains itself in prose, a failure", () => {
    const edge = [
      '你的连接不是专用连接',
      '攻击者可能试图从 auth0.example.com 窃取你的信息(例如，密码、消息或信用卡)。',
      'NET::ERR_CERT_DATE_INVALID',
      '你现在无法访问 auth0.example.com，因为网站使用的是 HSTS。网络错误和攻击通常是暂时的，因此该页面以后可能会恢复正常。',
    ].join('\n');
    expect(top(edge)).toBe('tls-cert-expired');
  });
});

describe("OpenSSL's verify strings, whatever wraps them", () => {
  it('reads a verify string alone, quoted in any prose', () => {
    expect(keysOf(genericExtractor, '出现了一个错误“unable to get local issuer certificate”。')).toContain('tls.error=unknown_issuer');
    expect(keysOf(genericExtractor, 'error: self signed certificate in certificate chain')).toContain('tls.error=self_signed');
    expect(keysOf(genericExtractor, 'certificate is not yet valid')).toContain('tls.error=cert_not_yet_valid');
  });

  it("takes Python's CERTIFICATE_VERIFY_FAILED without a reason for a failed verification", () => {
    const line = 'ERROR: gcloud crashed (SSLHandshakeError): [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:727)';
    expect(keysOf(pythonExtractor, line)).toContain('tls.error=cert_invalid');
    expect(top(line)).toBe('tls-cert-untrusted');
  });

  it('reads a certificate said to be expired, in other languages, as a statement and not as a title', () => {
    expect(keysOf(genericExtractor, 'Das SSL-Zertifikat für https://example.de/ ist abgelaufen.')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, 'Das SSL Zertifikat von https://www.example.de ist heute abgelaufen :(')).toContain(
      'tls.error=cert_expired',
    );
    expect(keysOf(genericExtractor, 'le certificat a expiré hier soir')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, 'el certificado ha caducado')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, 'сертификат истёк вчера')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, '访问时提示证书已过期')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, 'サーバー証明書の有効期限が切れています')).toContain('tls.error=cert_expired');
    expect(keysOf(genericExtractor, 'SSL-Zertifikat abgelaufen: was tun?')).not.toContain('tls.error=cert_expired');
    expect(
      keysOf(
        genericExtractor,
        'SSL_CERT CRITICAL "site": x509 certificate element 2 (AddTrust External CA Root) is expired (was valid until May 30 2020',
      ),
    ).toContain('tls.error=cert_expired');
  });
});

describe('mechanisms in the words of monitors, gateways and tools', () => {
  it('reads loss stated with a figure or in other languages', () => {
    expect(keysOf(pingExtractor, 'Just **"High ICMP ping loss 33.33 %"**')).toContain('net.packet_loss=33.33');
    expect(keysOf(pingExtractor, '1 packets transmited, 0 received, 100% packet loss, time 0ms')).toContain('net.all_lost');
    expect(keysOf(pingExtractor, 'ping 超时，100% 丢包')).toContain('net.all_lost');
    expect(keysOf(pingExtractor, '存在严重的高ping和丢包情况')).toContain('net.loss_seen');
    expect(keysOf(pingExtractor, 'zabbixでのアラート：ping error\n詳細：\nping で応答がありませんよ')).toContain('net.loss_seen');
  });

  it("reads APR's and WinHTTP's messages as the socket errors they are", () => {
    expect(
      keysOf(
        socketExtractor,
        "[proxy_ajp:error] (70007)The timeout specified has expired: AH01030: ajp_ilink_receive() can't receive header",
      ),
    ).toContain('net.error=timeout');
    expect(keysOf(socketExtractor, 'svn: E070014: Error running context: End of file found')).toContain('net.error=unexpected_eof');
    expect(keysOf(socketExtractor, 'failed to send request: The server name or address could not be resolved')).toContain(
      'net.error=dns_not_found',
    );
    expect(keysOf(socketExtractor, 'ERROR_WINHTTP_CANNOT_CONNECT')).toContain('net.error=connect_failed');
  });

  it('ranks Apache AJP timeouts as a slow backend and short AJP reads as a backend that closed', () => {
    const timeout =
      "[proxy_ajp:error] [pid 313979] (70007)The timeout specified has expired: AH01030: ajp_ilink_receive() can't receive header\n[proxy_ajp:error] [pid 313979] AH00992: ajp_read_header: ajp_ilink_receive failed";
    expect(top(timeout)).toBe('upstream-slow');
    expect(
      top(
        '[proxy_ajp:error] [pid 25957] (120006)APR does not understand this error code: [client 10.0.0.4:56452] AH00878: read response failed from 127.0.0.1:8009 (localhost)',
      ),
    ).toBe('upstream-closed-early');
  });

  it('reads a TLS connection that could not be made, npm and inspected-object statuses, limits still exceeded', () => {
    expect(keysOf(genericExtractor, 'CRITICAL - Cannot make SSL connection')).toContain('tls.error=handshake_failure');
    expect(keysOf(httpExtractor, 'npm ERR! code E401\nnpm ERR! Unable to authenticate')).toContain('http.status=401');
    expect(keysOf(httpExtractor, "  errors: [ { message: 'Permission denied on resource project my-project.',\n  code: 403,")).toContain(
      'http.status=403',
    );
    expect(keysOf(httpExtractor, 'the unicode E401 glyph')).toEqual([]);
    expect(
      top(
        'ERROR GET https://api.github.com/repos/o/r/contents/x: 403 API rate limit of 60 still exceeded until 2017-12-02 16:15:19 -0800 PST',
      ),
    ).toBe('rate-limited');
  });

  it('reads backends down in HAProxy, F5 and Spring Cloud Gateway words, and c-ares failing', () => {
    expect(
      top(
        'May  5 21:09:30 lb2 haproxy[59014]: Health check for server be_web/web2 failed, reason: Health analyze, info: "Detected 10 consecutive errors", status: 0/2 DOWN.',
      ),
    ).toBe('upstream-unhealthy');
    expect(top("CRITICAL: Pool '/Common/app_pool' status: red [state: enabled] [reason: The children pool member(s) are down]")).toBe(
      'upstream-unhealthy',
    );
    expect(top('org.springframework.cloud.gateway.support.NotFoundException: Unable to find instance for tourism-prod')).toBe(
      'upstream-unhealthy',
    );
    expect(
      top(
        '[debug][dns] [source/extensions/network/dns_resolver/cares/dns_impl.cc:152] dns resolution for svc.ns failed with c-ares status 12',
      ),
    ).toBe('dns-failure');
  });
});

describe('descriptions in the grammar of reference pages and explainers', () => {
  it('reads a markdown quote as its prose, and curl -v lines still as output', () => {
    expect(classifyLine('> The request requires higher privileges than provided by the access token.')).not.toBe('machine');
    expect(classifyLine('> GET /v1/me HTTP/1.1')).toBe('machine');
    expect(classifyLine('> Authorization: Bearer x')).toBe('machine');
    expect(classifyLine('< HTTP/1.1 401 Unauthorized')).toBe('machine');
    expect(classifyLine('>')).toBe('machine');
  });

  it('takes reference-page headings, code comments, pipe-ended table rows and "N vs M" titles for descriptions', () => {
    for (const line of [
      'Inheritance Relationships',
      'Defined in File exceptions.hpp',
      '// UfCode upstream connection failed error code',
      'HTTP Error 401 |',
      '### `ERR_TLS_CERT_ALTNAME_INVALID`',
      'HTTP 502 vs 504 — Bad Gateway vs Gateway Timeout Comparison',
      'An error subclass thrown when a JWT is expired.',
      'UH: No healthy upstream hosts in upstream cluster in addition to 503 response code.',
    ])
      expect(classifyLine(line), line).toBe('description');
  });

  it('hears the explainers of other languages', () => {
    expect(
      classifyLine('HTTP 503 Service Unavailable код состояния сервера, указывающий на то, что сервер не готов обработать данный запрос.'),
    ).toBe('description');
    expect(classifyLine('Неправильная конфигурация таймаутов приводит к ошибкам 504 Gateway Timeout и потерям данных.')).toBe(
      'description',
    );
    expect(classifyLine('バックエンドサーバーがタイムアウトすると、Nginxはクライアントに504 Gateway Timeoutエラーを返します。')).toBe(
      'description',
    );
    expect(classifyLine('本記事では、ERR_CONNECTION_REFUSEDを5つの観点で整理し、順に切り分ける手順を解説いたします。')).toBe('description');
    expect(classifyLine('Was sind Rate Limits und was löst sie aus?')).toBe('description');
    // a person's habitual "会" still reports: "istio occasionally reports this error"
    expect(top('istio 偶尔会报这个错误\nupstream connect error or disconnect/reset before headers. reset reason: overflow.')).toBe(
      'upstream-overloaded',
    );
  });

  it("takes a setting's name alone on its line for a name, not for a timeout", () => {
    expect(keysOf(genericExtractor, 'proxy_timeout\nTimeout for upstream requests to the origin.\nproxy_timeout = 45')).not.toContain(
      'net.error=timeout',
    );
    expect(keysOf(genericExtractor, 'msg="request timeout"')).toContain('net.error=timeout');
  });
});

describe('CLI credentials, IIS sub-statuses, expiry notices', () => {
  it("reads OAuth's invalid_grant, gcloud without an account and npm's log lines", () => {
    expect(
      top(
        'ERROR: (gcloud.auth.activate-service-account) There was a problem refreshing your current auth tokens: invalid_grant: Invalid JWT Signature.',
      ),
    ).toBe('token-invalid');
    expect(top('ERROR: (gcloud.config.config-helper) You do not currently have an active account selected.')).toBe('auth-missing');
    expect(classifyLine('npm ERR! If you were trying to login, change your password, create an')).toBe('machine');
  });

  it("reads WinHTTP's timeout HRESULT and ANCM's 502.3 as a slow backend", () => {
    expect(keysOf(socketExtractor, 'HttpStatus="502", HttpReason="Bad Gateway", HttpSubStatus="3", ErrorCode="2147954402"')).toContain(
      'net.error=timeout',
    );
    expect(keysOf(socketExtractor, 'Error Code 0x80072efd')).toContain('net.error=connect_failed');
    expect(
      top('HTTP Error 502.3 - Bad Gateway\nThe specified CGI application encountered an error and the server terminated the process.'),
    ).toBe('upstream-slow');
  });

  it("reads an .htaccess that Apache cannot read, even hard-wrapped, and a certificate's expiry notice", () => {
    expect(top('(13)Permission denied: /home/app/.htaccess pcfg_openfile: unable to check\nhtaccess file, ensure it is readable')).toBe(
      'file-permission',
    );
    // The notice is read as an expiry; whether a bare one-sentence notice is a failure report is the report model's
    // call, and the corpus labels such notices both ways (s20g-016 a failure, s22d-043 "junk mail" not one). Since
    // session 27's retraining the model silences this one at 0.88, so the test holds the reading, not the answer.
    const notice = 'Your certificate (or certificates) for the names listed below will expire in 9 days (on 24 Nov 21 07:27 +0000).';
    expect(engine.ruled(TextDoc.from(notice)).signals.map((s) => `${s.name}=${s.value ?? ''}`)).toContain('tls.error=cert_expired');
  });
});

describe("a 403 for the caller's address", () => {
  it('ranks an address named as not authorized, and network rules said to block, as an address rule', () => {
    expect(
      top(
        'keyvault.BaseClient#GetSecret: Failure responding to request: StatusCode=403 -- Original Error: Status=403 Code="Forbidden" Message="Client address is not authorized and caller is not a trusted service."',
      ),
    ).toBe('acl-deny');
    expect(
      top(
        "This request is not authorized to perform this operation.\nThis storage account's 'Firewalls & virtual networks' settings may be blocking access to storage services.",
      ),
    ).toBe('acl-deny');
  });
});

describe("Envoy's local reply and a pasted error message's label", () => {
  it("takes Envoy's reset body for the 503 it is sent with", () => {
    expect(
      top(
        'some or all requests respond with "upstream connect error or disconnect/reset before headers. reset reason: connection failure".',
      ),
    ).toBe('upstream-refused');
  });

  it('reads "Error Message:" before a log line as a label, and "Error messages" as a guide\'s heading', () => {
    expect(
      top(
        'The following error is occurring in App engine logs and causing a 502 when certain requests are made.\n\nError Message:\n07:11:15.000 [error] 32#32: *84209 upstream prematurely closed connection while reading response header from upstream, client: 130.211.1.151',
      ),
    ).toBe('upstream-closed-early');
    expect(classifyLine('Error messages')).toBe('description');
  });
});

describe('TLS, gRPC, CORS and timeouts as libraries and other languages word them', () => {
  it("reads OpenSSL's reason codes and libcurl's SSL_connect message wherever they are printed", () => {
    expect(top('Handshake failed with fatal error SSL_ERROR_SSL: error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER.')).toBe(
      'tls-wrong-version',
    );
    expect(keysOf(genericExtractor, 'SSL routines:ssl3_read_bytes:sslv3 alert handshake failure')).toContain('tls.error=handshake_failure');
    expect(
      top(
        'An error occurred while trying to communication via soap, OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to nfe.example.gov.br:443',
      ),
    ).toBe('tls-handshake-failed');
  });

  it('ranks a certificate that failed verification above the handshake it broke', () => {
    expect(
      top(
        'The SSL connection could not be established, see inner exception. The remote certificate is invalid according to the validation procedure.',
      ),
    ).toBe('tls-cert-untrusted');
  });

  it('reads .NET gRPC statuses, localized .NET frames, Reactor and ConnectHelper timeouts', () => {
    expect(top('Grpc.Core.RpcException: Status(StatusCode=Unavailable, Detail="Endpoint read failed")')).toBeDefined();
    expect(classifyLine('   在 System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)')).toBe('machine');
    expect(classifyLine('   bei System.Net.Http.HttpClient.SendAsync(HttpRequestMessage request)')).toBe('machine');
    expect(
      top(
        'org.springframework.web.client.ResourceAccessException: I/O error on POST request for "https://api.example.com/v1": Timeout on blocking read for 5000000000 NANOSECONDS',
      ),
    ).toBe('upstream-slow');
    expect(
      top(
        'System.Threading.Tasks.TaskCanceledException in System.Net.Http.ConnectHelper+<ConnectAsync>d__1.MoveNext()\nThe request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.',
      ),
    ).not.toBe('upstream-slow');
  });

  it('reads a CORS error named in any language, client-certificate 403s, Hystrix rejections, appliance CONNECT pages', () => {
    expect(top('[오류]프론트엔드 에서 백엔드로 Axios 요청시 CORS 에러 발생')).toBe('cors-preflight');
    expect(top('Blocage d’une requête multiorigines (Cross-Origin Request)')).toBe('cors-preflight');
    expect(top('`403.7 - Forbidden: SSL client certificate is required.`')).toBe('tls-handshake-failed');
    expect(
      top(
        'com.netflix.hystrix.exception.HystrixRuntimeException: PaymentsCommand could not be queued for execution and no fallback available.',
      ),
    ).toBe('upstream-overloaded');
    expect(
      top(
        'I get a 403 because my company proxy blocks it with a message of\nYour request attempted a CONNECT to a port "30832" that is not permitted by default.',
      ),
    ).toBe('connect-port-denied');
  });

  it("reads Cloudflare's error reference and CloudFront's own page", () => {
    expect(
      top(
        'The web server reported a bad gateway error.\nRay ID: 9067a590dcc3d0ba\nError reference number: 502\nCloudflare Location: Paris',
      ),
    ).toBeDefined();
    const cloudfront = [
      '502 ERROR',
      'The request could not be satisfied.',
      "CloudFront wasn't able to connect to the origin.",
      'If you provide content to customers through CloudFront, you can find steps to troubleshoot and help prevent this error by following steps in the CloudFront documentation.',
      'Generated by cloudfront (CloudFront)',
    ].join('\n');
    expect(top(cloudfront)).toBe('upstream-refused');
  });
});

describe('SaaS and platform vocabularies', () => {
  it("reads Slack's unquoted error codes by their words, and an API key not provided", () => {
    expect(top('ERROR [ExceptionsHandler] An API error occurred: not_authed')).toBe('auth-missing');
    expect(top('usersLookupByEmailResponse: {Ok:false User:{ID: Name:} Error:invalid_auth}')).toBe('token-invalid');
    expect(keysOf(jwtExtractor, 'error: connection_reset_by_peer')).toEqual([]);
    expect(top('Error: You did not provide an API key, though you did set your Authorization header to "null".')).toBe('auth-missing');
    expect(top('Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}')).toBe('token-invalid');
  });

  it('reads exception classes named after their status, only as classes', () => {
    expect(keysOf(httpExtractor, 'Octokit::Unauthorized: GET https://api.github.com/user')).toContain('http.status=401');
    expect(keysOf(httpExtractor, 'HttpClientErrorException$Forbidden: 403')).toContain('http.status=403');
    expect(keysOf(httpExtractor, 'com.ofg.discovery.ServiceUnavailableException: Service with name [x] is unavailable')).toContain(
      'http.status=503',
    );
    expect(keysOf(httpExtractor, 'TooManyRequestsException: Rate exceeded')).toContain('http.status=429');
    expect(keysOf(httpExtractor, 'Access is Forbidden for unauthorized users')).toEqual([]);
  });

  it("reads Azure API Management's verdicts, startup failures and a preflight answered 401 in prose", () => {
    expect(top('I see the following error "ClientConnectionFailure at forward-request" "The operation was canceled."')).toBe(
      'client-closed',
    );
    expect(
      top('I am facing an issue where a client receives a 500 internal server error due to timeout at forward-request (after 60 seconds).'),
    ).toBe('upstream-slow');
    expect(top('Please update the forward request policy document and add the continue-timeout attribute')).toBeUndefined();
    expect(top('Code 502: Error: Bad Gateway\nI looked in the diagnostics and it reads: ASP.NET Core startup failure detected')).not.toBe(
      'upstream-slow',
    );
    expect(top('Currently, the OPTIONS request for CORS receives a 401 because auth runs before CORS.')).toBe('cors-preflight');
  });

  it('takes a Chinese timeout setting for a setting', () => {
    expect(top('agent 支持配置请求超时时间，默认30秒')).toBeUndefined();
    expect(top('调用接口返回：请求超时，请稍后重试')).toBeDefined();
  });
});

describe('bug-report headings, WebSocket handshakes answered with errors, CONNECT targets without a port', () => {
  it('hears a bug report\'s "Actual:" as what happened', () => {
    expect(classifyLine('Actual: the action is executed and it throws `BadHttpRequestException: Request body too large`')).toBe('report');
    expect(classifyLine('**Current behavior**: the OPTIONS request gets a 401')).toBe('report');
    expect(
      top(
        "Expected: the action isn't executed, and a 413 response is returned\nActual: the call throws `BadHttpRequestException: Request body too large`",
      ),
    ).toBe('body-too-large');
  });

  it('reads a WebSocket upgrade request answered with 400 as a failed upgrade, and one answered 101 as none', () => {
    const failed =
      'curl -i -N -H "Connection: Upgrade" -H "Upgrade: websocket" http://10.10.10.10/ws\n\nHTTP/1.1 400 Bad Request\nServer: nginx';
    expect(keysOf(httpExtractor, failed)).toContain('ws.upgrade_failed');
    expect(top(failed)).toBe('websocket-upgrade-missing');
    expect(keysOf(httpExtractor, '> Upgrade: websocket\n< HTTP/1.1 101 Switching Protocols')).not.toContain('ws.upgrade_failed');
  });

  it('reads a CONNECT target without a port said in words', () => {
    expect(top("CONNECT request didn't include a port\nproxies = {'all://': httpx.Proxy('http://127.0.0.1:24000')}")).toBe(
      'connect-malformed',
    );
    expect(top('[proxy] [ERROR] failed to CONNECT: dial tcp: address wss-backup.example.com: missing port in address')).toBe(
      'connect-malformed',
    );
  });
});

describe("a peer's alert about the client's certificate", () => {
  it('reads "alert bad certificate" as the client certificate refused, not as a certificate that failed verification', () => {
    expect(
      top(
        '* TLSv1.3 (IN), TLS alert, bad certificate (554):\n* OpenSSL SSL_read: OpenSSL/3.0.13: error:0A000412:SSL routines::sslv3 alert bad certificate, errno 0',
      ),
    ).toBe('tls-handshake-failed');
    expect(
      top(
        'Read error: ssl=0xb4000071c9a237d8: Failure in SSL library, usually a protocol error\nerror:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE',
      ),
    ).toBe('tls-handshake-failed');
    expect(keysOf(genericExtractor, 'x509: bad certificate presented by the server')).toContain('tls.error=cert_invalid');
  });
});

describe('reference headings in other languages, and a TLS mismatch beside a refusal', () => {
  it('takes an nginx reference page in Chinese and an MDN page in Korean for descriptions', () => {
    const zh = [
      '玩儿转nginx——设置客户端请求体的最大大小',
      '',
      '语法',
      '',
      'client_max_body_size size;',
      '',
      '默认',
      '',
      'client_max_body_size 1m;',
      '说明',
      '如果客户端请求体超过了设置的大小,则会返回413错误',
    ].join('\n');
    expect(top(zh)).toBeUndefined();
    expect(
      classifyLine(
        'HTTP 429 Too Many Requests 응답 상태 코드는 사용자가 주어진 시간 동안 너무 많은 요청을 보냈음을 나타냅니다("속도 제한").',
      ),
    ).toBe('description');
  });

  it('lists the TLS mismatch beside a refusal when a gRPC client reports both', () => {
    const text =
      'Handshake failed with fatal error SSL_ERROR_SSL: error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER.\nCannot connect to the device: <_InactiveRpcError of RPC that terminated with: status = StatusCode.UNAVAILABLE';
    expect(
      engine
        .explain(text)
        .causes.slice(0, 3)
        .map((c) => c.id),
    ).toContain('tls-wrong-version');
  });
});

describe('plain words beside a specific reading of the same line', () => {
  it('keeps the TLS words of a line whose status a specific extractor read', () => {
    expect(
      top('ingress-nginx 4.13.1 regression: SSL/TLS handshake failures causing HTTP 400 errors and "tlsv1 alert protocol version"'),
    ).toBe('tls-handshake-failed');
  });
});

describe('recovery notices, wrapped Go errors, empty WebSocket failures, Jenkins and Grafana CSRF checks', () => {
  it('gives a recovered alert no cause, and one still firing its cause', () => {
    const recovered = 'Prometheus 恢复通知\n告警名称：Loss Packet Alarm\n告警状态：resolved\n开始时间：2023-03-01 09:11:03\nping loss 35%';
    expect(top(recovered)).toBeUndefined();
    expect(top('[FIRING:1] Loss Packet Alarm\n"status": "firing"\nping loss 35%')).toBeDefined();
    expect(top('[RESOLVED] 502 Bad Gateway from nginx\nconnect() failed (111: Connection refused) while connecting to upstream')).toBe(
      'upstream-refused',
    );
  });

  it("reads Go's unknown authority hard-wrapped in Terraform's box, or quoted without its prefix", () => {
    expect(top('│ "https://registry.terraform.io/.well-known/terraform.json": x509: certificate\n│ signed by unknown authority')).toBe(
      'tls-cert-untrusted',
    );
    expect(top('使用Trojan协议时，clash在TLS握手阶段报错：certificate signed by unknown authority。')).toBe('tls-cert-untrusted');
  });

  it("reads Chrome's WebSocket failure with no reason, Jenkins' crumb and Grafana's origin check", () => {
    expect(top("WebSocket connection to 'ws://my-domain.org/api/live/ws' failed: ")).toBe('websocket-upgrade-missing');
    expect(top('WARNING: No valid crumb was included in request for /job/x/build. Returning 403.')).toBe('csrf-failure');
    expect(
      top('t=2021-07-16T06:32:26+0200 lvl=warn msg="Request Origin is not authorized" logger=live origin=https://www.example.de'),
    ).toBe('csrf-failure');
  });
});

describe('"this error" as a subject, Envoy details and "authentication required"', () => {
  it('hears "it has this error" as a report and "this error occurs when" as a description', () => {
    expect(classifyLine('but now after the upgrade it has this error')).not.toBe('description');
    expect(classifyLine('This error occurs when the upstream closes the connection.')).toBe('description');
  });

  it("reads Envoy's no_healthy_upstream detail and a server's 'authentication required', not a proxy's", () => {
    expect(top('services experience intermittent 503 errors with `no_healthy_upstream` responses')).toBe('upstream-unhealthy');
    expect(
      top('$ argocd repo add https://git.example.com/repos/apps\nFATA[0000] rpc error: code = Unknown desc = authentication required'),
    ).toBe('auth-missing');
    expect(keysOf(jwtExtractor, 'HTTP/1.1 407 Proxy Authentication Required')).not.toContain('auth.error=missing_credentials');
  });
});

describe('a connection closed with an answer', () => {
  it('takes "Connection closed with HTTP 401" for an answered exchange, not a lost connection', () => {
    expect(keysOf(genericExtractor, 'Connection closed with HTTP 401 (ntfy error 40101)')).not.toContain('net.error=unexpected_eof');
    expect(keysOf(genericExtractor, 'ERROR connection closed by remote host')).toContain('net.error=unexpected_eof');
  });
});

describe('diffs, changelog imperatives and check plugins that say OK', () => {
  it('takes a docs diff and a changelog bullet for descriptions, and a check that passed for no failure', () => {
    expect(
      top(
        '````diff\n+\n+## Why Am I Getting `x509: certificate signed by unknown authority` When Using The CLI?\n+\n+Your Argo CD server does not have a valid certificate.',
      ),
    ).toBeUndefined();
    expect(top('  * Introduce the ability to return 413: payload too large for requests ([#3040])')).toBeUndefined();
    expect(
      top(
        '$ check_http -S -H localhost -u / -e "HTTP/1." -w 5 -c 9\nHTTP OK: Status line output matched "HTTP/1." - HTTP/1.1 401 Unauthorized - 628 bytes in 0.009 second response time',
      ),
    ).toBeUndefined();
    expect(top('HTTP CRITICAL - Invalid HTTP response received from host: HTTP/1.1 401 Unauthorized')).toBeDefined();
  });
});

describe('a redirect chain that keeps naming the same Location', () => {
  it('reads a Location repeated three times after 30x statuses as a loop, and a chain that ends as none', () => {
    const loop = [
      '$ curl -sILk nc2/nextcloud | egrep "HTTP|Loc"',
      'HTTP/1.1 302 Found',
      ' -> Location: /nextcloud/',
      ...Array.from({ length: 4 }, () => ['HTTP/1.1 302 Found', ' -> Location: http://nc2/nextcloud/login']).flat(),
    ].join('\n');
    expect(keysOf(httpExtractor, loop)).toContain('http.redirect_loop');
    expect(top(loop)).toBe('redirect-loop');
    const chain =
      'HTTP/1.1 301 Moved Permanently\nLocation: https://example.com/\n\nHTTP/1.1 302 Found\nLocation: https://example.com/login\n\nHTTP/1.1 200 OK';
    expect(keysOf(httpExtractor, chain)).not.toContain('http.redirect_loop');
  });
});
