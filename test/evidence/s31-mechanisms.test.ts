// Mechanisms added in session 27 from the fourteenth fresh round (after it was scored): Apple's URL loading
// codes, gRPC's numeric statuses and transport messages, HTTP/1.x answers to HTTP/2 clients, and the ways
// documentation describes in more languages. Each is keyed on a code, a class name or a product's vocabulary;
// the cases here are other wordings of the mechanism than the corpus texts they were written from.
import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/evidence/discourse.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const explain = (text: string) => engine.explain(text);
const signals = (text: string) => explain(text).signals.map((s) => s.signal);
const causes = (text: string) => explain(text).causes.map((c) => c.id);
const top = (text: string) => causes(text)[0];

describe("Apple's URL loading system (NSURLSession, WKWebView, Safari)", () => {
  it('reads NSURLErrorDomain codes in each way they are printed', () => {
    // Error Domain=… Code=… as NSError prints itself (corpus s31b-058 has "NSURLErrorDomain, code = -1202").
    expect(
      top(
        'Task <A1>.<3> finished with error [-1201] Error Domain=NSURLErrorDomain Code=-1201 "The certificate for this server has expired."',
      ),
    ).toBe('tls-cert-expired');
    expect(signals('The operation couldn’t be completed. (NSURLErrorDomain error -1003.)')).toContain('net.error=dns_not_found');
    expect(signals('request failed: NSURLErrorDomain, code = -1202')).toContain('tls.error=unknown_issuer');
    expect(signals('Error Domain=kCFErrorDomainCFNetwork Code=-1206 "(null)"')).toContain('tls.error=client_cert_required');
    // A code of another domain is not a URL error.
    expect(signals('Error Domain=NSCocoaErrorDomain Code=-1202')).not.toContain('tls.error=unknown_issuer');
  });

  it("reads SecureTransport's OSStatus beside it, and a POSIX errno only when its domain says POSIX", () => {
    expect(top('NSURLSession/NSURLConnection HTTP load failed (kCFStreamErrorDomainSSL, -9843)')).toBe('tls-hostname-mismatch');
    expect(signals('UserInfo={_kCFStreamErrorCodeKey=-9814, _kCFStreamErrorDomainKey=3}')).toContain('tls.error=cert_expired');
    // Darwin numbers ECONNREFUSED 61: "Could not connect to the server" with the refusal underneath.
    const refused =
      'Error Domain=NSURLErrorDomain Code=-1004 "Could not connect to the server." UserInfo={_kCFStreamErrorCodeKey=61, _kCFStreamErrorDomainKey=1}';
    expect(signals(refused)).toContain('net.error=connection_refused');
    expect(top(refused)).toBe('upstream-refused');
    // Domain 12 is not POSIX: its 61 is something else.
    expect(signals('UserInfo={_kCFStreamErrorCodeKey=61, _kCFStreamErrorDomainKey=12}')).not.toContain('net.error=connection_refused');
  });

  it("reads Chrome's ERR_INSECURE_RESPONSE and its interstitial's cipher wording", () => {
    expect(top('GET https://registry.example.com/v2/ net::ERR_INSECURE_RESPONSE')).toBe('tls-cert-untrusted');
    expect(
      signals(
        "This site can’t provide a secure connection\nThe client and server don't support a common SSL protocol version or cipher suite.",
      ),
    ).toContain('tls.error=protocol_version');
  });
});

describe("gRPC's numbers and its transport's own words", () => {
  it('reads a status number where the name usually stands', () => {
    expect(signals('rpc error: code = 14 desc = grpc: the connection is unavailable')).toContain('grpc.status=unavailable');
    expect(signals("{ code: 4, details: 'Deadline exceeded', metadata: Metadata { _internal_repr: {} } }")).toContain(
      'grpc.status=deadline_exceeded',
    );
    // A plain object with a code and no details is not a gRPC status.
    expect(signals('{ code: 14, message: "x" }')).not.toContain('grpc.status=unavailable');
  });

  it('reads a channel that connected to no address as a connection that failed', () => {
    expect(signals('Error: 14 UNAVAILABLE: No connection established')).toContain('net.error=connect_failed');
    expect(causes('StatusCode.UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.7:50051')).toContain(
      'upstream-refused',
    );
  });

  it('reads a call that waited for a connection until its deadline as a connect timeout', () => {
    const text =
      'io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: ClientCall started after CallOptions deadline was exceeded -1.2s. [closed=[], open=[[waiting_for_connection]]]';
    expect(signals(text)).toContain('net.error=connect_timeout');
    expect(causes(text).slice(0, 3)).toContain('upstream-connect-timeout');
  });

  it('reads an HTTP/1.x answer to an HTTP/2 client as a response the client cannot use', () => {
    expect(
      top('io.netty.handler.codec.http2.Http2Exception: First received frame was not SETTINGS. Hex dump for first 5 bytes: 485454502f'),
    ).toBe('upstream-bad-response');
    expect(top('grpc._channel._InactiveRpcError: status = StatusCode.UNAVAILABLE details = "Trying to connect an http1.x server"')).toBe(
      'upstream-bad-response',
    );
  });

  it("reads Envoy's HTTP/2 pool out of streams as load shedding", () => {
    expect(top('[debug][pool] max streams overflow\n"POST /svc.Api/Call HTTP/2" 503 UO')).toBe('upstream-overloaded');
  });
});

describe('host names that do not resolve, by any class name', () => {
  it('reads a library’s UnknownHostError and its "can not be resolved"', () => {
    expect(top('com.example.http.error.UnKnownHostError: Hostname can not be resolved: api.example.com')).toBe('dns-failure');
  });
});

describe('describing, in the layout of references and in more languages', () => {
  it('reads error tables and status glossaries as description, and a code line that returns as neither', () => {
    expect(classifyLine('    NSURLErrorCannotConnectToHost = -1004,')).toBe('description');
    expect(classifyLine('kErrA = -1, kErrB = -2, kErrC = -3, kErrD = -4,')).toBe('description');
    expect(classifyLine('ER3(SEC_ERROR_UNTRUSTED_CERT, SEC_ERROR_BASE + 21,')).toBe('description');
    expect(classifyLine('- 503 Service Unavailable: the service is temporarily down (overload, maintenance).')).toBe('description');
    expect(classifyLine('Update 502-bad-gateway.md')).toBe('description');
    expect(classifyLine('解决 nginx 502 Bad Gateway 问题')).toBe('description');
    // Machine output with key=value pairs is not a table of constants.
    expect(classifyLine("Retrying (Retry(total=3, connect=3, read=4, redirect=5, status=5)) after connection broken by 'x'")).not.toBe(
      'description',
    );
    expect(classifyLine('    return {')).not.toBe('description');
    expect(classifyLine('      return res.status(502).json({')).not.toBe('description');
  });

  it('stays silent on an error-code table pasted from a header or a docs page', () => {
    const table = [
      'typedef enum {',
      '    NSURLErrorTimedOut = -1001,',
      '    NSURLErrorCannotFindHost = -1003,',
      '    NSURLErrorCannotConnectToHost = -1004,',
      '    NSURLErrorServerCertificateUntrusted = -1202,',
      '} NSURLErrorCode;',
    ].join('\n');
    expect(causes(table)).toEqual([]);
  });

  it('reads definitions in Persian, Thai, Turkish, Italian and Polish as description', () => {
    expect(classifyLine('خطای 502 Bad Gateway یعنی سرور پراکسی پاسخ نامعتبری از سرور بالادستی دریافت کرده است.')).toBe('description');
    expect(classifyLine('HTTP 504 หมายถึง เซิร์ฟเวอร์ที่ทำหน้าที่เป็นเกตเวย์ไม่ได้รับการตอบกลับจากเซิร์ฟเวอร์ต้นทางภายในเวลาที่กำหนด')).toBe('description');
    expect(classifyLine('Eğer sunucu zamanında yanıt vermezse kullanıcılar 504 Gateway Timeout hatası görür.')).toBe('description');
    expect(classifyLine("L'errore 503 può apparire quando il server è in manutenzione o sovraccarico.")).toBe('description');
    expect(classifyLine('Błąd 502 może oznaczać, że serwer pośredniczący dostał niepoprawną odpowiedź.')).toBe('description');
  });

  it('reads prevention and the choice of a status as the voice of changelogs and specs', () => {
    expect(classifyLine('Raise proxy_buffer_size to prevent 502 errors on large Set-Cookie headers')).toBe('description');
    expect(classifyLine('- Return 503 instead of 500 when the pool is exhausted')).toBe('description');
    expect(classifyLine('Use 504 Gateway Timeout when the upstream read deadline passes')).toBe('description');
    expect(classifyLine('A 413 seems more appropriate than a 400 for an oversized upload.')).toBe('description');
    // The speaker's own attempt is still a report.
    expect(classifyLine('I raised the timeout to avoid 504 errors but we still get them every few minutes')).toBe('report');
  });

  it("reads Dutch 'je' as 'you', not as the French speaker", () => {
    expect(classifyLine('Een 504 betekent dat je backend niet op tijd antwoordde op de proxy van de hosting.')).toBe('description');
    expect(classifyLine("Depuis ce matin je reçois une erreur 502 sur toutes les pages de l'application.")).toBe('report');
  });

  it('still hears a report in those languages', () => {
    expect(classifyLine('Sejak kemarin saya mendapatkan error 502 Bad Gateway di semua halaman aplikasi.')).toBe('report');
    expect(classifyLine('Benim sitem dün akşamdan beri 504 Gateway Timeout hatası veriyor, ne yapabilirim?')).toBe('report');
    expect(top('Od wczoraj u mnie nginx zwraca 502:\nconnect() failed (111: Connection refused) while connecting to upstream')).toBe(
      'upstream-refused',
    );
  });
});
