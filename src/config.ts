import { readFileSync, statSync } from 'node:fs';
import { digestToken } from './api/auth.js';
import type { ProbeLimits } from './probes/probe.js';
import { POOL_NAME, WORKER_LIMIT_MAXIMA } from './queue/limits.js';
import { TriageError } from './errors.js';
import { parseProbeAllow } from './security/ssrf.js';
import { LANGS, type Lang } from './knowledge/types.js';
import { COMMAND_RATE_DEFAULT, type RateLimit } from './slack/rate-limit.js';
import { PROXY_ENV_NAMES, type ProxyEnv } from './triage/proxy-env.js';

/**
 * The only reader of process.env. Every setting is validated here, and every problem is reported
 * at once with its fix.
 */
export interface CliConfig {
  /** Answer language, from LC_ALL / LC_MESSAGES / LANG (zh* → zh). @defaultValue 'en' */
  readonly lang: Lang;
  /** Extra knowledge directories (KNOWLEDGE_DIRS, comma- or colon-separated), overriding built-ins by id. */
  readonly knowledgeDirs: readonly string[];
  /** Colour in terminal output: off when NO_COLOR is set or TERM is dumb. */
  readonly color: boolean;
  /** TRIAGE_API_TOKEN: the bearer token `triage --server URL …` sends (one of the server's API_TOKENS). */
  readonly apiToken?: string;
  /**
   * https_proxy, HTTPS_PROXY, http_proxy, all_proxy, ALL_PROXY, no_proxy, NO_PROXY (and HTTP_PROXY,
   * only to say curl ignores it): the route `triage diagnose` takes without --proxy, as curl reads
   * them (src/triage/proxy-env.ts). Only the variables that are set. @defaultValue {}
   */
  readonly proxyEnv: ProxyEnv;
}

type Env = Readonly<Record<string, string | undefined>>;

export function readCliConfig(env: Env = process.env): CliConfig {
  const problems: string[] = [];
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  const lang: Lang = /^zh/i.test(locale) ? 'zh' : 'en';
  const knowledgeDirs = splitList(env.KNOWLEDGE_DIRS);
  for (const d of knowledgeDirs) {
    if (d.includes('\0')) problems.push(`KNOWLEDGE_DIRS: "${d}" is not a path: list directories separated by commas`);
  }
  const apiToken = env.TRIAGE_API_TOKEN?.trim() || undefined;
  if (apiToken !== undefined && !BEARER_TOKEN.test(apiToken))
    problems.push("TRIAGE_API_TOKEN is not a bearer token: copy one of the server's API_TOKENS (16-512 letters, digits, - . _ ~ + /)");
  if (problems.length > 0) {
    throw new TriageError('CONFIG_INVALID', `configuration has ${problems.length} problem(s)`, problems);
  }
  const color = env.NO_COLOR === undefined && env.TERM !== 'dumb';
  const proxyEnv: Record<string, string> = {};
  for (const name of PROXY_ENV_NAMES) if (env[name] !== undefined) proxyEnv[name] = env[name];
  return { lang, knowledgeDirs, color, proxyEnv, ...(apiToken ? { apiToken } : {}) };
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[,:]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Settings of `npm run worker` (dist/worker.js). */
export interface WorkerConfig {
  /** REDIS_URL (required). @example redis://redis:6379/0 */
  readonly redisUrl: string;
  /** WORKER_POOLS: the pools (network zones) this process serves, comma-separated. @defaultValue ['default'] */
  readonly pools: readonly string[];
  /** WORKER_CONCURRENCY: probe jobs at once per pool. @defaultValue 4 */
  readonly concurrency: number;
  /** PROBE_ALLOW: CIDRs and host patterns the SSRF policy allows beyond public addresses. @defaultValue '' */
  readonly probeAllow: string;
  /** QUEUE_SECRET (required): jobs are sealed and signed with it; a worker refuses any other job. Same value on bot, API and workers. */
  readonly queueSecret: string;
  /** QUEUE_PREFIX: Redis key prefix. @defaultValue 'triage' */
  readonly queuePrefix: string;
  /**
   * The most one job may ask for, whatever it says: WORKER_MAX_TIMEOUT_MS (120000),
   * WORKER_MAX_BODY_BYTES (1048576), WORKER_MAX_REDIRECTS (20), WORKER_MAX_REPEAT (20),
   * WORKER_MAX_REPEAT_SPREAD_MS (30000). @defaultValue WORKER_LIMIT_MAXIMA (src/queue/limits.ts)
   */
  readonly maxLimits: ProbeLimits;
  /** WORKER_LOCK_MS: job lock; a dead worker's jobs are retried after it. @defaultValue 30000 */
  readonly lockDurationMs: number;
  /** WORKER_STALLED_INTERVAL_MS: how often to look for jobs of dead workers. @defaultValue 30000 */
  readonly stalledIntervalMs: number;
  /** WORKER_SHUTDOWN_GRACE_MS: on SIGTERM, how long running jobs may finish. @defaultValue 25000 */
  readonly shutdownGraceMs: number;
  /** WORKER_NAME: shown in results and Redis CLIENT LIST. @defaultValue host:pid */
  readonly name?: string;
  /** CA certificates (PEM) from the file NODE_EXTRA_CA_CERTS names, trusted by the TLS probes. @defaultValue [] */
  readonly extraCaPems: readonly string[];
  /** METRICS_PORT: GET /metrics (Prometheus) and GET /healthz on this port; 0 turns them off. @defaultValue 9464 */
  readonly metricsPort: number;
  /** LOG_LEVEL. @defaultValue 'info' */
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const problems: string[] = [];
  const redisUrl = readRedisUrl(env, problems, true) ?? '';
  const pools = splitList(env.WORKER_POOLS ?? 'default').map((p) => p.toLowerCase());
  if (pools.length === 0) problems.push('WORKER_POOLS is empty: name at least one pool, e.g. WORKER_POOLS=default');
  for (const p of pools)
    if (!POOL_NAME.test(p)) problems.push(`WORKER_POOLS: "${p}" is not a pool name: use letters, digits, - and _ (e.g. eu-west)`);
  const concurrency = int(env, 'WORKER_CONCURRENCY', 4, 1, 256, problems);
  const lockDurationMs = int(env, 'WORKER_LOCK_MS', 30_000, 1_000, 600_000, problems);
  const stalledIntervalMs = int(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 500, 600_000, problems);
  const shutdownGraceMs = int(env, 'WORKER_SHUTDOWN_GRACE_MS', 25_000, 0, 600_000, problems);
  const queueSecret = readQueueSecret(env, problems);
  if (queueSecret === undefined && !problems.some((p) => p.startsWith('QUEUE_SECRET')))
    problems.push(
      "QUEUE_SECRET is not set: a worker runs only jobs sealed and signed with it; set the bot's and the API's value (16+ characters, e.g. openssl rand -hex 32)",
    );
  const m = WORKER_LIMIT_MAXIMA;
  const maxLimits: ProbeLimits = {
    timeoutMs: int(env, 'WORKER_MAX_TIMEOUT_MS', m.timeoutMs, 100, 600_000, problems),
    maxBodyBytes: int(env, 'WORKER_MAX_BODY_BYTES', m.maxBodyBytes, 0, 64 * 1024 * 1024, problems),
    maxRedirects: int(env, 'WORKER_MAX_REDIRECTS', m.maxRedirects, 0, 100, problems),
    repeatCount: int(env, 'WORKER_MAX_REPEAT', m.repeatCount, 1, 1_000, problems),
    repeatSpreadMs: int(env, 'WORKER_MAX_REPEAT_SPREAD_MS', m.repeatSpreadMs, 0, 600_000, problems),
  };
  const queuePrefix = env.QUEUE_PREFIX?.trim() || 'triage';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(queuePrefix))
    problems.push(`QUEUE_PREFIX: "${queuePrefix}" must be 1-64 letters, digits, ':', '_' or '-'`);
  const extraCaPems = readExtraCa(env, problems);
  checkProbeAllow(env, problems);
  const name = env.WORKER_NAME?.trim() || undefined;
  if (name !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(name))
    problems.push(`WORKER_NAME: "${name}" must be 1-64 letters, digits, '.', '_', ':' or '-'`);
  const metricsPort = readMetricsPort(env, problems);
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as WorkerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL "${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
  fail(problems);
  return {
    redisUrl,
    pools,
    metricsPort,
    logLevel,
    ...(name ? { name } : {}),
    extraCaPems,
    concurrency,
    probeAllow: env.PROBE_ALLOW ?? '',
    queueSecret: queueSecret ?? '',
    maxLimits,
    queuePrefix,
    lockDurationMs,
    stalledIntervalMs,
    shutdownGraceMs,
  };
}

function readMetricsPort(env: Env, problems: string[]): number {
  const raw = env.METRICS_PORT?.trim();
  if (raw === undefined || raw === '') return 9464;
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n > 65535) {
    problems.push(
      `METRICS_PORT="${env.METRICS_PORT}" must be a port from 0 to 65535 (0 turns /metrics and /healthz off), e.g. METRICS_PORT=9464`,
    );
    return 9464;
  }
  return n;
}

/** Queue settings the CLI uses with `triage diagnose --queue`. */
export interface CliQueueConfig {
  readonly redisUrl?: string;
  readonly queueSecret?: string;
  readonly queuePrefix: string;
  /** PROBE_ALLOW for the CLI: the CLI (a local user) allows everything unless TRIAGE_CLI_POLICY=restricted. */
  readonly probeAllow: string;
  readonly restricted: boolean;
  /** CA certificates (PEM) from the file NODE_EXTRA_CA_CERTS names. @defaultValue [] */
  readonly extraCaPems: readonly string[];
}

export function readCliQueueConfig(env: Env = process.env): CliQueueConfig {
  const problems: string[] = [];
  const redisUrl = readRedisUrl(env, problems, false);
  const queueSecret = readQueueSecret(env, problems);
  const policy = (env.TRIAGE_CLI_POLICY ?? 'allow-all').trim();
  if (policy !== 'allow-all' && policy !== 'restricted')
    problems.push(
      `TRIAGE_CLI_POLICY: "${policy}" must be allow-all (the default for a local user) or restricted (the SSRF policy with PROBE_ALLOW)`,
    );
  const extraCaPems = readExtraCa(env, problems);
  fail(problems);
  return {
    extraCaPems,
    ...(redisUrl ? { redisUrl } : {}),
    ...(queueSecret ? { queueSecret } : {}),
    queuePrefix: env.QUEUE_PREFIX?.trim() || 'triage',
    probeAllow: env.PROBE_ALLOW ?? '',
    restricted: policy === 'restricted',
  };
}

function readRedisUrl(env: Env, problems: string[], required: boolean): string | undefined {
  const v = env.REDIS_URL?.trim();
  if (!v) {
    if (required) problems.push('REDIS_URL is not set: point it at the Redis the bot uses, e.g. REDIS_URL=redis://127.0.0.1:6379');
    return undefined;
  }
  try {
    const u = new URL(v);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
    return v;
  } catch {
    problems.push('REDIS_URL is not a redis:// or rediss:// URL: e.g. REDIS_URL=redis://127.0.0.1:6379/0');
    return undefined;
  }
}

function checkProbeAllow(env: Env, problems: string[]): void {
  const parsed = parseProbeAllow(env.PROBE_ALLOW ?? '');
  if ('problems' in parsed) problems.push(...parsed.problems);
}

/**
 * The last read of each NODE_EXTRA_CA_CERTS file, by its size and time: the resident daemon reads
 * the config for every command, and a system bundle is ~150 certificates. The same array comes
 * back while the file is unchanged, so the probes' trust store built from it is kept too.
 */
const extraCaRead = new Map<string, { stamp: string; pems: readonly string[] }>();

/** The PEM certificates in the file NODE_EXTRA_CA_CERTS names (Node trusts them too, for its own requests). */
function readExtraCa(env: Env, problems: string[]): readonly string[] {
  const file = env.NODE_EXTRA_CA_CERTS?.trim();
  if (!file) return [];
  const st = statSync(file, { throwIfNoEntry: false });
  const stamp = st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : '';
  const known = extraCaRead.get(file);
  if (known && st && known.stamp === stamp) return known.pems;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(
      `NODE_EXTRA_CA_CERTS: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): point it at a PEM file of CA certificates`,
    );
    return [];
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]{1,65536}?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) problems.push(`NODE_EXTRA_CA_CERTS: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  else if (st) extraCaRead.set(file, { stamp, pems });
  return pems;
}

function readQueueSecret(env: Env, problems: string[]): string | undefined {
  const v = env.QUEUE_SECRET;
  if (v === undefined || v === '') return undefined;
  if (v.length < 16) problems.push('QUEUE_SECRET is shorter than 16 characters: use a long random value, e.g. openssl rand -hex 32');
  return v;
}

function int(env: Env, name: string, def: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}="${raw}" must be a whole number from ${min} to ${max}`);
    return def;
  }
  return n;
}

function fail(problems: string[]): void {
  if (problems.length > 0)
    throw new TriageError('CONFIG_INVALID', `configuration has ${problems.length} problem(s); fix them and start again`, problems);
}

/** Settings every `npm start` process has, whether it runs the Slack bot, the HTTP API or both. */
export interface ServiceConfig {
  /** PORT: the one HTTP port (Slack's POST /slack/events in HTTP mode, the API, /healthz, /readyz, /metrics). @defaultValue 3000 */
  readonly port: number;
  /** REDIS_URL: probes go through the queue to workers, and feedback/dedupe live there; in-process without it. */
  readonly redisUrl?: string;
  /** PROBE_ALLOW: the SSRF allowlist (validated). */
  readonly probeAllow: string;
  readonly queueSecret?: string;
  readonly queuePrefix: string;
  /** LOG_LEVEL. @defaultValue 'info' */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** KNOWLEDGE_DIRS: extra knowledge directories whose entries add causes or override built-ins by id (validated at start). */
  readonly knowledgeDirs: readonly string[];
}

/** Settings of the Slack bot (`npm start`, dist/main.js). */
export interface BotConfig extends ServiceConfig {
  /** SLACK_BOT_TOKEN (xoxb-…), always required. */
  readonly botToken: string;
  /** Socket Mode when SLACK_APP_TOKEN (xapp-…) is set; HTTP mode on PORT otherwise. */
  readonly mode: 'socket' | 'http';
  readonly appToken?: string;
  /** SLACK_SIGNING_SECRET, required in HTTP mode (verifies that requests come from Slack). */
  readonly signingSecret?: string;
  /** SLACK_API_URL: the Web API base URL (tests, enterprise proxies). @defaultValue https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** WATCH_CHANNELS: channel ids where pasted errors are answered (DMs and mentions always are). */
  readonly watchChannels: readonly string[];
  /** ALERT_CHANNELS: channel ids whose monitoring alerts are answered. */
  readonly alertChannels: readonly string[];
  /** PROBE_CHANNELS / PROBE_USERS: who may run probes (empty = everyone). */
  readonly probeChannels: readonly string[];
  readonly probeUsers: readonly string[];
  /**
   * ALERT_CHANNEL_LANGS: the language of alert answers per channel (ALERT_CHANNELS and
   * ALERTMANAGER_CHANNEL), `C0ALERTS:zh,C0OPS:en`; channels not listed answer in English.
   * @defaultValue {}
   */
  readonly alertChannelLangs: Readonly<Record<string, Lang>>;
  /**
   * SLACK_COMMAND_RATE_LIMIT: how many /diagnose commands one user may run, `COUNT/PERIOD` with
   * the period in s, m or h (`20/60s`, `100/1h`); `off` for no limit. @defaultValue 20/60s
   */
  readonly commandRateLimit?: RateLimit;
  /**
   * THREAD_EVIDENCE_MAX: evidence items one thread's investigation keeps (pastes, files, probe
   * runs, answers); past it the oldest are summarised into one item that keeps their signals.
   * @defaultValue 12
   */
  readonly threadEvidenceMax: number;
}

/** THREAD_EVIDENCE_MAX's default and bounds. */
export const THREAD_EVIDENCE = { default: 12, min: 3, max: 50 } as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,20}$/;
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** Read and check every bot setting; one error lists every problem with its fix. */
export function readBotConfig(env: Env = process.env): BotConfig {
  const problems: string[] = [];
  const service = readServiceSettings(env, problems);
  const slack = readSlackSettings(env, service, problems);
  fail(problems);
  return { ...slack, ...service };
}

type SlackSettings = Omit<BotConfig, keyof ServiceConfig>;

function readSlackSettings(env: Env, service: Pick<ServiceConfig, 'redisUrl'>, problems: string[]): SlackSettings {
  const botToken = env.SLACK_BOT_TOKEN?.trim() ?? '';
  if (!botToken)
    problems.push("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page");
  else if (!botToken.startsWith('xoxb-'))
    problems.push('SLACK_BOT_TOKEN must be a bot token starting with xoxb- (not a user xoxp- or app xapp- token)');
  const appToken = env.SLACK_APP_TOKEN?.trim() || undefined;
  if (appToken && !appToken.startsWith('xapp-'))
    problems.push(
      'SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information → App-Level Tokens, scope connections:write)',
    );
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim() || undefined;
  if (!appToken && !signingSecret) {
    problems.push(
      "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set: set one; the signing secret is on the app's Basic Information page",
    );
  }
  if (signingSecret && !/^[0-9a-f]{32}$/i.test(signingSecret))
    problems.push('SLACK_SIGNING_SECRET should be the 32 hex characters from Basic Information → App Credentials');
  let slackApiUrl: string | undefined;
  if (env.SLACK_API_URL?.trim()) {
    try {
      const u = new URL(env.SLACK_API_URL.trim());
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
      slackApiUrl = u.href.endsWith('/') ? u.href : `${u.href}/`;
    } catch {
      problems.push('SLACK_API_URL is not an http(s) URL: e.g. SLACK_API_URL=https://slack.com/api/');
    }
  }
  const watchChannels = readIds(env, 'WATCH_CHANNELS', CHANNEL_ID, 'channel', problems);
  const alertChannels = readIds(env, 'ALERT_CHANNELS', CHANNEL_ID, 'channel', problems);
  const probeChannels = readIds(env, 'PROBE_CHANNELS', CHANNEL_ID, 'channel', problems);
  const probeUsers = readIds(env, 'PROBE_USERS', USER_ID, 'user', problems);
  for (const c of watchChannels.filter((c) => alertChannels.includes(c))) {
    problems.push(`${c} is in both WATCH_CHANNELS and ALERT_CHANNELS: an alert channel already answers alerts; list it in one of them`);
  }
  if (alertChannels.length > 0 && !service.redisUrl) {
    problems.push('ALERT_CHANNELS needs REDIS_URL: which alerts were answered (and "seen N times") is kept in Redis');
  }
  const alertmanagerChannel = env.ALERTMANAGER_CHANNEL?.trim().toUpperCase();
  const alertChannelLangs = readChannelLangs(env, [...alertChannels, ...(alertmanagerChannel ? [alertmanagerChannel] : [])], problems);
  const commandRateLimit = readRateLimit(env, 'SLACK_COMMAND_RATE_LIMIT', COMMAND_RATE_DEFAULT, problems);
  const threadEvidenceMax = int(env, 'THREAD_EVIDENCE_MAX', THREAD_EVIDENCE.default, THREAD_EVIDENCE.min, THREAD_EVIDENCE.max, problems);
  return {
    alertChannelLangs,
    threadEvidenceMax,
    ...(commandRateLimit ? { commandRateLimit } : {}),
    botToken,
    mode: appToken ? 'socket' : 'http',
    ...(appToken ? { appToken } : {}),
    ...(signingSecret ? { signingSecret } : {}),
    ...(slackApiUrl ? { slackApiUrl } : {}),
    watchChannels,
    alertChannels,
    probeChannels,
    probeUsers,
  };
}

function readServiceSettings(env: Env, problems: string[]): ServiceConfig {
  const port = int(env, 'PORT', 3000, 0, 65535, problems);
  const redisUrl = readRedisUrl(env, problems, false);
  checkProbeAllow(env, problems);
  const queueSecret = readQueueSecret(env, problems);
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as ServiceConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL "${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
  const knowledgeDirs = splitList(env.KNOWLEDGE_DIRS);
  for (const d of knowledgeDirs)
    if (d.includes('\0')) problems.push(`KNOWLEDGE_DIRS: "${d}" is not a path: list directories separated by commas`);
  return {
    port,
    knowledgeDirs,
    ...(redisUrl ? { redisUrl } : {}),
    probeAllow: env.PROBE_ALLOW ?? '',
    ...(queueSecret ? { queueSecret } : {}),
    queuePrefix: env.QUEUE_PREFIX?.trim() || 'triage',
    logLevel,
  };
}

/** `C0ALERTS:zh,C0OPS:en`: every entry a channel that answers alerts, every language one we speak. */
function readChannelLangs(env: Env, alertChannels: readonly string[], problems: string[]): Record<string, Lang> {
  const out: Record<string, Lang> = {};
  for (const entry of splitList(env.ALERT_CHANNEL_LANGS?.replace(/:/g, '='))) {
    const [rawId, rawLang, extra] = entry.split('=').map((x) => x.trim());
    const id = (rawId ?? '').toUpperCase();
    const lang = (rawLang ?? '').toLowerCase();
    if (!rawId || !rawLang || extra !== undefined) {
      problems.push(
        `ALERT_CHANNEL_LANGS: "${entry.replace('=', ':')}" must be CHANNEL:LANG, e.g. ALERT_CHANNEL_LANGS=C0ALERTS:zh,C0OPS:en`,
      );
      continue;
    }
    if (!CHANNEL_ID.test(id))
      problems.push(`ALERT_CHANNEL_LANGS: "${id}" is not a channel id (like C0123ABCD): copy it from the channel's details in Slack`);
    else if (!alertChannels.includes(id))
      problems.push(
        `ALERT_CHANNEL_LANGS: ${id} answers no alerts: list it in ALERT_CHANNELS (or set it as ALERTMANAGER_CHANNEL), or drop it here`,
      );
    if (!(LANGS as readonly string[]).includes(lang))
      problems.push(`ALERT_CHANNEL_LANGS: ${id}: "${rawLang}" is not a language the bot speaks: use ${LANGS.join(' or ')}`);
    else out[id] = lang as Lang;
  }
  return out;
}

/** `COUNT/PERIOD` (`20/60s`, `5/1m`, `100/1h`) or `off`; the default when unset. */
function readRateLimit(env: Env, name: string, def: RateLimit, problems: string[]): RateLimit | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (raw === 'off' || raw === '0') return undefined;
  const m = /^(\d{1,6})\/(\d{1,6})(s|m|h)?$/.exec(raw);
  const count = Number(m?.[1]);
  const perSec = Number(m?.[2]) * ({ s: 1, m: 60, h: 3600 } as const)[(m?.[3] as 's' | 'm' | 'h' | undefined) ?? 's'];
  if (!m || count < 1 || perSec < 1 || perSec > 86_400) {
    problems.push(`${name}="${env[name]}" must be COUNT/PERIOD with the period in s, m or h (e.g. 20/60s, 100/1h, at most a day), or off`);
    return def;
  }
  return { count, perSec };
}

/** Slack ids from a comma-separated variable, upper-cased; each bad one is a problem. */
function readIds(env: Env, name: string, re: RegExp, what: 'channel' | 'user', problems: string[]): string[] {
  const list = splitList(env[name]).map((x) => x.toUpperCase());
  for (const id of list)
    if (!re.test(id))
      problems.push(
        `${name}: "${id}" is not a ${what} id (like ${what === 'channel' ? 'C0123ABCD' : 'U0123ABCD'}): copy it from the ${what}'s details in Slack`,
      );
  return list;
}

/** Settings of the HTTP API (src/api/), served by `npm start` beside the bot or on its own. */
export interface ApiConfig {
  /**
   * SHA-256 digests of API_TOKENS (comma-separated bearer tokens, 16+ characters each). Only the
   * digests are kept, so no config dump or log can show a token. Empty: every /v1 route answers 401.
   * @defaultValue [] (required when Slack is not configured)
   */
  readonly tokenDigests: readonly Buffer[];
  /** ALERTMANAGER_CHANNEL: the Slack channel id where Alertmanager alert groups are answered; needs Slack and API_TOKENS. */
  readonly alertmanagerChannel?: string;
  /** API_RATE_PER_MINUTE: requests a minute one token may make on average (token bucket); 0 turns it off. @defaultValue 120 */
  readonly ratePerMinute: number;
  /** API_RATE_BURST: requests one token may make at once. @defaultValue 30 */
  readonly rateBurst: number;
  /** API_MAX_INFLIGHT_PER_TOKEN: diagnoses one token may have running at once. @defaultValue 4 */
  readonly maxInFlightPerToken: number;
}

/** What `npm start` runs: the Slack bot, the HTTP API, or both on one port. */
export interface ServerConfig extends ServiceConfig {
  /** The bot; absent when none of SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET is set (API only). */
  readonly bot?: BotConfig;
  readonly api: ApiConfig;
}

const SLACK_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET'] as const;

/**
 * Read the settings of `npm start`. Any SLACK_* token or secret turns the bot on (and then it must
 * be complete); without them the process serves the HTTP API only, which then needs API_TOKENS.
 * One error lists every problem with its fix.
 */
export function readServerConfig(env: Env = process.env): ServerConfig {
  const problems: string[] = [];
  const service = readServiceSettings(env, problems);
  const slackOn = SLACK_VARIABLES.some((name) => Boolean(env[name]?.trim()));
  const slack = slackOn ? readSlackSettings(env, service, problems) : undefined;
  const api = readApiSettings(env, slackOn, problems);
  fail(problems);
  return { ...service, ...(slack ? { bot: { ...slack, ...service } } : {}), api };
}

/** RFC 6750 b64token: what a bearer token may hold. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]{16,512}=*$/;

function readApiSettings(env: Env, slackOn: boolean, problems: string[]): ApiConfig {
  const raw = (env.API_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (raw.length === 0 && !slackOn)
    problems.push(
      'nothing to serve: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) to run the Slack bot, ' +
        'or API_TOKENS (comma-separated bearer tokens of 16+ characters, e.g. openssl rand -hex 32) to run the HTTP API alone; or both',
    );
  // Tokens are named by position, never echoed: a problem message must not leak one.
  raw.forEach((t, i) => {
    if (t.length < 16)
      problems.push(`API_TOKENS: token ${i + 1} is shorter than 16 characters: use a long random value, e.g. openssl rand -hex 32`);
    else if (!BEARER_TOKEN.test(t))
      problems.push(
        `API_TOKENS: token ${i + 1} holds characters a bearer token cannot carry: use letters, digits and - . _ ~ + / (at most 512)`,
      );
  });
  const channel = env.ALERTMANAGER_CHANNEL?.trim().toUpperCase() || undefined;
  if (channel !== undefined) {
    if (!CHANNEL_ID.test(channel))
      problems.push(`ALERTMANAGER_CHANNEL: "${channel}" is not a channel id (like C0123ABCD): copy it from the channel's details in Slack`);
    if (!slackOn)
      problems.push(
        'ALERTMANAGER_CHANNEL needs the Slack bot, which posts the answers: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, or unset ALERTMANAGER_CHANNEL',
      );
    if (raw.length === 0)
      problems.push(
        'ALERTMANAGER_CHANNEL needs API_TOKENS: Alertmanager sends one as a bearer token (webhook_config http_config.authorization.credentials)',
      );
  }
  const ratePerMinute = int(env, 'API_RATE_PER_MINUTE', 120, 0, 1_000_000, problems);
  const rateBurst = int(env, 'API_RATE_BURST', 30, 1, 100_000, problems);
  const maxInFlightPerToken = int(env, 'API_MAX_INFLIGHT_PER_TOKEN', 4, 1, 1_000, problems);
  return {
    tokenDigests: raw.map(digestToken),
    ...(channel ? { alertmanagerChannel: channel } : {}),
    ratePerMinute,
    rateBurst,
    maxInFlightPerToken,
  };
}
