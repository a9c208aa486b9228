/**
 * The secrets corpus (test/support/secrets.ts): every kind of secret in every carrier, freshly
 * made, through every output — the CLI (text, --json, --jsonl), the HTTP API, Slack posts through
 * the stand-in, the logs at LOG_LEVEL=trace and the metrics. Fails if any 8-character piece of a
 * secret appears anywhere in any of them.
 *
 * Each carrier puts a marker right before the secret on its line; an output that shows the marker
 * showed that line, so "nothing leaked" is not the same as "nothing shown". The JSON outputs must
 * show every line; the text and Slack renderings (which show the top evidence) most of them.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boltLogger, createLogger } from '../../src/log.js';
import { createEngine } from '../../src/triage/engine.js';
import { renderTerminal } from '../../src/triage/render-terminal.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { SIGNING_SECRET } from '../support/samples.js';
import { CARRIERS, jsonStrings, leakedPieces, secretSamples, secretsCorpus, type CorpusCase } from '../support/secrets.js';
import { startSlackStandin, type SlackStandin } from '../support/slack-standin.js';

const root = resolve(import.meta.dirname, '../..');
const corpus = secretsCorpus();
const kinds = [...new Set(corpus.map((c) => c.kind))];
const API_TOKEN = 'corpus-token-0123456789abcdef';
/** Every kind as its own CLI process (slow: two processes per kind); otherwise every 7th kind. */
const FULL_CLI = process.env.SECRETS_CORPUS_FULL === '1';
const BOT_TOKEN = 'xoxb-corpus-token';

/** What one output showed of one case. */
interface Seen {
  readonly output: string;
  readonly id: string;
  readonly text: string;
}

/** Per output: how many cases it showed (marker present) and which leaked. */
function audit(seen: readonly Seen[]) {
  const byCase = new Map(corpus.map((c) => [c.id, c]));
  const report = new Map<string, { shown: number; leaks: string[] }>();
  for (const s of seen) {
    const c = byCase.get(s.id)!;
    const r = report.get(s.output) ?? { shown: 0, leaks: [] };
    const squeezed = s.text.replace(/\s+/g, '');
    if (s.text.includes(c.marker)) r.shown++;
    const pieces = [...leakedPieces(s.text, c.secrets), ...leakedPieces(squeezed, c.secrets)];
    if (pieces.length > 0) r.leaks.push(`${c.kind} in ${c.carrier}: ${pieces[0]}`);
    report.set(s.output, r);
  }
  return report;
}

/** Output of `node dist/cli.js ARGS` with `input` on standard input. */
function cli(args: string[], input: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Run `fn` over `items`, `width` at a time. */
async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Text as Slack sends a person's message: &, < and > escaped (the bot reads them back). */
const slackEscaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function waitFor<T>(fn: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const seen: Seen[] = [];
const add = (output: string, id: string, text: string) => seen.push({ output, id, text });

describe('the secrets corpus', () => {
  it(`has at least 60 kinds in at least 3 carriers, each secret fresh`, () => {
    expect(kinds.length).toBeGreaterThanOrEqual(60);
    expect(CARRIERS.length).toBeGreaterThanOrEqual(3);
    expect(corpus.length).toBe(kinds.length * CARRIERS.length);
    const again = secretSamples();
    expect(again[0]!.secrets[0]).not.toBe(corpus[0]!.secrets[0]);
  });

  it('CLI --jsonl: every case in one run', async () => {
    const input = corpus.map((c) => JSON.stringify({ id: c.id, text: c.text })).join('\n');
    const r = await cli(['explain', '--jsonl'], input);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(corpus.length);
    for (const line of lines) {
      const { id } = JSON.parse(line) as { id: string };
      add('cli --jsonl', id, `${line}\n${jsonStrings(JSON.parse(line))}`);
    }
    add('cli --jsonl stderr', corpus[0]!.id, r.stderr);
  }, 60_000);

  it('CLI text (--all) and --json, every case through the renderers the CLI prints with', () => {
    const engine = createEngine();
    for (const c of corpus) {
      const d = engine.explain(c.text);
      add('cli text (renderer)', c.id, renderTerminal(d, { width: 400, color: false, all: true }));
      add('cli --json (renderer)', c.id, `${JSON.stringify(d)}\n${jsonStrings(d)}`);
    }
  });

  it(`CLI text (--all) and --json as processes: ${FULL_CLI ? 'every kind' : 'every 7th kind (SECRETS_CORPUS_FULL=1: every kind)'}, one run per kind and output`, async () => {
    const chosen = kinds.filter((_k, i) => FULL_CLI || i % 7 === 0);
    const byKind = chosen.map((k) => corpus.filter((c) => c.kind === k));
    await pool(byKind, 3, async (cases) => {
      const input = cases.map((c) => c.text).join('\n\n');
      const [text, json] = await Promise.all([cli(['explain', '--all', '--width', '400'], input), cli(['explain', '--json'], input)]);
      expect(text.code).toBe(0);
      expect(json.code).toBe(0);
      for (const c of cases) {
        add('cli text (process)', c.id, text.stdout + text.stderr);
        add('cli --json (process)', c.id, `${json.stdout}\n${jsonStrings(JSON.parse(json.stdout))}${json.stderr}`);
      }
    });
  }, 300_000);

  it('logs at trace: every case as a message, a printf argument, a field, an error and a nested object', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'trace', destination: { write: (s: string) => void lines.push(s) } });
    for (const c of corpus) {
      lines.length = 0;
      log.trace(c.text);
      log.debug('upstream said %s', c.text);
      log.info({ body: c.text, request: { url: c.text, note: [c.text] } }, 'request failed');
      log.warn({ err: new Error(c.text) }, 'probe failed');
      log.error(new Error(c.text));
      add('logs (logger at trace)', c.id, lines.join(''));
    }
  });

  describe('npm start at LOG_LEVEL=trace: the API, Slack commands, its logs and /metrics', () => {
    let slack: SlackStandin;
    let child: ReturnType<typeof spawn>;
    let output = '';
    let base = '';

    beforeAll(async () => {
      slack = await startSlackStandin({ signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN });
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^(SLACK_|API_TOKENS|ALERTMANAGER_|REDIS_URL|PORT$)/.test(k)),
      );
      child = spawn(process.execPath, ['dist/main.js'], {
        cwd: root,
        env: {
          ...env,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.apiUrl,
          API_TOKENS: API_TOKEN,
          // 249 explains from one token in a few seconds: fair use is tested in test/api/rate-limit.test.ts.
          API_RATE_PER_MINUTE: '0',
          SLACK_COMMAND_RATE_LIMIT: 'off',
          PORT: '0',
          LOG_LEVEL: 'trace',
        },
      });
      child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
      const port = await waitFor(() => /bot ready \(HTTP mode.*port (\d+)/.exec(output)?.[1], 20_000);
      base = `http://127.0.0.1:${port}`;
    }, 30_000);

    afterAll(async () => {
      child?.kill('SIGTERM');
      await slack?.stop();
    });

    it('POST /v1/explain', async () => {
      await pool(corpus, 8, async (c) => {
        const res = await fetch(`${base}/v1/explain`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: c.text }),
        });
        const body = await res.text();
        expect(res.status).toBe(200);
        add('api /v1/explain', c.id, `${body}\n${jsonStrings(JSON.parse(body))}`);
      });
    }, 120_000);

    it('/diagnose <pasted text> posts through the stand-in', async () => {
      await pool(corpus, 6, async (c) => {
        const channel = `C0${c.id.toUpperCase()}`;
        await slack.sendCommand(`${base}/slack/events`, {
          command: '/diagnose',
          text: slackEscaped(c.text),
          user_id: 'U0ALICE',
          channel_id: channel,
        });
        const post = await slack.waitForCall('chat.postMessage', (call) => call.args.channel === channel, 20_000);
        add('slack /diagnose (npm start)', c.id, `${JSON.stringify(post.args)}\n${jsonStrings(post.args)}`);
      });
      for (const p of slack.responseUrlPosts) add('slack response_url (npm start)', corpus[0]!.id, JSON.stringify(p.body));
    }, 180_000);

    it('its logs at trace and /metrics', async () => {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(output).toMatch(/"level":"info"/);
      expect(metrics).toMatch(/triage_diagnoses_total\{entry="api"/);
      for (const c of corpus) {
        add('logs (npm start, trace)', c.id, output);
        add('/metrics', c.id, metrics);
      }
    });
  });

  describe('the bot in process (test/support/bot-harness.ts), Bolt logging at trace', () => {
    let harness: BotHarness;
    const logs: string[] = [];

    beforeAll(async () => {
      const logger = boltLogger(createLogger({ level: 'trace', destination: { write: (s: string) => void logs.push(s) } }));
      harness = await startBotHarness({ env: { SLACK_COMMAND_RATE_LIMIT: 'off' }, overrides: { logger } });
    }, 30_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('errors pasted in a DM are answered in their thread', async () => {
      const slack = harness.slack;
      await pool(corpus, 6, async (c: CorpusCase) => {
        const channel = `D0${c.id.toUpperCase()}`;
        await slack.sendEvent(harness.url, {
          type: 'message',
          channel,
          channel_type: 'im',
          user: 'U0ALICE',
          text: slackEscaped(c.text),
          ts: '1700000001.000100',
        });
        const post = await slack.waitForCall('chat.postMessage', (call) => call.args.channel === channel, 20_000);
        add('slack DM answer (bot-harness)', c.id, `${JSON.stringify(post.args)}\n${jsonStrings(post.args)}`);
      });
      // Bolt logs what it logs at its own level; whatever that is, it is checked.
      for (const c of corpus) add('Bolt logs (bot-harness)', c.id, logs.join(''));
    }, 180_000);
  });

  it('nothing leaked anywhere; the JSON outputs showed every line, the renderings most', () => {
    const report = audit(seen);
    const table = [...report].map(([output, r]) => `${output.padEnd(36)} shown ${String(r.shown).padStart(4)}  leaked ${r.leaks.length}`);
    console.log(`${kinds.length} kinds × ${CARRIERS.length} carriers = ${corpus.length} cases\n${table.join('\n')}`);
    for (const [output, r] of report) expect(r.leaks, output).toEqual([]);
    for (const output of ['cli --jsonl', 'cli --json (renderer)', 'api /v1/explain', 'logs (logger at trace)'])
      expect(report.get(output)?.shown, output).toBe(corpus.length);
    for (const output of ['cli text (renderer)', 'slack /diagnose (npm start)', 'slack DM answer (bot-harness)'])
      expect(report.get(output)?.shown ?? 0, output).toBeGreaterThanOrEqual(Math.floor(corpus.length * 0.5));
  });
});
