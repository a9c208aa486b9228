import { installCommand } from '../support/lab-packages.js';

/**
 * Why the lab itself could not run (not the failures it stages: those are what the tests assert).
 * Every message says what to do about it.
 */
export const LAB_ERROR_CODES = {
  /** A binary (nginx, haproxy, squid, tinyproxy, openssl) is not installed. */
  LAB_BINARY_MISSING: `install the lab packages (npm test does it by itself): ${installCommand(process.getuid?.() === 0)}`,
  /** A process exited, or never accepted connections, before it was ready. */
  LAB_START_FAILED: 'read the output and config quoted in the message',
  /** A scenario did not reach its failure state in time. */
  LAB_NOT_READY: 'the machine may be overloaded; raise LabOptions.readyTimeoutMs',
  /** The openssl CLI failed while making the lab certificates. */
  LAB_OPENSSL_FAILED: 'check that openssl 3 is installed and /tmp is writable',
} as const;

export type LabErrorCode = keyof typeof LAB_ERROR_CODES;

export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(`${code}: ${message} (${LAB_ERROR_CODES[code]})`);
    this.name = 'LabError';
  }
}
