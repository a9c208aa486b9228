import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The digest API tokens are kept as. Comparing fixed-length digests lets timingSafeEqual compare
 * tokens of any length without revealing, through timing, how long a valid one is.
 */
export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Why a request was not authenticated; used for the message and RFC 6750's `error` attribute. */
export type AuthFailure = 'missing' | 'malformed' | 'invalid' | 'no_tokens';

/**
 * Check `Authorization: Bearer <token>` against the configured digests. Every digest is compared
 * (no early exit), so the time taken does not say which token, if any, was close.
 */
export function checkBearer(
  req: IncomingMessage,
  digests: readonly Buffer[],
): { ok: true; caller: string } | { ok: false; why: AuthFailure } {
  if (digests.length === 0) return { ok: false, why: 'no_tokens' };
  const header = req.headers.authorization;
  if (header === undefined || header === '') return { ok: false, why: 'missing' };
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]{1,4096}=*)[ ]*$/i.exec(header);
  if (!m) return { ok: false, why: 'malformed' };
  const presented = digestToken(m[1]!);
  let match = false;
  for (const d of digests) match = timingSafeEqual(presented, d) || match;
  // The caller is known by its token's digest (rate limits and in-flight counts are per token).
  return match ? { ok: true, caller: presented.toString('hex') } : { ok: false, why: 'invalid' };
}
