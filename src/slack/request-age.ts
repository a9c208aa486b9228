import type { RequestListener } from 'node:http';

/** How far from now a Slack request's timestamp may be. Slack's own rule: five minutes. */
export const REQUEST_AGE_DEFAULTS = { maxSkewSec: 300 } as const;

/**
 * Refuse Slack requests whose `X-Slack-Request-Timestamp` is more than five minutes from now, in
 * either direction (401, before the body is read). Bolt checks the signature and refuses requests
 * too old, but accepts any timestamp in the future; a captured request re-signed for a future
 * time (or a sender whose clock is wrong) is refused here too.
 */
export function recentRequestsOnly(
  listener: RequestListener,
  maxSkewSec: number = REQUEST_AGE_DEFAULTS.maxSkewSec,
  now: () => number = Date.now,
): RequestListener {
  return (req, res) => {
    const raw = req.headers['x-slack-request-timestamp'];
    const ts = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(ts) || Math.abs(now() / 1000 - ts) > maxSkewSec) {
      res.writeHead(401, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('The request timestamp is missing or more than five minutes from now');
      req.resume();
      return;
    }
    listener(req, res);
  };
}
