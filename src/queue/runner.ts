import { hostname } from 'node:os';
import type { Probe, ProbeLimits, ProbeResult, ProbeTarget } from '../probes/probe.js';
import { runProbes, type ProbeProgress } from '../probes/run.js';
import type { SsrfPolicy } from '../security/ssrf.js';

export interface RunRequest {
  /** The worker pool (network zone) to run in. @defaultValue 'default' */
  readonly pool?: string;
  readonly limits?: Partial<ProbeLimits>;
  readonly signal?: AbortSignal;
  readonly alwaysRepeat?: boolean;
  readonly only?: readonly string[];
  /**
   * Called as probes finish (in this process, or on a worker through the queue) with every result
   * so far and the probes still running. @defaultValue none
   */
  readonly onProgress?: ProbeProgress;
}

export interface RunOutcome {
  readonly pool: string;
  /** Which process ran the probes. */
  readonly worker: string;
  readonly via: 'inline' | 'queue';
  readonly results: readonly ProbeResult[];
}

/** Runs probes somewhere: in this process, or on workers through the queue. */
export interface ProbeRunner {
  run(target: ProbeTarget, request?: RunRequest): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** Runs the probes in this process. */
export class InlineRunner implements ProbeRunner {
  constructor(
    private readonly probes: readonly Probe[],
    private readonly policy: SsrfPolicy,
  ) {}

  async run(target: ProbeTarget, request: RunRequest = {}): Promise<RunOutcome> {
    const results = await runProbes(this.probes, target, {
      policy: this.policy,
      ...(request.limits ? { limits: request.limits } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.alwaysRepeat ? { alwaysRepeat: true } : {}),
      ...(request.only ? { only: request.only } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
    return { pool: request.pool ?? 'local', worker: `${hostname()}:${process.pid}`, via: 'inline', results };
  }

  async close(): Promise<void> {}
}
