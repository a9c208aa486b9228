import { describe, expect, it } from 'vitest';
import { classifyLine, describesOnly } from '../../src/evidence/discourse.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const causes = (text: string) => engine.explain(text).causes.map((c) => c.id);

describe('text that describes failures rather than showing one', () => {
  it('reads hard-wrapped prose as its sentences (docs, markdown, e-mail)', () => {
    const wrapped = [
      'When all endpoints in a load',
      'balancer are unavailable, requests may be failed with [503 Service Unavailable]',
      'errors, or, if the Service is one of multiple',
      'backends, a different backend may be selected.',
    ];
    expect(describesOnly(wrapped)).toBe(true);
    expect(causes(wrapped.join('\n'))).toEqual([]);
  });

  it('never joins output to prose: a `label: message` line, an indented frame, a log line', () => {
    expect(causes('Got this error \nfailed: Error during WebSocket handshake: Unexpected response code: 400.')).not.toEqual([]);
    expect(
      describesOnly([
        'This error usually means the upstream closed the connection, and',
        '    at Socket.socketOnEnd (node:_http_client:524:23)',
        '    at Socket.emit (node:events:525:35)',
        '    at endReadableNT (node:internal/streams/readable:1359:12)',
        '    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)',
      ]),
    ).toBe(false);
  });

  it('takes changelog bullets for descriptions, in any language', () => {
    expect(classifyLine('* Feature: upstream组内无可用server时返回502而非500，新增指令upstream_change_no_server_status (lianglli)')).toBe(
      'description',
    );
    expect(classifyLine('- Fixed: a 502 when the backend closed keep-alive connections early')).toBe('description');
  });
});

describe('the grammar of documentation (written from the sentences of docs, not from one page)', () => {
  it('takes conventional commits and man-page headings for layout, whatever words they hold', () => {
    expect(classifyLine('fix(proxy): resolve issue where authorization headers are getting dropped during redirects')).toBe('description');
    expect(classifyLine('Fix: occasional iat validation error')).toBe('description');
    expect(classifyLine('DESCRIPTION')).toBe('description');
    expect(classifyLine('proxy_read_timeout：连接成功后等候后端服务器响应时间')).toBe('description');
    // A directive with its value is configuration, not a description.
    expect(classifyLine('proxy_read_timeout: 60s')).not.toBe('description');
  });

  it('hears the docs\' "we recommend" as their voice, and a person\'s "we" still as a report', () => {
    expect(
      classifyLine(
        'We also recommend that you configure the idle timeout of your application to be larger than the one of the load balancer.',
      ),
    ).toBe('description');
    expect(classifyLine('We are getting 502 errors from the load balancer since the deploy this morning')).toBe('report');
  });

  it('takes spec citations, status classes, self-referring tables and generic subjects for descriptions', () => {
    expect(classifyLine('RFC2616, 10.5.3: The server, while acting as a gateway or proxy, received an invalid response.')).toBe(
      'description',
    );
    expect(classifyLine('Response class for Bad Gateway responses (status code 502).')).toBe('description');
    expect(classifyLine('The following table describes how the gateway behaves in various authentication scenarios:')).toBe('description');
    expect(classifyLine('Set the key in a header; a request without an API key returns 401 to the caller.')).toBe('description');
    expect(classifyLine('A long-running request can fail with 504 Gateway Timeout when the proxy waits too long.')).toBe('description');
  });

  it('gives a short label line no weight either way, so a docs page with headings stays a description', () => {
    const page = [
      'Net::HTTPBadGateway',
      'Response class for Bad Gateway',
      'responses (status code 502).',
      'References:',
      'Mozilla.',
      'RFC 9110.',
      'Wikipedia.',
    ];
    expect(describesOnly(page)).toBe(true);
    expect(causes(page.join('\n'))).toEqual([]);
    // Bulleted labels too: a field reference whose entries are one word each.
    const fields = [
      '- %RESPONSE_CODE%',
      '- HTTP',
      '- HTTP response code. Note that a response code of ‘0’ means that the server never sent the beginning of a response. This generally means that the (downstream) client disconnected.',
      '- TCP',
      '- Not implemented (“-“).',
    ];
    expect(describesOnly(fields)).toBe(true);
    // An error page is not a description because it has short lines.
    expect(
      causes(
        '<html><head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>',
      ),
    ).not.toEqual([]);
  });

  it('reads how-to questions, changelog verbs, conditional behaviour and guides as descriptions', () => {
    for (const line of [
      'How do I fix "connection reset by peer" errors in Go?',
      'What does ECONNREFUSED mean in Node.js?',
      '* Fix 504 Gateway Timeout when streaming large responses (#1234)',
      'v2.3.1: fixed ECONNRESET on keep-alive connections',
      'HAProxy returns a 503 error when no server is available to handle the request.',
      'To fix the 502 Bad Gateway error, restart PHP-FPM and check the socket path.',
      'This guide explains how to resolve SSL certificate problem: unable to get local issuer certificate.',
      'You may see "upstream timed out (110: Connection timed out)" in the error log if the backend is slow.',
    ]) {
      expect(classifyLine(line), line).toBe('description');
      expect(causes(line), line).toEqual([]);
    }
    // A person asking about what happens to them is still a report, and so is a curl info line.
    expect(classifyLine('Why am I getting a 502 Bad Gateway error from my Application Load Balancer?')).toBe('report');
    expect(classifyLine('* Connection #0 to host example.com left intact')).not.toBe('description');
  });

  it("hears a blog's own voice, a definition of a status code and a pull request's summary as descriptions", () => {
    expect(
      classifyLine(
        'This is a frustrating error because the problem could be anywhere in the chain. Let me break down how to find the actual cause and fix it.',
      ),
    ).not.toBe('report');
    for (const line of [
      'The 407 (Proxy Authentication Required) status code is similar to 401 (Unauthorized), but it indicates that the client needs to authenticate itself.',
      '状态码 407 Proxy Authentication Required 代表客户端错误',
      'This pull request introduces a new header for 401 responses, giving a better indication of why the request has failed.',
      'Adds support for AADSTS70043 and AADSTS50173 error codes, to prompt user to add account again:',
    ])
      expect(classifyLine(line), line).toBe('description');
  });

  it("counts a guide's and a changelog's headings as descriptions, and an example's fences and braces as nothing", () => {
    const guide = [
      '## Symptom',
      'The client application gets an HTTP response status `503` with the message `Service Unavailable` following an API proxy call.',
      '## Error message',
      '```',
      'HTTP/1.1 503 Service Unavailable',
      '```',
      '```',
      '{',
      '   "fault": {',
      '      "faultstring": "The Service is temporarily unavailable",',
      '      "detail": { "errorcode": "messaging.adaptors.http.flow.ServiceUnavailable" }',
      '    }',
      '}',
      '```',
      '## Possible Causes',
    ];
    expect(describesOnly(guide)).toBe(true);
    expect(causes(guide.join('\n'))).toEqual([]);
    const changelog = [
      '## 0.6.1 - 2017-07-15',
      '### Changed',
      '- When the server sends the HTTP status code 101 (Switching Protocols),',
      '  the status code 502 (Bad Gateway) is instead sent to the client.',
    ];
    expect(causes(changelog.join('\n'))).toEqual([]);
    // The same output pasted alone is still a failure.
    expect(causes('HTTP/1.1 503 Service Unavailable\n{"fault":{"faultstring":"The Service is temporarily unavailable"}}')).not.toEqual([]);
  });

  it('takes an explainer (prose at least as long as its quoted output, with a description) for a description', () => {
    const explainer = [
      '502 Bad Gateway — nginx',
      'A 502 means Nginx received an invalid response from the upstream server it’s proxying to. In practice, this almost always means one of:',
      '- Your backend application (Node.js, Python, PHP-FPM, etc.) has crashed or isn’t running',
      '- Nginx is pointing to the wrong port or socket',
      '- The backend is too slow and Nginx timed out waiting for a response',
      'connect() failed (111: Connection refused) while connecting to upstream',
    ];
    expect(describesOnly(explainer)).toBe(true);
    // A server's error page explains itself in prose as well: it is still the page.
    const page = [
      'Forbidden',
      "You don't have permission to access / on this server.",
      'Possible causes of this error include:',
      'The request was forbidden by rules in the .htaccess file.',
      'The directory you requested does not have an index.html or index.php file.',
      'The permissions on the file or directory are incorrect.',
    ];
    expect(describesOnly(page, true)).toBe(false);
    expect(describesOnly(page)).toBe(true);
    expect(causes(page.join('\n'))).not.toEqual([]);
    // The links of a cause chain are output, however much they read like sentences.
    const maven = [
      '[ERROR] Failed to execute goal on project shop: Could not resolve dependencies for project com.example:shop:jar:1.0: ',
      'Failed to collect dependencies at com.example:api:jar:2.2.0: ',
      'Failed to read artifact descriptor for com.example:api:jar:2.2.0: ',
      'Could not transfer artifact com.example:api:pom:2.2.0 from/to releases (http://nexus.example.com/repository/releases): ',
      'Failed to transfer file: http://nexus.example.com/repository/releases/com/example/api/2.2.0/api-2.2.0.pom. ',
      'Return code is: 502 , ',
      'ReasonPhrase:Bad Gateway.',
    ];
    expect(describesOnly(maven)).toBe(false);
    expect(causes(maven.join('\n'))).not.toEqual([]);
  });

  it("reads what a setting or a tool does, nginx's CHANGES, a change's summary and questions about behaviour as descriptions", () => {
    for (const line of [
      'It specifies the timeout duration for waiting for a response from a backend server.',
      'This workflow executes az network application-gateway show-backend-health via an Azure CLI container.',
      'Below are the list of reasons the HttpConnectionManager or Router filter may send responses or reset streams.',
      '    *) Feature: the "http_403" parameter of the "proxy_next_upstream" directive.',
      'Changes with nginx 1.5.1                                         04 Jun 2013',
      'Changes to squid-6.2 (17 Jul 2023):',
      '\t- Bug 5274: Successful tunnels logged as TCP_TUNNEL/500',
      'Adds "incomplete certificate chain" as a named cause of error 526.',
      'Proxies that fail authentication should raise a forbidden error, not unauthorized.',
      'Should the API return 401 or 403 when the token lacks a scope?',
      '代表客户端错误,指的是由于缺乏代理服务器要求的身份验证凭证,发送的请求尚未得到满足。',
    ])
      expect(classifyLine(line), line).toBe('description');
    for (const line of [
      'This directive applies to PUT and POST requests. A request that exceeds this limit generates a 413 (Request Entity Too Large) error response.',
      'The client_max_body_size directive defines the maximum permissible size for a client request body.',
      'サーバーエラーレスポンスコードは、上流のサーバーからのレスポンスが時間内に得られなかったことを示します。',
      '  • ERR_CERT_AUTHORITY_INVALID: certificate signed by an untrusted authority',
      'class ProxyError(ConnectionError):',
      '[Fundamentals] Update Proxy Read Timeout default to 125 seconds',
    ])
      expect(classifyLine(line), line).toBe('description');
    // Words of other scripts are whole words: "ma" is not in "Maßnahmen", "me" not in "discord.me", "제가" not in "문제가".
    expect(
      classifyLine('HTTP 429 zu viele Anfragen beheben gelingt schnell mit fünf Maßnahmen: Tempo drosseln, Backoff, Caching.'),
    ).not.toBe('report');
    expect(
      classifyLine('Unauthorized; missing authentication key | Additional information and support: http://discord.me/cr_api'),
    ).not.toBe('report');
    expect(classifyLine('502 오류는 애플리케이션 서버에서 문제가 발생했음을 의미합니다.')).not.toBe('report');
    expect(classifyLine('Depuis ce matin ma passerelle renvoie des erreurs 502.')).toBe('report');
    // A .NET exception is output, whatever its message says ("by default").
    expect(
      classifyLine(
        "Error validating identity token: Microsoft.IdentityModel.Tokens.SecurityTokenNotYetValidException: IDX10222: Lifetime validation failed. The token is not yet valid. ValidFrom: '[PII is hidden by default.]'",
      ),
    ).toBe('machine');
    // "i.e." is not a person speaking.
    expect(
      classifyLine(
        '504 GATEWAY TIMEOUT If the API producer times out waiting for an upstream server (i.e. a server it calls), it returns 504.',
      ),
    ).not.toBe('report');
    // A tool's progress line is not a change summary, and a question about one's own service is still a report.
    expect(classifyLine('Adding stable repo with URL: https://kubernetes-charts.storage.googleapis.com')).not.toBe('description');
    expect(classifyLine('Is our ALB returning 502 because of keep-alive?')).toBe('report');
  });

  it("keeps Chrome's own interstitial sentence from silencing its certificate error", () => {
    expect(
      causes(
        'This server could not prove that it is 192.168.1.123; its security certificate is from 10.0.0.8. This may be caused by a misconfiguration or an attacker intercepting your connection.',
      )[0],
    ).toBe('tls-hostname-mismatch');
  });
});

describe('a parser\'s "invalid token"', () => {
  it('is syntax, not credentials', () => {
    expect(causes('Expected colon but found invalid token at character 9')).toEqual([]);
    expect(causes('SyntaxError: invalid token at line 3, column 7')).toEqual([]);
  });
  it("while an auth server's invalid token still is", () => {
    expect(causes('{"error":"invalid_token","error_description":"The access token is invalid"}')[0]).toBe('token-invalid');
    expect(causes('HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer error="invalid_token"')[0]).toBe('token-invalid');
  });
});
