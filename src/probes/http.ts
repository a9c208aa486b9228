import type { Extractor } from '../evidence/extractor.js';
import { EXTRACTORS } from '../evidence/index.js';
import type { Signal } from '../evidence/signal.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import type { PhaseTimings, Probe, ProbeContext, ProbeResult } from './probe.js';
import {
  addPhases,
  authorityOf,
  bareHost,
  bodyExcerpt,
  dedupeSignals,
  describeFailure,
  exchangeOnce,
  failureSignals,
  header,
  portOf,
  refusedResult,
  responseEvidence,
  shownHeaders,
  statusSignals,
  statusText,
  type HttpResponse,
} from './support/http.js';
import { planHop, planRedirect, type Hop } from './support/route.js';
import { formatMs, guardedRun, stopwatch } from './support/socket.js';
import { nearTimeoutSignal } from './timing.js';

/** Options of {@link createHttpProbe}. */
export interface HttpProbeOptions {
  /**
   * The text extractors run over each final response (status line, headers, body excerpt), so a
   * proxy's error page is read like pasted text. @defaultValue EXTRACTORS (the registry)
   */
  readonly extractors?: readonly Extractor[];
  /** CA certificates (PEM) to trust instead of the system's (a private CA; tests). @defaultValue the system's */
  readonly ca?: string | readonly string[];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers not sent to another origin after a redirect (as browsers and curl do). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** The URL without its fragment: what "visited" means for loop detection. */
const visitKey = (url: URL) => url.href.replace(/#.*$/, '');

/**
 * The http probe: one GET of the target URL (with its headers), redirects followed by hand and
 * checked by the policy hop by hop, the response's status, headers and body read as evidence.
 *
 * @example createHttpProbe({ extractors: [nginxExtractor] }) // in tests
 */
export function createHttpProbe(opts: HttpProbeOptions = {}): Probe {
  const extractors = opts.extractors ?? EXTRACTORS;
  const ca = opts.ca;
  return {
    name: 'http',
    describes: 'GET the URL (following redirects) and read the status, headers, error page and phase timings',
    applies: () => true,
    run: (ctx) => guardedRun('http', ctx, (deadline) => runHttp(ctx, extractors, ca, deadline.signal, deadline.expired)),
  };
}

/** The registered http probe (uses the registered text extractors). */
export const httpProbe: Probe = createHttpProbe();

async function runHttp(
  ctx: ProbeContext,
  extractors: readonly Extractor[],
  ca: HttpProbeOptions['ca'],
  signal: AbortSignal,
  timedOut: () => boolean,
): Promise<ProbeResult> {
  const clock = stopwatch();
  const { target, limits } = ctx;
  const resolveClock = stopwatch();
  const first = await planHop(ctx, target.url, signal);
  let phases: PhaseTimings = { resolve: resolveClock() };
  if (!first.ok) return refusedResult('http', first.refusal, clock(), phases);
  let check: Hop = first.hop;

  let url = check.url;
  let headers = target.headers;
  const hadCredentials = headers.some(([n]) => CREDENTIAL_HEADERS.has(n.toLowerCase()));
  let droppedCredentials = false;
  const seen = new Set<string>([visitKey(url)]);
  const chain: Masked[] = [];
  const signals: Signal[] = [];
  const details: Record<string, Masked | number | boolean | readonly Masked[]> = {};
  let hops = 0;

  for (;;) {
    const pinned = check;
    const what = `GET ${url.href}`;
    const ex = await exchangeOnce(ctx.shared, pinned.address, {
      url,
      headers,
      lookup: pinned.lookup,
      ...(pinned.via ? { via: pinned.via } : {}),
      signal,
      timedOut,
      maxBodyBytes: limits.maxBodyBytes,
      ...(ca ? { ca } : {}),
    });
    phases = addPhases(phases, ex.phases);
    const authority = authorityOf(bareHost(url), portOf(url));

    if (!ex.ok) {
      const f = ex.failure;
      const excerpt = describeFailure(f, what, authority, ex.ms);
      signals.push(...failureSignals(f, 'http', excerpt));
      if (!f.timedOut && !f.aborted && ex.ms >= 1000) {
        const near = nearTimeoutSignal(ex.ms, 'http', { what: f.net ? f.net.replace(/_/g, ' ') : 'failure' });
        if (near) signals.push(near);
      }
      if (chain.length > 0) details.redirects = chain;
      return {
        probe: 'http',
        status: 'failed',
        durationMs: clock(),
        phases,
        summary: excerpt,
        details: {
          ...details,
          url: redact(url.href),
          address: trusted(pinned.address),
          phase: trusted(f.phase),
          ...(f.code ? { code: redact(f.code) } : {}),
        },
        signals: dedupeSignals(signals),
        route: pinned.route,
      };
    }

    const res = ex.response;
    const location = header(res, 'location');
    chain.push(
      redact(`${statusText(res)} ${url.href}${location !== undefined && REDIRECTS.has(res.status) ? ` → ${location.slice(0, 500)}` : ''}`),
    );
    if (!REDIRECTS.has(res.status) || location === undefined) return finish(res, what, ex.firstByteMs ?? ex.ms);

    if (limits.maxRedirects > 0 && hops >= limits.maxRedirects) {
      signals.push({
        name: 'http.redirect_loop',
        excerpt: redact(`still redirecting after ${hops} redirects (the limit): ${statusText(res)} → ${location.slice(0, 300)}`),
        source: 'http',
      });
      return finish(res, what, ex.firstByteMs ?? ex.ms);
    }
    if (limits.maxRedirects === 0) return finish(res, what, ex.firstByteMs ?? ex.ms);

    const hopClock = stopwatch();
    const next = await planRedirect(ctx, location, url, signal);
    phases = addPhases(phases, { resolve: hopClock() });
    if (!next.ok) {
      details.redirectRefused = redact(`${next.refusal.reason}; ${next.refusal.hint}`);
      return finish(res, what, ex.firstByteMs ?? ex.ms);
    }
    const nextUrl = next.hop.url;
    if (url.protocol === 'https:' && nextUrl.protocol === 'https:' && visitKey(nextUrl) === visitKey(url)) {
      signals.push({
        name: 'http.redirect_to_https',
        excerpt: redact(
          `${url.href} (already https) → ${statusText(res)} Location: ${location.slice(0, 300)}: the server behind the TLS terminator thinks the request was plain http`,
        ),
        source: 'http',
      });
    }
    if (seen.has(visitKey(nextUrl))) {
      signals.push({
        name: 'http.redirect_loop',
        excerpt: redact(`${statusText(res)} ${url.href} → ${nextUrl.href}, visited before (after ${hops + 1} redirects)`),
        source: 'http',
      });
      return finish(res, what, ex.firstByteMs ?? ex.ms);
    }
    if (nextUrl.origin !== url.origin && headers.some(([n]) => CREDENTIAL_HEADERS.has(n.toLowerCase()))) {
      headers = headers.filter(([n]) => !CREDENTIAL_HEADERS.has(n.toLowerCase()));
      droppedCredentials = true;
    }
    seen.add(visitKey(nextUrl));
    url = nextUrl;
    check = next.hop;
    hops++;
  }

  function finish(res: HttpResponse, what: string, responseMs: number): ProbeResult {
    signals.unshift(...statusSignals(res, what, 'http', ctx.now(), responseMs));
    const evidence = responseEvidence(res, extractors, 'http', ctx.now());
    signals.push(...evidence);
    // Through a proxy in absolute form, a 407 or a Proxy-Authenticate is the proxy asking for credentials.
    if (check.via && (res.status === 407 || header(res, 'proxy-authenticate') !== undefined)) {
      const scheme = header(res, 'proxy-authenticate')?.split(/\s/)[0];
      signals.push({
        name: 'proxy.auth_required',
        excerpt: redact(`${check.via.where}: ${statusText(res)}${scheme ? `; Proxy-Authenticate: ${scheme}` : ''}`),
        source: 'http',
      });
    }
    if (res.status === 504) {
      signals.push({
        name: 'timing.duration_s',
        value: String(Math.round(responseMs) / 1000),
        excerpt: redact(`${what} → ${statusText(res)} after ${formatMs(Math.round(responseMs))}`),
        source: 'http',
      });
      const server = evidence.find((s) => s.name === 'http.server')?.value;
      const near = nearTimeoutSignal(responseMs, 'http', { what: String(res.status), ...(server ? { server } : {}) });
      if (near) signals.push(near);
    }
    if (res.bodyFailure) {
      const f = res.bodyFailure;
      signals.push(...failureSignals(f, 'http', describeFailure(f, what, authorityOf(bareHost(url), portOf(url)), clock())));
    }
    if (droppedCredentials && hadCredentials && res.status === 401) {
      signals.push({
        name: 'auth.error',
        value: 'header_stripped',
        excerpt: redact(`a cross-origin redirect dropped the Authorization/Cookie headers, then ${url.href} answered ${statusText(res)}`),
        source: 'http',
      });
    }
    const loop = signals.some((s) => s.name === 'http.redirect_loop');
    const body = bodyExcerpt(res);
    const shown = shownHeaders(res);
    return {
      probe: 'http',
      status: res.status >= 400 || loop ? 'failed' : 'ok',
      durationMs: clock(),
      phases,
      summary: redact(
        `${what} → ${statusText(res)}${hops > 0 ? ` after ${hops} redirect${hops === 1 ? '' : 's'}` : ''}${loop ? ' (redirect loop)' : ''} in ${formatMs(clock())}${header(res, 'server') ? ` (server: ${header(res, 'server')!.slice(0, 80)})` : ''}`,
      ),
      details: {
        ...details,
        url: redact(url.href),
        address: trusted(check.address),
        status: res.status,
        reason: redact(res.reason),
        httpVersion: trusted(res.httpVersion),
        ...(shown.length > 0 ? { headers: shown } : {}),
        ...(body !== undefined ? { body } : {}),
        bodyBytes: res.body.length,
        truncated: res.truncated,
        ...(chain.length > 1 || hops > 0 ? { redirects: chain } : {}),
        ...(droppedCredentials ? { credentialsDropped: true } : {}),
        ...(res.bodyFailure ? { bodyError: res.bodyFailure.message } : {}),
      },
      signals: dedupeSignals(signals),
      route: check.route,
    };
  }
}
