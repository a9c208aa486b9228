/** `npm start` (dist/main.js) serving the API alone: started, used, stopped with SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import { startSlackStandin } from '../support/slack-standin.js';
import { NGINX_REFUSED, TOKEN } from './fixture.js';
import { SIGNING_SECRET as signingSecret } from '../support/samples.js';

const root = resolve(import.meta.dirname, '../..');
const clean = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(SLACK_|API_TOKENS|ALERTMANAGER_|REDIS_URL|PORT$)/.test(k)),
);

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: root, env: { ...clean, ...env } });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function waitFor<T>(fn: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start without Slack', () => {
  it('serves the API alone, and stops on SIGTERM', async () => {
    const { child, output } = start({ API_TOKENS: TOKEN, PORT: '0' });
    try {
      const port = await waitFor(() => /HTTP API on port (\d+)/.exec(output())?.[1], 20_000);
      expect(output()).toMatch(/API ready .*Slack not configured/);
      const client = createApiClient(`http://127.0.0.1:${port}`, TOKEN);
      expect((await client.GET('/healthz')).data).toEqual({ status: 'ok' });
      expect((await client.GET('/readyz')).data).toEqual({ status: 'ready', checks: [] });
      const r = await client.POST('/v1/explain', { body: { text: NGINX_REFUSED } });
      expect(r.data?.causes[0]?.id).toBe('upstream-refused');
      const am = await client.POST('/v1/alerts/alertmanager', { body: {} as never });
      expect(am.response.status).toBe(503);
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    }
  }, 30_000);

  it('refuses to start with nothing to serve, saying both ways to fix it', async () => {
    const { child, output } = start({});
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(output()).toMatch(/nothing to serve: set SLACK_BOT_TOKEN .* or API_TOKENS/);
  });

  it('loads KNOWLEDGE_DIRS: a flat override file replaces the built-in entry by id; a broken one stops the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-knowledge-'));
    const builtin = readFileSync(join(root, 'knowledge/availability/upstream-refused.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'upstream-refused.yaml'),
      builtin.replace(
        /^ {2}en: 'Nothing listens at the upstream address \(connection refused\)'$/m,
        "  en: 'Backend down (our runbook: RB-12)'",
      ),
    );
    const { child, output } = start({ API_TOKENS: TOKEN, PORT: '0', KNOWLEDGE_DIRS: dir });
    try {
      const port = await waitFor(() => /HTTP API on port (\d+)/.exec(output())?.[1], 20_000);
      const r = await createApiClient(`http://127.0.0.1:${port}`, TOKEN).POST('/v1/explain', { body: { text: NGINX_REFUSED } });
      expect(r.data?.causes[0]).toMatchObject({ id: 'upstream-refused', title: 'Backend down (our runbook: RB-12)' });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    writeFileSync(join(dir, 'upstream-refused.yaml'), builtin.replace('family: availability', 'family: availability\nweight: lots'));
    const bad = start({ API_TOKENS: TOKEN, PORT: '0', KNOWLEDGE_DIRS: dir });
    const [code] = await once(bad.child, 'exit');
    expect(code).toBe(2);
    expect(bad.output()).toMatch(/upstream-refused\.yaml/);
    expect(bad.output()).toMatch(/weight/);
  }, 40_000);
});

describe('npm start with the Slack bot in HTTP mode', () => {
  it('serves Slack and the API on one port: signed Slack requests in, the API beside them', async () => {
    const slack = await startSlackStandin({ signingSecret, botToken: 'xoxb-test-token' });
    const { child, output } = start({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      API_TOKENS: TOKEN,
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const port = await waitFor(() => /bot ready \(HTTP mode.*port (\d+)/.exec(output())?.[1], 20_000);
      const base = `http://127.0.0.1:${port}`;
      const r = await slack.sendCommand(`${base}/slack/events`, { command: '/diagnose', text: NGINX_REFUSED, channel_id: 'C0MAIN' });
      expect(r.status).toBe(200);
      const post = await slack.waitForCall('chat.postMessage', (c) => c.args.channel === 'C0MAIN', 10_000);
      expect(JSON.stringify(post.args.blocks)).toContain('cause:upstream-refused');
      const forged = await slack.sendCommand(`${base}/slack/events`, { command: '/diagnose', text: 'help' }, { forgeSignature: true });
      expect(forged.status).toBe(401);
      const client = createApiClient(base, TOKEN);
      expect((await client.POST('/v1/explain', { body: { text: NGINX_REFUSED } })).data?.causes[0]?.id).toBe('upstream-refused');
      expect((await client.GET('/readyz')).data).toMatchObject({ status: 'ready' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/triage_diagnoses_total\{entry="slack_command",top_cause="upstream-refused"\} 1/);
      expect(metrics).toMatch(/triage_slack_api_calls_total\{method="chat.postMessage",outcome="ok"\} 1/);
      // Logs are JSON lines, and carry no token.
      const lines = output()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(output()).not.toContain('xoxb-test-token');
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      await slack.stop();
    }
  }, 40_000);
});
