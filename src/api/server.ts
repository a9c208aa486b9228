import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { TriageError } from '../errors.js';
import { logLine } from '../log.js';
import { apiRequests, diagnoses, topCauseLabel } from '../metrics.js';
import { registry } from '../metrics-registry.js';
import type { ProbeTarget } from '../probes/probe.js';
import type { ProbeRunner } from '../queue/runner.js';
import { redact } from '../security/redact.js';
import type { SsrfPolicy, SsrfResult } from '../security/ssrf.js';
import { describeTarget, diagnose, type DiagnoseResult } from '../triage/diagnose.js';
import type { Engine } from '../triage/engine.js';
import { parseTarget } from '../triage/target.js';
import { notConfigured, parseAlertmanagerWebhook, receiveAlertmanager, type AlertmanagerSink } from './alertmanager.js';
import { checkBearer, type AuthFailure } from './auth.js';
import { StoreError as StateStoreError } from '../store/redis-kit.js';
import { StoreError, type DiagnosisRecord, type DiagnosisStore } from './diagnosis-store.js';
import { ApiError, asApiError } from './errors.js';
import { RATE_LIMIT_DEFAULTS, tokenBuckets } from './rate-limit.js';
import { BODY_LIMITS, readJson, sendError, sendJson, sendText } from './http.js';
import type { Readiness } from './ready.js';
import type { Schema } from './wire.js';
import { parseDiagnosisRequest, parseExplainRequest, type DiagnosisInput } from './validate.js';

/*
 * The HTTP API (openapi.yaml is the contract). For each request:
 *
 * 1. The path picks a route (404 NOT_FOUND otherwise) and the method its handler (405 with Allow).
 * 2. /v1 routes need a bearer token (401 with WWW-Authenticate); /healthz, /readyz, /metrics do not.
 * 3. Bodies are read bounded (413), must be JSON (415, 400 INVALID_JSON) and are checked field by
 *    field (400 INVALID_REQUEST naming each field), once, before anything runs.
 * 3a. Each token has a token bucket (API_RATE_PER_MINUTE, API_RATE_BURST): over it, 429 with
 *    Retry-After; an explain costs one more request per 64 KiB of text after the first.
 * 4. Diagnoses and alert answers run in the background, bounded in number in all and per token
 *    (429), and abort on close.
 * 5. Every answer is counted in triage_api_requests_total by route template and status.
 */

/** What the API needs; src/main.ts and the tests build it. */
export interface ApiDeps {
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  /** `queue` when probes go to workers (REDIS_URL): only then can a diagnosis name pools (`from`). */
  readonly runnerVia: 'inline' | 'queue';
  /** The restrictive SSRF policy with PROBE_ALLOW; targets are checked against it before they are accepted. */
  readonly policy: SsrfPolicy;
  /** SHA-256 digests of API_TOKENS (config.ts). Empty: every /v1 route answers 401. */
  readonly tokenDigests: readonly Buffer[];
  readonly diagnoses: DiagnosisStore;
  /** GET /readyz (src/api/ready.ts createReadiness). */
  readonly readiness: () => Promise<Readiness>;
  /**
   * Where Alertmanager groups go: the alert pipeline bound to ALERTMANAGER_CHANNEL (src/compose.ts);
   * absent without ALERTMANAGER_CHANNEL and Slack (503 ALERTMANAGER_NOT_CONFIGURED).
   */
  readonly alertmanager?: AlertmanagerSink;
  /** Program-made or masked lines only. @defaultValue logLine (src/log.ts) */
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  readonly options?: Partial<ApiOptions>;
}

export interface ApiOptions {
  /** Diagnoses and alert answers running at once; beyond it, 429 TOO_MANY_REQUESTS. @defaultValue 32 */
  readonly maxInFlight: number;
  /** Diagnoses and alert answers one token may have running at once (API_MAX_INFLIGHT_PER_TOKEN). @defaultValue 4 */
  readonly maxInFlightPerCaller: number;
  /** Requests a minute one token may make on average (API_RATE_PER_MINUTE); 0: no limit. @defaultValue 120 */
  readonly ratePerMinute: number;
  /** Requests one token may make at once (API_RATE_BURST). @defaultValue 30 */
  readonly rateBurst: number;
  /** A diagnosis still queued or running after this long is reported failed (INTERRUPTED): its server stopped. @defaultValue 900000 */
  readonly staleAfterMs: number;
  /** Bound of the SSRF check (DNS) done before a diagnosis is accepted. @defaultValue 5000 */
  readonly policyCheckMs: number;
}

export const API_DEFAULTS: ApiOptions = {
  maxInFlight: 32,
  maxInFlightPerCaller: 4,
  ratePerMinute: RATE_LIMIT_DEFAULTS.perMinute,
  rateBurst: RATE_LIMIT_DEFAULTS.burst,
  staleAfterMs: 15 * 60_000,
  policyCheckMs: 5_000,
};

/** An explain costs one request more per this many bytes of text after the first. */
const EXPLAIN_BYTES_PER_REQUEST = 64 * 1024;

/** The API's request listener, plus control over its background work. */
export type ApiHandler = RequestListener & {
  /** Resolve once no background work runs (work added meanwhile included). */
  idle(): Promise<void>;
  /** Abort background work (diagnoses end INTERRUPTED) and wait for it to settle. */
  close(): Promise<void>;
};

interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  /** Who asks: the digest of its API token (/v1 routes), else ''. */
  readonly caller: string;
}

type Handler = (ctx: Ctx) => Promise<void>;

interface Route {
  /** The path template of openapi.yaml; also the `route` label of the request counter. */
  readonly template: string;
  readonly pattern: RegExp;
  readonly auth: boolean;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createApiHandler(deps: ApiDeps): ApiHandler {
  const options: ApiOptions = { ...API_DEFAULTS, ...deps.options };
  const log = deps.log ?? logLine;
  const work = backgroundWork(options.maxInFlight, options.maxInFlightPerCaller, log);
  const limiter = tokenBuckets({ perMinute: options.ratePerMinute, burst: options.rateBurst });
  const admit = (caller: string, cost: number, what: string) => {
    const a = limiter.take(caller, cost);
    if (!a.ok)
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `this token is over its rate limit (${options.ratePerMinute} requests a minute, ${options.rateBurst} at once${what}): retry in ${a.retryAfterSec} s`,
        [],
        { 'Retry-After': String(a.retryAfterSec) },
      );
  };

  const routes: readonly Route[] = [
    { template: '/v1/explain', pattern: /^\/v1\/explain$/, auth: true, methods: { POST: explain } },
    { template: '/v1/diagnoses', pattern: /^\/v1\/diagnoses$/, auth: true, methods: { POST: createDiagnosis } },
    { template: '/v1/diagnoses/{id}', pattern: /^\/v1\/diagnoses\/(?<id>[^/]{1,200})$/, auth: true, methods: { GET: getDiagnosis } },
    { template: '/v1/alerts/alertmanager', pattern: /^\/v1\/alerts\/alertmanager$/, auth: true, methods: { POST: alertmanager } },
    { template: '/healthz', pattern: /^\/healthz$/, auth: false, methods: { GET: healthz } },
    { template: '/readyz', pattern: /^\/readyz$/, auth: false, methods: { GET: readyz } },
    { template: '/metrics', pattern: /^\/metrics$/, auth: false, methods: { GET: metrics } },
  ];

  async function explain({ req, res, caller }: Ctx): Promise<void> {
    const body = parseExplainRequest(await readJson(req, BODY_LIMITS.explainBytes));
    const texts = body.texts ?? [{ id: '', text: body.text }];
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t.text), 0);
    const extra = Math.floor(Math.max(0, bytes - 1) / EXPLAIN_BYTES_PER_REQUEST);
    if (extra > 0) admit(caller, extra, `; this text counts as ${extra + 1} requests, one per 64 KiB`);
    const opts = { lang: body.lang ?? 'en' } as const;
    const d = body.texts ? deps.engine.investigate(body.texts, opts) : deps.engine.explain(body.text, opts);
    diagnoses.inc({ entry: 'api', top_cause: topCauseLabel(d.causes) });
    sendJson(res, 200, d satisfies Schema<'Diagnosis'>);
  }

  async function createDiagnosis({ req, res, caller }: Ctx): Promise<void> {
    const input = parseDiagnosisRequest(await readJson(req, BODY_LIMITS.defaultBytes));
    const target = checkedTarget(input, deps.runnerVia);
    await checkPolicy(deps.policy, target, options.policyCheckMs);
    work.reserve(caller);
    const id = randomUUID();
    const record: DiagnosisRecord = { id, status: 'queued', createdAt: new Date().toISOString(), target: maskedTarget(target) };
    await deps.diagnoses.put(record);
    work.run(caller, (signal) => runDiagnosis(record, target, input, signal));
    const self = `/v1/diagnoses/${id}`;
    sendJson(res, 202, { id, status: 'queued', links: { self } } satisfies Schema<'DiagnosisAccepted'>, { Location: self });
  }

  /**
   * Run one diagnosis to its end, recording each step; never throws. While it runs, the record
   * holds the partial result and the probes still running (GET polls them), written one at a time
   * with only the latest waiting, so a slow store never holds the probes up nor reorders records.
   */
  async function runDiagnosis(queued: DiagnosisRecord, target: ProbeTarget, input: DiagnosisInput, signal: AbortSignal): Promise<void> {
    const running: DiagnosisRecord = { ...queued, status: 'running', startedAt: new Date().toISOString() };
    const warn = (err: unknown) => log('warn', redact(`api: ${(err as Error).message}`));
    await deps.diagnoses.put(running).catch(warn);
    let writing: Promise<void> | undefined;
    let next: DiagnosisRecord | undefined;
    let finished = false;
    const write = () => {
      if (writing || !next || finished) return;
      const record = next;
      next = undefined;
      writing = deps.diagnoses
        .put(record)
        .catch(warn)
        .finally(() => {
          writing = undefined;
          write();
        });
    };
    let final: DiagnosisRecord;
    try {
      const result = await diagnose(deps.engine, deps.runner, target, {
        lang: input.lang ?? 'en',
        limits: { timeoutMs: input.timeoutMs },
        signal,
        ...(input.repeat ? { alwaysRepeat: true } : {}),
        ...(input.pools.length > 0 ? { pools: input.pools } : {}),
        onProgress: (partial, pending) => {
          next = { ...running, result: toWire(partial), pending: [...pending] };
          write();
        },
      });
      diagnoses.inc({ entry: 'api', top_cause: topCauseLabel(result.causes) });
      final = { ...running, status: 'done', finishedAt: new Date().toISOString(), result: toWire(result) };
    } catch (err) {
      final = { ...running, status: 'failed', finishedAt: new Date().toISOString(), error: failureOf(err, signal) };
    }
    finished = true;
    await writing;
    await deps.diagnoses
      .put(final)
      .catch((err: unknown) => log('error', redact(`api: diagnosis ${queued.id} is lost: ${(err as Error).message}`)));
  }

  async function getDiagnosis({ res, params }: Ctx): Promise<void> {
    const id = params.id ?? '';
    const record = UUID.test(id) ? await deps.diagnoses.get(id) : undefined;
    if (!record)
      throw new ApiError(
        'NOT_FOUND',
        'no such diagnosis: ids come from POST /v1/diagnoses, and a diagnosis is kept 24 hours (the latest 1000 without Redis)',
      );
    sendJson(res, 200, interrupted(record, options.staleAfterMs));
  }

  async function alertmanager({ req, res, caller }: Ctx): Promise<void> {
    const sink = deps.alertmanager;
    if (!sink) throw notConfigured();
    const payload = parseAlertmanagerWebhook(await readJson(req, BODY_LIMITS.defaultBytes));
    work.reserve(caller);
    const action = await receiveAlertmanager(sink, payload, (fn) => work.run(caller, fn));
    sendJson(res, 200, { status: 'accepted', action } satisfies Schema<'AlertAccepted'>);
  }

  async function healthz({ res }: Ctx): Promise<void> {
    sendJson(res, 200, { status: 'ok' } satisfies Schema<'Health'>);
  }

  async function readyz({ res }: Ctx): Promise<void> {
    const r = await deps.readiness();
    sendJson(res, r.status === 'ready' ? 200 : 503, r);
  }

  async function metrics({ res }: Ctx): Promise<void> {
    sendText(res, 200, await registry.metrics(), registry.contentType);
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.find((r) => r.pattern.test(path));
    res.on('finish', () => apiRequests.inc({ route: route?.template ?? 'unmatched', status: String(res.statusCode) }));
    handle(req, res, path, route).catch((err: unknown) => {
      const e =
        err instanceof StoreError || (err instanceof StateStoreError && err.reason === 'redis') ? storeUnavailable() : asApiError(err);
      if (e.code === 'INTERNAL' || e.code === 'STORE_UNAVAILABLE')
        log('error', redact(`api: ${req.method} ${route?.template ?? '?'}: ${errorText(err)}`));
      sendError(res, e);
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, route: Route | undefined): Promise<void> {
    if (!route)
      throw new ApiError(
        'NOT_FOUND',
        `nothing at ${path.slice(0, 100)}: the API serves /v1/explain, /v1/diagnoses, /v1/alerts/alertmanager, /healthz, /readyz, /metrics`,
      );
    // Own keys only: a method named like an Object.prototype member must not find a function.
    const method = req.method ?? '';
    const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ');
      throw new ApiError('METHOD_NOT_ALLOWED', `${route.template} takes ${allow}, not ${String(req.method).slice(0, 20)}`, [], {
        Allow: allow,
      });
    }
    let caller = '';
    if (route.auth) {
      caller = authenticate(req, deps.tokenDigests);
      admit(caller, 1, '');
    }
    await handler({ req, res, caller, params: route.pattern.exec(path)?.groups ?? {} });
  }

  return Object.assign(listener, { idle: work.idle, close: work.close });
}

// ---------------------------------------------------------------------------------------------
// Steps

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing: "send Authorization: Bearer <token> with one of the server's API_TOKENS (the CLI reads TRIAGE_API_TOKEN)",
  malformed: 'the Authorization header must be "Bearer <token>"',
  invalid: "the bearer token is not one of the server's API_TOKENS: check TRIAGE_API_TOKEN, or ask an admin for a token",
  no_tokens: 'this server has no API_TOKENS configured, so its /v1 API is off: an admin sets API_TOKENS to enable it',
};

/** The caller (its token's digest), or 401. */
function authenticate(req: IncomingMessage, digests: readonly Buffer[]): string {
  const r = checkBearer(req, digests);
  if (r.ok) return r.caller;
  // RFC 6750 §3: no error attribute when the request carried no credentials.
  const challenge =
    r.why === 'missing' || r.why === 'no_tokens' ? 'Bearer realm="gateway-triage"' : 'Bearer realm="gateway-triage", error="invalid_token"';
  throw new ApiError('UNAUTHORIZED', AUTH_MESSAGES[r.why], [], { 'WWW-Authenticate': challenge });
}

/** The parsed target, or INVALID_REQUEST with each problem (pools need workers). */
function checkedTarget(input: DiagnosisInput, runnerVia: ApiDeps['runnerVia']): ProbeTarget {
  const parsed = parseTarget({
    url: input.url,
    headers: input.headers,
    ...(input.proxy !== undefined ? { proxy: input.proxy } : {}),
    ...(input.upstream !== undefined ? { upstream: input.upstream } : {}),
    ...(input.origin !== undefined ? { origin: input.origin } : {}),
  });
  const problems = parsed.target ? [] : parsed.problems.map((p) => redact(p) as string);
  if (input.pools.length > 0 && runnerVia !== 'queue')
    problems.push('from: pools need workers, and this server runs the probes in-process (no REDIS_URL): leave "from" out');
  if (problems.length > 0 || !parsed.target)
    throw new ApiError('INVALID_REQUEST', `the target is not valid: ${problems.join('; ')}`, problems);
  return parsed.target;
}

/**
 * The SSRF policy, asked before a diagnosis is accepted, for the URL, the proxy and the upstream.
 * A name that does not resolve is accepted: that failure is what the probes will diagnose.
 */
async function checkPolicy(policy: SsrfPolicy, t: ProbeTarget, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  const checks: [string, Promise<SsrfResult>][] = [['url', policy.check(t.url, { signal })]];
  if (t.proxy) checks.push(['proxy', policy.checkProxy(t.proxy, { signal })]);
  if (t.upstream) {
    const host = t.upstream.host.includes(':') ? `[${t.upstream.host}]` : t.upstream.host;
    checks.push(['upstream', policy.checkConnectTarget(`${host}:${t.upstream.port}`, { signal })]);
  }
  const refusals: string[] = [];
  for (const [field, check] of checks) {
    const r = await check;
    if (!r.ok && r.code !== 'DNS_FAILED') refusals.push(redact(`${field}: ${r.reason}; ${r.hint}`));
  }
  if (refusals.length > 0) throw new ApiError('TARGET_REFUSED', `the probes may not go there: ${refusals.join(' | ')}`, refusals);
}

/** What a record shows of the target: masked, and never the headers. */
function maskedTarget(t: ProbeTarget): DiagnosisRecord['target'] {
  const d = describeTarget(t);
  return { ...d, ...(d.origin ? { origin: redact(d.origin) } : {}) };
}

/** The result as the wire type (a compile-time check that the spec describes it); the engine masked it already. */
function toWire(r: DiagnoseResult): Schema<'DiagnoseResult'> {
  return r;
}

function failureOf(err: unknown, signal: AbortSignal): NonNullable<DiagnosisRecord['error']> {
  const message = redact(errorText(err)).slice(0, 1000);
  if (signal.aborted) return { code: 'INTERRUPTED', message: 'the server stopped while the probes ran: start the diagnosis again' };
  if (err instanceof TriageError && err.code === 'CONFIG_INVALID') return { code: 'CONFIG_INVALID', message };
  return { code: 'PROBES_FAILED', message: `the probes could not run: ${message}` };
}

/** A record left queued or running by a server that stopped (its process, not Redis, held the work). */
function interrupted(r: DiagnosisRecord, staleAfterMs: number): DiagnosisRecord {
  if (r.status === 'done' || r.status === 'failed' || Date.now() - Date.parse(r.createdAt) < staleAfterMs) return r;
  return {
    ...r,
    status: 'failed',
    error: { code: 'INTERRUPTED', message: 'the server stopped before this diagnosis finished: start it again' },
  };
}

function storeUnavailable(): ApiError {
  return new ApiError('STORE_UNAVAILABLE', 'the diagnosis store (Redis) does not answer: try again shortly; an admin checks REDIS_URL');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Background work

/** Work that runs after the answer: bounded in number (in all and per caller), aborted on close, awaited by idle. */
function backgroundWork(max: number, maxPerCaller: number, log: NonNullable<ApiDeps['log']>) {
  const tasks = new Set<Promise<void>>();
  const perCaller = new Map<string, number>();
  const stop = new AbortController();
  return {
    /** Throw 429 when `max` tasks run already, or `maxPerCaller` of this caller's. */
    reserve(caller: string): void {
      if (tasks.size >= max)
        throw new ApiError('TOO_MANY_REQUESTS', `${max} diagnoses are running already: retry in a few seconds`, [], { 'Retry-After': '5' });
      if ((perCaller.get(caller) ?? 0) >= maxPerCaller)
        throw new ApiError(
          'TOO_MANY_REQUESTS',
          `this token has ${maxPerCaller} diagnoses running already: wait for one to finish (poll GET /v1/diagnoses/{id}), then retry`,
          [],
          { 'Retry-After': '5' },
        );
    },
    run(caller: string, fn: (signal: AbortSignal) => Promise<void>): void {
      perCaller.set(caller, (perCaller.get(caller) ?? 0) + 1);
      const task: Promise<void> = fn(stop.signal)
        .catch((err: unknown) => log('error', redact(`api: background work failed: ${errorText(err)}`)))
        .finally(() => {
          tasks.delete(task);
          const n = (perCaller.get(caller) ?? 1) - 1;
          if (n > 0) perCaller.set(caller, n);
          else perCaller.delete(caller);
        });
      tasks.add(task);
    },
    async idle(): Promise<void> {
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
    async close(): Promise<void> {
      stop.abort();
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
  };
}
