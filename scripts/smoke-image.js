// Smoke-runs the image's processes: node scripts/smoke-image.js ROOTFS   (as root; build-image.sh
// calls it with the image mounted by buildah).
//
// Each process runs the way a container runtime with Kubernetes' securityContext would run it: in
// a mount namespace of its own, with the image's root filesystem mounted read-only, a fresh tmpfs
// on /tmp and a minimal /dev, chrooted into it, as uid/gid 1000, with an empty environment plus
// what the check sets, from WORKDIR /app. The host's network is shared (the checks talk to them on
// loopback). Checks, each printed as it passes; the first failure exits 1:
//   - triage explain ranks the right cause; triage kb check runs without recheck and says how to get it;
//   - the processes run as uid 1000 and cannot write to /app;
//   - the worker serves /healthz and /metrics against Redis (SMOKE_REDIS_URL, else a redis-server
//     started here), and exits 0 on SIGTERM;
//   - the bot/API (no Slack) answers /healthz, POST /v1/explain with a bearer token, /metrics,
//     and exits 0 on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const rootfs = process.argv[2];
if (!rootfs) {
  process.stderr.write('usage: node scripts/smoke-image.js ROOTFS\n');
  process.exit(2);
}

const NGINX_REFUSED =
  '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop.example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.3.4:8080/api", host: "shop.example.com"';
const UPSTREAM_TIMEOUT = 'upstream timed out (110: Connection timed out) while reading response header from upstream';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Mount the image read-only at a private mount point, give it /tmp, /proc and /dev, and exec the
// command in it as 1000:1000 from /app. $1 is the image's root; the rest is `env` arguments.
const RUNTIME = `
set -e
root=$(mktemp -d /tmp/image-root.XXXXXX)
mount --bind "$1" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for d in null zero random urandom; do touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"; done
shift
exec chroot --userspec=1000:1000 "$root" /usr/bin/env -i -C /app "$@"
`;

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** The argv that runs `command` inside the image with `env`. */
function inImage(env, command) {
  // The Dockerfile's ENV, as a runtime sets it.
  const vars = Object.entries({ PATH, HOME: '/tmp', NODE_ENV: 'production', TRIAGE_DAEMON: 'manual', ...env }).map(([k, v]) => `${k}=${v}`);
  return ['unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', RUNTIME, 'runtime', rootfs, ...vars, ...command]];
}

/** Run to completion inside the image. */
function runInImage(command, env = {}) {
  const [bin, args] = inImage(env, command);
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Start a long-running process inside the image; its output is kept for messages. */
function startInImage(command, env) {
  const [bin, args] = inImage(env, command);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = once(child, 'exit').then(([code, signal]) => {
    children.delete(child);
    return code ?? signal;
  });
  return { child, exited, output: () => output };
}

let failed = false;
function check(what, ok, detail = '') {
  if (ok) {
    process.stdout.write(`smoke: ok  ${what}\n`);
    return;
  }
  process.stdout.write(`smoke: FAILED  ${what}${detail ? `\n${detail}` : ''}\n`);
  failed = true;
  process.exit(1);
}

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** GET or POST on loopback; undefined while nothing answers. */
async function http(port, path, init = {}) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

async function waitFor(port, path, proc, what) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await http(port, path);
    if (r?.status === 200) return check(what, true);
    if (proc.child.exitCode !== null) break;
    await sleep(200);
  }
  check(what, false, proc.output());
}

function uidOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return /^Uid:\s+(\d+)/m.exec(status)?.[1];
}

async function stop(proc, what) {
  proc.child.kill('SIGTERM');
  const code = await Promise.race([proc.exited, sleep(30_000).then(() => 'still running after 30 s')]);
  check(what, code === 0, `exit: ${code}\n${proc.output()}`);
}

/** A Redis for the worker: SMOKE_REDIS_URL, else a redis-server of our own on loopback. */
async function redis() {
  if (process.env.SMOKE_REDIS_URL) return { url: process.env.SMOKE_REDIS_URL, stop: () => {} };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'smoke-redis-'));
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  children.add(server);
  server.on('error', () => check('redis-server for the worker check (install redis-server, or set SMOKE_REDIS_URL)', false));
  for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG'; i++)
    await sleep(100);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: () => {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- the checks ----

const explained = runInImage(['node', 'dist/cli.js', 'explain', '--json', NGINX_REFUSED]);
let top;
try {
  top = JSON.parse(explained.out).causes[0]?.id;
} catch {
  top = undefined;
}
check(
  'triage explain (dist/cli.js) ranks upstream-refused first for an nginx "connect() failed (111)" line',
  explained.code === 0 && top === 'upstream-refused',
  explained.err,
);

const snapshot = runInImage([
  'node',
  '--input-type=module',
  '-e',
  "const m = await import('/app/dist/knowledge/snapshot.js'); const { BUILTIN_KNOWLEDGE_DIR } = await import('/app/dist/knowledge/load.js'); process.stdout.write(String(m.readSnapshot([BUILTIN_KNOWLEDGE_DIR]) !== undefined));",
]);
check(
  'dist/ loads the knowledge base from the snapshot the build wrote (it matches knowledge/ in the image)',
  snapshot.out === 'true',
  `${snapshot.out}${snapshot.err}`,
);

const kb = runInImage(['node', 'dist/cli.js', 'kb', 'check']);
check(
  'triage kb check, without the dev-only recheck in the image, says how to get it (exit 1, one line)',
  kb.code === 1 && /recheck, a development dependency\) is not installed/.test(kb.err) && kb.err.trim().split('\n').length === 1,
  `exit ${kb.code}\n${kb.out}${kb.err}`,
);

const who = runInImage([
  'node',
  '-e',
  "process.stdout.write(process.getuid() + ':' + process.getgid()); try { require('fs').writeFileSync('/app/x', ''); } catch (e) { process.stdout.write(' ' + e.code); }",
]);
check(
  'runs as uid 1000 (gid 1000) and cannot write to /app (read-only root filesystem: EROFS)',
  who.out === '1000:1000 EROFS',
  `${who.out}${who.err}`,
);

const r = await redis();
try {
  const metricsPort = await freePort();
  const prefix = `smoke-${randomBytes(4).toString('hex')}`;
  const worker = startInImage(['node', 'dist/worker.js'], {
    REDIS_URL: r.url,
    METRICS_PORT: String(metricsPort),
    WORKER_POOLS: 'smoke',
    QUEUE_PREFIX: prefix,
    // Workers run only jobs sealed and signed with this secret (the bot's and the API's).
    QUEUE_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
  });
  await waitFor(metricsPort, '/healthz', worker, 'the worker (dist/worker.js) answers GET /healthz 200 once its Redis connection is ready');
  check('the worker runs as uid 1000', uidOf(worker.child.pid) === '1000');
  const workerMetrics = await http(metricsPort, '/metrics');
  check(
    'the worker serves /metrics (triage_queue_jobs, process metrics)',
    workerMetrics?.status === 200 && /triage_process_/.test(workerMetrics.text) && /triage_queue_jobs/.test(workerMetrics.text),
    workerMetrics?.text.slice(0, 400),
  );
  await stop(worker, 'the worker exits 0 on SIGTERM');
  const cleanup = spawnSync('redis-cli', ['-u', r.url, '--scan', '--pattern', `${prefix}:*`], { encoding: 'utf8' });
  for (const key of (cleanup.stdout ?? '').split('\n').filter(Boolean)) spawnSync('redis-cli', ['-u', r.url, 'del', key]);
} finally {
  r.stop();
}

const port = await freePort();
const token = randomBytes(24).toString('hex');
const api = startInImage(['node', 'dist/main.js'], { PORT: String(port), API_TOKENS: token, LOG_LEVEL: 'info' });
await waitFor(port, '/healthz', api, 'the API (dist/main.js, no Slack settings) answers GET /healthz 200');
check('the API runs as uid 1000', uidOf(api.child.pid) === '1000');
const answer = await http(port, '/v1/explain', {
  method: 'POST',
  headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ text: UPSTREAM_TIMEOUT }),
});
let apiTop;
try {
  apiTop = JSON.parse(answer?.text ?? '').causes[0]?.id;
} catch {
  apiTop = undefined;
}
check(
  'POST /v1/explain with the bearer token ranks upstream-slow first for an nginx read timeout',
  answer?.status === 200 && apiTop === 'upstream-slow',
  answer?.text.slice(0, 400),
);
const refused = await http(port, '/v1/explain', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"x"}' });
check('POST /v1/explain without a token is refused (401)', refused?.status === 401);
const apiMetrics = await http(port, '/metrics');
check(
  'the API serves /metrics, counting that request',
  apiMetrics?.status === 200 && /triage_api_requests_total\{route="\/v1\/explain",status="200"\} 1/.test(apiMetrics.text),
  apiMetrics?.text.slice(0, 400),
);
await stop(api, 'the API exits 0 on SIGTERM');

if (!failed) process.stdout.write('smoke: all checks passed\n');
