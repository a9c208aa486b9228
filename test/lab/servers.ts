import { readFileSync } from 'node:fs';
import { labCerts, type LabCerts } from './certs.js';
import type { HeaderList } from './client.js';
import { scenarios, type ScenarioName } from './scenarios.js';

export { scenarios, type ScenarioName } from './scenarios.js';

/**
 * The lab: real proxies and small node servers, each started in one failure mode an SRE meets.
 *
 * ```ts
 * const lab = await startLab('nginx-upstream-refused');
 * // GET lab.url → 502 from nginx; lab.readLog('error') has "connect() failed (111: Connection refused)"
 * await lab.stop();
 * ```
 */

/** The ids of the cause taxonomy (`knowledge/<family>/<id>.yaml`) that the lab stages. */
export type LabCause =
  | 'connect-unsupported'
  | 'connect-port-denied'
  | 'proxy-auth-required'
  | 'upstream-refused'
  | 'upstream-unhealthy'
  | 'upstream-overloaded'
  | 'upstream-closed-early'
  | 'idle-timeout-mismatch'
  | 'dns-failure'
  | 'upstream-slow'
  | 'tls-cert-expired'
  | 'tls-cert-untrusted'
  | 'tls-hostname-mismatch'
  | 'tls-wrong-version'
  | 'http-to-https-port'
  | 'redirect-loop'
  | 'auth-missing'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'acl-deny';

/** A running scenario: what a client (or `diagnose`) needs to reproduce the failure. */
export interface Lab {
  readonly scenario: ScenarioName;
  /** The cause `diagnose` should rank first; null for the working contrasts (`tls-valid`, `tinyproxy-connect-ok`). */
  readonly cause: LabCause | null;
  /** The URL that fails (through {@link proxyUrl} when set). @example 'http://127.0.0.1:41234/api/orders' */
  readonly url: string;
  /** The forward proxy the request goes through, for the tunnel scenarios. @example 'http://127.0.0.1:38211' */
  readonly proxyUrl?: string;
  /** The backend behind the reverse proxy, for the availability scenarios. */
  readonly upstream?: { readonly host: string; readonly port: number };
  /** PEM of the lab root CA, for the scenarios served over TLS; trust it to isolate the one thing wrong. */
  readonly ca?: string;
  /** Headers the failing client sends (the expired Bearer token …). */
  readonly headers: HeaderList;
  /** Headers that make the same request succeed, where the failure is about credentials. */
  readonly workingHeaders?: HeaderList;
  /** Log name → file of the process under test: nginx `error`/`access`, Squid `cache`/`access`, every daemon's `output`. */
  readonly logs: Readonly<Record<string, string>>;
  /** The current content of a log ('' when it does not exist). */
  readLog(name: string): string;
  /** Stop every process and server of the scenario and remove its files; bounded, idempotent. */
  stop(): Promise<void>;
}

/** Knobs for {@link startLab}; every field has its default in {@link DEFAULT_LAB_OPTIONS}. */
export interface LabOptions {
  /** Bound on each process's start (port accepting) and on a scenario reaching its failure state, in ms. */
  readonly readyTimeoutMs: number;
  /** The proxy read timeout in the slow-upstream scenarios (nginx `proxy_read_timeout`, HAProxy `timeout server`), in s. */
  readonly proxyTimeoutS: number;
  /** How long the slow upstream takes to answer, in ms (must exceed `proxyTimeoutS`). */
  readonly slowUpstreamDelayMs: number;
  /** How long the `nginx-upstream-slow-direct` backend takes, in ms: above `proxyTimeoutS`, well inside a probe's budget. */
  readonly directSlowDelayMs: number;
  /** The keep-alive idle timeout of the `upstream-short-keepalive` app, in ms. */
  readonly keepAliveIdleMs: number;
}

export const DEFAULT_LAB_OPTIONS: LabOptions = {
  readyTimeoutMs: 10_000,
  proxyTimeoutS: 1,
  slowUpstreamDelayMs: 3_000,
  directSlowDelayMs: 2_000,
  keepAliveIdleMs: 1_000,
};

/** Something a scenario started and the lab must stop. */
export type Stoppable = { close(): Promise<void> } | { stop(): Promise<void> };

/** What a scenario's start function gets. */
export interface ScenarioContext {
  readonly opts: LabOptions;
  certs(): Promise<LabCerts>;
  /** Register a server or daemon so the lab stops it (last started, first stopped), also when a later start fails. */
  own<T extends Stoppable>(resource: T): T;
}

/** What a scenario's start function returns: the {@link Lab} minus what startLab adds. */
export type ScenarioEndpoints = Pick<Lab, 'url' | 'proxyUrl' | 'upstream' | 'ca' | 'workingHeaders'> & {
  readonly headers?: HeaderList;
  readonly logs?: Readonly<Record<string, string>>;
};

/** One failure mode: its expected cause and how to start it. One entry per scenario in `scenarios.ts`. */
export interface Scenario {
  readonly cause: LabCause | null;
  /** One line: what is wrong, as an SRE would say it. */
  readonly summary: string;
  start(ctx: ScenarioContext): Promise<ScenarioEndpoints>;
}

/** Start a scenario and resolve once it is in its failure state. Always pair with `stop()` (afterAll). */
export async function startLab(scenario: ScenarioName, options: Partial<LabOptions> = {}): Promise<Lab> {
  const opts: LabOptions = { ...DEFAULT_LAB_OPTIONS, ...options };
  const definition: Scenario = scenarios[scenario];
  const owned: Stoppable[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const resource of owned.splice(0).reverse()) {
        await ('stop' in resource ? resource.stop() : resource.close()).catch(() => {});
      }
    })());
  try {
    const endpoints = await definition.start({
      opts,
      certs: labCerts,
      own: (resource) => {
        owned.push(resource);
        return resource;
      },
    });
    const logs = endpoints.logs ?? {};
    return {
      ...endpoints,
      scenario,
      cause: definition.cause,
      headers: endpoints.headers ?? [],
      logs,
      readLog: (name) => {
        const path = logs[name];
        if (path === undefined)
          throw new Error(`scenario ${scenario} has no log "${name}"; it has: ${Object.keys(logs).join(', ') || 'none'}`);
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return '';
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
