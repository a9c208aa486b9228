import type { Extractor } from './extractor.js';
import { eachMatch, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * gRPC status codes as every client prints them (Go `rpc error: code = Unavailable desc = …`, Java
 * `StatusRuntimeException: UNAVAILABLE: …`, Python `StatusCode.DEADLINE_EXCEEDED`, C-core
 * `{grpc_status:14, …}`, Rust tonic `status: Unavailable, message: …`, the `grpc-status: 14` header)
 * and HTTP/2 stream and connection errors (RST_STREAM, GOAWAY, their error codes, too_many_pings).
 */

/** gRPC status names by number (the wire value). */
const BY_NUMBER = [
  'ok',
  'cancelled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
] as const;
const NAMES = new Set<string>(BY_NUMBER);
/** Spellings: UNAVAILABLE, Unavailable, DeadlineExceeded, DEADLINE_EXCEEDED. */
const normalise = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

const STATUS_NAME = new RegExp(
  String.raw`(?:\brpc error: code = |\bStatusCode\.|\bStatus\{code=|StatusRuntimeException: |StatusException: |\bStatus\(StatusCode="?|\bgrpc\.StatusCode\.|\bGrpcStatus(?:Code)?\.|"grpc_code":"|\bgrpc_code=)([A-Z][A-Za-z_]{1,24})\b|\bstatus: ([A-Z][A-Za-z]{1,24}), message: `,
  'g',
);
/** grpc-js (Node): `Error: 14 UNAVAILABLE: No connection established`, the number and its name together. */
const NUMBERED_NAME = /\b(\d{1,2}) ([A-Z][A-Z_]{2,24}): /g;
/** Go's `rpc error: code = 14 desc = …` (a number where the name usually is), grpc-node's `{ code: 14, details: '…' }`. */
const CODE_NUMBER = /\brpc error: code = (\d{1,2}) desc = |\bcode["']?: ?(\d{1,2}),[ \t]{0,2}["']?details["']?: ?["']/g;
const STATUS_NUMBER = /\b(?:grpc[_-]status|grpc_status_code)["']?[ \t]{0,2}[:=][ \t]{0,2}["']?(\d{1,2})\b/gi;

const H2_FRAME = /\b(RST_STREAM|Rst Stream|GOAWAY|GoAway|go_away)\b/g;
const H2_CODE =
  /\b(?:NGHTTP2_)?(PROTOCOL_ERROR|INTERNAL_ERROR|FLOW_CONTROL_ERROR|SETTINGS_TIMEOUT|STREAM_CLOSED|FRAME_SIZE_ERROR|REFUSED_STREAM|COMPRESSION_ERROR|CONNECT_ERROR|ENHANCE_YOUR_CALM|INADEQUATE_SECURITY|HTTP_1_1_REQUIRED|too_many_pings)\b/g;
/** curl / git: `HTTP/2 stream 5 was not closed cleanly: CANCEL (err 8)` (curl error 92). */
const H2_UNCLEAN = /\bstream \d{1,10} was not closed cleanly(?: before end of the underlying stream)?:? ?([A-Z_]{4,25})?/g;
/** The Rust h2 crate's (hyper, reqwest, tonic) words for each error code, as its Reason prints them. */
const H2_REASON_TEXT: Readonly<Record<string, string>> = {
  'unspecific protocol error detected': 'protocol_error',
  'unexpected internal error encountered': 'internal_error',
  'flow-control protocol violated': 'flow_control_error',
  'refused stream before processing any application logic': 'refused_stream',
  'stream no longer needed': 'cancel',
  'detected excessive load generating behavior': 'enhance_your_calm',
  'endpoint requires http/1.1': 'http_1_1_required',
};
const H2_REASON = new RegExp(
  `\\b(${Object.keys(H2_REASON_TEXT)
    .map((t) => t.replace(/[./]/g, '\\$&'))
    .join('|')})\\b`,
  'gi',
);
/** CANCEL alone is too common a word: only as an HTTP/2 code. */
const H2_CANCEL = /\b(?:RST_STREAM|error code:?|http2 error code)[ \t]{0,2}[:=]?[ \t]{0,2}CANCEL\b/gi;

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'grpc');
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];
  eachMatch(STATUS_NAME, doc, (m) => {
    const name = normalise(m[1] ?? m[2] ?? '');
    if (name !== 'ok' && NAMES.has(name)) sink.add('grpc.status', name, ...at(m));
  });
  eachMatch(NUMBERED_NAME, doc, (m) => {
    const name = BY_NUMBER[Number(m[1])];
    if (name && name !== 'ok' && name === normalise(m[2] ?? '')) sink.add('grpc.status', name, ...at(m));
  });
  const numbered = (m: RegExpExecArray) => {
    const name = BY_NUMBER[Number(m[1] ?? m[2])];
    if (name && name !== 'ok') sink.add('grpc.status', name, ...at(m));
  };
  eachMatch(CODE_NUMBER, doc, numbered);
  eachMatch(STATUS_NUMBER, doc, numbered);
  eachMatch(H2_FRAME, doc, (m) => sink.add('h2.error', /^r/i.test(m[1] ?? '') ? 'rst_stream' : 'goaway', ...at(m)));
  eachMatch(H2_CODE, doc, (m) => sink.add('h2.error', (m[1] ?? '').toLowerCase(), ...at(m)));
  eachMatch(H2_CANCEL, doc, (m) => sink.add('h2.error', 'cancel', ...at(m)));
  if (doc.mayContain('stream error') || doc.mayContain('h2 protocol error'))
    eachMatch(H2_REASON, doc, (m) => sink.add('h2.error', H2_REASON_TEXT[(m[1] ?? '').toLowerCase()], ...at(m)));
  eachMatch(H2_UNCLEAN, doc, (m) => {
    sink.add('h2.error', 'rst_stream', ...at(m));
    const code = (m[1] ?? '').toLowerCase();
    if (H2_CODES.has(code)) sink.add('h2.error', code, ...at(m));
  });
  return sink;
}

const H2_CODES = new Set([
  'protocol_error',
  'internal_error',
  'flow_control_error',
  'settings_timeout',
  'stream_closed',
  'frame_size_error',
  'refused_stream',
  'cancel',
  'compression_error',
  'connect_error',
  'enhance_your_calm',
  'inadequate_security',
  'http_1_1_required',
]);

export const GRPC_PATTERNS: readonly RegExp[] = [
  STATUS_NAME,
  NUMBERED_NAME,
  CODE_NUMBER,
  STATUS_NUMBER,
  H2_FRAME,
  H2_CODE,
  H2_CANCEL,
  H2_REASON,
  H2_UNCLEAN,
];

export const grpcExtractor: Extractor = {
  name: 'grpc',
  reads: 'gRPC status codes (names and numbers, every client) and HTTP/2 RST_STREAM / GOAWAY errors',
  patterns: GRPC_PATTERNS,
  extract: (doc) => extract(doc).signals,
};
