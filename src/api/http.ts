import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

/** Request body bounds. */
export const BODY_LIMITS = {
  /** POST /v1/explain: the text may be up to 1 MiB. @defaultValue 1048576 */
  explainBytes: 1024 * 1024,
  /** Every other body. @defaultValue 65536 */
  defaultBytes: 64 * 1024,
  /**
   * An oversized body is read and discarded up to this many bytes before the 413 is sent, so the
   * client (which is still sending) sees the answer rather than a reset; beyond it the connection
   * is cut. @defaultValue 16777216
   */
  drainBytes: 16 * 1024 * 1024,
} as const;

/** `application/json`, with at most a UTF-8 charset parameter. */
const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Read a JSON body: 415 unless it is application/json, 413 beyond `maxBytes`, 400 when it does not parse. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type))
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be JSON sent with Content-Type: application/json${type ? ` (not ${type.slice(0, 80)})` : ''}`,
    );
  const body = await readBody(req, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new ApiError('INVALID_JSON', 'the body is not UTF-8: send JSON text encoded as UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError('INVALID_JSON', `the body is not valid JSON (${(err as Error).message.slice(0, 120)}): send one JSON object`);
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `the body is larger than ${formatBytes(maxBytes)}: send less (for text, the relevant lines)`);
}

/** The body, at most `maxBytes`; a larger one is drained (up to drainBytes) and rejected with 413. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > maxBytes;
    if (over && declared > BODY_LIMITS.drainBytes) {
      reject(tooLarge(maxBytes));
      req.destroy();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        if (size > BODY_LIMITS.drainBytes) req.destroy();
        return;
      }
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge(maxBytes)) : resolve(Buffer.concat(chunks))));
    req.on('error', () =>
      reject(over ? tooLarge(maxBytes) : new ApiError('INVALID_REQUEST', 'the request body was cut off: send it again')),
    );
    req.on('close', () => {
      if (!req.complete) reject(over ? tooLarge(maxBytes) : new ApiError('INVALID_REQUEST', 'the request body was cut off: send it again'));
    });
  });
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${Math.round(n / 1024)} KiB`;
}

/** Headers on every API answer: JSON never cached nor sniffed as something else. */
const COMMON_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(json)),
  });
  res.end(json);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  // After a cut-off body the socket may be gone; there is no one left to answer.
  if (res.headersSent || res.destroyed) return;
  sendJson(res, err.status, err.toJSON(), err.headers);
}
