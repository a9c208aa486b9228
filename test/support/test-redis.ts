import { Redis } from 'ioredis';
import { findBinary, labTempDir, removeTempDir, startDaemon, startWithFreshPort } from '../lab/process.js';
import { installCommand, ProvisionError } from './lab-packages.js';

/**
 * The Redis the tests use, provided by the global setup (test/support/setup.ts) and handed to every
 * test as TEST_REDIS_URL (read with redis-url.ts): the one named by TEST_REDIS_URL when set, else the one at
 * 127.0.0.1:6379 when it answers, else a redis-server of their own on a free loopback port, with
 * no persistence, stopped when the tests end (and killed with them: setpriv --pdeathsig).
 */

/** The machine's usual Redis, used when it answers. */
const LOCAL_URL = 'redis://127.0.0.1:6379/0';

/** Whether a Redis answers PING at `url` within `timeoutMs`; the reason when it does not. */
export async function pings(url: string, timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err));
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pong === 'PONG' ? { ok: true } : { ok: false, reason: `answered ${pong}` };
  } catch (err) {
    return { ok: false, reason: (lastError ?? (err as Error)).message };
  } finally {
    redis.disconnect();
  }
}

/** A Redis for the tests: its URL, and how to stop it (a no-op for one we did not start). */
export interface TestRedis {
  readonly url: string;
  /** Where it came from, for the setup's one line. */
  readonly origin: 'TEST_REDIS_URL' | 'local' | 'started';
  stop(): Promise<void>;
}

export async function provideRedis(env: NodeJS.ProcessEnv = process.env): Promise<TestRedis> {
  const configured = env.TEST_REDIS_URL;
  if (configured) {
    const r = await pings(configured);
    if (!r.ok)
      throw new ProvisionError(
        `TEST_REDIS_URL=${configured} does not answer (${r.reason}): start that Redis, or unset TEST_REDIS_URL so npm test starts its own`,
      );
    return { url: configured, origin: 'TEST_REDIS_URL', stop: async () => {} };
  }
  if ((await pings(LOCAL_URL, 1_000)).ok) return { url: LOCAL_URL, origin: 'local', stop: async () => {} };
  return startRedis();
}

/** A redis-server of our own on a free loopback port (unprivileged when we are root). */
async function startRedis(): Promise<TestRedis> {
  try {
    findBinary('redis-server');
  } catch {
    throw new ProvisionError(
      `redis-server is not installed and no Redis answers at 127.0.0.1:6379: run "${installCommand(process.getuid?.() === 0)}", or set TEST_REDIS_URL`,
    );
  }
  const runAs = { user: 'nobody', group: 'nogroup' };
  const dir = labTempDir('redis', runAs);
  try {
    const { daemon, port } = await startWithFreshPort(async (port) => {
      const daemon = await startDaemon({
        name: 'redis',
        command: 'redis-server',
        // No persistence, no background saves; loopback only; BullMQ needs noeviction.
        args: [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--maxmemory-policy',
          'noeviction',
        ],
        dir,
        port,
        runAs,
        readyTimeoutMs: 10_000,
      });
      return { daemon, port };
    });
    return {
      url: `redis://127.0.0.1:${port}/0`,
      origin: 'started',
      stop: async () => {
        await daemon.stop();
        removeTempDir(dir);
      },
    };
  } catch (err) {
    removeTempDir(dir);
    throw new ProvisionError(
      `redis-server did not start (${(err as Error).message.split('\n')[0]}): run it by hand to see why, or set TEST_REDIS_URL`,
    );
  }
}
