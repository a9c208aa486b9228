/**
 * The connect probe: the path through a forward proxy (`target.proxy`), phase by phase.
 *
 * 1. TCP to the proxy (the address `policy.checkProxy` pinned); TLS to it for an https:// proxy.
 * 2. For https:// targets, `CONNECT host:port HTTP/1.1` with `Host: host:port` (and
 *    `Proxy-Authorization: Basic …` from the proxy URL's user info, never printed), timed to the
 *    status line: connect.status, proxy.auth_required on 407, squid.error from X-Squid-Error,
 *    http.server from Server, connect.unsupported / connect.port_denied from the answer, and
 *    connect.reset_after when the proxy hangs up instead of answering.
 * 3. Through an established tunnel, the TLS handshake with the origin and the same certificate
 *    verdict as the tls probe (tls.error values).
 *
 * For http:// targets the proxy is asked in absolute form (`GET http://host/path HTTP/1.1`), as
 * clients do, and its status is reported (http.status).
 *
 * The CONNECT target goes through `policy.checkConnectTarget`. The restrictive policy sends the
 * pinned address (`CONNECT 93.184.216.34:443`) so the proxy cannot be steered elsewhere by DNS;
 * the allow-all policy (CLI) sends the name, since the proxy's name-based rules are part of what
 * is diagnosed, and lets a name that only the proxy can resolve through.
 */

import type { Socket } from 'node:net';
import type { Signal } from '../evidence/signal.js';
import type { Probe, ProbeContext, ProbeResult, PhaseTimings } from './probe.js';
import { redact, trusted, type Masked } from '../security/redact.js';
import {
  formatMs,
  guardedRun,
  headEnd,
  headerValue,
  parseHttpHead,
  probeSignal,
  readBounded,
  refusalResult,
  stopwatch,
  stoppedResult,
  timedConnect,
  type Deadline,
  type HttpHead,
} from './support/socket.js';
import { createTlsTrust, tlsDetails, tlsHandshake, tlsSignals, tlsSummary, type TlsTrustOptions } from './tls.js';
import { serverProduct } from '../evidence/vocab/products.js';

const NAME = 'connect';

/** Most bytes of a proxy's response head read before giving up on it. @defaultValue 16 KiB */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Body bytes kept for the excerpt in details. */
const BODY_EXCERPT_CHARS = 300;

/** Server header products, as the catalogue's http.server values name them. */

const UNSUPPORTED_TEXT =
  /method CONNECT is not allowed|CONNECT is not (?:implemented|supported)|CONNECT method (?:is )?not (?:allowed|supported)|Unsupported method|Method Not Allowed|Not Implemented/i;
const PORT_DENIED_TEXT =
  /Refused CONNECT method on port|Forbidden port|Tunnel Forbidden|CONNECT to port \d+ (?:is )?(?:not allowed|denied|forbidden)/i;

/** Options of {@link createConnectProbe}: the trust store for the origin's certificate. */
export interface ConnectProbeOptions extends TlsTrustOptions {
  /** Longest wait for a post-handshake alert from the origin (TLS 1.3 client certificates). @defaultValue 500 */
  readonly alertWaitMs?: number;
}

const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
const bare = (h: string) => h.replace(/^\[|\]$/g, '');

/** `http://proxy.corp:3128` without user info. */
function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** The Proxy-Authorization value: Basic from the proxy URL's user info, else one passed in target.headers. */
function proxyAuthorization(ctx: ProbeContext): { value: string; from: 'url' | 'header' } | undefined {
  const proxy = ctx.target.proxy!;
  if (proxy.username !== '' || proxy.password !== '') {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    return { value: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, from: 'url' };
  }
  const header = ctx.target.headers.find(([n]) => n.toLowerCase() === 'proxy-authorization');
  return header ? { value: header[1], from: 'header' } : undefined;
}

/** A connect probe with its own trust store for the origin certificate. */
export function createConnectProbe(options: ConnectProbeOptions = {}): Probe {
  const trust = createTlsTrust(options);
  const maxAlertWait = options.alertWaitMs ?? 500;

  async function runConnect(ctx: ProbeContext, deadline: Deadline): Promise<ProbeResult> {
    const clock = stopwatch();
    const proxy = ctx.target.proxy!;
    const url = ctx.target.url;
    const isHttps = url.protocol === 'https:';
    const label = proxyLabel(proxy);

    const checkedProxy = await ctx.policy.checkProxy(proxy, { signal: deadline.signal });
    if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
    if (!checkedProxy.ok) return refusalResult(NAME, checkedProxy, clock());

    const host = bare(url.hostname);
    const port = url.port === '' ? (isHttps ? 443 : 80) : Number(url.port);
    const authority = `${bracket(host)}:${port}`;
    const checkedTarget = await ctx.policy.checkConnectTarget(authority, { signal: deadline.signal });
    if (deadline.signal.aborted) return stoppedResult(NAME, deadline, clock());
    let requestAuthority = authority;
    const notes: string[] = [];
    if (!checkedTarget.ok) {
      if (!(checkedTarget.code === 'DNS_FAILED' && ctx.policy.allowAll)) {
        return {
          probe: NAME,
          status: 'refused',
          durationMs: clock(),
          phases: {},
          summary: redact(`${checkedTarget.reason}; ${checkedTarget.hint}`),
          details: { refusal: trusted(checkedTarget.code) },
          signals: [],
        };
      }
      notes.push(`${host} does not resolve here; the proxy resolves it`);
    } else if (!ctx.policy.allowAll) {
      requestAuthority = checkedTarget.pinnedAuthority;
    }

    const phases: PhaseTimings = {};
    const signals: Signal[] = [];
    const details: Record<string, Masked | number | boolean | readonly Masked[]> = {
      proxy: redact(label),
      proxyAddress: trusted(checkedProxy.address.address),
      target: redact(authority),
    };
    const proxyWhere = `proxy ${checkedProxy.authority}${checkedProxy.host === checkedProxy.address.address ? '' : ` (${checkedProxy.address.address})`}`;
    const result = (status: ProbeResult['status'], summary: string): ProbeResult => ({
      probe: NAME,
      status,
      durationMs: clock(),
      phases,
      summary: redact(notes.length > 0 ? `${summary} (${notes.join('; ')})` : summary),
      details,
      signals,
    });

    // 1. TCP (and TLS) to the proxy.
    const connected = await timedConnect({
      host: checkedProxy.host,
      port: checkedProxy.port,
      lookup: checkedProxy.lookup,
      signal: deadline.signal,
    });
    phases.connect = connected.ms;
    details.connectMs = connected.ms;
    if (!connected.ok) {
      let kind = connected.failure.kind;
      if (kind === 'aborted') {
        if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
        kind = 'connect_timeout';
      }
      const excerpt = redact(
        `connect to ${proxyWhere} failed after ${formatMs(connected.ms)}: ${kind}${connected.failure.code ? ` (${connected.failure.code})` : ''}`,
      );
      signals.push(probeSignal(NAME, 'net.error', kind, excerpt), probeSignal(NAME, 'net.phase', 'connect', excerpt));
      return result('failed', excerpt);
    }
    let socket: Socket = connected.socket;
    const onAbort = () => socket.destroy();
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (proxy.protocol === 'https:') {
        const hs = await tlsHandshake({ socket, host: checkedProxy.host, trust, signal: deadline.signal, now: ctx.now(), keepOpen: true });
        details.proxyTlsMs = hs.ms;
        if (!hs.ok || !hs.socket) {
          if (!hs.ok && hs.error === 'aborted')
            return stalled(deadline, clock, 'the TLS handshake with the proxy', proxyWhere, signals, result, 'tls');
          signals.push(...tlsSignals(NAME, hs, proxyWhere));
          Object.assign(details, tlsDetails(hs, 'proxyTls.'));
          return result('failed', tlsSummary(hs, proxyWhere));
        }
        Object.assign(details, tlsDetails(hs, 'proxyTls.'));
        socket = hs.socket;
      }

      // 2. The request to the proxy.
      const auth = proxyAuthorization(ctx);
      details.authSent = auth !== undefined;
      const requestLine = isHttps ? `CONNECT ${requestAuthority} HTTP/1.1` : `GET ${absoluteForm(url, requestAuthority)} HTTP/1.1`;
      const hostHeader = isHttps ? requestAuthority : url.host;
      const lines = [requestLine, `Host: ${hostHeader}`, 'User-Agent: gateway-triage-probe'];
      if (auth) lines.push(`Proxy-Authorization: ${auth.value}`);
      if (!isHttps) lines.push('Connection: close');
      const shownLine = redact(isHttps ? requestLine : requestLine.replace(/\?.*(?= HTTP)/, '?…'));
      details.request = shownLine;
      const sentWith = auth ? ` (with Proxy-Authorization from the ${auth.from === 'url' ? 'proxy URL' : '--header'})` : '';
      const sentExcerpt = redact(`${shownLine} sent to ${proxyWhere}${sentWith}`);
      if (isHttps) {
        signals.push(probeSignal(NAME, 'connect.sent', undefined, sentExcerpt));
        if (port !== 443)
          signals.push(probeSignal(NAME, 'connect.nonstandard_port', undefined, redact(`CONNECT target port ${port} is not 443`)));
      }
      const sentAt = stopwatch();
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      const head = await readBounded(socket, {
        maxBytes: MAX_HEAD_BYTES,
        signal: deadline.signal,
        until: (data) => headEnd(data),
      });
      const waitMs = sentAt();
      if (isHttps) phases.tunnel = head.firstByteMs ?? waitMs;
      else phases.processing = head.firstByteMs ?? waitMs;

      if (head.end === 'aborted') {
        const what = isHttps ? 'an answer to CONNECT' : 'an answer to the proxied GET';
        if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
        const excerpt = redact(`no ${what} from ${proxyWhere} within ${formatMs(waitMs)} (${head.data.length} bytes received)`);
        signals.push(probeSignal(NAME, 'net.error', 'read_timeout', excerpt), probeSignal(NAME, 'net.phase', 'response_header', excerpt));
        return result('failed', excerpt);
      }
      if (head.data.length === 0) {
        const how = head.end === 'error' ? `reset the connection (${head.failure?.code ?? 'RST'})` : 'closed the connection (FIN)';
        const excerpt = redact(
          `${proxyWhere} ${how} ${formatMs(waitMs)} after ${isHttps ? `CONNECT ${requestAuthority}` : 'the proxied GET'}, without an answer`,
        );
        details.closedBy = trusted(head.end === 'error' ? 'reset' : 'close');
        if (isHttps) signals.push(probeSignal(NAME, 'connect.reset_after', undefined, excerpt));
        signals.push(probeSignal(NAME, 'net.error', 'connection_reset', excerpt));
        return result('failed', excerpt);
      }
      const parsed = head.end === 'complete' ? parseHttpHead(head.data) : undefined;
      if (!parsed) {
        const printable = head.data
          .subarray(0, 48)
          .toString('latin1')
          .replace(/[^\x20-\x7e]/g, '.');
        const why =
          head.end === 'limit'
            ? `no end of the response head within ${MAX_HEAD_BYTES} bytes`
            : head.end === 'complete'
              ? 'not an HTTP response'
              : `the connection ended mid-head (${head.end})`;
        const excerpt = redact(`${proxyWhere} answered with ${why}: "${printable}"`);
        details.received = head.data.length;
        const value = head.end === 'eof' || head.end === 'error' ? 'unexpected_eof' : 'proto_error';
        signals.push(probeSignal(NAME, 'net.error', value, excerpt), probeSignal(NAME, 'net.phase', 'response_header', excerpt));
        return result('failed', excerpt);
      }

      describeHead(parsed, details, signals, proxyWhere, isHttps);
      const ok2xx = parsed.status >= 200 && parsed.status < 300;

      if (isHttps && ok2xx) {
        // 3. TLS with the origin through the tunnel.
        details.tunnel = true;
        const originWhere = `origin ${authority} through the tunnel`;
        const remaining = deadline.remaining();
        const hs = await tlsHandshake({
          socket,
          host,
          trust,
          signal: deadline.signal,
          now: ctx.now(),
          alertWaitMs: Math.min(maxAlertWait, Math.max(50, 2 * (phases.tunnel ?? 0)), remaining),
        });
        if (!hs.ok && hs.error === 'aborted')
          return stalled(deadline, clock, 'the TLS handshake with the origin', originWhere, signals, result, 'tls', hs.ms, phases);
        phases.tls = hs.ms;
        signals.push(...tlsSignals(NAME, hs, originWhere));
        Object.assign(details, tlsDetails(hs, 'tls.'));
        const bad = !hs.ok || (hs.cert?.problems.length ?? 0) > 0;
        return result(
          bad ? 'failed' : 'ok',
          `${proxyWhere}: CONNECT ${requestAuthority} → ${parsed.status} in ${formatMs(phases.tunnel ?? 0)}; ${tlsSummary(hs, originWhere)}`,
        );
      }

      // A refusal (or an http:// answer): read a bounded body for the excerpt and the hints in it.
      const body = await readBody(socket, parsed, head.data.subarray(parsed.length), ctx.limits.maxBodyBytes, deadline);
      if (!isHttps) phases.transfer = body.ms;
      const text = body.text;
      if (text) details.body = redact(text.slice(0, BODY_EXCERPT_CHARS));
      if (isHttps) {
        const where = `${proxyWhere} answered ${parsed.status}`;
        if (parsed.status === 405 || parsed.status === 501 || UNSUPPORTED_TEXT.test(text) || UNSUPPORTED_TEXT.test(parsed.reason)) {
          const m = UNSUPPORTED_TEXT.exec(text) ?? UNSUPPORTED_TEXT.exec(parsed.reason);
          signals.push(probeSignal(NAME, 'connect.unsupported', undefined, redact(`${where} to CONNECT${m ? `: "${m[0]}"` : ''}`)));
        }
        const portDenied = PORT_DENIED_TEXT.exec(text) ?? PORT_DENIED_TEXT.exec(parsed.reason);
        if (portDenied)
          signals.push(
            probeSignal(NAME, 'connect.port_denied', undefined, redact(`${where} to CONNECT ${requestAuthority}: "${portDenied[0]}"`)),
          );
      }
      const line = `${parsed.version} ${parsed.status} ${parsed.reason}`.trim();
      const summary = isHttps
        ? `${proxyWhere} refused CONNECT ${requestAuthority}: ${line} after ${formatMs(phases.tunnel ?? 0)}`
        : `${proxyWhere} answered the proxied GET with ${line} after ${formatMs(phases.processing ?? 0)}`;
      return result(!isHttps && parsed.status < 400 ? 'ok' : 'failed', summary);
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      connected.socket.destroy();
    }
  }

  return {
    name: NAME,
    describes:
      'Through the forward proxy: TCP, the CONNECT request and its answer (status, auth, Squid errors), then TLS with the origin in the tunnel',
    applies: (target) => target.proxy !== undefined,
    run: (ctx) => guardedRun(NAME, ctx, (deadline) => runConnect(ctx, deadline)),
  };
}

/** The connect probe trusting Node's bundled roots for the origin certificate. */
export const connectProbe: Probe = createConnectProbe();

/** `http://host:port/path?query` for a request in absolute form (no user info, no fragment). */
function absoluteForm(url: URL, authority: string): string {
  return `http://${authority}${url.pathname}${url.search}`;
}

/** Signals and details from a proxy's response head. */
function describeHead(
  head: HttpHead,
  details: Record<string, Masked | number | boolean | readonly Masked[]>,
  signals: Signal[],
  where: string,
  isConnect: boolean,
): void {
  const line = `${head.version} ${head.status} ${head.reason}`.trim();
  details.status = head.status;
  details.statusLine = redact(line);
  const shown = head.headers.filter(([n]) =>
    ['proxy-authenticate', 'x-squid-error', 'server', 'via', 'content-type', 'content-length', 'x-cache', 'retry-after'].includes(n),
  );
  details.headers = shown.map(([n, v]) => redact(`${n}: ${v}`.slice(0, 300)));
  const excerpt = redact(`${where}: ${line}`);
  signals.push(probeSignal(NAME, isConnect ? 'connect.status' : 'http.status', String(head.status), excerpt));
  const challenge = head.headers.filter(([n]) => n === 'proxy-authenticate').map(([, v]) => v.split(/\s/)[0] ?? v);
  if (head.status === 407 || challenge.length > 0) {
    signals.push(
      probeSignal(
        NAME,
        'proxy.auth_required',
        undefined,
        redact(`${where}: ${line}${challenge.length > 0 ? `; Proxy-Authenticate: ${challenge.join(', ')}` : ''}`),
      ),
    );
  }
  const squid = headerValue(head, 'x-squid-error');
  const squidName = squid ? /^(ERR_[A-Z_]+)/.exec(squid)?.[1] : undefined;
  if (squidName) signals.push(probeSignal(NAME, 'squid.error', squidName, redact(`${where}: X-Squid-Error: ${squid}`)));
  const server = headerValue(head, 'server');
  const product = server ? serverProduct(server) : undefined;
  if (product) signals.push(probeSignal(NAME, 'http.server', product, redact(`${where}: Server: ${server}`)));
}

/**
 * Read a response body: Content-Length bytes, a chunked body up to its last chunk, or until the
 * proxy closes; at most `max` bytes, stopping at the deadline or after 1 s without data.
 */
async function readBody(
  socket: Socket,
  head: HttpHead,
  already: Buffer,
  max: number,
  deadline: Deadline,
): Promise<{ text: string; ms: number }> {
  const clock = stopwatch();
  const chunked = /\bchunked\b/i.test(headerValue(head, 'transfer-encoding') ?? '');
  const lengthHeader = headerValue(head, 'content-length');
  const length = !chunked && lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const want = Math.min(max, length ?? max);
  const finish = (data: Buffer) => ({ text: stripTags((chunked ? dechunk(data) : data.subarray(0, want)).toString('utf8')), ms: clock() });
  const lastChunk = (data: Buffer) => (chunked && /(?:^|\r\n)0\r\n\r\n$/.test(data.subarray(-16).toString('latin1')) ? data.length : -1);
  if (already.length >= want || length === 0 || lastChunk(already) >= 0) return finish(already);
  const rest = await readBounded(socket, {
    maxBytes: want - already.length,
    signal: deadline.signal,
    idleMs: Math.max(1, Math.min(1000, deadline.remaining())),
    until: (data) => (lastChunk(Buffer.concat([already.subarray(-16), data])) >= 0 ? data.length : -1),
  });
  return finish(Buffer.concat([already, rest.data]).subarray(0, want));
}

/** Decode as much of a chunked body as is there (a cut-off last chunk is kept as far as it goes). */
function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < data.length) {
    const eol = data.indexOf('\r\n', off);
    if (eol < 0) break;
    const size = parseInt(data.subarray(off, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(data.subarray(eol + 2, Math.min(data.length, eol + 2 + size)));
    off = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function stripTags(html: string): string {
  return html
    .replace(/<(script|style)[^>]{0,200}>[\s\S]{0,20000}?<\/\1>/gi, ' ')
    .replace(/<[^>]{0,500}>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The result when the deadline passed in a phase (or the caller aborted). */
function stalled(
  deadline: Deadline,
  clock: () => number,
  what: string,
  where: string,
  signals: Signal[],
  result: (status: ProbeResult['status'], summary: string) => ProbeResult,
  phase: 'tls',
  ms?: number,
  phases?: PhaseTimings,
): ProbeResult {
  if (!deadline.expired()) return stoppedResult(NAME, deadline, clock());
  if (phases && ms !== undefined) phases.tls = ms;
  const excerpt = redact(`${what} (${where}) did not complete before the deadline`);
  signals.push(probeSignal(NAME, 'net.tls_handshake_timeout', undefined, excerpt), probeSignal(NAME, 'net.phase', phase, excerpt));
  return result('failed', excerpt);
}
