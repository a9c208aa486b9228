/**
 * The dns probe: A and AAAA for the URL's host (and the proxy's and upstream's host when given),
 * with the resolution time. It asks DNS directly (node:dns Resolver, one try, a timeout), and falls
 * back to the system resolver (`lookup`: /etc/hosts, nsswitch) when DNS has no answer, so names
 * like `localhost` resolve as the client would see them.
 *
 * NXDOMAIN / no data → net.error=dns_not_found; SERVFAIL, REFUSED, a timeout or EAI_AGAIN →
 * net.error=dns_temporary. IP literal hosts are skipped.
 */

import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { Signal } from '../evidence/signal.js';
import type { Probe, ProbeContext, ProbeResult, ProbeTarget } from './probe.js';
import type { SsrfResult } from '../security/ssrf.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import {
  errorCode,
  formatMs,
  guardedRun,
  probeSignal,
  refusalResult,
  skippedResult,
  stopwatch,
  stoppedResult,
  type Deadline,
} from './support/socket.js';

const NAME = 'dns';

/** Options of {@link createDnsProbe}. */
export interface DnsProbeOptions {
  /**
   * DNS servers to ask, `ip` or `ip:port`.
   * @defaultValue the system's servers (`dns.getServers()`)
   * @example ['10.0.0.2', '127.0.0.1:5353']
   */
  readonly servers?: readonly string[];
  /** Timeout of one query in ms, capped by the probe's remaining budget. @defaultValue 3000 */
  readonly queryTimeoutMs?: number;
  /**
   * The system resolver used when DNS has no answer (hosts file names such as `localhost`);
   * `false` turns the fallback off. @defaultValue `dns.promises.lookup(name, { all: true })`
   */
  readonly systemLookup?: false | ((hostname: string) => Promise<readonly LookupAddress[]>);
}

/** The defaults of {@link DnsProbeOptions}. */
export const DNS_PROBE_DEFAULTS = {
  queryTimeoutMs: 3000,
  systemLookup: (hostname: string): Promise<readonly LookupAddress[]> => dnsPromises.lookup(hostname, { all: true }),
} as const;

type Role = 'url' | 'proxy' | 'upstream';

/** `applies` only needs the host names, not the checks. */
const NO_POLICY = {} as ProbeContext['policy'];

interface HostJob {
  readonly role: Role;
  readonly host: string;
  check(signal: AbortSignal): Promise<SsrfResult>;
}

type DnsFailure = 'dns_not_found' | 'dns_temporary';

interface HostAnswer {
  readonly job: HostJob;
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  readonly ms: number;
  /** Where the answer came from. */
  readonly source: 'dns' | 'system' | 'none';
  /** What DNS said when it gave no address (codes per query), e.g. 'A ENOTFOUND, AAAA ENOTFOUND'. */
  readonly dnsSaid?: string;
  readonly failure?: DnsFailure;
  readonly failureText?: string;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);
const TEMPORARY = new Set(['ETIMEOUT', 'ESERVFAIL', 'EREFUSED', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT']);
const RCODE_WORDS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'no data',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ETIMEOUT: 'no answer',
  ECONNREFUSED: 'server unreachable',
};

const ROLE_WORDS: Readonly<Record<Role, string>> = { url: '', proxy: 'proxy host ', upstream: 'upstream host ' };

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

function jobsFor(target: ProbeTarget, policy: ProbeContext['policy']): HostJob[] {
  const jobs: HostJob[] = [];
  const add = (role: Role, host: string, check: HostJob['check']) => {
    const h = bare(host).toLowerCase();
    if (h === '' || isIP(h) !== 0 || jobs.some((j) => j.host === h)) return;
    jobs.push({ role, host: h, check });
  };
  add('url', target.url.hostname, (signal) => policy.check(target.url, { signal }));
  if (target.proxy) {
    const proxy = target.proxy;
    add('proxy', proxy.hostname, (signal) => policy.checkProxy(proxy, { signal }));
  }
  if (target.upstream) {
    const { host, port } = target.upstream;
    add('upstream', host, (signal) => policy.checkConnectTarget(`${host.includes(':') ? `[${bare(host)}]` : host}:${port}`, { signal }));
  }
  return jobs;
}

/** A dns probe with its own servers, timeout or fallback (tests, `--dns-server`). */
export function createDnsProbe(options: DnsProbeOptions = {}): Probe {
  const queryTimeoutMs = options.queryTimeoutMs ?? DNS_PROBE_DEFAULTS.queryTimeoutMs;
  const systemLookup = options.systemLookup === undefined ? DNS_PROBE_DEFAULTS.systemLookup : options.systemLookup;
  const servers = options.servers;

  async function resolveHost(job: HostJob, deadline: Deadline): Promise<HostAnswer> {
    const clock = stopwatch();
    const resolver = new dnsPromises.Resolver({ timeout: Math.max(1, Math.min(queryTimeoutMs, deadline.remaining())), tries: 1 });
    if (servers) resolver.setServers([...servers]);
    const onAbort = () => resolver.cancel();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    let settled: PromiseSettledResult<string[]>[];
    try {
      settled = await Promise.allSettled([resolver.resolve4(job.host), resolver.resolve6(job.host)]);
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
    }
    const [ra, raaaa] = settled as [PromiseSettledResult<string[]>, PromiseSettledResult<string[]>];
    const a = ra.status === 'fulfilled' ? ra.value : [];
    const aaaa = raaaa.status === 'fulfilled' ? raaaa.value : [];
    if (a.length + aaaa.length > 0) return { job, a, aaaa, ms: clock(), source: 'dns' };

    const codeA = ra.status === 'rejected' ? (errorCode(ra.reason) ?? 'ERROR') : 'ENODATA';
    const codeAAAA = raaaa.status === 'rejected' ? (errorCode(raaaa.reason) ?? 'ERROR') : 'ENODATA';
    const dnsSaid = `A ${codeA}, AAAA ${codeAAAA}`;
    const server = servers?.[0] ?? resolver.getServers()[0] ?? 'the system resolver';
    let failure: DnsFailure | undefined;
    let failureText: string | undefined;
    if (codeA === 'ENOTFOUND' || (NOT_FOUND.has(codeA) && NOT_FOUND.has(codeAAAA))) {
      failure = 'dns_not_found';
      failureText = codeA === 'ENOTFOUND' ? `NXDOMAIN (ENOTFOUND) from ${server}` : `no A or AAAA records (ENODATA) from ${server}`;
    } else if (TEMPORARY.has(codeA) || TEMPORARY.has(codeAAAA)) {
      const code = TEMPORARY.has(codeA) ? codeA : codeAAAA;
      failure = 'dns_temporary';
      failureText = `${RCODE_WORDS[code] ?? code} (${code}) from ${server}`;
    }
    if (deadline.signal.aborted) {
      return {
        job,
        a,
        aaaa,
        ms: clock(),
        source: 'none',
        dnsSaid,
        failure: 'dns_temporary',
        failureText: `no answer from ${server} within the budget`,
      };
    }

    if (systemLookup) {
      const fallback = await lookupWithin(systemLookup, job.host, deadline.signal);
      if (Array.isArray(fallback)) {
        const sa = fallback.filter((x) => x.family === 4).map((x) => x.address);
        const saaaa = fallback.filter((x) => x.family === 6).map((x) => x.address);
        return { job, a: sa, aaaa: saaaa, ms: clock(), source: 'system', dnsSaid };
      }
      if (!failure) {
        const code = typeof fallback === 'string' ? fallback : 'ERROR';
        failure = NOT_FOUND.has(code) ? 'dns_not_found' : 'dns_temporary';
        failureText = `${dnsSaid} from ${server}; the system resolver says ${code}`;
      } else if (fallback === 'aborted' && !failureText) {
        failureText = `no answer within the budget`;
      }
    }
    return {
      job,
      a,
      aaaa,
      ms: clock(),
      source: 'none',
      dnsSaid,
      failure: failure ?? 'dns_temporary',
      failureText: failureText ?? `${dnsSaid} from ${server}`,
    };
  }

  async function runDns(ctx: ProbeContext, deadline: Deadline): Promise<ProbeResult> {
    const clock = stopwatch();
    const jobs = jobsFor(ctx.target, ctx.policy);
    if (jobs.length === 0) return skippedResult(NAME, 'every host is an IP address');

    for (const job of jobs) {
      const checked = await job.check(deadline.signal);
      if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
      if (!checked.ok && checked.code !== 'DNS_FAILED') return refusalResult(NAME, checked, clock());
    }

    const answers = await Promise.all(jobs.map((job) => resolveHost(job, deadline)));
    if (deadline.aborted()) return stoppedResult(NAME, deadline, clock());

    const signals: Signal[] = [];
    const details: Record<string, Masked | number | boolean | readonly Masked[]> = {};
    const lines: string[] = [];
    for (const ans of answers) {
      const { role, host } = ans.job;
      const who = `${ROLE_WORDS[role]}${host}`;
      details[`${role}.host`] = redact(host);
      details[`${role}.a`] = ans.a.map(trusted);
      details[`${role}.aaaa`] = ans.aaaa.map(trusted);
      details[`${role}.ms`] = ans.ms;
      details[`${role}.source`] = trusted(ans.source);
      if (ans.dnsSaid) details[`${role}.dns`] = trusted(ans.dnsSaid);
      if (ans.failure && role === 'url' && ctx.target.proxy) {
        // Through a forward proxy the proxy resolves the URL's host, not this machine (curl -x does
        // not resolve it locally): what this resolver says is shown, and is no evidence.
        lines.push(redact(`A/AAAA for ${who} here: ${ans.failureText ?? ans.failure} (not used: the proxy resolves it)`));
        details[`${role}.resolved_by`] = trusted('proxy');
      } else if (ans.failure) {
        const excerpt = redact(`A/AAAA for ${who}: ${ans.failureText ?? ans.failure} after ${formatMs(ans.ms)}`);
        signals.push(probeSignal(NAME, 'net.error', ans.failure, excerpt));
        lines.push(excerpt);
      } else {
        const all = [...ans.a, ...ans.aaaa];
        const via = ans.source === 'system' ? ' (system resolver / hosts file; DNS had no answer)' : '';
        lines.push(`${who} → ${all.slice(0, 4).join(', ')}${all.length > 4 ? ` (+${all.length - 4})` : ''} in ${formatMs(ans.ms)}${via}`);
      }
    }
    if (servers) details.servers = servers.map((s) => redact(s));
    const failed = signals.length > 0;
    if (failed) signals.push(probeSignal(NAME, 'net.phase', 'dns', signals[0]!.excerpt));
    const main = answers.find((x) => x.job.role === 'url') ?? answers[0]!;
    return {
      probe: NAME,
      status: failed ? 'failed' : 'ok',
      durationMs: clock(),
      phases: { resolve: main.ms },
      summary: redact(lines.join('; ')),
      details,
      signals,
    };
  }

  return {
    name: NAME,
    describes: "A and AAAA for the URL's host (and the proxy's / upstream's): resolution time; NXDOMAIN vs SERVFAIL / timeout",
    applies: (target) => jobsFor(target, NO_POLICY).length > 0,
    run: (ctx) => guardedRun(NAME, ctx, (deadline) => runDns(ctx, deadline)),
  };
}

/** The dns probe with the system's DNS servers. */
export const dnsProbe: Probe = createDnsProbe();

/** The system lookup, abandoned when `signal` aborts: the addresses, or the error code, or 'aborted'. */
async function lookupWithin(
  lookup: (hostname: string) => Promise<readonly LookupAddress[]>,
  host: string,
  signal: AbortSignal,
): Promise<readonly LookupAddress[] | string> {
  if (signal.aborted) return 'aborted';
  return new Promise((resolve) => {
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    lookup(host)
      .then(
        (addresses) => resolve(addresses.length > 0 ? addresses : 'ENODATA'),
        (err: unknown) => resolve(errorCode(err) ?? 'ERROR'),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
