/**
 * Timing arithmetic for the probes (not a probe): which configured timeout a measured duration
 * lands on, and which proxy / load-balancer idle timeouts a measured backend idle timeout is
 * shorter than. Pure functions over two visible tables.
 */

import type { Signal } from '../evidence/signal.js';
import { trusted, type Masked } from '../security/redact.js';

/** A typical configured timeout. */
export interface TimeoutMark {
  /** The configured value, in seconds. */
  readonly seconds: number;
  /** The `timing.near_timeout` value. @example 'nginx_proxy_read_60s' */
  readonly name: string;
  /** Completes "lands on …". @example "nginx's default proxy_read_timeout" */
  readonly label: string;
  /** `http.server` values whose timeout this is; preferred when the response names that server. */
  readonly servers?: readonly string[];
}

/**
 * Request timeouts a 504 or a client timeout typically lands on, most common first (on a tie the
 * first one wins unless the server is known). Traefik has no default response timeout (its 60 s
 * `respondingTimeouts.readTimeout` bounds reading the client's request), so it is not listed.
 */
export const TYPICAL_TIMEOUTS: readonly TimeoutMark[] = [
  { seconds: 60, name: 'nginx_proxy_read_60s', label: "nginx's default proxy_read_timeout", servers: ['nginx', 'openresty'] },
  { seconds: 60, name: 'nginx_proxy_read_60s', label: "ingress-nginx's default proxy-read-timeout", servers: ['ingress-nginx'] },
  { seconds: 60, name: 'alb_idle_60s', label: "the AWS ALB's default idle timeout", servers: ['aws-alb', 'aws-elb'] },
  { seconds: 100, name: 'cloudflare_100s', label: "Cloudflare's proxy read timeout", servers: ['cloudflare'] },
  { seconds: 30, name: 'haproxy_timeout_server', label: 'a common HAProxy `timeout server`', servers: ['haproxy'] },
  {
    seconds: 50,
    name: 'haproxy_timeout_server',
    label: 'a common HAProxy `timeout server` (the packaged haproxy.cfg)',
    servers: ['haproxy'],
  },
  { seconds: 30, name: 'gcp_lb_backend_30s', label: "Google Cloud load balancing's default backend service timeout", servers: ['gcp-lb'] },
  { seconds: 15, name: 'envoy_route_15s', label: "Envoy's default route timeout", servers: ['envoy', 'istio'] },
  { seconds: 29, name: 'aws_apigateway_29s', label: "AWS API Gateway's integration timeout", servers: ['aws-apigateway'] },
  { seconds: 20, name: 'azure_appgw_20s', label: "Azure Application Gateway's default request timeout", servers: ['azure-appgw'] },
];

/** How close a duration must be to a mark: ±5 % of the mark or ±0.5 s, whichever is larger. */
export const NEAR_TOLERANCE = { fraction: 0.05, seconds: 0.5 } as const;

/** What {@link nearTimeout} found. */
export interface NearTimeout {
  /** The mark it lands on. */
  readonly mark: TimeoutMark;
  /** Other marks within the tolerance (other products with the same value). */
  readonly others: readonly TimeoutMark[];
  /** @example '504 after 60.02 s: lands on nginx\'s default proxy_read_timeout (60 s)' */
  readonly excerpt: Masked;
}

/** Options of {@link nearTimeout}. */
export interface NearTimeoutOptions {
  /** The `http.server` the response named; its marks win. @example 'haproxy' */
  readonly server?: string;
  /** Timeouts measured in this run (e.g. the proxy's), checked before the table. */
  readonly measured?: readonly TimeoutMark[];
  /** What lasted that long, to start the excerpt. @defaultValue 'took' @example '504' */
  readonly what?: string;
}

/** Whether `seconds` is within the tolerance of `mark`. */
export function isNear(seconds: number, mark: TimeoutMark): boolean {
  const tolerance = Math.max(mark.seconds * NEAR_TOLERANCE.fraction, NEAR_TOLERANCE.seconds);
  return Math.abs(seconds - mark.seconds) <= tolerance;
}

/** Seconds with at most two decimals: `60.02 s`, `15 s`. */
export function formatSeconds(seconds: number): string {
  return `${Math.round(seconds * 100) / 100} s`;
}

/**
 * The typical configured timeout a duration lands on: a measured mark first, then the server's
 * own marks, then the closest mark of the table.
 *
 * @example nearTimeout(60_020, { what: '504' })?.mark.name === 'nginx_proxy_read_60s'
 * @example nearTimeout(30_100, { server: 'haproxy' })?.mark.name === 'haproxy_timeout_server'
 */
export function nearTimeout(durationMs: number, opts: NearTimeoutOptions = {}): NearTimeout | undefined {
  if (!Number.isFinite(durationMs) || durationMs <= 0) return undefined;
  const seconds = durationMs / 1000;
  const measured = (opts.measured ?? []).filter((m) => isNear(seconds, m));
  const table = TYPICAL_TIMEOUTS.filter((m) => isNear(seconds, m));
  const distance = (m: TimeoutMark) => Math.abs(seconds - m.seconds);
  const byDistance = [...table].sort((a, b) => distance(a) - distance(b));
  const server = opts.server?.toLowerCase();
  const own = server ? byDistance.find((m) => m.servers?.includes(server)) : undefined;
  const mark = measured[0] ?? own ?? byDistance[0];
  if (!mark) return undefined;
  const others = [...measured, ...byDistance].filter((m) => m !== mark && m.label !== mark.label);
  const also = others.length > 0 ? `; also ${others.map((m) => `${m.label} (${formatSeconds(m.seconds)})`).join(', ')}` : '';
  const excerpt = trusted(
    `${opts.what ?? 'took'} after ${formatSeconds(seconds)}: lands on ${mark.label} (${formatSeconds(mark.seconds)})${also}`,
  );
  return { mark, others, excerpt };
}

/** {@link nearTimeout} as a `timing.near_timeout` signal, or undefined. */
export function nearTimeoutSignal(durationMs: number, source: string, opts: NearTimeoutOptions = {}): Signal | undefined {
  const near = nearTimeout(durationMs, opts);
  return near ? { name: 'timing.near_timeout', value: near.mark.name, excerpt: near.excerpt, source } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Idle timeouts

/** A proxy's or load balancer's idle timeout for connections it keeps (to the backend, or from clients). */
export interface IdleMark {
  readonly seconds: number;
  /** @example 'nginx upstream keepalive_timeout' */
  readonly label: string;
}

/**
 * How long proxies and load balancers typically keep an idle keep-alive connection to a backend
 * before they drop it. A backend that closes idle connections sooner races them: the proxy
 * sends a request on a connection the backend is closing, and gets a reset (idle-timeout-mismatch).
 */
export const PROXY_IDLE_TIMEOUTS: readonly IdleMark[] = [
  { seconds: 60, label: 'nginx upstream keepalive_timeout (default 60 s)' },
  { seconds: 60, label: 'AWS ALB idle timeout (default 60 s)' },
  { seconds: 600, label: 'Google Cloud load balancer keep-alive to backends (600 s)' },
  { seconds: 10, label: 'a common HAProxy `timeout http-keep-alive` (10 s)' },
  { seconds: 90, label: 'Traefik idleConnTimeout (default 90 s)' },
  { seconds: 3600, label: 'Envoy upstream idle_timeout (default 1 h)' },
];

/** The idle timeouts of {@link PROXY_IDLE_TIMEOUTS} that are longer than `idleMs`, shortest first. */
export function longerIdleTimeouts(idleMs: number): IdleMark[] {
  return PROXY_IDLE_TIMEOUTS.filter((m) => m.seconds * 1000 > idleMs).sort((a, b) => a.seconds - b.seconds);
}
