// `diagnose` against curl for the same loopback request. Target: diagnose ≤ 1.5× curl, beyond process start.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { PROBES } from '../dist/probes/index.js';
import { InlineRunner } from '../dist/queue/runner.js';
import { createSsrfPolicy } from '../dist/security/ssrf.js';
import { diagnose } from '../dist/triage/diagnose.js';
import { createEngine } from '../dist/triage/engine.js';

const server = createServer((_req, res) => res.end('ok'));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${server.address().port}/health`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const N = 15;

const curlTotal = [];
const curlWall = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', url]).toString();
  curlWall.push(performance.now() - t);
  curlTotal.push(Number(out) * 1000);
}
const engine = createEngine();
const runner = new InlineRunner(PROBES, createSsrfPolicy({ allowAll: true }));
const target = { url: new URL(url), headers: [] };
await diagnose(engine, runner, target);
const inproc = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  await diagnose(engine, runner, target);
  inproc.push(performance.now() - t);
}
const cliWall = [];
const nodeStart = [];
for (let i = 0; i < 5; i++) {
  let t = performance.now();
  spawnSync(process.execPath, ['dist/cli.js', 'diagnose', url, '--json']);
  cliWall.push(performance.now() - t);
  t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  nodeStart.push(performance.now() - t);
}
server.close();
const line = (name, v, unit, extra = '') => console.log(`${name.padEnd(44)} ${String(v).padStart(10)} ${unit}${extra ? `  ${extra}` : ''}`);
line('curl request (time_total, median)', median(curlTotal).toFixed(2), 'ms');
line('curl wall incl. process start (median)', median(curlWall).toFixed(1), 'ms');
line('diagnose in-process, all probes (median)', median(inproc).toFixed(2), 'ms');
line('diagnose CLI wall (median of 5)', median(cliWall).toFixed(1), 'ms', `node start alone ${median(nodeStart).toFixed(1)} ms`);
const beyondStart = median(cliWall) - median(nodeStart);
line('ratio diagnose/curl beyond process start', (beyondStart / (median(curlWall) - 0)).toFixed(2), '×', 'target ≤ 1.5×');
