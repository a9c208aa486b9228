import type { Masked } from '../security/redact.js';
import type { Signal } from '../evidence/signal.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import type { SharedRequests } from './support/shared.js';

/**
 * A probe observes one aspect of a failing request (DNS, TCP, TLS, HTTP, CONNECT …) and turns what
 * it saw into signals. One file per probe in this folder, registered in `index.ts`.
 *
 * Contract (checked by test/probes/conformance.ts for every probe):
 * - `run` never throws: a failure to connect, a timeout, a reset are evidence, reported in the
 *   result with `status: 'failed'` and signals.
 * - it honours `ctx.signal` (abort) and `ctx.limits.timeoutMs`, and reads at most
 *   `ctx.limits.maxBodyBytes` of any body;
 * - every string in the result is masked (`Masked`), and signals use catalogue names;
 * - it connects only to addresses `ctx.policy` returned (the SSRF policy pins them).
 */
export interface Probe {
  /** Registry name. @example 'tls' */
  readonly name: string;
  /** One line for docs and `--help`. */
  readonly describes: string;
  /** Whether this probe has something to do for the target (e.g. `connect` needs a proxy). */
  applies(target: ProbeTarget): boolean;
  run(ctx: ProbeContext): Promise<ProbeResult>;
}

/** What to probe. Built from `triage diagnose` flags, a Slack command or an API request. */
export interface ProbeTarget {
  /** The URL that fails. */
  readonly url: URL;
  /** A forward proxy in the path (`--proxy`, or the CLI's https_proxy / http_proxy): every HTTP-level probe goes through it. */
  readonly proxy?: URL;
  /** Where {@link proxy} came from, for the answer. @example '--proxy', 'https_proxy' */
  readonly proxyFrom?: string;
  /** Why the route is direct although a proxy is configured. @example 'no_proxy matches 127.0.0.1' */
  readonly routeNote?: string;
  /** The backend behind a reverse proxy (`--upstream HOST:PORT`). */
  readonly upstream?: { readonly host: string; readonly port: number };
  /** Extra request headers (`--header "Name: value"`); values may be secrets and are never printed. */
  readonly headers: readonly (readonly [string, string])[];
  /** The browser origin for a CORS preflight (`--origin`). */
  readonly origin?: string;
}

/** Bounds for one probe run. */
export interface ProbeLimits {
  /** Whole-probe budget in ms. @defaultValue 10000 */
  readonly timeoutMs: number;
  /** Most body bytes read from any response. @defaultValue 65536 */
  readonly maxBodyBytes: number;
  /** Most redirects followed. @defaultValue 10 */
  readonly maxRedirects: number;
  /** Requests made by the repeat probe. @defaultValue 8 */
  readonly repeatCount: number;
  /** Time the repeat probe spreads its requests over, in ms. @defaultValue 4000 */
  readonly repeatSpreadMs: number;
}

export const DEFAULT_PROBE_LIMITS: ProbeLimits = {
  timeoutMs: 10_000,
  maxBodyBytes: 64 * 1024,
  maxRedirects: 10,
  repeatCount: 8,
  repeatSpreadMs: 4_000,
};

export interface ProbeContext {
  readonly target: ProbeTarget;
  readonly limits: ProbeLimits;
  /** Aborted when the caller gives up or the deadline passes. */
  readonly signal: AbortSignal;
  /**
   * The target policy (SSRF). Probes resolve every host through it (`check`, `checkProxy`,
   * `checkConnectTarget`, `checkRedirect` per hop) and connect with the `lookup` it returns, which
   * pins the connection to the checked address. A refusal becomes a `refused` result.
   */
  readonly policy: SsrfPolicy;
  /** The clock (certificate dates, JWT exp). */
  now(): Date;
  /**
   * Aborted once the rest of the run has settled the answer (src/probes/plan.ts): open-ended
   * observations — the upstream probe's wait for the backend to close an idle keep-alive
   * connection — stop then and report what they saw so far. Requests are not cut by it.
   * @defaultValue never aborted
   */
  readonly settled?: AbortSignal;
  /**
   * The run's shared requests: a probe that sends the same request as another (the auth probe's
   * GET is the http probe's first hop) reads that one's answer. @defaultValue none: each probe sends its own
   */
  readonly shared?: SharedRequests;
}

/** Phase timings in ms, as blackbox_exporter reports them. */
export interface PhaseTimings {
  resolve?: number;
  connect?: number;
  tls?: number;
  /** CONNECT request to the proxy until its status line. */
  tunnel?: number;
  /** Request sent until the first response byte. */
  processing?: number;
  transfer?: number;
}

export interface ProbeResult {
  readonly probe: string;
  /** ok: it worked; failed: it observed a failure (evidence); refused: the policy did not allow it; skipped: not applicable. */
  readonly status: 'ok' | 'failed' | 'refused' | 'skipped';
  readonly durationMs: number;
  readonly phases: PhaseTimings;
  /** One line: what it saw. */
  readonly summary: Masked;
  /** Measurements and observations, all masked. */
  readonly details: Readonly<Record<string, Masked | number | boolean | readonly Masked[]>>;
  readonly signals: readonly Signal[];
  /**
   * The way the probe's traffic went, masked (never the proxy's credentials).
   * @example 'direct', 'proxy http://proxy.corp:3128 (CONNECT api.example.com:443)', 'proxy http://proxy.corp:3128 (absolute-form GET)'
   */
  readonly route?: Masked;
}
