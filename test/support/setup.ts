import { build } from './build.js';
import { ensureLabPackages, ProvisionError } from './lab-packages.js';
import { provideRedis, type TestRedis } from './test-redis.js';

/**
 * Vitest global setup: everything `npm test` needs on a fresh machine, so that it is the one
 * command to run. The Debian packages of the lab and redis-server (installed when missing), a
 * Redis (TEST_REDIS_URL for every test, see test-redis.ts), then dist/. When something cannot be
 * provided, it stops at once with one line that names the command to run.
 */
export default async function setup(): Promise<() => Promise<void>> {
  let redis: TestRedis;
  try {
    ensureLabPackages();
    redis = await provideRedis();
  } catch (err) {
    if (!(err instanceof ProvisionError)) throw err;
    process.stderr.write(`npm test: ${err.message}\n`);
    process.exit(1);
  }
  process.env.TEST_REDIS_URL = redis.url;
  if (redis.origin === 'started') process.stderr.write(`npm test: started redis-server for the tests at ${redis.url}\n`);
  build();
  return () => redis.stop();
}
