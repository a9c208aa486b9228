// The client half of the resident daemon (src/cli/daemon.ts): `triage explain` and `triage
// diagnose` are handed to a running daemon over a Unix socket, so the command costs Node's start and
// one round trip instead of loading and warming the engine. Anything else, or no usable daemon, runs
// in this process. This module is what every `triage` start compiles, so it imports only node:
// built-ins and nothing of the engine.
import { connect, type Socket } from 'node:net';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isatty } from 'node:tty';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Replaced by scripts/bundle-cli.js with a digest of the bundle: a daemon answers only its own build. */
export const BUILD_ID = '@@gateway-triage-build@@';

/** The protocol's version: one JSON object per line each way. */
export const PROTOCOL = 1;

/** Commands the daemon answers; `daemon`, `kb`, help and version always run here. */
const HANDED = new Set(['explain', 'diagnose']);

/**
 * Variables read when Node starts (its CA list, options, OpenSSL's settings) or by libc: the daemon
 * cannot take the caller's values for one request, so a caller whose values differ is answered in
 * its own process.
 */
export const PROCESS_LEVEL = /^(?:NODE_\w*|SSL_CERT_(?:FILE|DIR)|OPENSSL_\w*|UV_\w*|TZ)$/;

/** How long a daemon may take to accept a request before the command runs here instead. */
const ACCEPT_MS = 2000;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The daemon's socket: TRIAGE_DAEMON_SOCKET, else `gateway-triage/daemon.sock` under
 * XDG_RUNTIME_DIR, else under the temp folder in a folder of this user's. Undefined on Windows.
 */
export function daemonSocket(env: Env, cwd: string): string | undefined {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return undefined;
  const set = env.TRIAGE_DAEMON_SOCKET?.trim();
  if (set) return resolve(cwd, set);
  const runtime = env.XDG_RUNTIME_DIR?.trim();
  if (runtime && isAbsolute(runtime)) return join(runtime, 'gateway-triage', 'daemon.sock');
  return join(tmpdir(), `gateway-triage-${process.getuid()}`, 'daemon.sock');
}

/**
 * Why the socket's folder cannot be trusted with this user's requests (their environment holds
 * tokens): it must be this user's and closed to everyone else, as ssh-agent's is. Undefined when it
 * is, 'absent' when there is no folder.
 */
export function folderProblem(socket: string): string | undefined {
  const dir = dirname(socket);
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return 'absent';
  if (!st.isDirectory()) return `${dir} is not a folder`;
  if (st.uid !== process.getuid?.()) return `${dir} belongs to another user (uid ${st.uid})`;
  if ((st.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}): chmod 700 ${dir}`;
  return undefined;
}

/** Writes one message: the protocol is one JSON object per line, each way. */
export function sendLine(sock: Socket, message: unknown): void {
  sock.write(`${JSON.stringify(message)}\n`);
}

/**
 * Calls `onLine` with each line the socket sends, until it returns false. A line that grows past
 * `limit.maxLine` characters before its end calls `limit.onOverflow` instead.
 */
export function eachLine(
  sock: Socket,
  onLine: (line: string) => boolean | void,
  limit?: { maxLine: number; onOverflow: () => void },
): void {
  let buf = '';
  let done = false;
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    let i: number;
    while (!done && (i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (onLine(line) === false) done = true;
    }
    if (!done && limit && buf.length > limit.maxLine) {
      done = true;
      limit.onOverflow();
    }
  });
}

/** A message from the daemon. */
export type Reply =
  | { t: 'accepted' }
  | { t: 'out' | 'err'; s: string }
  | { t: 'stdin' }
  | { t: 'exit'; code: number }
  | { t: 'declined'; why: string; note?: string }
  | { t: 'status'; pid: number; build: string; startedAt: number; served: number; idleMs: number };

/** TRIAGE_DAEMON: `off` never uses one, `manual` uses one started with `triage daemon start`, `auto` also starts one. */
function daemonMode(env: Env): 'off' | 'manual' | 'auto' {
  const set = env.TRIAGE_DAEMON?.trim().toLowerCase();
  if (set === 'off' || set === 'manual' || set === 'auto') return set;
  // Unset: start one on first use, except on CI, whose machines should not keep processes behind.
  return env.CI && !/^(?:0|false|no)$/i.test(env.CI.trim()) ? 'manual' : 'auto';
}

/**
 * Hands `argv` to a running daemon and relays its output; resolves to the exit code, to 'none'
 * when no daemon listens at the socket, or to undefined when the command should run in this
 * process for another reason (another build, another process-level environment, a folder open to
 * others, TRIAGE_DAEMON=off).
 */
export async function handOff(argv: readonly string[], env: Env, cwd: string): Promise<number | 'none' | undefined> {
  if (daemonMode(env) === 'off' || !HANDED.has(argv[0] ?? '')) return undefined;
  const socket = daemonSocket(env, cwd);
  if (!socket) return undefined;
  const problem = folderProblem(socket);
  if (problem === 'absent') return 'none';
  if (problem) {
    if (statSync(socket, { throwIfNoEntry: false })) process.stderr.write(`triage: not using the daemon at ${socket}: ${problem}\n`);
    return undefined;
  }
  // A relative CA file names another file from the daemon's folder.
  if (env.NODE_EXTRA_CA_CERTS && !isAbsolute(env.NODE_EXTRA_CA_CERTS)) return undefined;
  const request = {
    v: PROTOCOL,
    build: BUILD_ID,
    argv,
    cwd,
    env,
    // isatty, not process.stdin: opening the stream costs a start-up more than the question.
    stdinTTY: isatty(0),
    stdoutTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns ?? null,
  };
  return new Promise((done) => {
    const sock = connect(socket);
    let accepted = false;
    let wrote = false;
    let settled = false;
    const settle = (code: number | 'none' | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (stdinOpen) process.stdin.destroy();
      done(code);
    };
    const timer = setTimeout(() => settle(undefined), ACCEPT_MS);
    let stdinOpen = false;
    const sendStdin = () => {
      stdinOpen = true;
      process.stdin.on('data', (b: Buffer) => sendLine(sock, { t: 'in', b: b.toString('base64') }));
      process.stdin.on('end', () => sendLine(sock, { t: 'end' }));
      process.stdin.on('error', () => sendLine(sock, { t: 'end' }));
    };
    const onReply = (m: Reply) => {
      switch (m.t) {
        case 'accepted':
          accepted = true;
          clearTimeout(timer);
          return;
        case 'out':
          wrote = true;
          return void process.stdout.write(m.s);
        case 'err':
          wrote = true;
          return void process.stderr.write(m.s);
        case 'stdin':
          return sendStdin();
        case 'exit':
          return settle(m.code);
        case 'declined':
          if (m.note) process.stderr.write(`triage: ${m.note}\n`);
          return settle(undefined);
        default:
          return settle(undefined);
      }
    };
    sock.on('connect', () => sendLine(sock, request));
    eachLine(sock, (line) => {
      let m: Reply;
      try {
        m = JSON.parse(line) as Reply;
      } catch {
        broken();
        return false;
      }
      onReply(m);
      return !settled;
    });
    // It went away: run here, unless output was shown.
    const broken = () => {
      if (!settled) settle(accepted && wrote ? lost() : undefined);
    };
    // No daemon: no socket file (ENOENT), or one left by a daemon that died (ECONNREFUSED).
    sock.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? settle('none') : broken()));
    sock.on('close', broken);
  });
}

/**
 * Starts a daemon in the background for the next commands, as eslint_d and Gradle do on first use,
 * unless TRIAGE_DAEMON says `manual` or `off` (or CI is set). This command does not wait for it.
 * Two commands that start one at once are sorted out by the daemon's start lock (src/cli/daemon.ts).
 */
export async function startInBackground(env: Env, cwd: string, script: string): Promise<void> {
  if (daemonMode(env) !== 'auto') return;
  const socket = daemonSocket(env, cwd);
  if (!socket) return;
  // Starting one is a convenience: a folder that cannot be made, a log that cannot be opened or a
  // process that cannot be started leaves this command to run by itself, as it would anyway.
  try {
    if (folderProblem(socket) === 'absent' && makeSocketFolder(socket)) return;
    if (folderProblem(socket)) return;
    await spawnDaemon(script, env, socket);
  } catch {
    return;
  }
  if (process.stderr.isTTY)
    process.stderr.write(`triage: started a daemon for the next commands (${socket}; TRIAGE_DAEMON=manual to not)\n`);
}

/**
 * Makes the socket's own folder (0700), never its parents: Node's recursive mkdir spins forever on
 * a path under /proc. Returns why it could not be made, or undefined.
 */
export function makeSocketFolder(socket: string): string | undefined {
  const dir = dirname(socket);
  try {
    mkdirSync(dir, { mode: 0o700 });
    return undefined;
  } catch (err) {
    return `${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): its parent must exist and be writable; set TRIAGE_DAEMON_SOCKET to a path in such a folder`;
  }
}

/**
 * Starts `triage daemon run` for `socket` in the background, detached, its output appended to
 * `<socket>.log`; returns the log's path. The daemon's start lock settles which of several starts
 * serves.
 */
export async function spawnDaemon(script: string, env: Env, socket: string, args: readonly string[] = []): Promise<string> {
  const { spawn } = await import('node:child_process');
  const log = `${socket}.log`;
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [...process.execArgv, script, 'daemon', 'run', ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: '/',
      env: env as NodeJS.ProcessEnv,
    });
    child.on('error', () => {});
    child.unref();
  } finally {
    closeSync(fd);
  }
  return log;
}

/** The daemon stopped after showing part of an answer: running again here would print it twice. */
function lost(): number {
  process.stderr.write(
    'triage: the daemon stopped in the middle of this command; run it again (TRIAGE_DAEMON=off runs it in this process)\n',
  );
  return 1;
}
