/**
 * `triage --server URL …` (dist/cli.js) against the real API: the same output as local mode, and
 * one clear line with the CLI's exit codes when the server cannot be used.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, NGINX_REFUSED, startApi, startBadGateway, TOKEN, type RunningApi } from './fixture.js';

const root = resolve(import.meta.dirname, '../..');
const baseEnv = { ...process.env, LANG: 'C.UTF-8', NO_COLOR: '1', KNOWLEDGE_DIRS: '', TRIAGE_API_TOKEN: TOKEN };

/** Run the built CLI without blocking this process (which serves the API it talks to). */
function triage(
  args: string[],
  input = '',
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: root, env: { ...baseEnv, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => done({ code, out, err }));
    child.stdin.end(input);
  });
}

let api: RunningApi;
let upstream: Awaited<ReturnType<typeof startBadGateway>>;

beforeAll(async () => {
  upstream = await startBadGateway();
  api = await startApi();
});

afterAll(async () => {
  await api?.stop();
  await upstream?.close();
});

describe('triage --server URL explain', () => {
  it('prints exactly what local explain prints, with --json, in the terminal, from stdin and with --jsonl', async () => {
    const pairs: [string[], string][] = [
      [['explain', NGINX_REFUSED, '--json'], ''],
      [['explain', NGINX_REFUSED], ''],
      [['explain', '--all', '--width', '80'], NGINX_REFUSED],
      [['explain', '--lang', 'zh', '--json'], NGINX_REFUSED],
      [
        ['explain', '--jsonl'],
        `${JSON.stringify({ id: 'a', text: NGINX_REFUSED })}\nnot json\n${JSON.stringify({ id: 'c', text: ' ' })}\n`,
      ],
    ];
    for (const [args, input] of pairs) {
      const [local, remote] = await Promise.all([triage(args, input), triage(['--server', api.url, ...args], input)]);
      expect(remote.err, args.join(' ')).toBe('');
      expect(remote.code).toBe(0);
      expect(remote.out, args.join(' ')).toBe(local.out);
    }
    const json = JSON.parse((await triage([`--server=${api.url}`, 'explain', NGINX_REFUSED, '--json'])).out);
    expect(json.causes[0].id).toBe('upstream-refused');
  });
});

describe('triage --server URL diagnose', () => {
  it('ranks the same causes as a local diagnose', async () => {
    const args = ['diagnose', upstream.url, '--timeout', '2000', '--json'];
    const [local, remote] = await Promise.all([triage(args), triage(['--server', api.url, ...args])]);
    expect(remote.err).toBe('');
    expect(remote.code).toBe(0);
    const ids = (out: string) => (JSON.parse(out) as { causes: { id: string }[] }).causes.map((c) => c.id);
    expect(ids(remote.out).length).toBeGreaterThan(0);
    expect(ids(remote.out)).toEqual(ids(local.out));
    expect(JSON.parse(remote.out).probes.length).toBeGreaterThan(0);
  }, 60_000);

  it('says in one line when the server refuses the target (exit 2)', async () => {
    const r = await triage(['--server', api.url, 'diagnose', 'http://169.254.169.254/latest/meta-data/']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^triage: the server refused: the probes may not go there: url: .*169\.254\.169\.254/);
  });
});

describe('triage --server failures', () => {
  it('exits 1 with one line when the server is unreachable', async () => {
    const r = await triage(['--server', `http://127.0.0.1:${await closedPort()}`, 'explain', NGINX_REFUSED]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot reach the triage server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('exits 2 with one line for a wrong token, a missing token, a bad URL, or kb check', async () => {
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--server', api.url, 'explain', 'x'], { TRIAGE_API_TOKEN: 'wrong-token-0123456789' }, /refused: .*API_TOKENS.*TRIAGE_API_TOKEN/],
      [['--server', api.url, 'explain', 'x'], { TRIAGE_API_TOKEN: undefined }, /TRIAGE_API_TOKEN is not set/],
      [['--server', 'ftp://example.com', 'explain', 'x'], {}, /--server takes the http\(s\) URL/],
      [['--server', api.url, 'kb', 'check'], {}, /drop --server/],
      [['--server', api.url, 'diagnose', upstream.url, '--queue'], {}, /drop --queue/],
    ];
    for (const [args, env, message] of cases) {
      const r = await triage(args, '', env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toMatch(message);
    }
  });
});
