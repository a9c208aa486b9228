/**
 * Over-limit bodies and headers get the documented JSON error while the client is still sending,
 * and the connection ends without a reset (a raw socket, as a streaming client uses it).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX_REFUSED, startApi, TOKEN, type RunningApi } from './fixture.js';

let api: RunningApi;
let port: number;
beforeAll(async () => {
  api = await startApi();
  port = Number(new URL(api.url).port);
});
afterAll(() => api.stop());

interface Exchange {
  /** Everything the server sent. */
  readonly answer: string;
  /** Bytes of the body written when the first byte of the answer arrived. */
  readonly sentWhenAnswered: number;
  readonly error?: string;
}

/** Write `head`, then `total` body bytes in 64 KiB chunks, reading all the while; resolve when the server closes. */
function exchange(head: string, total = 0, then?: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let sentWhenAnswered = -1;
    let error: string | undefined;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (sent < total && !s.destroyed) {
        const c = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += c.length;
        if (!s.write(c)) return void s.once('drain', pump);
      }
      if (then && !s.destroyed) s.write(then);
    };
    s.on('data', (b: Buffer) => {
      if (sentWhenAnswered < 0) sentWhenAnswered = sent;
      answer += b.toString();
      if (then && (answer.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && answer.endsWith('}')) s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    s.on('close', () => resolve({ answer, sentWhenAnswered, ...(error ? { error } : {}) }));
    s.write(head);
    pump();
  });
}

const post = (length: number | 'chunked') =>
  `POST /v1/explain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
  (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
  'Connection: close\r\n\r\n';

/** The JSON body of the first answer in a raw exchange. */
function firstError(answer: string): { status: number; code: string; message: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const json = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  const body = JSON.parse(json.slice(0, json.indexOf('}}') + 2)) as { error: { code: string; message: string } };
  return { status, ...body.error };
}

describe('over-limit requests', () => {
  it('a body over 1 MiB (Content-Length 40 MB) gets the 413 JSON while the client is still sending, and no reset', async () => {
    const total = 40 * 1024 * 1024;
    const r = await exchange(post(total), total);
    expect(r.error).toBeUndefined();
    expect(firstError(r.answer)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/1 MiB/) });
    expect(r.sentWhenAnswered).toBeLessThan(total);
  }, 30_000);

  it('a chunked body found over 1 MiB while reading gets the 413 JSON as soon as it is', async () => {
    const chunkOf = (n: number) => `${n.toString(16)}\r\n${'a'.repeat(n)}\r\n`;
    const body = Array.from({ length: 40 }, () => chunkOf(64 * 1024)).join('') + '0\r\n\r\n';
    const r = await exchange(post('chunked') + body);
    expect(r.error).toBeUndefined();
    expect(firstError(r.answer)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  }, 30_000);

  it('keeps the connection for the next request when the over-limit body ends within the drain bound', async () => {
    const total = 2 * 1024 * 1024;
    const keepAlive = post(total).replace('Connection: close\r\n', '');
    const next = `POST /v1/explain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(JSON.stringify({ text: NGINX_REFUSED }))}\r\n\r\n${JSON.stringify({ text: NGINX_REFUSED })}`;
    const r = await exchange(keepAlive, total, next);
    expect(r.error).toBeUndefined();
    expect(r.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.answer).toMatch(/HTTP\/1\.1 200 OK[\s\S]*upstream-refused/);
  }, 30_000);

  it('headers over 16 KiB get the 431 JSON (HEADERS_TOO_LARGE), even while megabytes of them are still coming', async () => {
    for (const size of [100 * 1024, 8 * 1024 * 1024]) {
      const r = await exchange(`GET /v1/diagnoses/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(size)}\r\n\r\n`);
      expect(r.error === undefined || r.error === 'EPIPE', `${size}: ${r.error}`).toBe(true);
      expect(firstError(r.answer)).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
    }
  }, 30_000);

  it('a request that is not HTTP gets the 400 JSON', async () => {
    const r = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(firstError(r.answer)).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
  });
});
