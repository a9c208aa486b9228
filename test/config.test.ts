import { describe, expect, it } from 'vitest';
import { readBotConfig, readCliConfig, readWorkerConfig } from '../src/config.js';
import { TriageError } from '../src/errors.js';

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

describe('readBotConfig', () => {
  it('chooses Socket Mode with an app token, HTTP mode with a signing secret', () => {
    expect(readBotConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).mode).toBe('socket');
    const http = readBotConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: secret });
    expect(http).toEqual(expect.objectContaining({ mode: 'http', port: 3000, logLevel: 'info', watchChannels: [], alertChannels: [] }));
  });

  it('reads channel lists, the API URL and Redis', () => {
    const c = readBotConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: secret,
      WATCH_CHANNELS: 'c0123abcd, C0456EFGH',
      ALERT_CHANNELS: 'C0999ZZZZ',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      PORT: '8080',
    });
    expect(c.watchChannels).toEqual(['C0123ABCD', 'C0456EFGH']);
    expect(c.slackApiUrl).toBe('http://127.0.0.1:9999/api/');
    expect(c.port).toBe(8080);
  });

  it('lists every problem at once, each with its fix', () => {
    const p = problems(() =>
      readBotConfig({
        SLACK_APP_TOKEN: 'xoxb-wrong',
        WATCH_CHANNELS: 'C0123ABCD,#general',
        ALERT_CHANNELS: 'C0123ABCD',
        PROBE_ALLOW: '10.0.0.1/8',
        LOG_LEVEL: 'loud',
        PORT: 'eighty',
        REDIS_URL: 'http://redis',
      }),
    );
    expect(p.join('\n')).toMatch(/SLACK_BOT_TOKEN is not set/);
    expect(p.join('\n')).toMatch(/SLACK_APP_TOKEN must be an app-level token/);
    expect(p.join('\n')).toMatch(/"#GENERAL" is not a channel id/);
    expect(p.join('\n')).toMatch(/C0123ABCD is in both WATCH_CHANNELS and ALERT_CHANNELS/);
    expect(p.join('\n')).toMatch(/PROBE_ALLOW: "10.0.0.1\/8"/);
    expect(p.join('\n')).toMatch(/LOG_LEVEL "loud"/);
    expect(p.join('\n')).toMatch(/PORT="eighty"/);
    expect(p.join('\n')).toMatch(/REDIS_URL is not a redis/);
    expect(p.length).toBeGreaterThanOrEqual(8);
  });

  it("reads the alert answers' language per channel and the per-user command limit", () => {
    const c = readBotConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: secret,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      ALERT_CHANNELS: 'C0ALERTS,C0OPS',
      ALERTMANAGER_CHANNEL: 'C0AMGR',
      ALERT_CHANNEL_LANGS: 'c0alerts:zh, C0OPS:EN, C0AMGR:zh',
      SLACK_COMMAND_RATE_LIMIT: '5/1m',
    });
    expect(c.alertChannelLangs).toEqual({ C0ALERTS: 'zh', C0OPS: 'en', C0AMGR: 'zh' });
    expect(c.commandRateLimit).toEqual({ count: 5, perSec: 60 });
    const defaults = readBotConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: secret });
    expect(defaults.alertChannelLangs).toEqual({});
    expect(defaults.commandRateLimit).toEqual({ count: 20, perSec: 60 });
    expect(
      readBotConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: secret, SLACK_COMMAND_RATE_LIMIT: 'off' }).commandRateLimit,
    ).toBeUndefined();
  });

  it('reports every bad ALERT_CHANNEL_LANGS entry and a bad SLACK_COMMAND_RATE_LIMIT together', () => {
    const p = problems(() =>
      readBotConfig({
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: secret,
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        ALERT_CHANNELS: 'C0ALERTS',
        ALERT_CHANNEL_LANGS: 'C0ALERTS:fr,C0ELSEWHERE:zh,nonsense,bad-id:en',
        SLACK_COMMAND_RATE_LIMIT: 'lots',
      }),
    );
    expect(p).toEqual([
      expect.stringMatching(/ALERT_CHANNEL_LANGS: C0ALERTS: "fr" is not a language the bot speaks: use en or zh/),
      expect.stringMatching(/ALERT_CHANNEL_LANGS: C0ELSEWHERE answers no alerts: list it in ALERT_CHANNELS/),
      expect.stringMatching(/ALERT_CHANNEL_LANGS: "nonsense" must be CHANNEL:LANG/),
      expect.stringMatching(/ALERT_CHANNEL_LANGS: "BAD-ID" is not a channel id/),
      expect.stringMatching(/SLACK_COMMAND_RATE_LIMIT="lots" must be COUNT\/PERIOD/),
    ]);
  });

  it('needs a way in: Socket Mode or HTTP', () => {
    expect(problems(() => readBotConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).join()).toMatch(
      /neither SLACK_APP_TOKEN .* nor SLACK_SIGNING_SECRET/,
    );
  });
});

describe('readWorkerConfig', () => {
  it('requires REDIS_URL and checks pools, numbers and PROBE_ALLOW together', () => {
    const p = problems(() =>
      readWorkerConfig({ WORKER_POOLS: 'eu west', WORKER_CONCURRENCY: '0', PROBE_ALLOW: '*', QUEUE_SECRET: 'short' }),
    );
    expect(p.join('\n')).toMatch(/REDIS_URL is not set/);
    expect(p.join('\n')).toMatch(/WORKER_POOLS: "eu west"/);
    expect(p.join('\n')).toMatch(/WORKER_CONCURRENCY="0"/);
    expect(p.join('\n')).toMatch(/PROBE_ALLOW/);
    expect(p.join('\n')).toMatch(/QUEUE_SECRET is shorter/);
  });

  it('has documented defaults', () => {
    const c = readWorkerConfig({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_SECRET: 'q'.repeat(32) });
    expect(c).toEqual(
      expect.objectContaining({ pools: ['default'], concurrency: 4, queuePrefix: 'triage', lockDurationMs: 30000, extraCaPems: [] }),
    );
    expect(c.maxLimits).toEqual({ timeoutMs: 120000, maxBodyBytes: 1048576, maxRedirects: 20, repeatCount: 20, repeatSpreadMs: 30000 });
  });

  it('requires QUEUE_SECRET (a worker runs only sealed, signed jobs) and reads its maxima', () => {
    expect(problems(() => readWorkerConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).join('\n')).toMatch(
      /QUEUE_SECRET is not set: a worker runs only jobs sealed and signed with it/,
    );
    const c = readWorkerConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_SECRET: 'q'.repeat(32),
      WORKER_MAX_REPEAT: '5',
      WORKER_MAX_TIMEOUT_MS: '3000',
    });
    expect(c.maxLimits).toMatchObject({ repeatCount: 5, timeoutMs: 3000 });
    expect(
      problems(() => readWorkerConfig({ REDIS_URL: 'redis://h', QUEUE_SECRET: 'q'.repeat(32), WORKER_MAX_REPEAT: '0' })).join(),
    ).toMatch(/WORKER_MAX_REPEAT="0" must be a whole number from 1 to 1000/);
  });
});

describe('readCliConfig', () => {
  it('reads the proxy variables that are set, as they are, for the curl rules of src/triage/proxy-env.ts', () => {
    const c = readCliConfig({ https_proxy: 'http://p:3128', NO_PROXY: '.corp', HTTP_PROXY: 'http://x:1', PATH: '/bin' });
    expect(c.proxyEnv).toEqual({ https_proxy: 'http://p:3128', NO_PROXY: '.corp', HTTP_PROXY: 'http://x:1' });
    expect(readCliConfig({}).proxyEnv).toEqual({});
  });
});
