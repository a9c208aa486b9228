import { jwtExtractor } from '../evidence/jwt.js';
import type { Signal } from '../evidence/signal.js';
import { TextDoc } from '../evidence/text.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import type { Probe, ProbeContext, ProbeResult } from './probe.js';
import {
  authorityOf,
  bareHost,
  bodyExcerpt,
  bodyText,
  dedupeSignals,
  describeFailure,
  exchangeOnce,
  failureSignals,
  headerValues,
  portOf,
  refusedResult,
  statusText,
} from './support/http.js';
import { planHop } from './support/route.js';
import { formatMs, guardedRun, stopwatch, type Deadline } from './support/socket.js';

/** One challenge of a WWW-Authenticate header. */
export interface Challenge {
  /** Lower case. @example 'bearer' */
  readonly scheme: string;
  /** Auth-params, names lower-cased, quotes removed. @example { realm: 'api', error: 'invalid_token' } */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}/y;

/**
 * Parse WWW-Authenticate values (RFC 9110 §11.6.1): several challenges per value, auth-params
 * quoted or not. Lenient: what does not parse is skipped.
 *
 * @example parseChallenges(['Bearer realm="api", error="invalid_token"']) // [{ scheme: 'bearer', params: { realm: 'api', error: 'invalid_token' } }]
 */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  for (const value of values) {
    const s = value.slice(0, 4096);
    let i = 0;
    const skip = (re: RegExp) => {
      re.lastIndex = i;
      const m = re.exec(s);
      if (m) i = re.lastIndex;
      return m;
    };
    while (i < s.length) {
      skip(/[\s,]{1,4096}/y);
      const name = skip(TOKEN);
      if (!name) {
        i++;
        continue;
      }
      const eq = skip(/\s{0,10}=\s{0,10}/y);
      const current = out[out.length - 1];
      if (!eq) {
        out.push({ scheme: name[0].toLowerCase(), params: {} });
        // token68 (e.g. `Negotiate abc==`) after a scheme
        skip(/ {1,10}[A-Za-z0-9._~+/-]{1,2000}={0,4}(?=\s*(?:,|$))/y);
        continue;
      }
      const quoted = skip(/"((?:[^"\\]|\\.){0,2000})"/y);
      const bare = quoted ? undefined : skip(/[^\s,]{0,2000}/y);
      const v = quoted ? (quoted[1] ?? '').replace(/\\(.)/g, '$1') : (bare?.[0] ?? '');
      if (current) current.params[name[0].toLowerCase()] = v;
    }
  }
  return out;
}

/**
 * The auth probe: the URL's WWW-Authenticate challenge (scheme, realm, error, error_description)
 * and the JWT in the request's `Authorization: Bearer` header, decoded (never verified) and its
 * exp / nbf / iat compared with `ctx.now()`. The token itself is never printed.
 */
export function createAuthProbe(opts: { readonly ca?: string | readonly string[] } = {}): Probe {
  return {
    name: 'auth',
    describes: 'read the WWW-Authenticate challenge and decode the Bearer JWT sent (exp, nbf, iat; never printed)',
    applies: () => true,
    run: (ctx) => guardedRun('auth', ctx, (deadline) => runAuth(ctx, deadline, opts.ca)),
  };
}

/** The auth probe trusting the system's CAs. */
export const authProbe: Probe = createAuthProbe();

/** Signals of `jwtExtractor` over `text`, rewritten as the auth probe's. */
function jwtSignals(text: string, now: Date): Signal[] {
  let doc: TextDoc;
  try {
    doc = TextDoc.from(text, { now });
  } catch {
    return [];
  }
  return jwtExtractor
    .extract(doc)
    .map((s) =>
      s.value === undefined
        ? { name: s.name, excerpt: s.excerpt, source: 'auth' }
        : { name: s.name, value: s.value, excerpt: s.excerpt, source: 'auth' },
    );
}

async function runAuth(ctx: ProbeContext, deadline: Deadline, ca: string | readonly string[] | undefined): Promise<ProbeResult> {
  const clock = stopwatch();
  const { target, limits } = ctx;
  const now = ctx.now();
  const signals: Signal[] = [];
  const details: Record<string, Masked | number | boolean | readonly Masked[]> = {};

  // What the request carries: the scheme of its Authorization header, and a JWT decoded offline.
  const authorization = target.headers.find(([n]) => n.toLowerCase() === 'authorization')?.[1];
  const sentScheme = authorization?.trim().split(/\s+/, 1)[0]?.toLowerCase();
  if (sentScheme) details.authorizationScheme = redact(sentScheme.slice(0, 30));
  if (authorization !== undefined && sentScheme === 'bearer') {
    const token = authorization.trim().slice(6).trim();
    const jwt = jwtSignals(`Authorization: Bearer ${token}`, now).filter((s) => s.name.startsWith('jwt.'));
    signals.push(...jwt);
    const present = jwt.find((s) => s.name === 'jwt.present');
    if (present) details.jwt = present.excerpt;
    if (jwt.some((s) => s.name === 'jwt.malformed')) details.jwt = trusted('a JWT-like token that does not decode');
  }

  const resolveClock = stopwatch();
  const plan = await planHop(ctx, target.url, deadline.signal);
  const resolveMs = resolveClock();
  if (!plan.ok) {
    const refused = refusedResult('auth', plan.refusal, clock(), { resolve: resolveMs });
    return refused.status === 'refused' ? refused : { ...refused, signals: [...refused.signals, ...signals] };
  }
  const hop = plan.hop;
  const url = hop.url;
  const what = `GET ${url.href}`;
  // The http probe's first request, read rather than sent again (ctx.shared).
  const ex = await exchangeOnce(ctx.shared, hop.address, {
    url,
    headers: target.headers,
    lookup: hop.lookup,
    ...(hop.via ? { via: hop.via } : {}),
    signal: deadline.signal,
    timedOut: deadline.expired,
    maxBodyBytes: limits.maxBodyBytes,
    ...(ca ? { ca } : {}),
  });
  const phases = { resolve: resolveMs, ...ex.phases };
  if (!ex.ok) {
    const excerpt = describeFailure(ex.failure, what, authorityOf(bareHost(url), portOf(url)), ex.ms);
    return {
      probe: 'auth',
      status: 'failed',
      durationMs: clock(),
      phases,
      summary: excerpt,
      details,
      signals: dedupeSignals([...signals, ...failureSignals(ex.failure, 'auth', excerpt)]),
      route: hop.route,
    };
  }

  const res = ex.response;
  details.status = res.status;
  const line = `${what} → ${statusText(res)} after ${formatMs(Math.round(ex.firstByteMs ?? ex.ms))}`;
  if (res.status === 401 || res.status === 403)
    signals.push({ name: 'http.status', value: String(res.status), excerpt: redact(line), source: 'auth' });

  // The challenge.
  const challengeValues = headerValues(res, 'www-authenticate');
  const challenges = parseChallenges(challengeValues);
  if (challengeValues.length > 0) details.challenge = challengeValues.map((v) => redact(`WWW-Authenticate: ${v.slice(0, 300)}`));
  if (challenges.length > 0) details.schemes = challenges.slice(0, 5).map((c) => redact(c.scheme.slice(0, 30)));
  for (const p of ['realm', 'error', 'error_description', 'scope'] as const) {
    const value = challenges.find((c) => c.params[p] !== undefined)?.params[p];
    if (value !== undefined) details[p] = redact(value.slice(0, 300));
  }
  const fromChallenge =
    challengeValues.length === 0
      ? []
      : jwtSignals(challengeValues.map((v) => `WWW-Authenticate: ${v}`).join('\n'), now).filter((s) => !s.name.startsWith('jwt.'));
  for (const s of fromChallenge) {
    // A bare `Bearer` challenge means "no Bearer credentials": not news when a token was sent.
    if (s.name === 'auth.error' && s.value === 'missing_credentials' && authorization !== undefined) continue;
    signals.push(s);
  }

  // The body: auth middleware messages ("jwt expired", "No authorization token was found").
  if (res.status === 401 || res.status === 403) {
    const text = bodyText(res.body.subarray(0, 16_384));
    for (const s of text ? jwtSignals(text, now).filter((x) => !x.name.startsWith('jwt.')) : []) {
      if (s.name === 'auth.error' && s.value === 'missing_credentials' && authorization !== undefined) {
        signals.push({
          name: 'auth.error',
          value: 'header_stripped',
          excerpt: redact(
            `the request carried an Authorization header (${sentScheme ?? '?'}), yet the server says none arrived: ${s.excerpt}`,
          ),
          source: 'auth',
        });
      } else signals.push(s);
    }
  }

  if (res.status === 401 && authorization === undefined) {
    signals.push({
      name: 'auth.error',
      value: 'missing_credentials',
      excerpt: redact(`${line} to a request without an Authorization header`),
      source: 'auth',
    });
  }
  const offered = challenges.map((c) => c.scheme);
  if (res.status === 401 && sentScheme && offered.length > 0 && !offered.includes(sentScheme)) {
    signals.push({
      name: 'auth.error',
      value: 'wrong_scheme',
      excerpt: redact(`the request sent Authorization: ${sentScheme} …, the server asks for ${offered.join(' or ')} (${line})`),
      source: 'auth',
    });
  }

  const body = res.status >= 400 ? bodyExcerpt(res) : undefined;
  if (body !== undefined) details.body = body;
  const problem =
    res.status === 401 ||
    res.status === 403 ||
    signals.some((s) => s.name === 'auth.error' || s.name === 'jwt.exp_past' || s.name === 'jwt.nbf_future' || s.name === 'jwt.malformed');
  const challengeText =
    challenges.length > 0 ? `; challenge: ${challenges.map((c) => [c.scheme, c.params.error].filter(Boolean).join(' ')).join(', ')}` : '';
  return {
    probe: 'auth',
    status: problem ? 'failed' : 'ok',
    durationMs: clock(),
    phases,
    summary: redact(`${line}${challengeText}${details.jwt ? `; ${details.jwt as string}` : ''}`),
    details,
    signals: dedupeSignals(signals),
    route: hop.route,
  };
}
