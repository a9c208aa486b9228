import { describe, expect, it } from 'vitest';
import { mentionExtractor } from '../../src/evidence/mention.js';
import { TextDoc } from '../../src/evidence/text.js';
import { createEngine } from '../../src/triage/engine.js';
import { describeConformance, PROSE } from './conformance-kit.js';

const engine = createEngine();
const keys = (text: string) => mentionExtractor.extract(TextDoc.from(text)).map((s) => `${s.name}=${s.value}`);
const answer = (text: string) => engine.explain(text);

const SAMPLES = [
  'Frontend hit consistent 502 on every /api/v1/* call since the deploy.',
  '最近nginx日志会连着出现好多499的错误',
  'the upload request times out, then timed out again after the retry',
  'バックエンドへのリクエストがタイムアウトしました',
];

describe('the mention reader', () => {
  it('reads a status code standing alone, and a timeout in words in several languages', () => {
    expect(keys(SAMPLES[0]!)).toEqual(['http.status=502']);
    expect(keys(SAMPLES[1]!)).toEqual(['http.status=499']);
    expect(keys('got a timeout from the gateway')).toEqual(['net.error=timeout']);
    expect(keys(SAMPLES[3]!)).toEqual(['net.error=timeout']);
    expect(keys('запрос к API завершился по тайм-ауту')).toEqual(['net.error=timeout']);
    expect(keys('请求一直超时')).toEqual(['net.error=timeout']);
  });

  it('leaves numbers that are not a status alone: inside numbers, versions, times, paths, ids, and before a unit', () => {
    for (const text of ['v1.502.3', 'port 15020', '10:50:30.502', '/api/items/503', 'id=502', 'took 504 ms', '403 KB free', 'issue #502'])
      expect(keys(text), text).toEqual([]);
    // A configuration key is the knowledge patterns' business, not a timeout that happened.
    expect(keys('proxy_read_timeout 60s; ReadTimeout=30')).toEqual([]);
  });
});

describe('a mechanism named in words', () => {
  it('reads the noun of what failed beside the word that says it failed, in either order and in several languages', () => {
    expect(keys('the browser console shows a CORS error, the request is blocked')).toEqual(['cors.error=blocked']);
    expect(keys('the site says the SSL certificate expired')).toEqual(['tls.error=cert_expired']);
    expect(keys('Cerificado vencido? no: certificado SSL vencido')).toEqual(['tls.error=cert_expired']);
    expect(keys('浏览器一直提示证书错误，无法继续访问')).toEqual(['tls.error=cert_invalid']);
    expect(keys('SSL 인증서 에러가 발생합니다')).toEqual(['tls.error=cert_invalid']);
    expect(keys('string(50) "CSRF токен не прошел проверку"')).toEqual(['access.csrf=undefined']);
    expect(keys('когда JWT токен истек, API отвечает пустой страницей')).toEqual(['auth.error=token_expired']);
    expect(keys('Seit dem Update nur noch: Verbindung abgelehnt.')).toEqual(['net.error=connection_refused']);
    expect(keys('не удается открыть страницу localhost отказано в подключении')).toEqual(['net.error=connection_refused']);
    expect(keys('Соединение сброшено при загрузке')).toEqual(['net.error=connection_reset']);
    expect(keys('名前解決に失敗しました')).toEqual(['net.error=dns_not_found']);
  });

  it('reads a status said in words, and a Cloudflare code only in a text that names Cloudflare', () => {
    expect(keys('the API answers Unauthorized to every call from the gateway')).toEqual(['http.status=401']);
    expect(keys('Zugriff verweigert, obwohl der Benutzer Admin ist')).toEqual(['http.status=403']);
    expect(keys("I get a 301 on my backends, and a 'to many redirects' in the browser.")).toEqual(['http.redirect_loop=undefined']);
    expect(keys('I keep getting Cloudflare 521 errors when I visit the domain.')).toEqual(['cloudflare.error=521']);
    expect(keys('now the site shows error 521 for every page')).toEqual([]);
  });

  it('reads a status code that ends a sentence, not one inside a version', () => {
    expect(keys('90% of them are not accessible, returning a 502.')).toEqual(['http.status=502']);
    expect(keys('upgraded to 502.3 yesterday')).toEqual([]);
  });

  it('leaves alone words inside identifiers, words on different lines or far apart, and what a configuration says will happen', () => {
    for (const text of [
      'ssl_certificate_key /etc/nginx/tls-secret.key;',
      'The certificate expires after 90 days; renew it with certbot renew.',
      'access_token_expires_in: 3600',
      'SSL certificate:\nerrors: none',
      'the TLS certificate was issued by our internal CA for the staging cluster which then had a small error in monitoring',
      'terrors of TLS',
    ])
      expect(keys(text), text).toEqual([]);
  });
});

describe('a failure named in passing, through the engine', () => {
  it("answers a report whose only evidence is a bare 502 with the symptom's differential, at low confidence", () => {
    const d = answer('After configuring nginx I keep getting 502 on every request to the app, what could it be?');
    expect(d.symptoms.map((s) => s.id)).toContain('bad-gateway');
    expect(d.causes.slice(0, 3).map((c) => c.id)).toEqual(['upstream-refused', 'upstream-closed-early', 'idle-timeout-mismatch']);
    expect(d.causes.every((c) => c.confidence === 'low')).toBe(true);
  });

  it('answers a mechanism named in words with its differential, and never above low confidence', () => {
    const cert = answer('当我用公司电脑访问内网系统的时候，浏览器一直提示证书错误，无法继续访问，换成手机热点就正常了，请问是什么原因？');
    expect(cert.causes.map((c) => c.id)).toEqual(['tls-cert-untrusted', 'tls-hostname-mismatch', 'tls-cert-expired']);
    const cloudflare = answer(
      'I keep getting Cloudflare 521 errors when I visit the domain and any of the subdomains since we moved the server.',
    );
    expect(cloudflare.causes[0]?.id).toBe('upstream-refused');
    // The words said what failed, not how: however decisive the reading, the answer stays low.
    for (const d of [cert, cloudflare]) {
      expect(d.signals.every((x) => x.source === 'mention')).toBe(true);
      expect(d.causes.every((c) => c.confidence === 'low')).toBe(true);
    }
  });

  it('gives no cause to prose, docs and tables that only name a code or a timeout', () => {
    for (const text of [
      ...PROSE,
      'A 502 error occurs when CloudFront is unable to connect to the origin. See the following sections for the causes of the error.',
      '| Code | Meaning |\n|---|---|\n| 502 | the upstream failed |\n| 504 | the upstream timed out |',
      'proxy_read_timeout 60s;\nproxy_connect_timeout 5s;',
      'Release 2.4.0: retries on 503 are now configurable; the default timeout is 30 s.',
    ])
      expect(answer(text).causes, text).toEqual([]);
  });

  it('takes no mention from a text longer than the report model reads: an ordinary log that names timeouts', () => {
    const line = '2024-05-01T10:00:00Z INFO job id=7 finished, retry policy: timeout 30s between attempts\n';
    expect(answer(line.repeat(3)).causes).toEqual([]);
    // Past the model's 20,000 characters it cannot confirm a report, so the mention does not count either.
    expect(answer(line.repeat(400)).causes).toEqual([]);
  });

  it('is not read when something else in the text already shows a symptom', () => {
    const d = answer('curl: (7) Failed to connect to api.internal port 8080: Connection refused\nthe page said 503 earlier');
    expect(d.signals.some((s) => s.source === 'mention')).toBe(false);
  });
});

describeConformance(mentionExtractor, mentionExtractor.patterns, SAMPLES, { prose: false });
