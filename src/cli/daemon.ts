// The resident daemon: one warm engine (knowledge loaded, probes imported) that answers `triage
// explain` and `triage diagnose` for the user's later commands over a Unix socket, the way
// eslint_d or the Gradle daemon do. The client half is src/cli/handoff.ts; `triage daemon
// start|stop|status|run` is here. The daemon runs the same command code with the caller's
// arguments, folder, environment and terminal (src/cli/io.ts), so its answers are the in-process
// answers, byte for byte.
import { chmodSync, closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { TriageError } from '../errors.js';
import { BUILTIN_KNOWLEDGE_DIR } from '../knowledge/load.js';
import { knowledgeStamp } from '../knowledge/snapshot.js';
import { createEngine, type Engine } from '../triage/engine.js';
import { runCli } from './commands.js';
import {
  daemonSocket,
  eachLine,
  folderProblem,
  makeSocketFolder,
  PROCESS_LEVEL,
  PROTOCOL,
  sendLine,
  spawnDaemon,
  type Reply,
} from './handoff.js';
import type { CliIo } from './io.js';

/** A request line (arguments, environment, a TEXT argument) is at most this long; stdin comes in frames. */
const MAX_LINE = 8 * 1024 * 1024;
/** Engines kept warm, one per set of knowledge folders. */
const MAX_ENGINES = 4;
const DEFAULT_IDLE = '30m';

interface Request {
  readonly v: number;
  readonly build?: string;
  readonly op?: 'ping' | 'stop';
  readonly argv?: string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly stdinTTY?: boolean;
  readonly stdoutTTY?: boolean;
  readonly columns?: number | null;
}

/** A request as the client sends it, or why it is not one. */
function checkRequest(value: unknown): Request | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.v !== PROTOCOL) return `protocol ${String(r.v)}, this daemon speaks ${PROTOCOL}`;
  if (r.op !== undefined) return r.op === 'ping' || r.op === 'stop' ? (r as unknown as Request) : `unknown op ${String(r.op)}`;
  const strings = (a: unknown) => Array.isArray(a) && a.length <= 10_000 && a.every((s) => typeof s === 'string');
  if (typeof r.build !== 'string') return 'no build';
  if (!strings(r.argv)) return 'argv is not a list of strings';
  if (typeof r.cwd !== 'string' || !r.cwd.startsWith('/')) return 'cwd is not an absolute path';
  if (r.env === null || typeof r.env !== 'object' || Array.isArray(r.env) || !Object.values(r.env).every((v) => typeof v === 'string'))
    return 'env is not an object of strings';
  if (r.columns !== null && r.columns !== undefined && !(Number.isInteger(r.columns) && (r.columns as number) > 0)) return 'bad columns';
  return r as unknown as Request;
}

/** The first process-level variable (see PROCESS_LEVEL) whose value differs between the caller and this process. */
function processEnvDiffers(env: Readonly<Record<string, string>>): string | undefined {
  const names = new Set([...Object.keys(env), ...Object.keys(process.env)].filter((k) => PROCESS_LEVEL.test(k)));
  for (const k of names) if ((env[k] ?? '') !== (process.env[k] ?? '')) return k;
  return undefined;
}

/** 30m, 90s, 2h → milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d{1,6})(s|m|h)$/.exec(text.trim());
  if (!m) throw new TriageError('USAGE', `--idle takes a duration such as 90s, 30m or 2h, not "${text}"`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

/** One JSON reply to `op` from the daemon at `socket`, or undefined when none answers. */
async function ask(socket: string, op: 'ping' | 'stop', timeoutMs = 2000): Promise<Extract<Reply, { t: 'status' }> | undefined> {
  return new Promise((done) => {
    const sock = connect(socket);
    const finish = (r?: Extract<Reply, { t: 'status' }>) => {
      clearTimeout(timer);
      sock.destroy();
      done(r);
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    sock.on('connect', () => sendLine(sock, { v: PROTOCOL, op }));
    eachLine(sock, (line) => {
      try {
        const m = JSON.parse(line) as Reply;
        finish(m.t === 'status' ? m : undefined);
      } catch {
        finish();
      }
      return false;
    });
    sock.on('error', () => finish());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks the daemon at `socket` to stop, and waits up to about 5 s until it no longer answers. */
async function stopAndWait(socket: string): Promise<void> {
  await ask(socket, 'stop');
  for (let i = 0; i < 100 && (await ask(socket, 'ping', 200)); i++) await sleep(50);
  // It stops answering a moment before it lets go of its start lock.
  for (let i = 0; i < 40 && statSync(`${socket}.lock`, { throwIfNoEntry: false }); i++) await sleep(50);
}

/** The socket for this caller, with its folder made (0700) or checked. */
function preparedSocket(io: CliIo, make: boolean): string {
  const socket = daemonSocket(io.env, io.cwd);
  if (!socket) throw new TriageError('USAGE', 'the daemon needs Unix sockets, which this platform lacks: run triage without it');
  let problem = folderProblem(socket);
  if (problem === 'absent' && make) {
    const failed = makeSocketFolder(socket);
    if (failed) throw new TriageError('CONFIG_INVALID', `cannot make the daemon's folder ${failed}`);
    problem = folderProblem(socket);
  }
  if (problem && problem !== 'absent') throw new TriageError('CONFIG_INVALID', `cannot use the daemon socket ${socket}: ${problem}`);
  return socket;
}

const describe = (s: Extract<Reply, { t: 'status' }>, build: string) =>
  `pid ${s.pid}, up ${Math.round((Date.now() - s.startedAt) / 1000)} s, ${s.served} commands answered, stops after ${Math.round(s.idleMs / 60_000)} min without one${s.build === build ? '' : ', another build'}`;

/** `triage daemon start|stop|status|run`. */
export async function daemonCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { idle: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new TriageError('USAGE', `${(err as Error).message.split('\n')[0]}: see "triage --help"`);
  }
  const [sub, ...extra] = parsed.positionals;
  if (!sub || extra.length > 0 || !['start', 'stop', 'status', 'run'].includes(sub))
    throw new TriageError('USAGE', 'daemon takes one subcommand: triage daemon start|stop|status|run [--idle 30m]');
  const idleMs = parseDuration((parsed.values.idle as string | undefined) ?? DEFAULT_IDLE);
  const build = io.program.build;
  const socket = preparedSocket(io, sub === 'start' || sub === 'run');
  const running = await ask(socket, 'ping');
  switch (sub) {
    case 'status':
      io.out(running ? `triage daemon: running at ${socket} (${describe(running, build)})\n` : `triage daemon: not running (${socket})\n`);
      return running ? 0 : 3;
    case 'stop':
      if (!running) {
        io.out(`triage daemon: not running (${socket})\n`);
        return 0;
      }
      await stopAndWait(socket);
      io.out(`triage daemon: stopped (pid ${running.pid})\n`);
      return 0;
    case 'run':
      if (running) throw new TriageError('USAGE', `a daemon already answers at ${socket} (pid ${running.pid}): triage daemon stop first`);
      await serve({ socket, idleMs, io });
      return 0;
    default:
      break;
  }
  if (running && running.build === build) {
    io.out(`triage daemon: already running at ${socket} (${describe(running, build)})\n`);
    return 0;
  }
  if (running) await stopAndWait(socket);
  const log = await spawnDaemon(io.program.script, io.env, socket, ['--idle', `${idleMs / 1000}s`]);
  for (let i = 0; i < 200; i++) {
    const up = await ask(socket, 'ping', 500);
    if (up) {
      io.out(
        `triage daemon: running at ${socket} (pid ${up.pid}). triage explain and triage diagnose are answered by it from now on;` +
          ` it stops after ${Math.round(idleMs / 60_000)} min without a command, or with triage daemon stop. Log: ${log}\n`,
      );
      return 0;
    }
    await sleep(50);
  }
  throw new TriageError('INTERNAL', `the daemon did not come up within 10 s: see ${log}`);
}

/** The request's output, stdin and surroundings as a CliIo; stdin is asked for only when read. */
function remoteIo(req: Request, send: (m: Reply) => void, base: CliIo, engine: (dirs: readonly string[]) => Engine) {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  const io: CliIo = {
    out: (s) => send({ t: 'out', s }),
    err: (s) => send({ t: 'err', s }),
    stdin: {
      isTTY: req.stdinTTY === true,
      async *read() {
        send({ t: 'stdin' });
        try {
          for (;;) {
            const b = chunks.shift();
            if (b) yield b;
            else if (ended) return;
            else await new Promise<void>((r) => (wake = r));
          }
        } finally {
          stopped = true;
          chunks.length = 0;
        }
      },
    },
    stdoutTTY: req.stdoutTTY === true,
    ...(req.columns ? { columns: req.columns } : {}),
    env: req.env ?? {},
    cwd: req.cwd ?? '/',
    program: base.program,
    engine,
  };
  const feed = (frame: { t?: unknown; b?: unknown }) => {
    if (stopped) return;
    if (frame.t === 'in' && typeof frame.b === 'string') chunks.push(Buffer.from(frame.b, 'base64'));
    else ended = true;
    wake?.();
    wake = undefined;
  };
  const close = () => feed({ t: 'end' });
  return { io, feed, close };
}

/** Rounds of the warm-up: about 0.5 s of a start, after which a command costs the daemon 1–2 ms. */
const WARM_ROUNDS = 5;

/** Texts of the usual formats, explained at start so the first command finds the code compiled. */
const WARM_TEXTS = [
  'connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, upstream: "http://10.0.0.2:8080/"',
  '< HTTP/1.1 502 Bad Gateway\n< Server: awselb/2.0\n< Content-Type: text/html',
  'curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to api.example.com:443',
  "requests.exceptions.ProxyError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded (Caused by ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 403 Forbidden')))",
  '{"error":{"code":401,"message":"Request had invalid authentication credentials."}}',
];

/**
 * The daemon's first commands, answered into nothing: explain in both renderings, and diagnose of
 * a local server that answers 200 and of a port nobody listens on, so the probes' code is compiled too.
 */
async function warm(base: CliIo, engine: (dirs: readonly string[]) => Engine): Promise<void> {
  const io: CliIo = {
    ...base,
    out: () => undefined,
    err: () => undefined,
    stdin: { isTTY: true, read: async function* () {} },
    stdoutTTY: false,
    env: { ...base.env, TRIAGE_DAEMON: 'off', https_proxy: '', http_proxy: '', all_proxy: '', HTTPS_PROXY: '', ALL_PROXY: '' },
    engine,
  };
  // Several rounds: V8 optimises a function after it has run a few times, and the first commands should not pay for it.
  for (let round = 0; round < WARM_ROUNDS; round++)
    for (const text of WARM_TEXTS) {
      await runCli(['explain', text], io);
      await runCli(['explain', text, '--json'], io);
    }
  const server = createHttpServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  for (let round = 0; round < WARM_ROUNDS; round++)
    for (const url of [`http://127.0.0.1:${port}/`, `http://127.0.0.1:${closedPort}/`]) {
      await runCli(['diagnose', url, '--timeout', '2000'], io);
      await runCli(['diagnose', url, '--timeout', '2000', '--json'], io);
    }
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A start lock older than this whose socket answers nothing was left by a process that is gone (its pid reused). */
const LOCK_STALE_MS = 15_000;

/**
 * Takes `<socket>.lock` for this process: one daemon per socket, even when several commands start
 * one at the same moment. Returns undefined when taken, else the pid that holds it. A lock whose
 * process is gone, or that is old while nothing answers at the socket, is taken over.
 */
async function takeLock(socket: string): Promise<number | undefined> {
  const lock = `${socket}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    let age = 0;
    try {
      holder = Number(readFileSync(lock, 'utf8').trim());
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // removed meanwhile: try again
    }
    // A holder between creating the file and writing its pid: give it a moment.
    if (!(Number.isInteger(holder) && holder > 0)) {
      if (age < 2000) {
        await sleep(100);
        continue;
      }
    } else if (alive(holder) && (age < LOCK_STALE_MS || (await ask(socket, 'ping', 500)))) return holder;
    try {
      unlinkSync(lock);
    } catch {
      // taken over by another starter meanwhile
    }
  }
  throw new TriageError('INTERNAL', `could not take the daemon's start lock ${lock}: remove it if no daemon runs`);
}

/** Whether process `pid` runs: signal 0 reaches it and, on Linux, it is not a zombie nobody reaped. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\s*[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 1));
  } catch {
    return true;
  }
};

/** Removes the start lock if it is still this process's. */
function releaseLock(socket: string): void {
  const lock = `${socket}.lock`;
  try {
    if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
  } catch {
    // gone already
  }
}

/** Listens at `socket` until stopped or idle for `idleMs`; answers every request with runCli. */
export async function serve(opts: { socket: string; idleMs: number; io: CliIo }): Promise<void> {
  const { socket, idleMs, io: base } = opts;
  const log = (line: string) => base.err(`${new Date().toISOString()} triage daemon: ${line}\n`);
  const holder = await takeLock(socket);
  if (holder !== undefined) throw new TriageError('USAGE', `a daemon is already starting or running at ${socket} (pid ${holder})`);
  try {
    await listenUntilStopped(socket, idleMs, base, log);
  } finally {
    releaseLock(socket);
  }
}

async function listenUntilStopped(socket: string, idleMs: number, base: CliIo, log: (line: string) => void): Promise<void> {
  const engines = new Map<string, { stamp: string; engine: Engine }>();
  // The engine for these folders, made again when a knowledge file changed size or time since.
  const engine = (dirs: readonly string[]): Engine => {
    const key = dirs.join('\0');
    const stamp = knowledgeStamp([BUILTIN_KNOWLEDGE_DIR, ...dirs]);
    const hit = engines.get(key);
    if (hit && hit.stamp === stamp) return hit.engine;
    const made = createEngine(dirs);
    engines.delete(key);
    engines.set(key, { stamp, engine: made });
    if (engines.size > MAX_ENGINES) engines.delete(engines.keys().next().value as string);
    return made;
  };
  await warm(base, engine);

  const startedAt = Date.now();
  let served = 0;
  let inFlight = 0;
  let stopping = false;
  let idle: NodeJS.Timeout | undefined;
  const server = createServer();
  const stopped = new Promise<void>((resolve) => server.on('close', resolve));
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(idle);
    log(`stopping: ${why}`);
    server.close();
  };
  const armIdle = () => {
    clearTimeout(idle);
    if (inFlight === 0) idle = setTimeout(() => stop(`no command for ${Math.round(idleMs / 1000)} s`), idleMs);
  };
  const onSignal = () => stop('signal');
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  server.on('connection', (sock: Socket) => {
    let session: ReturnType<typeof remoteIo> | undefined;
    const send = (m: Reply) => {
      if (!sock.destroyed && sock.writable) sendLine(sock, m);
    };
    // A connection that says nothing does not hold the daemon open.
    sock.setTimeout(5000, () => {
      if (!session) sock.destroy();
    });
    sock.on('error', () => session?.close());
    sock.on('close', () => session?.close());
    const first = (line: string) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      const req = checkRequest(value);
      if (typeof req === 'string') {
        send({ t: 'declined', why: `bad request: ${req}` });
        return void sock.end();
      }
      if (req.op) {
        send({ t: 'status', pid: process.pid, build: base.program.build, startedAt, served, idleMs });
        sock.end();
        if (req.op === 'stop') stop('triage daemon stop');
        return;
      }
      if (stopping) {
        send({ t: 'declined', why: 'stopping' });
        return void sock.end();
      }
      if (req.build !== base.program.build) {
        send({ t: 'declined', why: 'build', note: `the daemon at ${socket} runs another build and stops now; this command runs here` });
        sock.end();
        return stop('a client of another build');
      }
      const differs = processEnvDiffers(req.env ?? {});
      if (differs) {
        send({ t: 'declined', why: 'env', note: `the daemon was started with another ${differs}; this command runs here` });
        return void sock.end();
      }
      send({ t: 'accepted' });
      session = remoteIo(req, send, base, engine);
      inFlight++;
      clearTimeout(idle);
      const t0 = Date.now();
      const command = req.argv?.[0] ?? '';
      void runCli(req.argv ?? [], session.io).then((code) => {
        inFlight--;
        served++;
        // Only the command's name and outcome: arguments and output may hold secrets.
        log(`${command}: exit ${code} in ${Date.now() - t0} ms`);
        send({ t: 'exit', code });
        sock.end();
        armIdle();
      });
    };
    eachLine(
      sock,
      (line) => {
        if (!session) {
          if (sock.writableEnded) return false;
          return first(line);
        }
        try {
          session.feed(JSON.parse(line) as { t?: unknown; b?: unknown });
        } catch {
          session.close();
        }
        return true;
      },
      {
        maxLine: MAX_LINE,
        onOverflow: () => {
          send({ t: 'declined', why: 'request too large' });
          session?.close();
          sock.destroy();
        },
      },
    );
  });

  // A socket file left by a daemon that died answers nothing: take its place.
  try {
    unlinkSync(socket);
  } catch {
    // none
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socket, 0o600);
  log(`listening at ${socket} (pid ${process.pid}, build ${base.program.build.slice(0, 19)})`);
  armIdle();
  await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  log('stopped');
}
