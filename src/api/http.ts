import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from './errors.js';

/** Request body bounds. */
export const BODY_LIMITS = {
  /** POST /v1/explain: the text may be up to 1 MiB. @defaultValue 1048576 */
  explainBytes: 1024 * 1024,
  /** Every other body. @defaultValue 65536 */
  defaultBytes: 64 * 1024,
  /**
   * An oversized body is answered 413 at once, and what the client goes on sending is read and
   * discarded up to this many bytes, so that it sees the answer rather than a reset; beyond it,
   * or after `lingerMs`, the connection is closed (write side first, then the rest). @defaultValue 16777216
   */
  drainBytes: 16 * 1024 * 1024,
  /** How long the rest of an oversized body is read and discarded at most. @defaultValue 10000 */
  lingerMs: 10_000,
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

/**
 * The body, at most `maxBytes`. A larger one (declared or sent) is rejected with 413 at once: the
 * answer goes out while the client is still sending, and the rest is discarded ({@link lingerClose}).
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const over = () => {
      if (done) return;
      done = true;
      chunks.length = 0;
      lingerClose(req);
      reject(tooLarge(maxBytes));
    };
    if (Number.isFinite(declared) && declared > maxBytes) return over();
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) return over();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    const cut = () => {
      if (done) return;
      done = true;
      reject(new ApiError('INVALID_REQUEST', 'the request body was cut off: send it again'));
    };
    req.on('error', cut);
    req.on('close', () => {
      if (!req.complete) cut();
    });
  });
}

/**
 * After an early answer, read and discard what the client still sends (it is usually still
 * writing the body it started), so that it reads the answer instead of a TCP reset. Once the body
 * ends the connection is reused as usual; past `drainBytes` or `lingerMs`, the write side is
 * closed first (the client sees the end after the answer) and the socket a second later.
 */
export function lingerClose(req: IncomingMessage): void {
  const socket = req.socket;
  req.resume();
  if (req.complete) return;
  // Node closes a `Connection: close` exchange as soon as the answer is written, though the body
  // is still coming (a reset that can wipe the answer out): end the write side only, the timer
  // below closes the rest.
  socket.destroySoon = () => void socket.end();
  const start = socket.bytesRead;
  const started = Date.now();
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return void clearInterval(timer);
    if (socket.bytesRead - start <= BODY_LIMITS.drainBytes && Date.now() - started <= BODY_LIMITS.lingerMs) return;
    clearInterval(timer);
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }, 50);
  timer.unref();
  req.once('end', () => clearInterval(timer));
  socket.once('close', () => clearInterval(timer));
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

const answered = new WeakSet<Duplex>();

/**
 * The answer to a request Node's parser refused before any handler saw it (oversized headers:
 * 431 HEADERS_TOO_LARGE; anything else malformed: 400 INVALID_REQUEST), as raw HTTP on the socket
 * (`server.on('clientError')`), in the same JSON as every other error. The client may still be
 * sending its headers: what comes is discarded for a moment before the socket closes, so that it
 * reads the answer rather than a reset.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's parser reports again on every later chunk: answer once.
  if (socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  // The parser is done with this connection: what still comes is only read and discarded.
  socket.removeAllListeners('data');
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError('HEADERS_TOO_LARGE', 'the request headers are larger than 16 KiB: send fewer or smaller headers (a smaller Cookie)')
      : new ApiError('INVALID_REQUEST', 'the request is not valid HTTP/1.1: check the request line and headers');
  const body = JSON.stringify(e.toJSON());
  let discarded = 0;
  let cut = false;
  const timer = setTimeout(() => socket.destroy(), BODY_LIMITS.lingerMs).unref();
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded <= BODY_LIMITS.drainBytes || cut) return;
    // Too much: the answer and the end of the write side went out first; a second to read them.
    cut = true;
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
  socket.on('error', () => {});
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
  socket.end(
    `HTTP/1.1 ${e.status} ${e.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n' +
      `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
