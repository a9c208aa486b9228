// The resident daemon (src/cli/daemon.ts) and its client (src/cli/handoff.ts), as a user runs
// them: the built dist/cli.js, a real daemon process on a real Unix socket, real probes.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../probes/support.js';

const root = resolve(import.meta.dirname, '../..');
// `manual`: a daemon is used when one runs, and started only by `triage daemon start`, except in
// the tests of starting on first use, which say TRIAGE_DAEMON themselves.
const base: Record<string, string | undefined> = {
  ...process.env,
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  KNOWLEDGE_DIRS: '',
  TRIAGE_DAEMON: 'manual',
};
for (const v of ['http_proxy', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'XDG_RUNTIME_DIR', 'CI']) delete base[v];

const nginxRefused =
  '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop.example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.3.4:8080/api", host: "shop.example.com"';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string; script?: string } = {}): Run {
  const r = spawnSync(process.execPath, [opts.script ?? join(root, 'dist/cli.js'), ...args], {
    cwd: opts.cwd ?? root,
    input: opts.input ?? '',
    env: { ...base, ...opts.env } as NodeJS.ProcessEnv,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** A folder of its own (0700, as mkdtemp makes it) with the daemon's socket path in it. */
function socketIn(): { dir: string; socket: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'tdm-'));
  const socket = join(dir, 'd.sock');
  return { dir, socket, env: { TRIAGE_DAEMON_SOCKET: socket } };
}

/** The commands the daemon's log says it answered. */
const answered = (socket: string) =>
  existsSync(`${socket}.log`) ? (readFileSync(`${socket}.log`, 'utf8').match(/: exit \d+ in/g)?.length ?? 0) : 0;

/** One raw exchange with the socket: what the daemon says to `payload`. */
async function raw(socket: string, payload: string | Buffer): Promise<string> {
  return new Promise((done) => {
    const s = connect(socket);
    let got = '';
    s.on('connect', () => s.write(payload));
    s.on('data', (b) => (got += b.toString()));
    s.on('error', () => done(got));
    s.on('close', () => done(got));
  });
}

describe('triage daemon', () => {
  const d = socketIn();
  const own = { TRIAGE_DAEMON: 'off' };

  beforeAll(() => {
    const r = run(['daemon', 'start'], { env: d.env });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^triage daemon: running at .*d\.sock \(pid \d+\)/);
  }, 60_000);

  afterAll(() => {
    run(['daemon', 'stop'], { env: d.env });
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('says it is running, and a second start finds it', () => {
    const s = run(['daemon', 'status'], { env: d.env });
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/running at .*d\.sock \(pid \d+, up \d+ s, \d+ commands answered, stops after 30 min without one\)/);
    const again = run(['daemon', 'start'], { env: d.env });
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already running/);
  });

  it('answers explain exactly as the command in its own process does: TEXT, --json, standard input, --lang', () => {
    for (const args of [
      ['explain', nginxRefused],
      ['explain', nginxRefused, '--json'],
      ['explain', '--lang', 'zh', nginxRefused],
    ]) {
      const before = answered(d.socket);
      const handed = run(args, { env: d.env });
      expect(answered(d.socket), 'the daemon answered').toBe(before + 1);
      expect(handed).toEqual(run(args, { env: { ...d.env, ...own } }));
      expect(handed.code).toBe(0);
    }
    const before = answered(d.socket);
    const piped = run(['explain'], { env: d.env, input: `${nginxRefused}\n` });
    expect(answered(d.socket)).toBe(before + 1);
    expect(piped.out).toMatch(/upstream-refused/);
    expect(piped).toEqual(run(['explain'], { env: { ...d.env, ...own }, input: `${nginxRefused}\n` }));
    // --jsonl reads its lines from the caller's standard input too.
    const lines = `${JSON.stringify({ id: 'a', text: nginxRefused })}\n${JSON.stringify({ id: 'b', text: 'all good' })}\n`;
    const jsonl = run(['explain', '--jsonl'], { env: d.env, input: lines });
    expect(
      jsonl.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['a', 'b']);
    expect(jsonl).toEqual(run(['explain', '--jsonl'], { env: { ...d.env, ...own }, input: lines }));
  });

  it("reads the caller's folder, language and knowledge folders, not its own", () => {
    const work = mkdtempSync(join(tmpdir(), 'tdm-work-'));
    writeFileSync(join(work, 'error.log'), `${nginxRefused}\n`);
    const relative = run(['explain', '--file', 'error.log', '--json'], { env: d.env, cwd: work });
    expect(relative.code).toBe(0);
    expect(JSON.parse(relative.out).causes[0].id).toBe('upstream-refused');
    expect(relative).toEqual(run(['explain', '--file', 'error.log', '--json'], { env: { ...d.env, ...own }, cwd: work }));

    expect(run(['explain', nginxRefused], { env: { ...d.env, LANG: 'zh_CN.UTF-8' } }).out).toMatch(/按顺序尝试/);

    // KNOWLEDGE_DIRS, relative to the caller's folder; an edit is seen by the next command.
    mkdirSync(join(work, 'kb'));
    const entry = readFileSync(resolve(root, 'knowledge/availability/upstream-refused.yaml'), 'utf8');
    const file = join(work, 'kb', 'upstream-refused.yaml');
    writeFileSync(file, entry.replace(/^( {2}en: ).*$/m, '$1Refused, as overridden here'));
    expect(run(['explain', nginxRefused], { env: { ...d.env, KNOWLEDGE_DIRS: 'kb' }, cwd: work }).out).toContain(
      'Refused, as overridden here',
    );
    writeFileSync(file, entry.replace(/^( {2}en: ).*$/m, '$1Refused, as edited since'));
    expect(run(['explain', nginxRefused], { env: { ...d.env, KNOWLEDGE_DIRS: 'kb' }, cwd: work }).out).toContain(
      'Refused, as edited since',
    );
    expect(run(['explain', nginxRefused], { env: d.env }).out).not.toContain('Refused, as');
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps usage errors and exit codes', () => {
    for (const args of [['explain', '--bogus'], ['diagnose'], ['explain', '--file', '/nonexistent/error.log']]) {
      const handed = run(args, { env: d.env });
      expect(handed.code).toBe(2);
      expect(handed).toEqual(run(args, { env: { ...d.env, ...own } }));
    }
  });

  it('diagnoses with real probes: the same causes and probes as in its own process', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/health`;
    const before = answered(d.socket);
    const handed = run(['diagnose', url, '--json'], { env: d.env });
    expect(answered(d.socket)).toBe(before + 1);
    const here = run(['diagnose', url, '--json'], { env: { ...d.env, ...own } });
    const view = (r: Run) => {
      const j = JSON.parse(r.out);
      return {
        causes: j.causes.map((c: { id: string }) => c.id),
        probes: j.probes.map((p: { name: string; ok: boolean }) => [p.name, p.ok]),
      };
    };
    expect(view(handed)).toEqual(view(here));
    expect(view(handed).causes[0]).toBe('upstream-refused');
  });

  it('logs only the command and its outcome, never its text', () => {
    const token = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2VjcmV0LXNpZ25hdHVyZQ';
    run(['explain', `HTTP/1.1 401 Unauthorized\nAuthorization: ${token}`], { env: d.env });
    const log = readFileSync(`${d.socket}.log`, 'utf8');
    expect(log).toMatch(/explain: exit 0 in \d+ ms/);
    expect(log).not.toContain('eyJ');
    expect(log).not.toContain('Unauthorized');
  });

  it('answers hostile requests with a refusal and keeps serving', async () => {
    expect(await raw(d.socket, 'not json\n')).toMatch(/"t":"declined","why":"bad request: not a JSON object"/);
    expect(await raw(d.socket, '{"v":1,"build":"x","argv":[1],"cwd":"/","env":{}}\n')).toMatch(/argv is not a list of strings/);
    expect(await raw(d.socket, '{"v":1,"build":"x","argv":[],"cwd":"relative","env":{}}\n')).toMatch(/cwd is not an absolute path/);
    expect(await raw(d.socket, '{"v":9}\n')).toMatch(/protocol 9/);
    expect(await raw(d.socket, Buffer.alloc(9 * 1024 * 1024, 0x61))).toMatch(/request too large/);
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(0);
    expect(run(['explain', nginxRefused], { env: d.env }).out).toMatch(/upstream-refused/);
  });

  it('does not answer a caller whose Node-level settings differ (NODE_EXTRA_CA_CERTS): that command runs in its own process', () => {
    const ca = join(d.dir, 'ca.pem');
    writeFileSync(ca, `${rootCertificates[0]}\n`);
    const before = answered(d.socket);
    const r = run(['explain', nginxRefused], { env: { ...d.env, NODE_EXTRA_CA_CERTS: ca } });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/upstream-refused/);
    expect(r.err).toMatch(/the daemon was started with another NODE_EXTRA_CA_CERTS; this command runs here/);
    expect(answered(d.socket)).toBe(before);
  });

  it('leaves help, version, kb and TRIAGE_DAEMON=off to the process itself', () => {
    const before = answered(d.socket);
    expect(run(['--version'], { env: d.env }).out).toBe('gateway-triage 0.1.0\n');
    expect(run(['explain', nginxRefused], { env: { ...d.env, ...own } }).code).toBe(0);
    expect(answered(d.socket)).toBe(before);
  });
});

describe('triage daemon: the socket and its lifecycle', () => {
  it('is not used, and not started, when its folder is open to other users', () => {
    const d = socketIn();
    chmodSync(d.dir, 0o755);
    const start = run(['daemon', 'start'], { env: d.env });
    expect(start.code).toBe(2);
    expect(start.err).toMatch(/cannot use the daemon socket .*d\.sock: .* is open to other users \(mode 755\): chmod 700 /);
    // A socket left there by someone: not trusted with the caller's environment.
    writeFileSync(d.socket, '');
    const r = run(['explain', nginxRefused], { env: d.env });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/upstream-refused/);
    expect(r.err).toMatch(/not using the daemon at .*d\.sock: .* is open to other users/);
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('runs the command itself when the socket is stale (a daemon killed), and start takes its place', () => {
    const d = socketIn();
    expect(run(['daemon', 'start'], { env: d.env }).code).toBe(0);
    const pid = Number(/pid (\d+)/.exec(run(['daemon', 'status'], { env: d.env }).out)?.[1]);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && spawnSync('kill', ['-0', String(pid)]).status === 0; i++) spawnSync('sleep', ['0.05']);
    expect(existsSync(d.socket)).toBe(true);
    const r = run(['explain', nginxRefused], { env: d.env });
    expect(r).toEqual(run(['explain', nginxRefused], { env: { TRIAGE_DAEMON: 'off' } }));
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(3);
    expect(run(['daemon', 'start'], { env: d.env }).code).toBe(0);
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(0);
    expect(run(['daemon', 'stop'], { env: d.env }).out).toMatch(/stopped \(pid \d+\)/);
    expect(run(['daemon', 'status'], { env: d.env }).out).toMatch(/not running/);
    rmSync(d.dir, { recursive: true, force: true });
  }, 60_000);

  it('stops by itself after --idle without a command', async () => {
    const d = socketIn();
    expect(run(['daemon', 'start', '--idle', '1s'], { env: d.env }).code).toBe(0);
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(3);
    expect(readFileSync(`${d.socket}.log`, 'utf8')).toMatch(/stopping: no command for 1 s/);
    expect(run(['daemon', 'start', '--idle', 'soon'], { env: d.env })).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--idle takes a duration such as 90s, 30m or 2h, not "soon"/),
    });
    rmSync(d.dir, { recursive: true, force: true });
  }, 60_000);

  it('does not answer a client of another build: that command runs in its own process and the daemon stops', () => {
    const d = socketIn();
    // Another build: the same files with another build id in the client's chunk.
    const copy = mkdtempSync(join(tmpdir(), 'tdm-build-'));
    for (const f of ['package.json', 'dist', 'knowledge'])
      cpSync(resolve(root, f), join(copy, f), { recursive: true, preserveTimestamps: true });
    symlinkSync(resolve(root, 'node_modules'), join(copy, 'node_modules'));
    const chunks = join(copy, 'dist/cli-chunks');
    const handoff = readdirSync(chunks).find((f) => f.startsWith('handoff-'));
    expect(handoff).toBeDefined();
    const text = readFileSync(join(chunks, handoff!), 'utf8');
    expect(text).toMatch(/"sha256:[0-9a-f]{64}"/);
    writeFileSync(join(chunks, handoff!), text.replace(/"sha256:[0-9a-f]{64}"/, `"sha256:${'0'.repeat(64)}"`));

    expect(run(['daemon', 'start'], { env: d.env }).code).toBe(0);
    const r = run(['explain', nginxRefused], { env: d.env, script: join(copy, 'dist/cli.js') });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/upstream-refused/);
    expect(r.err).toMatch(/the daemon at .*d\.sock runs another build and stops now; this command runs here/);
    let status = 0;
    for (let i = 0; i < 50 && (status = run(['daemon', 'status'], { env: d.env }).code ?? 0) === 0; i++) spawnSync('sleep', ['0.1']);
    expect(status).toBe(3);
    rmSync(copy, { recursive: true, force: true });
    rmSync(d.dir, { recursive: true, force: true });
  }, 60_000);
});

/** Waits until `triage daemon status` says running (exit 0) or not (3); the last status. */
function statusBecomes(env: Record<string, string | undefined>, code: 0 | 3): Run {
  let r = run(['daemon', 'status'], { env });
  for (let i = 0; i < 100 && r.code !== code; i++) {
    spawnSync('sleep', ['0.1']);
    r = run(['daemon', 'status'], { env });
  }
  return r;
}

describe('triage daemon: started on first use', () => {
  it('starts one in the background when none runs (in a folder it makes, 0700), and the next command is answered by it', () => {
    const top = mkdtempSync(join(tmpdir(), 'tdm-auto-'));
    const socket = join(top, 'made', 'd.sock');
    const env = { TRIAGE_DAEMON_SOCKET: socket, TRIAGE_DAEMON: undefined };
    const first = run(['explain', nginxRefused], { env });
    expect(first).toEqual(run(['explain', nginxRefused], { env: { TRIAGE_DAEMON: 'off' } }));
    expect(statSync(join(top, 'made')).mode & 0o777).toBe(0o700);
    expect(statusBecomes(env, 0).code).toBe(0);
    const before = answered(socket);
    expect(run(['explain', nginxRefused], { env })).toEqual(first);
    expect(answered(socket)).toBe(before + 1);
    expect(run(['daemon', 'stop'], { env }).code).toBe(0);
    expect(existsSync(`${socket}.lock`)).toBe(false);
    rmSync(top, { recursive: true, force: true });
  }, 60_000);

  it('answers by itself, promptly, when the folder cannot be made (a missing parent, a path under /proc)', () => {
    for (const socket of ['/nonexistent/a/b/d.sock', '/proc/nope/d.sock']) {
      const env = { TRIAGE_DAEMON_SOCKET: socket, TRIAGE_DAEMON: undefined };
      const r = run(['explain', nginxRefused], { env });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/upstream-refused/);
      const start = run(['daemon', 'start'], { env });
      expect(start.code).toBe(2);
      expect(start.err).toMatch(/cannot make the daemon's folder .* its parent must exist and be writable/);
    }
  });

  it('starts none with TRIAGE_DAEMON=manual, on CI, or for commands it does not answer', () => {
    const d = socketIn();
    for (const env of [
      { ...d.env, TRIAGE_DAEMON: 'manual' },
      { ...d.env, TRIAGE_DAEMON: undefined, CI: 'true' },
    ])
      expect(run(['explain', nginxRefused], { env }).code).toBe(0);
    expect(run(['kb', 'check'], { env: { ...d.env, TRIAGE_DAEMON: undefined } }).code).toBe(0);
    spawnSync('sleep', ['1.5']);
    expect(run(['daemon', 'status'], { env: d.env }).code).toBe(3);
    expect(existsSync(`${d.socket}.log`)).toBe(false);
    // CI=false is not CI.
    expect(run(['explain', nginxRefused], { env: { ...d.env, TRIAGE_DAEMON: undefined, CI: 'false' } }).code).toBe(0);
    expect(statusBecomes(d.env, 0).code).toBe(0);
    run(['daemon', 'stop'], { env: d.env });
    rmSync(d.dir, { recursive: true, force: true });
  }, 60_000);

  it('starts exactly one when several start at once; a lock left by a dead or unrelated process is taken over', async () => {
    const d = socketIn();
    const script = join(root, 'dist/cli.js');
    const starts = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<{ code: number | null; err: string }>((done) => {
            const c = spawn(process.execPath, [script, 'daemon', 'run', '--idle', '20s'], {
              env: { ...base, ...d.env } as NodeJS.ProcessEnv,
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let err = '';
            c.stderr.on('data', (b: Buffer) => {
              err += b.toString();
              // The one that listens keeps running: done once it says so.
              if (/listening at/.test(err)) done({ code: 0, err });
            });
            c.on('close', (code) => done({ code, err }));
          }),
      ),
    );
    const serving = starts.filter((s) => /listening at/.test(s.err));
    expect(serving).toHaveLength(1);
    for (const s of starts.filter((x) => !/listening at/.test(x.err)))
      expect(s.err).toMatch(/a daemon (?:is already starting or running|already answers) at .*d\.sock \(pid \d+\)/);
    const pid = Number(/pid (\d+)/.exec(serving[0]!.err)?.[1]);
    expect(readFileSync(`${d.socket}.lock`, 'utf8')).toBe(String(pid));
    expect(run(['daemon', 'stop'], { env: d.env }).code).toBe(0);

    // A lock whose process is gone (a daemon killed with -9 leaves one).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(`${d.socket}.lock`, dead);
    expect(run(['daemon', 'start'], { env: d.env }).code).toBe(0);
    expect(run(['daemon', 'stop'], { env: d.env }).code).toBe(0);
    // A lock whose pid now names another live process (pid 1), old, with nothing at the socket.
    writeFileSync(`${d.socket}.lock`, '1');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${d.socket}.lock`, old, old);
    expect(run(['daemon', 'start'], { env: d.env }).code).toBe(0);
    expect(run(['daemon', 'stop'], { env: d.env }).code).toBe(0);
    // The same lock, fresh: another daemon is starting, so this one does not.
    writeFileSync(`${d.socket}.lock`, '1');
    const r = run(['daemon', 'run'], { env: d.env });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/a daemon is already starting or running at .*d\.sock \(pid 1\)/);
    rmSync(d.dir, { recursive: true, force: true });
  }, 60_000);
});
