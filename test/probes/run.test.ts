import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/evidence/signal.js';
import { createAuthProbe } from '../../src/probes/auth.js';
import { createHttpProbe } from '../../src/probes/http.js';
import { createRepeatProbe } from '../../src/probes/repeat.js';
import type { Probe, ProbeContext, ProbeResult } from '../../src/probes/probe.js';
import { runProbes } from '../../src/probes/run.js';
import { trusted } from '../../src/security/redact.js';
import { serve, type NodeServer } from '../lab/node-servers.js';
import { allowAllPolicy, closedPort, makeTarget } from './support.js';

const open: NodeServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A probe that answers `keys` after `ms` (or, with `untilSettled`, when the run settles). */
function fake(name: string, keys: string[], opts: { ms?: number; untilSettled?: boolean; seen?: ProbeContext[] } = {}): Probe {
  return {
    name,
    describes: `fake ${name}`,
    applies: () => true,
    async run(ctx): Promise<ProbeResult> {
      opts.seen?.push(ctx);
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.ms ?? 0);
        if (opts.untilSettled) ctx.settled?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      const signals: Signal[] = keys.map((k) => {
        const [n, v] = k.split('=') as [string, string | undefined];
        return v === undefined ? { name: n, excerpt: trusted(k), source: name } : { name: n, value: v, excerpt: trusted(k), source: name };
      });
      const status = signals.length > 0 ? 'failed' : 'ok';
      return { probe: name, status, durationMs: performance.now() - started, phases: {}, summary: trusted(name), details: {}, signals };
    },
  };
}

const target = makeTarget('http://127.0.0.1:9/');
const names = (rs: readonly ProbeResult[]) => rs.map((r) => r.probe);

describe('runProbes: stop when the answer is known', () => {
  it('does not repeat a failure every probe saw the same way; repeats on --repeat', async () => {
    const refused = ['net.error=connection_refused', 'net.phase=connect'];
    const probes = [fake('tcp', refused), fake('http', refused), fake('repeat', [])];
    expect(names(await runProbes(probes, target, { policy: allowAllPolicy }))).toEqual(['tcp', 'http']);
    expect(names(await runProbes(probes, target, { policy: allowAllPolicy, alwaysRepeat: true }))).toEqual(['tcp', 'http', 'repeat']);
  });

  it('repeats when the first round disagrees with itself', async () => {
    const probes = [fake('tcp', []), fake('http', ['net.error=connection_refused', 'net.phase=connect']), fake('repeat', [])];
    expect(names(await runProbes(probes, target, { policy: allowAllPolicy }))).toEqual(['tcp', 'http', 'repeat']);
  });

  it('stops the idle watch once the answer no longer depends on it', async () => {
    const probes = [fake('http', ['http.status=403'], { ms: 20 }), fake('upstream', [], { ms: 10_000, untilSettled: true })];
    const started = performance.now();
    const results = await runProbes(probes, target, { policy: allowAllPolicy });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(names(results)).toEqual(['http', 'upstream']);
  });

  it('keeps watching while a keep-alive race could explain the answer', async () => {
    const probes = [fake('http', ['http.status=502'], { ms: 10 }), fake('upstream', [], { ms: 400, untilSettled: true })];
    const started = performance.now();
    await runProbes(probes, target, { policy: allowAllPolicy });
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('starts the follow-ups without waiting for the open-ended upstream watch', async () => {
    const seen: ProbeContext[] = [];
    const startedAt: Record<string, number> = {};
    const t0 = performance.now();
    const mark = (p: Probe): Probe => ({ ...p, run: (ctx) => ((startedAt[p.name] = performance.now() - t0), p.run(ctx)) });
    const probes = [fake('http', ['http.status=200'], { ms: 10 }), fake('upstream', [], { ms: 800, seen }), mark(fake('repeat', []))];
    await runProbes(probes, target, { policy: allowAllPolicy, alwaysRepeat: true });
    expect(startedAt.repeat).toBeLessThan(400);
  });

  it('reports progress: the results so far and the probes still running', async () => {
    const calls: [string[], string[]][] = [];
    const probes = [fake('dns', [], { ms: 5 }), fake('http', ['http.status=502'], { ms: 60 }), fake('upstream', [], { ms: 120 })];
    const results = await runProbes(probes, target, {
      policy: allowAllPolicy,
      onProgress: (done, pending) => calls.push([names(done), [...pending]]),
    });
    expect(names(results)).toEqual(['dns', 'http', 'upstream']);
    expect(calls).toEqual([
      [['dns'], ['http', 'upstream']],
      [['dns', 'http'], ['upstream']],
    ]);
  });
});

describe('runProbes: no duplicate requests', () => {
  it('the auth probe reads the http probe’s GET: the server sees one request', async () => {
    let requests = 0;
    const server = await serve(
      createServer((_req, res) => {
        requests++;
        setTimeout(() => {
          res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="api"' });
          res.end('no token');
        }, 150);
      }),
    );
    open.push(server);
    const results = await runProbes(
      [createHttpProbe({ extractors: [] }), createAuthProbe()],
      makeTarget(`http://127.0.0.1:${server.port}/me`),
      {
        policy: allowAllPolicy,
      },
    );
    expect(requests).toBe(1);
    const auth = results.find((r) => r.probe === 'auth')!;
    expect(auth.signals.map((s) => `${s.name}=${s.value ?? ''}`)).toEqual(expect.arrayContaining(['auth.error=missing_credentials']));
  });

  it('a refused port is answered without the repeat round', async () => {
    const port = await closedPort();
    const started = performance.now();
    const probes = [createHttpProbe({ extractors: [] }), createAuthProbe(), createRepeatProbe()];
    const results = await runProbes(probes, makeTarget(`http://127.0.0.1:${port}/`), { policy: allowAllPolicy });
    expect(performance.now() - started).toBeLessThan(500);
    expect(names(results)).toEqual(['http', 'auth']);
    expect(results.every((r) => r.signals.some((s) => s.value === 'connection_refused'))).toBe(true);
  });
});
