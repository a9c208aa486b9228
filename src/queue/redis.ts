import { Redis, type RedisOptions } from 'ioredis';

/** Redis connection settings for the queue. */
export const REDIS_DEFAULTS = {
  /** Give up connecting after this long. @defaultValue 2000 */
  connectTimeoutMs: 2_000,
  /** A health check (PING) must answer within this long. @defaultValue 2000 */
  pingTimeoutMs: 2_000,
} as const;

/**
 * A connection for BullMQ. Workers and QueueEvents block on Redis, so BullMQ requires
 * `maxRetriesPerRequest: null`; producers fail fast instead (`enableOfflineQueue: false`), so a
 * caller never hangs on a Redis that is down, and reconnect in the background until it is back.
 */
export function createRedis(url: string, role: 'producer' | 'blocking'): Redis {
  const opts: RedisOptions = {
    connectTimeout: REDIS_DEFAULTS.connectTimeoutMs,
    lazyConnect: false,
    ...(role === 'blocking'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          // Keep reconnecting (a long-running bot must recover from a Redis restart); calls fail
          // fast meanwhile because nothing is queued offline.
          retryStrategy: (times: number) => Math.min(times * 200, 2000),
        }),
  };
  const redis = new Redis(url, opts);
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on('error', () => {});
  return redis;
}

/** Whether Redis answers a PING in time. Never throws, never hangs. */
export async function checkRedis(
  url: string,
  timeoutMs: number = REDIS_DEFAULTS.pingTimeoutMs,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let lastError = '';
  const redis = new Redis(url, {
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', (err: Error) => {
    lastError = (err as NodeJS.ErrnoException).code ?? err.message;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return pong === 'PONG' ? { ok: true } : { ok: false, reason: `unexpected answer to PING: ${String(pong).slice(0, 40)}` };
  } catch (err) {
    return { ok: false, reason: lastError || (err as Error).message };
  } finally {
    clearTimeout(timer);
    // A connection that already ended (refused, with no retry) is not disconnected again: ioredis
    // would arm a timer waiting for a 'close' that came before, and hold the process for as long.
    if (redis.status !== 'end') redis.disconnect();
  }
}

/** The URL with any password masked, for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}
