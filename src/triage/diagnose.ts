import { runSignals } from '../probes/derive.js';
import { proxyLabel } from '../probes/support/route.js';
import type { ProbeResult, ProbeTarget } from '../probes/probe.js';
import type { ProbeRunner, RunOutcome, RunRequest } from '../queue/runner.js';
import { redact, type Masked } from '../security/redact.js';
import type { Engine, ExplainOptions } from './engine.js';
import type { Diagnosis } from './result.js';

export interface DiagnoseOptions extends ExplainOptions, Omit<RunRequest, 'pool' | 'onProgress'> {
  /** Worker pools (vantage points) to probe from; one run per pool. @defaultValue one run, default pool */
  readonly pools?: readonly string[];
  /**
   * Called with a ranked partial result each time a probe finishes while others still run (in
   * this process or on a worker): the causes from what was seen so far, its `pending` probes
   * (`pool: probe` with several pools). The returned promise resolves with the final result, which
   * is not reported here. A throwing callback does not stop the run.
   * @example diagnose(engine, runner, target, { onProgress: (d, pending) => show(d, `still running: ${pending.join(', ')}`) })
   */
  readonly onProgress?: (partial: DiagnoseResult, pending: readonly string[]) => void;
}

/** How the target looked from one vantage point. */
export interface VantageResult {
  readonly pool: string;
  readonly worker: string;
  /** What the main request saw: `200`, `502`, `connection_refused`, `refused by policy` … */
  readonly outcome: Masked;
  readonly healthy: boolean;
  readonly topCause?: string;
  /** Set when the run itself failed (no worker, Redis down). */
  readonly error?: Masked;
}

/** The `diagnose --json` contract: a {@link Diagnosis} plus the probes that ran. */
export interface DiagnoseResult extends Diagnosis {
  /**
   * What was probed, secrets masked (a proxy's credentials are never shown). `route`: the way the
   * HTTP-level probes went. @example { url: 'https://api.example.com/', proxy: 'http://***@proxy:3128/', route: 'proxy http://proxy:3128 (from https_proxy)' }
   */
  readonly target: { url: Masked; proxy?: Masked; upstream?: string; origin?: string; route?: Masked };
  readonly probes: readonly ProbeResult[];
  /** With several pools: what each saw, and a one-line comparison. */
  readonly vantage?: { readonly pools: readonly VantageResult[]; readonly summary: Masked };
  /** Only on a partial result ({@link DiagnoseOptions.onProgress}): the probes still running. */
  readonly pending?: readonly string[];
}

/** Probe a target (from one or several pools) and rank causes from what the probes saw. */
export async function diagnose(
  engine: Engine,
  runner: ProbeRunner,
  target: ProbeTarget,
  opts: DiagnoseOptions = {},
): Promise<DiagnoseResult> {
  const pools = opts.pools && opts.pools.length > 0 ? opts.pools : [undefined];
  const request: RunRequest = {
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.alwaysRepeat ? { alwaysRepeat: true } : {}),
    ...(opts.only ? { only: opts.only } : {}),
  };
  const progress = opts.onProgress ? progressReporter(engine, target, opts, pools.length > 1, opts.onProgress) : undefined;
  const runs = await Promise.all(
    pools.map(async (pool) => {
      const name = pool ?? 'default';
      const withProgress: RunRequest = progress ? { ...request, onProgress: (done, pending) => progress(name, done, pending) } : request;
      try {
        return { pool: name, outcome: await runner.run(target, pool ? { ...withProgress, pool } : withProgress) };
      } catch (err) {
        return { pool: pool ?? 'default', error: (err as Error).message };
      }
    }),
  );
  const ok = runs.filter((r): r is { pool: string; outcome: RunOutcome } => 'outcome' in r && r.outcome !== undefined);
  if (ok.length === 0) throw new Error(runs.map((r) => ('error' in r ? r.error : '')).join('; '));

  const probes = ok.flatMap((r) => r.outcome.results.map((p) => (pools.length > 1 ? { ...p, pool: r.pool } : p)));
  /** Each run's signals: its probes' and those derived from them together. */
  const signalsOf = new Map(ok.map((r) => [r, runSignals(r.outcome.results)]));
  const d = engine.rankSignals([...signalsOf.values()].flat(), opts);
  const result: DiagnoseResult = { ...d, target: describeTarget(target), probes };
  if (pools.length <= 1) return result;

  const vantage = runs.map((r): VantageResult => {
    if (!('outcome' in r) || !r.outcome)
      return { pool: r.pool, worker: '-', outcome: redact('not probed'), healthy: false, error: redact(r.error ?? '') };
    const one = engine.rankSignals(signalsOf.get(r as { pool: string; outcome: RunOutcome }) ?? [], opts);
    const outcome = mainOutcome(r.outcome.results);
    return {
      pool: r.pool,
      worker: r.outcome.worker,
      outcome: outcome.text,
      healthy: outcome.healthy,
      ...(one.causes[0] ? { topCause: one.causes[0].id } : {}),
    };
  });
  return { ...result, vantage: { pools: vantage, summary: compare(vantage) } };
}

/**
 * A progress callback for the runs: it keeps each pool's latest results and pending probes, ranks
 * everything seen so far and reports the partial result.
 */
function progressReporter(
  engine: Engine,
  target: ProbeTarget,
  opts: ExplainOptions,
  several: boolean,
  report: NonNullable<DiagnoseOptions['onProgress']>,
): (pool: string, done: readonly ProbeResult[], pending: readonly string[]) => void {
  const latest = new Map<string, { done: readonly ProbeResult[]; pending: readonly string[] }>();
  const described = describeTarget(target);
  return (pool, done, pending) => {
    latest.set(pool, { done, pending });
    const runs = [...latest.entries()];
    const probes = runs.flatMap(([p, r]) => r.done.map((x) => (several ? { ...x, pool: p } : x)));
    const stillRunning = runs.flatMap(([p, r]) => r.pending.map((n) => (several ? `${p}: ${n}` : n)));
    const signals = runs.flatMap(([, r]) => runSignals(r.done));
    try {
      report({ ...engine.rankSignals(signals, opts), target: described, probes, pending: stillRunning }, stillRunning);
    } catch {
      // A caller's display failing must not stop the probes.
    }
  };
}

/** What was probed, as answers show it: secrets masked, a proxy's credentials never, and the route. */
export function describeTarget(t: ProbeTarget): DiagnoseResult['target'] {
  let proxy: Masked | undefined;
  if (t.proxy) {
    const shown = new URL(t.proxy.href);
    const credentials = shown.username !== '' || shown.password !== '';
    shown.password = '';
    shown.username = credentials ? '***' : '';
    proxy = redact(shown.href);
  }
  const route = t.proxy
    ? `proxy ${proxyLabel(t.proxy)}${t.proxyFrom ? ` (from ${t.proxyFrom})` : ''}: CONNECT for https://, absolute-form for http://`
    : `direct${t.routeNote ? ` (${t.routeNote})` : ''}`;
  return {
    url: redact(t.url.href),
    ...(proxy ? { proxy } : {}),
    ...(t.upstream ? { upstream: `${t.upstream.host}:${t.upstream.port}` } : {}),
    ...(t.origin ? { origin: t.origin } : {}),
    route: redact(route),
  };
}

/** The main request's outcome: the http (or connect) probe's status, or its failure. */
function mainOutcome(results: readonly ProbeResult[]): { text: Masked; healthy: boolean } {
  const main = results.find((r) => r.probe === 'http') ?? results.find((r) => r.probe === 'connect') ?? results[0];
  if (!main) return { text: redact('no probe ran'), healthy: false };
  if (main.status === 'refused') return { text: redact('refused by policy'), healthy: false };
  const status = main.signals.find((s) => s.name === 'http.status')?.value;
  const error = main.signals.find((s) => s.name === 'net.error' || s.name === 'tls.error')?.value;
  if (status) return { text: redact(status), healthy: /^[23]\d\d$/.test(status) };
  if (error) return { text: redact(error), healthy: false };
  return { text: redact(main.status), healthy: main.status === 'ok' };
}

function compare(v: readonly VantageResult[]): Masked {
  const bad = v.filter((x) => !x.healthy).map((x) => x.pool);
  const good = v.filter((x) => x.healthy).map((x) => x.pool);
  if (bad.length === 0) return redact(`works from every pool (${good.join(', ')})`);
  if (good.length === 0) return redact(`fails from every pool (${v.map((x) => `${x.pool}: ${x.outcome}`).join(', ')})`);
  return redact(
    `fails only from ${bad.join(', ')} (${v.map((x) => `${x.pool}: ${x.outcome}`).join(', ')}): look at what differs on that network path`,
  );
}
