/**
 * The one conformance suite every probe passes (see the contract in src/probes/probe.ts):
 *
 * - it applies to the target its setup builds, and `run` never throws (against servers that
 *   refuse, hang, reset, stream forever or echo the request);
 * - it honours abort: resolves quickly after `ctx.signal` aborts (and at once when already aborted);
 * - it honours `limits.timeoutMs` against a server that never answers;
 * - it bounds bytes against a server that streams forever (resolves long before its budget and
 *   hangs up);
 * - it masks secrets: an `Authorization: Bearer SECRET123456` (and a cookie, an API key) passed in
 *   `target.headers` never appears in `JSON.stringify(result)`;
 * - its signals are well-formed: catalogue names, declared values, `source` = the probe name,
 *   masked excerpts;
 * - a restrictive policy refuses a loopback target with status `refused` and no connection.
 *
 * @example
 * runProbeConformance(tcpProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Probe, ProbeResult } from '../../src/probes/probe.js';
import { loadKnowledgeOrThrow } from '../../src/knowledge/load.js';
import {
  closedPort,
  makeContext,
  restrictivePolicy,
  startSilentServer,
  startSilentUdp,
  startStreamingServer,
  startResettingServer,
  startTcpServer,
  type LocalServer,
  type TargetInit,
} from './support.js';

/** A local endpoint the suite points the probe at: a TCP port, plus a UDP port on 127.0.0.1 that never answers. */
export interface ConformanceServer {
  readonly host: '127.0.0.1';
  /** The TCP port (what the server does depends on the check). */
  readonly port: number;
  /** A UDP port that receives and never answers (for a DNS resolver address). */
  readonly udpPort: number;
}

/** How to point a probe at the suite's servers. */
export interface ConformanceSetup {
  /**
   * The target aimed at `server`; the probe must apply to it. Put the server in the URL, the proxy
   * or the upstream, as the probe needs.
   * @example (s) => ({ url: `https://127.0.0.1:${s.port}/` })
   */
  target(server: ConformanceServer): TargetInit;
  /**
   * The probe instance to run against `server`, when more than the target points it there (a DNS
   * probe's resolver address). @defaultValue the probe given to {@link runProbeConformance}
   */
  probeFor?(server: ConformanceServer): Probe;
  /** Told apart in the suite's title when one probe runs the suite twice. @example 'http:// target' */
  readonly label?: string;
  /** Whether a restrictive policy must refuse the target (loopback). @defaultValue true */
  readonly refusesLoopback?: boolean;
}

const SECRET = 'SECRET123456';
const SECRET_HEADERS: readonly (readonly [string, string])[] = [
  ['Authorization', `Bearer ${SECRET}`],
  ['Cookie', `session=${SECRET}`],
  ['X-Api-Key', SECRET],
];

type Kind = 'refused' | 'silent' | 'reset' | 'stream-head' | 'stream-body' | 'echo';

/** An echo server: answers each request head with a 200 whose body is that head (headers included). */
function startEchoServer(): Promise<LocalServer> {
  return startTcpServer((socket) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 && buf.length < 65536) return;
      const body = buf.slice(0, end < 0 ? buf.length : end + 4);
      buf = '';
      if (/^CONNECT /.test(body)) socket.write(`HTTP/1.1 403 Forbidden\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    // Not HTTP (a TLS ClientHello): echo raw bytes back once.
    socket.once('data', (d: Buffer) => {
      if (d[0] === 0x16) socket.end(d);
    });
  });
}

async function startKind(kind: Kind): Promise<{ port: number; server?: LocalServer; close(): Promise<void> }> {
  switch (kind) {
    case 'refused': {
      const port = await closedPort();
      return { port, close: async () => {} };
    }
    case 'silent':
      return wrap(await startSilentServer());
    case 'reset':
      return wrap(await startResettingServer('on-data'));
    case 'stream-head':
      return wrap(await startStreamingServer(''));
    case 'stream-body':
      return wrap(await startStreamingServer('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n'));
    case 'echo':
      return wrap(await startEchoServer());
  }
}

const wrap = (server: LocalServer) => ({ port: server.port, server, close: () => server.close() });

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/** Run the shared contract checks for `probe` (one `describe` block). */
export function runProbeConformance(probe: Probe, setup: ConformanceSetup): void {
  describe(`probe conformance: ${probe.name}${setup.label ? ` (${setup.label})` : ''}`, () => {
    const kb = loadKnowledgeOrThrow();
    let udp: Awaited<ReturnType<typeof startSilentUdp>>;

    beforeAll(async () => {
      udp = await startSilentUdp();
    });
    afterAll(async () => {
      await udp?.close();
    });

    const endpoint = (port: number): ConformanceServer => ({ host: '127.0.0.1', port, udpPort: udp.port });
    const probeAt = (s: ConformanceServer) => setup.probeFor?.(s) ?? probe;

    /** Check a result's shape, masking and signal names. */
    function expectWellFormed(result: ProbeResult) {
      expect(result.probe).toBe(probe.name);
      expect(['ok', 'failed', 'refused', 'skipped']).toContain(result.status);
      expect(typeof result.durationMs).toBe('number');
      expect(Number.isFinite(result.durationMs)).toBe(true);
      expect(typeof result.summary).toBe('string');
      for (const [phase, ms] of Object.entries(result.phases)) {
        expect(['resolve', 'connect', 'tls', 'tunnel', 'processing', 'transfer'], `phase ${phase}`).toContain(phase);
        expect(typeof ms, `phase ${phase}`).toBe('number');
      }
      for (const [key, value] of Object.entries(result.details)) {
        const ok =
          ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
        expect(ok, `detail ${key}`).toBe(true);
      }
      const text = JSON.stringify(result);
      expect(text).not.toContain(SECRET);
      for (const s of result.signals) {
        const def = kb.signals.get(s.name);
        expect(def, `signal ${s.name} is not in the catalogue`).toBeDefined();
        if (def?.values) expect(def.values, `${s.name}=${s.value} is not a declared value`).toContain(s.value);
        else if (def && !def.open) expect(s.value, `${s.name} is a flag`).toBeUndefined();
        expect(s.source).toBe(probe.name);
        expect(typeof s.excerpt).toBe('string');
        expect(s.excerpt.length).toBeGreaterThan(0);
      }
    }

    const kinds: Kind[] = ['refused', 'silent', 'reset', 'stream-head', 'stream-body', 'echo'];

    it.each(kinds)('never throws, stays in budget and returns a well-formed, masked result (%s server)', async (kind) => {
      const server = await startKind(kind);
      try {
        const s = endpoint(server.port);
        const target = { ...setup.target(s), headers: SECRET_HEADERS };
        const p = probeAt(s);
        expect(p.applies(makeContext(target).target)).toBe(true);
        const ctx = makeContext(target, { limits: { timeoutMs: 1500, maxBodyBytes: 4096 } });
        let result: ProbeResult | undefined;
        const started = performance.now();
        await withTimeout(
          p.run(ctx).then((r) => (result = r)),
          1500 + 1500,
          `${probe.name} against a ${kind} server`,
        );
        expect(performance.now() - started).toBeLessThan(3000);
        expectWellFormed(result!);
      } finally {
        await server.close();
      }
    });

    it('resolves promptly when the caller aborts mid-run', async () => {
      const server = await startKind('silent');
      try {
        const s = endpoint(server.port);
        const controller = new AbortController();
        const ctx = makeContext(setup.target(s), { signal: controller.signal, limits: { timeoutMs: 20_000 } });
        const running = probeAt(s).run(ctx);
        setTimeout(() => controller.abort(new Error('caller gave up')), 150);
        const started = performance.now();
        const result = await withTimeout(running, 3000, 'abort');
        expect(performance.now() - started).toBeLessThan(1000);
        expectWellFormed(result);
        expect(result.status).not.toBe('skipped');
        expect(server.server?.connections() ?? 0).toBeLessThanOrEqual(3);
        if (server.server) await withTimeout(server.server.allClosed(), 1000, 'sockets closed after abort');
      } finally {
        await server.close();
      }
    });

    it('resolves at once when the signal is already aborted', async () => {
      const server = await startKind('silent');
      try {
        const s = endpoint(server.port);
        const ctx = makeContext(setup.target(s), { signal: AbortSignal.abort(), limits: { timeoutMs: 20_000 } });
        const started = performance.now();
        const result = await withTimeout(probeAt(s).run(ctx), 2000, 'pre-aborted');
        expect(performance.now() - started).toBeLessThan(300);
        expectWellFormed(result);
      } finally {
        await server.close();
      }
    });

    it('honours limits.timeoutMs against a server that never answers', async () => {
      const server = await startKind('silent');
      try {
        const s = endpoint(server.port);
        const ctx = makeContext(setup.target(s), { limits: { timeoutMs: 700 } });
        const started = performance.now();
        const result = await withTimeout(probeAt(s).run(ctx), 3000, 'timeout');
        expect(performance.now() - started).toBeLessThan(700 + 800);
        expectWellFormed(result);
        if (server.server) await withTimeout(server.server.allClosed(), 1000, 'sockets closed after the timeout');
      } finally {
        await server.close();
      }
    });

    it.each(['stream-head', 'stream-body'] as const)('bounds the bytes it reads from a server that streams forever (%s)', async (kind) => {
      const server = await startKind(kind);
      try {
        const s = endpoint(server.port);
        const ctx = makeContext(setup.target(s), { limits: { timeoutMs: 10_000, maxBodyBytes: 4096 } });
        const started = performance.now();
        const result = await withTimeout(probeAt(s).run(ctx), 8000, 'stream');
        expect(performance.now() - started, 'read until its byte limit, not until the deadline').toBeLessThan(5000);
        expectWellFormed(result);
        expect(JSON.stringify(result).length).toBeLessThan(4096 * 3 + 16_384);
        if (server.server) await withTimeout(server.server.allClosed(), 1000, 'hung up on the streaming server');
      } finally {
        await server.close();
      }
    });

    if (setup.refusesLoopback !== false) {
      it('is refused by a restrictive policy without any connection', async () => {
        const server = await startKind('echo');
        try {
          const s = endpoint(server.port);
          const before = udp.received();
          const ctx = makeContext(setup.target(s), { policy: restrictivePolicy });
          const result = await probeAt(s).run(ctx);
          expectWellFormed(result);
          expect(result.status).toBe('refused');
          expect(result.summary.length).toBeGreaterThan(0);
          expect(server.server?.connections()).toBe(0);
          expect(udp.received()).toBe(before);
        } finally {
          await server.close();
        }
      });
    }
  });
}
