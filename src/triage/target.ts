import type { ProbeTarget } from '../probes/probe.js';

/** Raw diagnose input, as typed in a terminal, a Slack command or an API body. */
export interface TargetInput {
  readonly url: string;
  readonly proxy?: string;
  readonly upstream?: string;
  readonly headers?: readonly string[] | readonly (readonly [string, string])[];
  readonly origin?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
]);

/**
 * Validate a diagnose target. Returns every problem, each saying what to do; a valid target has
 * none. Nothing here touches the network: the SSRF policy runs in the probes.
 */
export function parseTarget(input: TargetInput): { target: ProbeTarget; problems: [] } | { target?: undefined; problems: string[] } {
  const problems: string[] = [];
  const url = parseHttpUrl(input.url, 'the URL', problems);
  let proxy: URL | undefined;
  if (input.proxy !== undefined) proxy = parseHttpUrl(input.proxy, '--proxy', problems);
  if (proxy && proxy.pathname !== '/' && proxy.pathname !== '')
    problems.push('--proxy takes a proxy address like http://proxy.corp:3128, without a path');

  let upstream: { host: string; port: number } | undefined;
  if (input.upstream !== undefined) {
    const m = /^(?:\[([0-9a-fA-F:.]{2,45})\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(input.upstream.trim());
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535)
      problems.push(`--upstream "${clip(input.upstream)}" is not HOST:PORT: e.g. --upstream 10.0.3.4:8080`);
    else upstream = { host: (m[1] ?? m[2])!, port };
  }

  const headers: [string, string][] = [];
  for (const h of input.headers ?? []) {
    let name: string;
    let value: string;
    if (typeof h === 'string') {
      const i = h.indexOf(':');
      if (i <= 0) {
        problems.push(`--header "${clip(h.split(':')[0] ?? '')}…" is not "Name: value": e.g. --header "Authorization: Bearer <token>"`);
        continue;
      }
      name = h.slice(0, i).trim();
      value = h.slice(i + 1).trim();
    } else {
      [name, value] = [h[0], h[1]];
    }
    if (!TOKEN.test(name)) problems.push(`header name "${clip(name)}" is not a valid HTTP header name`);
    else if (FORBIDDEN_HEADERS.has(name.toLowerCase())) problems.push(`header ${name} is set by the probes themselves: leave it out`);
    else if (/[\r\n\0]/.test(value) || value.length > 8192)
      problems.push(`the value of header ${name} must be one line of at most 8192 characters`);
    else headers.push([name, value]);
  }
  if (headers.length > 32) problems.push('at most 32 headers');

  let origin: string | undefined;
  if (input.origin !== undefined) {
    try {
      const o = new URL(input.origin);
      if ((o.protocol !== 'http:' && o.protocol !== 'https:') || o.origin === 'null') throw new Error();
      origin = o.origin;
    } catch {
      problems.push(`--origin "${clip(input.origin)}" is not an origin: e.g. --origin https://app.example.com`);
    }
  }
  if (problems.length > 0 || !url) return { problems };
  return {
    target: {
      url,
      headers,
      ...(proxy ? { proxy, proxyFrom: '--proxy' } : {}),
      ...(upstream ? { upstream } : {}),
      ...(origin ? { origin } : {}),
    },
    problems: [],
  };
}

function parseHttpUrl(raw: string, what: string, problems: string[]): URL | undefined {
  const text = raw.trim();
  if (text.length > 4096) {
    problems.push(`${what} is longer than 4096 characters`);
    return undefined;
  }
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    problems.push(`${what} "${clip(text)}" is not a URL: e.g. https://api.example.com/health`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    problems.push(`${what} must be http:// or https://, not ${u.protocol}//`);
    return undefined;
  }
  if (!u.hostname) {
    problems.push(`${what} has no host`);
    return undefined;
  }
  u.hash = '';
  return u;
}

/** Cut user text for a message; credentials in URLs are masked. */
function clip(s: string): string {
  return s.replace(/\/\/[^/@\s]{1,256}@/, '//***@').slice(0, 80);
}
