/** The settings of `npm start` (readServerConfig): bot, API, or both, every problem at once. */
import { describe, expect, it } from 'vitest';
import { digestToken } from '../../src/api/auth.js';
import { readBotConfig, readCliConfig, readServerConfig } from '../../src/config.js';
import { TriageError } from '../../src/errors.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof TriageError) return [...err.details];
    throw err;
  }
  return [];
}

const secret = '0123456789abcdef0123456789abcdef';
const token = 'a'.repeat(16);

describe('readServerConfig', () => {
  it('runs the API alone when no Slack setting is set, keeping only digests of the tokens', () => {
    const c = readServerConfig({ API_TOKENS: `${token}, ${'b'.repeat(64)}`, PORT: '8080', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(c.bot).toBeUndefined();
    expect(c.port).toBe(8080);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.api.tokenDigests).toEqual([digestToken(token), digestToken('b'.repeat(64))]);
    expect(JSON.stringify(c)).not.toContain(token);
  });

  it('reads the fair-use limits per token, with defaults', () => {
    const d = readServerConfig({ API_TOKENS: token });
    expect(d.api).toMatchObject({ ratePerMinute: 120, rateBurst: 30, maxInFlightPerToken: 4 });
    const c = readServerConfig({ API_TOKENS: token, API_RATE_PER_MINUTE: '0', API_RATE_BURST: '5', API_MAX_INFLIGHT_PER_TOKEN: '2' });
    expect(c.api).toMatchObject({ ratePerMinute: 0, rateBurst: 5, maxInFlightPerToken: 2 });
    expect(() => readServerConfig({ API_TOKENS: token, API_RATE_BURST: '0' })).toThrow(/problem/);
  });

  it('runs the bot and the API together', () => {
    const c = readServerConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: secret,
      API_TOKENS: token,
      ALERTMANAGER_CHANNEL: 'c0alerts',
    });
    expect(c.bot).toEqual(expect.objectContaining({ mode: 'http', port: 3000, botToken: 'xoxb-1' }));
    expect(c.api.alertmanagerChannel).toBe('C0ALERTS');
  });

  it('runs the bot without the API: API_TOKENS is optional with Slack', () => {
    const c = readServerConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    expect(c.bot?.mode).toBe('socket');
    expect(c.api.tokenDigests).toEqual([]);
  });

  it('with neither Slack nor API_TOKENS, one error says both ways to fix it', () => {
    const p = problems(() => readServerConfig({}));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/SLACK_BOT_TOKEN with SLACK_APP_TOKEN .* or SLACK_SIGNING_SECRET/);
    expect(p[0]).toMatch(/or API_TOKENS/);
  });

  it('a partial Slack setup is an error, not API-only', () => {
    const p = problems(() => readServerConfig({ SLACK_SIGNING_SECRET: secret, API_TOKENS: token }));
    expect(p.join('\n')).toMatch(/SLACK_BOT_TOKEN is not set/);
  });

  it('lists every problem at once, never echoing a token', () => {
    const p = problems(() =>
      readServerConfig({ API_TOKENS: 'q7k2, with spaces zz!!', ALERTMANAGER_CHANNEL: '#alerts', PORT: 'x', LOG_LEVEL: 'loud' }),
    );
    const all = p.join('\n');
    expect(all).toMatch(/API_TOKENS: token 1 is shorter than 16 characters/);
    expect(all).toMatch(/API_TOKENS: token 2 holds characters a bearer token cannot carry/);
    expect(all).toMatch(/ALERTMANAGER_CHANNEL: "#ALERTS" is not a channel id/);
    expect(all).toMatch(/ALERTMANAGER_CHANNEL needs the Slack bot/);
    expect(all).toMatch(/PORT="x"/);
    expect(all).toMatch(/LOG_LEVEL "loud"/);
    expect(all).not.toMatch(/q7k2|spaces zz/);
  });

  it('ALERTMANAGER_CHANNEL needs API_TOKENS, since Alertmanager authenticates with one', () => {
    const p = problems(() => readServerConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', ALERTMANAGER_CHANNEL: 'C0ALERTS' }));
    expect(p).toEqual([expect.stringMatching(/ALERTMANAGER_CHANNEL needs API_TOKENS/)]);
  });

  it('leaves readBotConfig as it was: Slack is required there', () => {
    expect(problems(() => readBotConfig({ API_TOKENS: token })).join('\n')).toMatch(/SLACK_BOT_TOKEN is not set/);
  });
});

describe('readCliConfig', () => {
  it('reads TRIAGE_API_TOKEN for --server and checks it is a bearer token', () => {
    expect(readCliConfig({ TRIAGE_API_TOKEN: token }).apiToken).toBe(token);
    expect(readCliConfig({}).apiToken).toBeUndefined();
    expect(problems(() => readCliConfig({ TRIAGE_API_TOKEN: 'two words and more' })).join()).toMatch(
      /TRIAGE_API_TOKEN is not a bearer token/,
    );
  });
});
