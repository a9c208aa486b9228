/**
 * Unexpected failures, with stable codes. Expected failures (a probe that times out, a proxy that
 * answers 502) are values, not errors; these are for input we cannot use and for broken setup.
 */
export const ERROR_CODES = {
  INPUT_EMPTY: { exit: 2, http: 400 },
  INPUT_BINARY: { exit: 2, http: 400 },
  INPUT_TOO_LARGE: { exit: 2, http: 413 },
  USAGE: { exit: 2, http: 400 },
  KNOWLEDGE_INVALID: { exit: 1, http: 500 },
  CONFIG_INVALID: { exit: 2, http: 500 },
  /** A development-only tool a command needs is not installed (recheck, for `triage kb check`). */
  DEPENDENCY_MISSING: { exit: 1, http: 500 },
  INTERNAL: { exit: 1, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code and a message that says what to do. */
export class TriageError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'TriageError';
  }
}

/** Wrap anything thrown into a {@link TriageError} (code INTERNAL when it is not one already). */
export function asTriageError(err: unknown): TriageError {
  if (err instanceof TriageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TriageError('INTERNAL', message);
}
