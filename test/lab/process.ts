import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './errors.js';

/**
 * Lab processes and their clean-up. Every child is killed and every temp dir removed when this
 * process exits; every child is also started under `setpriv --pdeathsig KILL`, so it dies with
 * this process even when the test runner is SIGKILLed. Set GATEWAY_LAB_KEEP=1 to keep temp dirs.
 */

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanUp(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  if (process.env.GATEWAY_LAB_KEEP !== '1') for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('exit', cleanUp);
// Vitest ends its fork workers with SIGTERM, which skips 'exit' handlers: clean up, then die of
// the same signal as if we had not been listening (unless someone else handles it).
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, function onSignal() {
    cleanUp();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** An unprivileged account to run a daemon as when the tests run as root. */
export interface RunAs {
  readonly user: string;
  readonly group: string;
}

export const isRoot = process.getuid?.() === 0;

/** A fresh temp dir, removed at exit; owned by `owner` (when root) so a daemon running as it can write logs there. */
export function labTempDir(prefix: string, owner?: RunAs): string {
  const dir = mkdtempSync(join(tmpdir(), `gateway-lab-${prefix}-`));
  tempDirs.add(dir);
  chmodSync(dir, 0o755);
  if (owner && isRoot) {
    const { uid, gid } = idsOf(owner);
    chownSync(dir, uid, gid);
  }
  return dir;
}

/** Remove a temp dir now (stop() does this; the exit hook catches the rest). */
export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  if (process.env.GATEWAY_LAB_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}

/** uid and gid of an account (`id -u`, `getent group`). */
function idsOf(account: RunAs): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', account.user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('getent', ['group', account.group], { encoding: 'utf8' }).split(':')[2]);
  return { uid, gid };
}

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(
  Boolean,
);

/** The absolute path of an executable, looking in sbin dirs too (they are not on a normal user's PATH). */
export function findBinary(name: string): string {
  for (const dir of SEARCH_PATH) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // keep looking
    }
  }
  throw new LabError('LAB_BINARY_MISSING', `${name} is not installed (looked in ${[...new Set(SEARCH_PATH)].join(', ')})`);
}

/**
 * A loopback port that nothing listens on right now: bound on port 0, then closed. Used both to
 * give a daemon a port and to stage "connection refused".
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Whether process `pid` holds the socket listening on TCP `port` (from /proc/net/tcp and
 * /proc/<pid>/fd); undefined when /proc cannot tell. Guards against another process that took the
 * port between {@link unusedPort} and the daemon's bind: nginx, for one, retries its bind for 2.5 s.
 */
export function ownsListener(pid: number, port: number): boolean | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`) && f[9] !== undefined) inodes.add(`socket:[${f[9]}]`);
      }
    }
    if (inodes.size === 0) return false;
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
}

/** Whether `127.0.0.1:port` accepts a TCP connection within `timeoutMs`. */
function accepts(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(Math.max(1, timeoutMs), () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolve true once `127.0.0.1:port` accepts connections (and, given `pid`, the listener is that
 * process's); false when `deadline` (epoch ms) passes or `gaveUp()` says so.
 */
export async function waitForPort(port: number, deadline: number, opts: { pid?: number; gaveUp?: () => boolean } = {}): Promise<boolean> {
  while (Date.now() < deadline && !opts.gaveUp?.()) {
    const ours = opts.pid === undefined || ownsListener(opts.pid, port) !== false;
    if (ours && (await accepts(port, Math.min(500, deadline - Date.now())))) return true;
    await sleep(20);
  }
  return false;
}

/** How to start one foreground daemon. */
export interface DaemonSpec {
  /** Short name for messages and the output file. @example 'nginx' */
  readonly name: string;
  /** Binary name, looked up with {@link findBinary}. */
  readonly command: string;
  readonly args: readonly string[];
  /** Its temp dir: the output goes to `<dir>/<name>.out`. */
  readonly dir: string;
  /** The port it must accept connections on before it counts as started. */
  readonly port: number;
  /** Account to run as when the tests run as root. */
  readonly runAs?: RunAs;
  /** Bound on the wait for the port. */
  readonly readyTimeoutMs: number;
  /** Its config file, quoted when it fails to start. */
  readonly configPath?: string;
  /** Its own log files, quoted (and searched for a port clash) when it fails to start. */
  readonly logPaths?: readonly string[];
}

/** A started daemon. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Where its stdout and stderr go. */
  readonly outputPath: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited (bounded). */
  stop(graceMs?: number): Promise<void>;
}

const PORT_CLASH = /address already in use|EADDRINUSE|cannot bind socket|bind\(\) to .* failed|could not create listening sockets/i;

/** Thrown (and retried by {@link startWithFreshPort}) when a daemon could not bind its port. */
export class PortClash extends Error {}

/** Start a foreground daemon and wait until its port accepts connections. */
export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const binary = findBinary(spec.command);
  const outputPath = join(spec.dir, `${spec.name}.out`);
  const fd = openSync(outputPath, 'a');
  const wrapper: string[] = [];
  if (existsSync('/usr/bin/setpriv')) {
    wrapper.push('/usr/bin/setpriv');
    if (spec.runAs && isRoot) wrapper.push(`--reuid=${spec.runAs.user}`, `--regid=${spec.runAs.group}`, '--clear-groups');
    wrapper.push('--pdeathsig', 'KILL', '--');
  }
  const argv = [...wrapper, binary, ...spec.args];
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), { cwd: spec.dir, stdio: ['ignore', fd, fd], env: { ...process.env, LANG: 'C' } });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exitCode = err.message;
      live.delete(child);
      resolve();
    });
  });

  const stop = async (graceMs = 3_000) => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    if (await settlesWithin(exited, graceMs)) return;
    child.kill('SIGKILL');
    await settlesWithin(exited, 2_000);
  };

  const ready = await waitForPort(spec.port, Date.now() + spec.readyTimeoutMs, { pid: child.pid, gaveUp: () => exitCode !== undefined });
  if (ready && exitCode === undefined) return { name: spec.name, pid: child.pid ?? -1, outputPath, stop };

  await stop(500);
  const logs = [outputPath, ...(spec.logPaths ?? [])].map((path) => `--- ${path}\n${tail(path)}`).join('\n');
  const config = spec.configPath === undefined ? '' : `\n--- ${spec.configPath}\n${tail(spec.configPath)}`;
  const why =
    exitCode === undefined
      ? `did not accept connections on 127.0.0.1:${spec.port} within ${spec.readyTimeoutMs} ms`
      : `exited (${exitCode})`;
  const message = `${spec.name} ${why}: ${argv.join(' ')}\n${logs}${config}`;
  if (PORT_CLASH.test(logs)) throw new PortClash(message);
  throw new LabError('LAB_START_FAILED', message);
}

/** Run `start` with a fresh port, again (3 tries in all) when another process took it between picking and binding. */
export async function startWithFreshPort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await unusedPort());
    } catch (err) {
      if (!(err instanceof PortClash)) throw err;
      if (attempt >= 3) throw new LabError('LAB_START_FAILED', err.message);
    }
  }
}

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last `max` characters of a file, or a note that it is missing. */
export function tail(path: string, max = 4_000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > max ? `…${text.slice(-max)}` : text;
  } catch {
    return '(missing)';
  }
}
