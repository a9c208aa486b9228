// `diagnose` against curl for the same loopback request. Target: ≤ 1.5× curl, beyond process start.
// The server runs in a child process, so that nothing here blocks it.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createProbes } from '../dist/probes/index.js';
import { InlineRunner } from '../dist/queue/runner.js';
import { createSsrfPolicy } from '../dist/security/ssrf.js';
import { diagnose } from '../dist/triage/diagnose.js';
import { createEngine } from '../dist/triage/engine.js';

const run = promisify(execFile);
const server = spawn(
  process.execPath,
  ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const port = await new Promise((res) => server.stdout.once('data', (b) => res(Number(b.toString().trim()))));
const url = `http://127.0.0.1:${port}/health`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const N = 21;
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const curlTotal = [];
const curlWall = [];
for (let i = 0; i < N; i++) {
  let out = '';
  curlWall.push(await time(async () => (out = (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', url])).stdout)));
  curlTotal.push(Number(out) * 1000);
}
const engine = createEngine();
const policy = createSsrfPolicy({ allowAll: true });
const all = new InlineRunner(createProbes(), policy);
const target = { url: new URL(url), headers: [] };
const httpOnly = [];
const full = [];
const probeOnly = [];
const httpProbe = createProbes().find((p) => p.name === 'http');
const ctx = () => ({
  target,
  limits: { timeoutMs: 5000, maxBodyBytes: 65536, maxRedirects: 10, repeatCount: 8, repeatSpreadMs: 4000 },
  signal: new AbortController().signal,
  policy,
  now: () => new Date(),
});
await diagnose(engine, all, target);
for (let i = 0; i < N; i++) {
  probeOnly.push(await time(() => httpProbe.run(ctx())));
  httpOnly.push(await time(() => diagnose(engine, all, target, { only: ['http'] })));
  full.push(await time(() => diagnose(engine, all, target)));
}
const cliWall = [];
const nodeStart = [];
for (let i = 0; i < 7; i++) {
  cliWall.push(await time(() => run(process.execPath, ['dist/cli.js', 'diagnose', url, '--json'])));
  nodeStart.push(await time(() => run(process.execPath, ['-e', '0'])));
}
server.kill();

const line = (name, v, unit, extra = '') => console.log(`${name.padEnd(44)} ${String(v).padStart(10)} ${unit}${extra ? `  ${extra}` : ''}`);
const c = median(curlTotal);
line('curl request (time_total, median)', c.toFixed(2), 'ms', `wall incl. process start ${median(curlWall).toFixed(1)} ms`);
line(
  'http probe alone, same request (median)',
  median(probeOnly).toFixed(2),
  'ms',
  `${(median(probeOnly) / c).toFixed(2)}× curl (target ≤ 1.5×)`,
);
line('diagnose, http probe + ranking (median)', median(httpOnly).toFixed(2), 'ms', `${(median(httpOnly) / c).toFixed(2)}× curl`);
line(
  'diagnose, every applicable probe (median)',
  median(full).toFixed(2),
  'ms',
  `${(median(full) / c).toFixed(2)}× curl; probes run in parallel`,
);
line('triage diagnose CLI wall (median of 7)', median(cliWall).toFixed(1), 'ms', `node start alone ${median(nodeStart).toFixed(1)} ms`);
