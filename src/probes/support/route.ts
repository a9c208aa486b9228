/**
 * The route an HTTP-level probe's request takes: straight to the pinned address of the URL's host,
 * or through the forward proxy of the target (`--proxy`, a proxy in the Slack command or the API
 * body, or the CLI's https_proxy / http_proxy / NO_PROXY): `CONNECT host:port` for https://, an
 * absolute-form request for http://. Every hop passes the SSRF policy first: the URL itself when
 * direct; the proxy and the CONNECT (or absolute-form) target when proxied.
 *
 * The proxy's credentials (from its URL, or a `Proxy-Authorization` header of the target) travel
 * only to the proxy and never appear in a route's label.
 */

import type { LookupFunction } from 'node:net';
import { redact, type Masked } from '../../security/redact.js';
import type { SsrfRefusal, SsrfTarget } from '../../security/ssrf.js';
import type { ProbeContext } from '../probe.js';

/** A forward proxy to go through, checked and pinned. */
export interface ProxyRoute {
  /** The proxy, as the SSRF policy pinned it (connect with its `lookup`). */
  readonly proxy: SsrfTarget;
  /** An https:// proxy: TLS to the proxy first. */
  readonly tls: boolean;
  /**
   * What the proxy is asked for: the CONNECT target, or the authority of an absolute-form URL. The
   * pinned address under the restrictive policy (the proxy cannot be steered by DNS), the name
   * under the CLI's allow-all one (the proxy's name-based rules are part of what is diagnosed).
   */
  readonly authority: string;
  /** The Proxy-Authorization value. A secret: sent to the proxy only, never shown. */
  readonly authorization?: string;
  /** The proxy URL without credentials. @example 'http://proxy.corp:3128' */
  readonly label: string;
  /** For excerpts. @example 'proxy proxy.corp:3128 (10.0.0.8)' */
  readonly where: string;
}

/** One request's way to its URL. */
export interface Hop {
  /** The URL to request (as the policy normalised it). */
  readonly url: URL;
  /** The pinned lookup of what is connected to: the URL's host, or the proxy. */
  readonly lookup: LookupFunction;
  /** `address:port` connected to (the proxy's when proxied). */
  readonly address: string;
  /** Set when the request goes through a forward proxy. */
  readonly via?: ProxyRoute;
  /** What the answer shows: `direct`, or the proxy and how it is asked. */
  readonly route: Masked;
  /** A remark for the summary. @example 'api.internal does not resolve here; the proxy resolves it' */
  readonly note?: string;
}

export type HopPlan = { readonly ok: true; readonly hop: Hop } | { readonly ok: false; readonly refusal: SsrfRefusal };

const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
const bare = (h: string) => h.replace(/^\[|\]$/g, '');

/** `http://proxy.corp:3128`, never with user info. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** The Proxy-Authorization to send: Basic from the proxy URL's user info, else a `Proxy-Authorization` header of the target. */
export function proxyAuthorization(ctx: ProbeContext): { value: string; from: 'url' | 'header' } | undefined {
  const proxy = ctx.target.proxy;
  if (!proxy) return undefined;
  if (proxy.username !== '' || proxy.password !== '') {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    return { value: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, from: 'url' };
  }
  const header = ctx.target.headers.find(([n]) => n.toLowerCase() === 'proxy-authorization');
  return header ? { value: header[1], from: 'header' } : undefined;
}

/** The label of a route for a method and URL. @example 'proxy http://proxy.corp:3128 (CONNECT api.example.com:443)' */
export function routeLabel(via: ProxyRoute | undefined, url: URL, method = 'GET'): Masked {
  if (!via) return redact('direct');
  return redact(
    url.protocol === 'https:' ? `proxy ${via.label} (CONNECT ${via.authority})` : `proxy ${via.label} (absolute-form ${method})`,
  );
}

/**
 * The way to `url` for this run's target: direct (the URL checked and pinned by the policy) or
 * through its proxy (the proxy checked and pinned, the target checked as a CONNECT target). A
 * refusal says which rule refused; a name only the proxy can resolve is let through under the
 * allow-all policy and refused under the restrictive one (it cannot be checked from here).
 */
export async function planHop(ctx: ProbeContext, url: URL, signal: AbortSignal, method = 'GET'): Promise<HopPlan> {
  const proxyUrl = ctx.target.proxy;
  if (!proxyUrl) {
    const checked = await ctx.policy.check(url, { signal });
    if (!checked.ok) return { ok: false, refusal: checked };
    const to = checked.url ?? url;
    return { ok: true, hop: { url: to, lookup: checked.lookup, address: checked.pinnedAuthority, route: routeLabel(undefined, to) } };
  }
  const proxy = await ctx.policy.checkProxy(proxyUrl, { signal });
  if (!proxy.ok) return { ok: false, refusal: proxy };
  const host = bare(url.hostname);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const authority = `${bracket(host)}:${port}`;
  const target = await ctx.policy.checkConnectTarget(authority, { signal });
  if (!target.ok && !(target.code === 'DNS_FAILED' && ctx.policy.allowAll)) {
    // Through a proxy a name that does not resolve here is no evidence of a DNS failure: the proxy resolves it.
    return { ok: false, refusal: target.code === 'DNS_FAILED' ? { ...target, code: 'SSRF_REFUSED' } : target };
  }
  const auth = proxyAuthorization(ctx);
  const via: ProxyRoute = {
    proxy,
    tls: proxyUrl.protocol === 'https:',
    authority: target.ok && !ctx.policy.allowAll ? target.pinnedAuthority : authority,
    ...(auth ? { authorization: auth.value } : {}),
    label: proxyLabel(proxyUrl),
    where: `proxy ${proxy.authority}${proxy.host === proxy.address.address ? '' : ` (${proxy.address.address})`}`,
  };
  const note = target.ok ? undefined : `${host} does not resolve here; the proxy resolves it`;
  return {
    ok: true,
    hop: { url, lookup: proxy.lookup, address: proxy.pinnedAuthority, via, route: routeLabel(via, url, method), ...(note ? { note } : {}) },
  };
}

/** The next hop of a redirect: checked like the first (the policy's redirect rules when direct). */
export async function planRedirect(ctx: ProbeContext, location: string, from: URL, signal: AbortSignal): Promise<HopPlan> {
  if (!ctx.target.proxy) {
    const checked = await ctx.policy.checkRedirect(location, from, { signal });
    if (!checked.ok) return { ok: false, refusal: checked };
    const to = checked.url ?? new URL(location, from);
    return { ok: true, hop: { url: to, lookup: checked.lookup, address: checked.pinnedAuthority, route: routeLabel(undefined, to) } };
  }
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    return {
      ok: false,
      refusal: {
        ok: false,
        code: 'BAD_URL',
        reason: `Location "${location.slice(0, 100)}" is not a valid URL`,
        hint: 'the server sent an invalid redirect',
      },
    };
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    return {
      ok: false,
      refusal: {
        ok: false,
        code: 'BAD_URL',
        reason: `a redirect to ${next.protocol}// is not followed`,
        hint: 'only http and https are probed',
      },
    };
  next.hash = '';
  return planHop(ctx, next, signal);
}
