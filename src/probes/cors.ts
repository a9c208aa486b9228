import type { Signal } from '../evidence/signal.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import {
  authorityOf,
  bareHost,
  dedupeSignals,
  describeFailure,
  exchange,
  failureSignals,
  headerValues,
  portOf,
  refusedResult,
  statusText,
} from './support/http.js';
import { planHop } from './support/route.js';
import { formatMs, guardedRun, stopwatch, type Deadline } from './support/socket.js';

/** Options of {@link createCorsProbe}. */
export interface CorsProbeOptions {
  /** The method of the request the browser wants to make. @defaultValue 'GET' @example 'PUT' */
  readonly method?: string;
  /** CA certificates to trust (PEM), replacing the defaults; pass the roots plus a private CA. */
  readonly ca?: string | readonly string[];
}

/** Methods a browser never asks a preflight about (CORS-safelisted). */
const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);

/** Request headers a browser never lists in Access-Control-Request-Headers (set by the browser itself, or safelisted). */
const UNLISTED_HEADERS = new Set([
  'host',
  'origin',
  'cookie',
  'connection',
  'content-length',
  'user-agent',
  'referer',
  'accept',
  'accept-language',
  'content-language',
]);

/** A comma-separated header (all values) as a lower-case set. */
const list = (values: readonly string[]) =>
  new Set(
    values
      .flatMap((v) => v.split(','))
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean),
  );

/**
 * The cors probe: the browser's OPTIONS preflight for the target (`--origin`), with
 * Access-Control-Request-Method and -Headers (authorization plus the target's header names), and
 * what the answer lacks for the browser to go on.
 */
export function createCorsProbe(opts: CorsProbeOptions = {}): Probe {
  const method = (opts.method ?? 'GET').toUpperCase();
  return {
    name: 'cors',
    describes: 'send the browser’s CORS preflight (OPTIONS with --origin) and check the Access-Control-Allow-* answer',
    applies: (target) => target.origin !== undefined,
    run: (ctx) => guardedRun('cors', ctx, (deadline) => runCors(ctx, deadline, method, opts.ca)),
  };
}

/** The registered cors probe (preflight for a GET). */
export const corsProbe: Probe = createCorsProbe();

async function runCors(
  ctx: ProbeContext,
  deadline: Deadline,
  method: string,
  ca: string | readonly string[] | undefined,
): Promise<ProbeResult> {
  const clock = stopwatch();
  const { target, limits } = ctx;
  const origin = target.origin;
  if (origin === undefined) {
    return {
      probe: 'cors',
      status: 'skipped',
      durationMs: 0,
      phases: {},
      summary: trusted('no origin given (--origin)'),
      details: {},
      signals: [],
    };
  }
  const requested = [...new Set(['authorization', ...target.headers.map(([n]) => n.toLowerCase())])]
    .filter((n) => !UNLISTED_HEADERS.has(n))
    .sort();
  const resolveClock = stopwatch();
  const plan = await planHop(ctx, target.url, deadline.signal, 'OPTIONS');
  const resolveMs = resolveClock();
  if (!plan.ok) return refusedResult('cors', plan.refusal, clock(), { resolve: resolveMs });
  const hop = plan.hop;

  const url = hop.url;
  const what = `OPTIONS ${url.href} (Origin: ${origin})`;
  const ex = await exchange({
    url,
    method: 'OPTIONS',
    headers: [
      ['Origin', origin],
      ['Access-Control-Request-Method', method],
      ['Access-Control-Request-Headers', requested.join(',')],
    ],
    lookup: hop.lookup,
    ...(hop.via ? { via: hop.via } : {}),
    signal: deadline.signal,
    timedOut: deadline.expired,
    maxBodyBytes: limits.maxBodyBytes,
    ...(ca ? { ca } : {}),
  });
  const phases = { resolve: resolveMs, ...ex.phases };
  const details: Record<string, Masked | number | boolean | readonly Masked[]> = {
    origin: redact(origin),
    requestMethod: redact(method),
    requestHeaders: redact(requested.join(', ')),
  };
  if (!ex.ok) {
    const excerpt = describeFailure(ex.failure, what, authorityOf(bareHost(url), portOf(url)), ex.ms);
    return {
      probe: 'cors',
      status: 'failed',
      durationMs: clock(),
      phases,
      summary: excerpt,
      details,
      signals: failureSignals(ex.failure, 'cors', excerpt),
      route: hop.route,
    };
  }

  const res = ex.response;
  const answered = `${what} → ${statusText(res)} after ${formatMs(Math.round(ex.firstByteMs ?? ex.ms))}`;
  details.status = res.status;
  const allow = res.headers.filter(([n]) => n.startsWith('access-control-'));
  if (allow.length > 0) details.allowHeaders = allow.map(([n, v]) => redact(`${n}: ${v.slice(0, 300)}`));
  const signals: Signal[] = [];
  const cors = (value: string, why: string) =>
    signals.push({ name: 'cors.error', value, excerpt: redact(`${answered}: ${why}`), source: 'cors' });

  if (res.status === 401 || res.status === 403) {
    signals.push({ name: 'http.status', value: String(res.status), excerpt: redact(answered), source: 'cors' });
    cors('preflight_failed', 'authentication runs on the preflight, which never carries credentials');
  } else if (res.status < 200 || res.status > 299) {
    signals.push({ name: 'http.status', value: String(res.status), excerpt: redact(answered), source: 'cors' });
    cors('preflight_status', 'a preflight needs a 2xx status');
  } else {
    const origins = headerValues(res, 'access-control-allow-origin');
    const credentials = headerValues(res, 'access-control-allow-credentials').some((v) => v.trim().toLowerCase() === 'true');
    const originValues = origins.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
    if (origins.length === 0) cors('no_allow_origin', 'no Access-Control-Allow-Origin header');
    else if (originValues.length > 1)
      cors(
        'multiple_origins',
        `Access-Control-Allow-Origin has ${originValues.length} values (${originValues.join(', ').slice(0, 200)}); a browser accepts exactly one`,
      );
    else if (originValues[0] === '*' && credentials)
      cors('wildcard_credentials', "Access-Control-Allow-Origin '*' with Access-Control-Allow-Credentials: true");
    else if (originValues[0] !== '*' && originValues[0] !== origin)
      cors('origin_mismatch', `Access-Control-Allow-Origin is ${(originValues[0] ?? '').slice(0, 200)}, not ${origin}`);

    const allowedHeaders = list(headerValues(res, 'access-control-allow-headers'));
    const wildcardHeaders = allowedHeaders.has('*') && !credentials;
    // `*` never covers Authorization (Fetch standard).
    const missing = requested.filter((h) => !allowedHeaders.has(h) && !(wildcardHeaders && h !== 'authorization'));
    if (missing.length > 0) cors('header_not_allowed', `Access-Control-Allow-Headers does not list ${missing.join(', ')}`);

    const allowedMethods = list(headerValues(res, 'access-control-allow-methods'));
    const wildcardMethods = allowedMethods.has('*') && !credentials;
    if (!SAFELISTED_METHODS.has(method) && !allowedMethods.has(method.toLowerCase()) && !wildcardMethods)
      cors('method_not_allowed', `Access-Control-Allow-Methods does not list ${method}`);
  }

  const errors = signals.filter((s) => s.name === 'cors.error').map((s) => s.value);
  return {
    probe: 'cors',
    status: errors.length > 0 ? 'failed' : 'ok',
    durationMs: clock(),
    phases,
    summary: redact(`${answered}${errors.length > 0 ? `: ${errors.join(', ')}` : ': the preflight allows the request'}`),
    details,
    signals: dedupeSignals(signals),
    route: hop.route,
  };
}
