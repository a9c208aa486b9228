/**
 * The HTTP API end to end: the real handler on a real port, the real engine and probes against a
 * local nginx-style 502, a Slack stand-in for readiness, driven through the typed
 * openapi-fetch client. Responses are checked against openapi.yaml at run time (spec.ts).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import { createReadiness, redisCheck, slackCheck } from '../../src/api/ready.js';
import type { components } from '../../src/api/schema.gen.js';
import { readServerConfig } from '../../src/config.js';
import { startSlackStandin, type SlackStandin } from '../support/slack-standin.js';
import { closedPort, engine, NGINX_REFUSED, startApi, startBadGateway, TOKEN, type RunningApi } from './fixture.js';
import { conformance, specPaths } from './spec.js';
import { SIGNING_SECRET as signingSecret } from '../support/samples.js';

type DiagnosisRecord = components['schemas']['DiagnosisRecord'];

let slack: SlackStandin;
let upstream: Awaited<ReturnType<typeof startBadGateway>>;
let api: RunningApi;
let client: ApiClient;

beforeAll(async () => {
  slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
  upstream = await startBadGateway();
  // The settings main.ts reads, so the config rules for this setup are exercised too.
  const config = readServerConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    API_TOKENS: `${TOKEN}, another-token-0123456789`,
    PROBE_ALLOW: '127.0.0.0/8',
  });
  const web = new WebClient(config.bot!.botToken, {
    slackApiUrl: config.bot!.slackApiUrl!,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
  api = await startApi({
    tokenDigests: config.api.tokenDigests,
    readiness: createReadiness([slackCheck(() => web.auth.test(), false)]),
  });
  client = createApiClient(api.url, TOKEN);
});

afterAll(async () => {
  await api?.stop();
  await upstream?.close();
  await slack?.stop();
});

/** Poll a diagnosis until it is done or failed. */
async function settled(id: string): Promise<DiagnosisRecord> {
  const deadline = Date.now() + 25_000;
  for (;;) {
    const r = await client.GET('/v1/diagnoses/{id}', { params: { path: { id } } });
    expect(r.response.status).toBe(200);
    if (r.data!.status === 'done' || r.data!.status === 'failed') return r.data!;
    if (Date.now() > deadline) throw new Error(`diagnosis ${id} still ${r.data!.status}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const errorCode = (e: unknown) => (e as { error?: { code?: string } })?.error?.code;
const errorOf = (e: unknown) => (e as { error: { code: string; message: string; details?: string[] } }).error;

describe('health, readiness and metrics', () => {
  it('answers /healthz without a token', async () => {
    const r = await createApiClient(api.url, undefined).GET('/healthz');
    expect(r.response.status).toBe(200);
    expect(r.data).toEqual({ status: 'ok' });
    expect(conformance('Health', r.data)).toEqual([]);
  });

  it('is ready when Slack answers auth.test, and says which check failed when Redis is down', async () => {
    const ready = await client.GET('/readyz');
    expect(ready.response.status).toBe(200);
    expect(ready.data).toEqual({ status: 'ready', checks: [{ name: 'slack', ok: true }] });
    expect(conformance('Readiness', ready.data)).toEqual([]);

    const down = await startApi({ readiness: createReadiness([redisCheck(`redis://127.0.0.1:${await closedPort()}`, 1000)]) });
    try {
      const r = await createApiClient(down.url, undefined).GET('/readyz');
      expect(r.response.status).toBe(503);
      const body = r.error as unknown as components['schemas']['Readiness'];
      expect(body.status).toBe('not_ready');
      expect(body.checks[0]).toEqual(expect.objectContaining({ name: 'redis', ok: false, reason: expect.stringMatching(/PING/) }));
      expect(conformance('Readiness', body)).toEqual([]);
    } finally {
      await down.stop();
    }
  });

  it('serves Prometheus metrics whose counters move with requests', async () => {
    const before = await client.GET('/metrics', { parseAs: 'text' });
    expect(before.response.headers.get('content-type')).toMatch(/text\/plain/);
    await client.POST('/v1/explain', { body: { text: NGINX_REFUSED } });
    const after = (await client.GET('/metrics', { parseAs: 'text' })).data!;
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const explained = /triage_api_requests_total\{route="\/v1\/explain",status="200"\} (\d+)/;
    const diagnosed = /triage_diagnoses_total\{entry="api",top_cause="upstream-refused"\} (\d+)/;
    expect(count(after, explained)).toBe(count(before.data!, explained) + 1);
    expect(count(after, diagnosed)).toBe(count(before.data!, diagnosed) + 1);
  });
});

describe('POST /v1/explain', () => {
  it('answers the triage explain --json contract, the same as the engine', async () => {
    const r = await client.POST('/v1/explain', { body: { text: NGINX_REFUSED } });
    expect(r.response.status).toBe(200);
    expect(r.data!.causes[0]!.id).toBe('upstream-refused');
    expect(JSON.stringify(r.data)).toBe(JSON.stringify(engine().explain(NGINX_REFUSED, { lang: 'en' })));
    expect(conformance('Diagnosis', r.data)).toEqual([]);
  });

  it('answers in Chinese with lang zh, and masks secrets', async () => {
    const text = `${NGINX_REFUSED}\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl`;
    const r = await client.POST('/v1/explain', { body: { text, lang: 'zh' } });
    expect(r.data!.lang).toBe('zh');
    expect(r.data!.causes[0]!.title).toMatch(/[\u4e00-\u9fff]/);
    expect(JSON.stringify(r.data)).not.toMatch(/c2lnbmF0dXJl/);
  });

  it('ranks several texts as one investigation, each evidence naming the text it came from', async () => {
    const alb = 'HTTP/1.1 502 Bad Gateway\nServer: awselb/2.0';
    const r = await client.POST('/v1/explain', {
      body: {
        texts: [{ id: 'alb.txt', text: alb }, { id: 'nginx error.log', text: NGINX_REFUSED }, { text: 'no evidence here, just chat' }],
      },
    });
    expect(r.response.status).toBe(200);
    expect(conformance('Diagnosis', r.data)).toEqual([]);
    expect(r.data!.items).toEqual([
      { id: 'alb.txt', signals: expect.any(Number) },
      { id: 'nginx error.log', signals: expect.any(Number) },
      { id: 'text 3', signals: 0 },
    ]);
    const top = r.data!.causes[0]!;
    expect(top.id).toBe('upstream-refused');
    expect(top.confidence).toBe('high');
    expect(top.evidence.find((e) => e.signal === 'proxy.upstream_error=connection_refused')?.origin).toBe('nginx error.log');
    expect(r.data!.symptoms[0]!.evidence.some((e) => e.origin === 'alb.txt')).toBe(true);
    // The thin text alone: the guide's differential, low, and a question that would separate the top two.
    const thin = await client.POST('/v1/explain', { body: { texts: [{ id: 'alb.txt', text: alb }] } });
    expect(thin.data!.causes[0]!.confidence).toBe('low');
    expect(thin.data!.next?.ask).toMatchObject({ id: 'every-request', answers: [{ id: 'every' }, { id: 'some' }] });
  });

  it('refuses a bad investigation: text and texts together, ids twice, too many texts', async () => {
    const both = await client.POST('/v1/explain', { body: { text: 'a', texts: [{ text: 'b' }] } });
    expect(both.response.status).toBe(400);
    expect(errorOf(both.error).details!.join('\n')).toMatch(/give either "text"/);
    const twice = await client.POST('/v1/explain', {
      body: {
        texts: [
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ],
      },
    });
    expect(errorOf(twice.error).details!.join('\n')).toMatch(/texts\[1\]\.id: "a" is used twice/);
    const many = await client.POST('/v1/explain', { body: { texts: Array.from({ length: 21 }, (_, i) => ({ text: `t${i}` })) } });
    expect(errorOf(many.error).details!.join('\n')).toMatch(/at most 20 items/);
    const empty = await client.POST('/v1/explain', { body: { texts: [] } });
    expect(errorOf(empty.error).details!.join('\n')).toMatch(/non-empty array/);
  });

  it('refuses empty text with INPUT_EMPTY', async () => {
    const r = await client.POST('/v1/explain', { body: { text: '   ' } });
    expect(r.response.status).toBe(400);
    expect(errorCode(r.error)).toBe('INPUT_EMPTY');
    expect(conformance('Error', r.error)).toEqual([]);
  });

  it('names every bad field with INVALID_REQUEST', async () => {
    const r = await client.POST('/v1/explain', {
      body: { lang: 'fr', colour: 'red' } as unknown as components['schemas']['ExplainRequest'],
    });
    expect(r.response.status).toBe(400);
    const e = errorOf(r.error);
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.details!.join('\n')).toMatch(/^text: give either "text" \(one text\) or "texts"/m);
    expect(e.details!.join('\n')).toMatch(/^lang: must be "en" or "zh"$/m);
    expect(e.details!.join('\n')).toMatch(/^"colour": unknown field/m);
  });

  it('refuses bodies over 1 MiB with PAYLOAD_TOO_LARGE', async () => {
    const r = await client.POST('/v1/explain', { body: { text: `${NGINX_REFUSED}\n${'x'.repeat(1024 * 1024)}` } });
    expect(r.response.status).toBe(413);
    expect(errorCode(r.error)).toBe('PAYLOAD_TOO_LARGE');
    expect(errorOf(r.error).message).toMatch(/1 MiB/);
    // Just under the limit is fine.
    const ok = await client.POST('/v1/explain', { body: { text: `${NGINX_REFUSED}\n${'x'.repeat(1000 * 1000)}` } });
    expect(ok.response.status).toBe(200);
  });

  it('refuses a body that is not JSON, or not sent as JSON', async () => {
    const bad = await client.POST('/v1/explain', { body: { text: 'x' }, bodySerializer: () => '{"text": "unterminated' });
    expect(bad.response.status).toBe(400);
    expect(errorCode(bad.error)).toBe('INVALID_JSON');
    const type = await client.POST('/v1/explain', {
      body: { text: NGINX_REFUSED },
      bodySerializer: (b) => b.text,
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(type.response.status).toBe(415);
    expect(errorCode(type.error)).toBe('UNSUPPORTED_MEDIA_TYPE');
    const notObject = await client.POST('/v1/explain', { body: { text: 'x' }, bodySerializer: () => '["text"]' });
    expect(errorOf(notObject.error).details).toEqual(['(body): must be a JSON object']);
  });
});

describe('authentication', () => {
  it('refuses /v1 without a token, with a wrong token and with a malformed header', async () => {
    const none = await createApiClient(api.url, undefined).POST('/v1/explain', { body: { text: NGINX_REFUSED } });
    expect(none.response.status).toBe(401);
    expect(none.response.headers.get('www-authenticate')).toBe('Bearer realm="gateway-triage"');
    expect(errorCode(none.error)).toBe('UNAUTHORIZED');
    expect(conformance('Error', none.error)).toEqual([]);

    const wrong = await createApiClient(api.url, 'wrong-token-0123456789abcdef').GET('/v1/diagnoses/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(wrong.response.status).toBe(401);
    expect(wrong.response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(errorOf(wrong.error).message).toMatch(/not one of the server's API_TOKENS/);

    const basic = await client.POST('/v1/explain', { body: { text: NGINX_REFUSED }, headers: { Authorization: `Basic ${TOKEN}` } });
    expect(basic.response.status).toBe(401);

    const second = await createApiClient(api.url, 'another-token-0123456789').POST('/v1/explain', { body: { text: NGINX_REFUSED } });
    expect(second.response.status).toBe(200);
  });

  it('checks the token before reading the body, and never echoes it', async () => {
    const r = await createApiClient(api.url, 'wrong-token-0123456789abcdef').POST('/v1/alerts/alertmanager', {
      body: {} as components['schemas']['AlertmanagerWebhook'],
    });
    expect(r.response.status).toBe(401);
    expect(JSON.stringify(r.error)).not.toMatch(/wrong-token/);
  });
});

describe('routing', () => {
  it('answers NOT_FOUND for unknown paths and METHOD_NOT_ALLOWED with Allow for wrong methods', async () => {
    const missing = await fetch(`${api.url}/v2/explain`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const method = await fetch(`${api.url}/v1/explain`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
    const health = await fetch(`${api.url}/healthz`, { method: 'POST' });
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET');
  });

  it('serves every path of openapi.yaml', async () => {
    for (const path of specPaths) {
      const r = await fetch(`${api.url}${path.replace('{id}', '00000000-0000-4000-8000-000000000000')}`, { method: 'DELETE' });
      expect(r.status, path).toBe(405);
    }
  });
});

describe('diagnoses', () => {
  it('accepts a target, probes it in the background and keeps the result, never the headers', async () => {
    const secret = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2VjcmV0c2lnbmF0dXJlMTIz';
    const created = await client.POST('/v1/diagnoses', {
      body: { url: upstream.url, headers: [`Authorization: Bearer ${secret}`, 'X-Api-Key: key-4f9a8b7c6d5e'], timeoutMs: 3000 },
    });
    expect(created.response.status).toBe(202);
    expect(conformance('DiagnosisAccepted', created.data)).toEqual([]);
    const { id, links } = created.data!;
    expect(created.response.headers.get('location')).toBe(`/v1/diagnoses/${id}`);
    expect(links.self).toBe(`/v1/diagnoses/${id}`);

    const first = await client.GET('/v1/diagnoses/{id}', { params: { path: { id } } });
    expect(['queued', 'running']).toContain(first.data!.status);

    const done = await settled(id);
    expect(done.status).toBe('done');
    expect(done.target).toEqual({ url: upstream.url, route: 'direct' });
    expect(done.result!.probes.find((p) => p.probe === 'http')!.signals).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'http.status', value: '502' })]),
    );
    expect(done.result!.causes.length).toBeGreaterThan(0);
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    expect(conformance('DiagnosisRecord', done)).toEqual([]);
    expect(JSON.stringify(done)).not.toMatch(/c2VjcmV0c2lnbmF0dXJl|key-4f9a8b7c6d5e/);
  });

  it('while it runs, GET returns the partial ranked result and the probes still running', async () => {
    // A backend that answers at once and keeps its idle connections 2.5 s: behind the 502, the upstream probe watches that long.
    const backend = createServer((_req, res) => res.end('fine'));
    backend.keepAliveTimeout = 1500;
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    try {
      const upstreamAt = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
      const created = await client.POST('/v1/diagnoses', { body: { url: upstream.url, upstream: upstreamAt } });
      const id = created.data!.id;
      let partial: DiagnosisRecord | undefined;
      const deadline = Date.now() + 2_000;
      while (!partial && Date.now() < deadline) {
        const r = await client.GET('/v1/diagnoses/{id}', { params: { path: { id } } });
        if (r.data!.status === 'running' && r.data!.pending && r.data!.result) partial = r.data!;
        else await new Promise((res) => setTimeout(res, 50));
      }
      expect(partial, 'a partial result within 2 s').toBeDefined();
      expect(partial!.pending).toEqual(['upstream']);
      expect(partial!.result!.pending).toEqual(['upstream']);
      expect(partial!.result!.causes.length).toBeGreaterThan(0);
      expect(conformance('DiagnosisRecord', partial)).toEqual([]);
      const done = await settled(id);
      expect(done.status).toBe('done');
      expect(done.pending).toBeUndefined();
      expect(done.result!.pending).toBeUndefined();
      expect(done.result!.probes.map((p) => p.probe)).toContain('upstream');
    } finally {
      backend.closeAllConnections();
      backend.close();
    }
  });

  it('refuses what the SSRF policy refuses, before accepting, with the rule and the hint', async () => {
    const metadata = await client.POST('/v1/diagnoses', { body: { url: 'http://169.254.169.254/latest/meta-data/' } });
    expect(metadata.response.status).toBe(422);
    expect(errorCode(metadata.error)).toBe('TARGET_REFUSED');
    expect(errorOf(metadata.error).message).toMatch(/169\.254\.169\.254/);
    expect(conformance('Error', metadata.error)).toEqual([]);

    const internal = await client.POST('/v1/diagnoses', { body: { url: 'http://10.1.2.3/health', proxy: 'http://192.168.7.7:3128' } });
    expect(internal.response.status).toBe(422);
    const details = errorOf(internal.error).details!;
    expect(details).toHaveLength(2);
    expect(details[0]).toMatch(/^url: .*10\.1\.2\.3.*PROBE_ALLOW/);
    expect(details[1]).toMatch(/^proxy: .*192\.168\.7\.7/);
  });

  it('names every bad field, and refuses pools without workers', async () => {
    const r = await client.POST('/v1/diagnoses', {
      body: {
        url: 'ftp://example.com/',
        timeoutMs: 5,
        headers: ['no colon'],
        from: ['Zone A'],
        repeat: 'yes',
      } as unknown as components['schemas']['DiagnosisRequest'],
    });
    expect(r.response.status).toBe(400);
    const details = errorOf(r.error).details!.join('\n');
    expect(details).toMatch(/^timeoutMs: /m);
    expect(details).toMatch(/^headers\[0\]: must be "Name: value"/m);
    expect(details).toMatch(/^from\[0\]: must be a pool name/m);
    expect(details).toMatch(/^repeat: /m);

    const scheme = await client.POST('/v1/diagnoses', { body: { url: 'ftp://example.com/' } });
    expect(errorOf(scheme.error).message).toMatch(/must be http:\/\/ or https:\/\//);
    const pools = await client.POST('/v1/diagnoses', { body: { url: upstream.url, from: ['eu-west'] } });
    expect(errorOf(pools.error).details).toEqual([expect.stringMatching(/^from: pools need workers/)]);
  });

  it('refuses bodies over 64 KiB', async () => {
    const r = await client.POST('/v1/diagnoses', { body: { url: upstream.url, origin: `https://${'a'.repeat(70 * 1024)}.example` } });
    expect(r.response.status).toBe(413);
    expect(errorOf(r.error).message).toMatch(/64 KiB/);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '..%2F..%2Fetc']) {
      const r = await client.GET('/v1/diagnoses/{id}', { params: { path: { id } } });
      expect(r.response.status, id).toBe(404);
      expect(errorCode(r.error)).toBe('NOT_FOUND');
    }
  });

  it('answers TOO_MANY_REQUESTS with Retry-After when its background work is full', async () => {
    const full = await startApi({ options: { maxInFlight: 0 } });
    try {
      const r = await createApiClient(full.url, TOKEN).POST('/v1/diagnoses', { body: { url: upstream.url } });
      expect(r.response.status).toBe(429);
      expect(r.response.headers.get('retry-after')).toBe('5');
      expect(errorCode(r.error)).toBe('TOO_MANY_REQUESTS');
    } finally {
      await full.stop();
    }
  });
});
