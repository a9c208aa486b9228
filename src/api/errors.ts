import { TriageError } from '../errors.js';
import type { Schema } from './wire.js';

/** The API's stable error codes: the `ErrorCode` enum of openapi.yaml. */
export type ApiErrorCode = Schema<'ErrorCode'>;

/**
 * The HTTP status of every error code, in one table. `satisfies` ties it to the spec's enum: a code
 * added to openapi.yaml without a status here (or the reverse) does not compile.
 */
export const API_ERRORS = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  INPUT_EMPTY: 400,
  INPUT_BINARY: 400,
  TARGET_REFUSED: 422,
  TOO_MANY_REQUESTS: 429,
  ALERTMANAGER_NOT_CONFIGURED: 503,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<ApiErrorCode, number>;

/**
 * An error answered as `{"error": {"code", "message", "details"?}}`. The message says what to fix;
 * it must be program-made or masked, since it is sent to the caller.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: readonly string[] = [],
    /** Extra response headers (WWW-Authenticate, Allow, Retry-After). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return API_ERRORS[this.code];
  }

  toJSON(): Schema<'Error'> {
    return { error: { code: this.code, message: this.message, ...(this.details.length > 0 ? { details: this.details } : {}) } };
  }
}

/** The engine's input errors keep their code; anything else is INTERNAL (its message is not sent). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof TriageError) {
    if (err.code === 'INPUT_EMPTY' || err.code === 'INPUT_BINARY') return new ApiError(err.code, err.message);
    if (err.code === 'INPUT_TOO_LARGE') return new ApiError('PAYLOAD_TOO_LARGE', err.message);
  }
  return new ApiError('INTERNAL', 'the server failed to answer this request; it is logged: try again, and report it if it persists');
}
