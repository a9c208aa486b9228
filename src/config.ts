import { readFileSync } from 'node:fs';
import { TriageError } from './errors.js';
import { parseProbeAllow } from './security/ssrf.js';
import type { Lang } from './knowledge/types.js';

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
  if (problems.length > 0) {
    throw new TriageError('CONFIG_INVALID', `configuration has ${problems.length} problem(s)`, problems);
  }
  const color = env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return { lang, knowledgeDirs, color };
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
  /** QUEUE_SECRET: seals headers and proxy credentials in jobs; same value on bot and workers. */
  readonly queueSecret?: string;
  /** QUEUE_PREFIX: Redis key prefix. @defaultValue 'triage' */
  readonly queuePrefix: string;
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
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const problems: string[] = [];
  const redisUrl = readRedisUrl(env, problems, true) ?? '';
  const pools = splitList(env.WORKER_POOLS ?? 'default').map((p) => p.toLowerCase());
  if (pools.length === 0) problems.push('WORKER_POOLS is empty: name at least one pool, e.g. WORKER_POOLS=default');
  for (const p of pools)
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(p))
      problems.push(`WORKER_POOLS: "${p}" is not a pool name: use letters, digits, - and _ (e.g. eu-west)`);
  const concurrency = int(env, 'WORKER_CONCURRENCY', 4, 1, 256, problems);
  const lockDurationMs = int(env, 'WORKER_LOCK_MS', 30_000, 1_000, 600_000, problems);
  const stalledIntervalMs = int(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 500, 600_000, problems);
  const shutdownGraceMs = int(env, 'WORKER_SHUTDOWN_GRACE_MS', 25_000, 0, 600_000, problems);
  const queueSecret = readQueueSecret(env, problems);
  const queuePrefix = env.QUEUE_PREFIX?.trim() || 'triage';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(queuePrefix))
    problems.push(`QUEUE_PREFIX: "${queuePrefix}" must be 1-64 letters, digits, ':', '_' or '-'`);
  const extraCaPems = readExtraCa(env, problems);
  checkProbeAllow(env, problems);
  const name = env.WORKER_NAME?.trim() || undefined;
  if (name !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(name))
    problems.push(`WORKER_NAME: "${name}" must be 1-64 letters, digits, '.', '_', ':' or '-'`);
  fail(problems);
  return {
    redisUrl,
    pools,
    ...(name ? { name } : {}),
    extraCaPems,
    concurrency,
    probeAllow: env.PROBE_ALLOW ?? '',
    ...(queueSecret ? { queueSecret } : {}),
    queuePrefix,
    lockDurationMs,
    stalledIntervalMs,
    shutdownGraceMs,
  };
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

/** The PEM certificates in the file NODE_EXTRA_CA_CERTS names (Node trusts them too, for its own requests). */
function readExtraCa(env: Env, problems: string[]): string[] {
  const file = env.NODE_EXTRA_CA_CERTS?.trim();
  if (!file) return [];
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

/** Settings of the Slack bot (`npm start`, dist/main.js). */
export interface BotConfig {
  /** SLACK_BOT_TOKEN (xoxb-…), always required. */
  readonly botToken: string;
  /** Socket Mode when SLACK_APP_TOKEN (xapp-…) is set; HTTP mode on PORT otherwise. */
  readonly mode: 'socket' | 'http';
  readonly appToken?: string;
  /** SLACK_SIGNING_SECRET, required in HTTP mode (verifies that requests come from Slack). */
  readonly signingSecret?: string;
  /** PORT for HTTP mode (POST /slack/events). @defaultValue 3000 */
  readonly port: number;
  /** SLACK_API_URL: the Web API base URL (tests, enterprise proxies). @defaultValue https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** REDIS_URL: probes go through the queue to workers, and feedback/dedupe live there; in-process without it. */
  readonly redisUrl?: string;
  /** WATCH_CHANNELS: channel ids where pasted errors are answered (DMs and mentions always are). */
  readonly watchChannels: readonly string[];
  /** ALERT_CHANNELS: channel ids whose monitoring alerts are answered. */
  readonly alertChannels: readonly string[];
  /** PROBE_CHANNELS / PROBE_USERS: who may run probes (empty = everyone). */
  readonly probeChannels: readonly string[];
  readonly probeUsers: readonly string[];
  /** PROBE_ALLOW: the SSRF allowlist (validated). */
  readonly probeAllow: string;
  readonly queueSecret?: string;
  readonly queuePrefix: string;
  /** LOG_LEVEL. @defaultValue 'info' */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,20}$/;
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** Read and check every bot setting; one error lists every problem with its fix. */
export function readBotConfig(env: Env = process.env): BotConfig {
  const problems: string[] = [];
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
  const port = int(env, 'PORT', 3000, 0, 65535, problems);
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
  const redisUrl = readRedisUrl(env, problems, false);
  const ids = (name: string, re: RegExp, what: string) => {
    const list = splitList(env[name]).map((x) => x.toUpperCase());
    for (const id of list)
      if (!re.test(id))
        problems.push(
          `${name}: "${id}" is not a ${what} id (like ${what === 'channel' ? 'C0123ABCD' : 'U0123ABCD'}): copy it from the ${what}'s details in Slack`,
        );
    return list;
  };
  const watchChannels = ids('WATCH_CHANNELS', CHANNEL_ID, 'channel');
  const alertChannels = ids('ALERT_CHANNELS', CHANNEL_ID, 'channel');
  const probeChannels = ids('PROBE_CHANNELS', CHANNEL_ID, 'channel');
  const probeUsers = ids('PROBE_USERS', USER_ID, 'user');
  for (const c of watchChannels.filter((c) => alertChannels.includes(c))) {
    problems.push(`${c} is in both WATCH_CHANNELS and ALERT_CHANNELS: an alert channel already answers alerts; list it in one of them`);
  }
  if (alertChannels.length > 0 && !redisUrl) {
    problems.push('ALERT_CHANNELS needs REDIS_URL: which alerts were answered (and "seen N times") is kept in Redis');
  }
  checkProbeAllow(env, problems);
  const queueSecret = readQueueSecret(env, problems);
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as BotConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL "${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);
  fail(problems);
  return {
    botToken,
    mode: appToken ? 'socket' : 'http',
    ...(appToken ? { appToken } : {}),
    ...(signingSecret ? { signingSecret } : {}),
    port,
    ...(slackApiUrl ? { slackApiUrl } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    watchChannels,
    alertChannels,
    probeChannels,
    probeUsers,
    probeAllow: env.PROBE_ALLOW ?? '',
    ...(queueSecret ? { queueSecret } : {}),
    queuePrefix: env.QUEUE_PREFIX?.trim() || 'triage',
    logLevel,
  };
}
