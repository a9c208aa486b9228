import type { ProbeTarget } from '../probes/probe.js';
import type { ProbeRunner, RunOutcome, RunRequest } from './runner.js';

/** How often a down queue is looked at again. */
const RECHECK_MS = 5_000;

/**
 * The queue when Redis answers, this process otherwise: a chat command is answered even while
 * Redis is down (BullMQ's blocking connections would otherwise wait for it indefinitely). A run
 * that names a pool (a vantage point) cannot be answered from here and fails at once, saying why.
 */
export class FallbackRunner implements ProbeRunner {
  private checked = 0;
  private health: { ok: true } | { ok: false; reason: string } = { ok: true };

  constructor(
    private readonly queue: ProbeRunner,
    private readonly local: ProbeRunner,
    private readonly check: () => Promise<{ ok: true } | { ok: false; reason: string }>,
    private readonly onFallback: (reason: string) => void = () => {},
  ) {}

  async run(target: ProbeTarget, request: RunRequest = {}): Promise<RunOutcome> {
    const now = Date.now();
    if (now - this.checked > RECHECK_MS) {
      this.health = await this.check();
      this.checked = now;
    }
    if (this.health.ok) return this.queue.run(target, request);
    if (request.pool && request.pool !== 'default')
      throw new Error(
        `the probe queue is unreachable (${this.health.reason}): pool "${request.pool}" cannot be reached; try again without --from`,
      );
    this.onFallback(this.health.reason);
    return this.local.run(target, request);
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.local.close()]);
  }
}
