import type { SlackMessage } from './blocks.js';

/** When a partial answer replaces the "Probing …" message, and how often it is refreshed. */
export interface ProgressOptions {
  /** The first partial answer goes out this long after the probes start (if they still run). @defaultValue 1000 */
  readonly firstAfterMs: number;
  /** Later partial answers at most this often (Slack allows about one message update per second). @defaultValue 2000 */
  readonly everyMs: number;
}

/** The defaults of {@link ProgressOptions}: the first ranked answer within 2 s of /diagnose, posting included. */
export const PROGRESS_DEFAULTS: ProgressOptions = { firstAfterMs: 1_000, everyMs: 2_000 };

/** A message updated in place as an answer fills in. */
export interface ProgressiveMessage {
  /** A newer partial answer: shown when its turn comes, replacing any partial answer still waiting. */
  partial(message: SlackMessage): void;
  /** The complete answer: sent after the partial update in flight (if any), and none after it. */
  final(message: SlackMessage): Promise<void>;
}

/**
 * Updates of one message, in order and spaced out: one update in flight at a time, only the
 * latest partial answer waits, and the final answer is always last.
 *
 * @example const m = progressiveMessage((msg) => poster.update(channel, ts, msg)); … m.partial(msg); … await m.final(msg);
 */
export function progressiveMessage(
  update: (message: SlackMessage) => Promise<unknown>,
  options: Partial<ProgressOptions> = {},
): ProgressiveMessage {
  const cfg = { ...PROGRESS_DEFAULTS, ...options };
  const started = Date.now();
  let waiting: SlackMessage | undefined;
  let inFlight: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastSent = -Infinity;
  let done = false;

  const schedule = () => {
    if (done || timer || inFlight || !waiting) return;
    const at = Math.max(started + cfg.firstAfterMs, lastSent + cfg.everyMs);
    timer = setTimeout(flush, Math.max(0, at - Date.now()));
  };
  const flush = () => {
    timer = undefined;
    if (done || !waiting) return;
    const message = waiting;
    waiting = undefined;
    lastSent = Date.now();
    inFlight = update(message)
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  };
  return {
    partial(message) {
      if (done) return;
      waiting = message;
      schedule();
    },
    async final(message) {
      done = true;
      waiting = undefined;
      if (timer) clearTimeout(timer);
      await inFlight;
      await update(message);
    },
  };
}
