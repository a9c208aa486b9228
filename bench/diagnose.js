// `triage diagnose` against curl, whole process against whole process, on loopback: a refused
// port, a 200, a 502 from nginx whose backend is down, and a slow backend behind nginx (504 after
// its 1 s proxy_read_timeout). Each case runs both commands in turn, N times, and prints the
// medians and their ratio. Target for the deterministic cases (refused, 200, 502): triage's median
// at most 1.5 × curl's plus Node's own start-up (`node -e 0`). triage runs twice per round: in its
// own process (TRIAGE_DAEMON=off) and handed to a warm daemon (what a command finds from the second
// one on, since the first starts it; here `triage daemon start` on a socket of its own).
// The servers (a node app, a slow app, nginx) run in child processes, so nothing here blocks them.
// Needs curl and nginx (scripts/install-lab-deps.sh); run on an idle machine for stable figures.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const N = Number(process.env.BENCH_RUNS ?? 11);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const children = [];
const cleanups = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups) f();
});

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A node app in a child process: answers `ok` after `delayMs`. Resolves with its port. */
async function startApp(delayMs) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('http').createServer((q,s)=>setTimeout(()=>s.end('ok'),${delayMs})).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((res) => child.stdout.once('data', (b) => res(Number(b.toString().trim()))));
}

/** nginx in the foreground (one process) with these locations. Resolves with its port once it accepts. */
async function startNginx(locations) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const conf = `master_process off; daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server { listen 127.0.0.1:${port}; ${locations} } }`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const ok = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]).then(
      () => true,
      (e) => e.code !== 7,
    );
    if (ok) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start');
}

/** Whole-process wall time of one command, in ms (its exit status does not matter: curl exits 7 on a refusal). */
async function wall(cmd, args, runEnv = env) {
  const t = performance.now();
  await run(cmd, args, { maxBuffer: 16 * 1024 * 1024, env: runEnv }).catch(() => {});
  return performance.now() - t;
}

const closed = await freePort();
const app = await startApp(0);
const slowApp = await startApp(2_000);
const nginx = await startNginx(
  `location /down { proxy_pass http://127.0.0.1:${closed}; } location /slow { proxy_read_timeout 1s; proxy_pass http://127.0.0.1:${slowApp}; } location / { return 200 'nginx'; }`,
);
const cases = [
  { name: 'refused port', url: `http://127.0.0.1:${closed}/health`, deterministic: true },
  { name: '200 from a node app', url: `http://127.0.0.1:${app}/health`, deterministic: true },
  { name: '502 from nginx, backend down', url: `http://127.0.0.1:${nginx}/down`, deterministic: true },
  { name: 'slow backend behind nginx (504 at 1 s)', url: `http://127.0.0.1:${nginx}/slow`, deterministic: false },
];
const env = { ...process.env };
for (const v of ['http_proxy', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[v];
const sockDir = mkdtempSync(join(tmpdir(), 'bench-daemon-'));
const own = { ...env, TRIAGE_DAEMON: 'off' };
const viaDaemon = { ...env, TRIAGE_DAEMON_SOCKET: join(sockDir, 'd.sock') };
await run(process.execPath, ['dist/cli.js', 'daemon', 'start', '--idle', '10m'], { env: viaDaemon });
cleanups.push(() => {
  try {
    execFileSync(process.execPath, ['dist/cli.js', 'daemon', 'stop'], { env: viaDaemon });
  } finally {
    rmSync(sockDir, { recursive: true, force: true });
  }
});

// Warm-up: disk caches, nginx's first connection.
await wall('node', ['-e', '0']);
await wall(process.execPath, ['dist/cli.js', 'diagnose', cases[1].url, '--json'], own);
await wall(process.execPath, ['dist/cli.js', 'diagnose', cases[1].url, '--json'], viaDaemon);

const nodeStart = [];
for (let i = 0; i < N; i++) nodeStart.push(await wall(process.execPath, ['-e', '0']));
const node = median(nodeStart);
console.log(`node start-up (node -e 0), median of ${N}: ${node.toFixed(1)} ms`);
console.log(
  `${'case'.padEnd(40)} ${'curl'.padStart(9)} ${'own proc.'.padStart(10)} ${'ratio'.padStart(7)} ${'daemon'.padStart(9)} ${'ratio'.padStart(7)}  target (1.5 × curl + node)`,
);
const ms = (x) => `${x.toFixed(1)} ms`;
const verdict = (m, bound) => (m <= bound ? 'met' : `missed by ${(m - bound).toFixed(0)} ms`);
for (const c of cases) {
  const curl = [];
  const triage = [];
  const daemon = [];
  for (let i = 0; i < N; i++) {
    curl.push(await wall('curl', ['-s', '-o', '/dev/null', '--max-time', '15', c.url]));
    triage.push(await wall(process.execPath, ['dist/cli.js', 'diagnose', c.url, '--json'], own));
    daemon.push(await wall(process.execPath, ['dist/cli.js', 'diagnose', c.url, '--json'], viaDaemon));
  }
  const [mc, mt, md] = [median(curl), median(triage), median(daemon)];
  const bound = 1.5 * mc + node;
  const target = c.deterministic
    ? `${bound.toFixed(0)} ms: own process ${verdict(mt, bound)}, daemon ${verdict(md, bound)}`
    : 'n/a (not deterministic)';
  console.log(
    `${c.name.padEnd(40)} ${ms(mc).padStart(9)} ${ms(mt).padStart(10)} ${`${(mt / mc).toFixed(2)}×`.padStart(7)} ${ms(md).padStart(9)} ${`${(md / mc).toFixed(2)}×`.padStart(7)}  ${target}`,
  );
}
process.exit(0);
