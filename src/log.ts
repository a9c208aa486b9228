import { format, inspect } from 'node:util';
import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';
import { pino, stdSerializers, type DestinationStream, type LevelWithSilent, type Logger, type LoggerOptions } from 'pino';
import { MASK, redact } from './security/redact.js';

/**
 * Structured logs: one JSON object per line, `{"level":"info","time":"2025-…Z",…,"msg":"…"}`.
 *
 * Nothing reaches the output unmasked: every string in the message and in the logged object goes
 * through {@link redact}, the values of secret-looking keys (authorization, cookie, token, password,
 * …) and of `headers` are replaced by `[masked]` whatever they hold, and pino's own `redact` paths
 * mask the same keys in bindings that bypass the hook.
 *
 * The process's logger is {@link logger}; entry points set its level once with {@link setLogLevel}
 * (LOG_LEVEL, read by config.ts), before making {@link childLogger}s.
 */

export type LogLevel = LevelWithSilent;
export type { Logger };

export interface CreateLoggerOptions {
  /** Least severe level written. @defaultValue 'info' */
  readonly level?: LogLevel;
  /** Where lines go. @defaultValue standard output, written synchronously so no line is lost at exit */
  readonly destination?: DestinationStream;
}

/** Keys whose values are masked wherever they appear (case-insensitive, also as a suffix: `botToken`, `client_secret`). */
const SECRET_KEY = /(?:authorization|cookie|passw(?:or)?d|pwd|secret|token|api[-_]?key|private[-_]?key|credentials?)$/i;

/** The same keys for pino's `redact` (exact, top level and one level down) plus every header value. */
const REDACT_KEYS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'password',
  'passwd',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'apiKey',
  'api_key',
  'secret',
  'clientSecret',
  'client_secret',
  'botToken',
  'appToken',
  'signingSecret',
  'queueSecret',
  'privateKey',
] as const;

/** pino `redact` paths: the secret keys at the top level and one level down, and every value under `headers`. */
export const REDACT_PATHS: readonly string[] = [
  ...REDACT_KEYS.flatMap((k) => (/^[A-Za-z_]\w*$/.test(k) ? [k, `*.${k}`] : [`["${k}"]`, `*["${k}"]`])),
  'headers.*',
  '*.headers.*',
];

const MAX_DEPTH = 8;

/** A copy of `value` fit for a log line: strings masked, secret keys and headers masked, errors serialized. */
function maskDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) return maskDeep({ ...stdSerializers.err(value) }, depth + 1, seen);
    if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1, seen));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return maskDeep(toJSON.call(value), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined && v !== null && SECRET_KEY.test(k)) out[k] = MASK;
      else if (k.toLowerCase() === 'headers' && v !== null && typeof v === 'object' && !Array.isArray(v))
        out[k] = Object.fromEntries(Object.keys(v).map((h) => [h, MASK]));
      else out[k] = maskDeep(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** The message: printf-style arguments applied first, so a secret split across them is still seen whole. */
function maskMessage(msg: unknown, args: readonly unknown[]): string {
  const text = args.length > 0 ? format(msg, ...args) : typeof msg === 'string' ? msg : format(msg);
  return redact(text);
}

function options(level: LogLevel): LoggerOptions {
  return {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: MASK },
    serializers: { err: (e: unknown) => (e instanceof Error ? maskDeep(e) : e) },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (typeof first !== 'object' || first === null) return method.call(this, maskMessage(first, rest));
        const obj = maskDeep(first instanceof Error ? { err: first } : first) as Record<string, unknown>;
        const err = obj.err as { message?: unknown } | undefined;
        if (rest.length > 0) return method.call(this, obj, maskMessage(rest[0], rest.slice(1)));
        if (typeof err?.message === 'string' && obj.msg === undefined) return method.call(this, obj, err.message);
        return method.call(this, obj);
      },
    },
  };
}

/** A logger with the format and masking above. Tests pass a stream; entry points use {@link logger}. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options(opts.level ?? 'info'), destination);
}

/** The process's logger (standard output, level info until {@link setLogLevel}). */
export const logger: Logger = createLogger();

/** Set the level of {@link logger} (from LOG_LEVEL). Child loggers made before keep their level. */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
}

/** A child of {@link logger} whose lines carry `bindings` (masked like everything else). @example childLogger({ component: 'worker', pool: 'eu-west' }) */
export function childLogger(bindings: Readonly<Record<string, unknown>>): Logger {
  return logger.child(maskDeep(bindings) as Record<string, unknown>);
}

/** One log line from {@link logger}. Kept for the entry points' simple messages. */
export function logLine(level: 'info' | 'warn' | 'error', msg: string): void {
  logger[level](msg);
}

const BOLT_LEVELS: Readonly<Record<string, BoltLogLevel>> = {
  trace: 'debug' as BoltLogLevel,
  debug: 'debug' as BoltLogLevel,
  info: 'info' as BoltLogLevel,
  warn: 'warn' as BoltLogLevel,
  error: 'error' as BoltLogLevel,
  fatal: 'error' as BoltLogLevel,
  silent: 'error' as BoltLogLevel,
};

/**
 * @slack/bolt's `Logger` on top of pino, for `new App({ logger: boltLogger(logger) })`. Bolt's
 * variadic arguments become one message (the first Error, if any, goes to `err`); `setName` adds a
 * `name` field (Bolt, Socket Mode and the Web API client each set one); `setLevel` changes only
 * this adapter's level.
 */
export function boltLogger(base: Logger = logger): BoltLogger {
  let log = base.child({ component: 'slack' });
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]): void => {
      if (!log.isLevelEnabled(level)) return;
      const err = msg.find((m): m is Error => m instanceof Error);
      const text = msg
        .map((m) =>
          typeof m === 'string' ? m : m instanceof Error && m === err ? m.message : inspect(m, { depth: 4, breakLength: Infinity }),
        )
        .join(' ');
      if (err) log[level]({ err }, text);
      else log[level](text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel(level: BoltLogLevel) {
      log.level = String(level).toLowerCase();
    },
    getLevel(): BoltLogLevel {
      return BOLT_LEVELS[log.level] ?? ('info' as BoltLogLevel);
    },
    setName(name: string) {
      const level = log.level;
      log = base.child({ component: 'slack', name: redact(name) });
      log.level = level;
    },
  };
}
