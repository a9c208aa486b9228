/**
 * The URL of the tests' Redis. The global setup (setup.ts, test-redis.ts) provides the Redis and
 * sets TEST_REDIS_URL before any test runs: every test that uses Redis reads it here, and keeps
 * to a key prefix of its own.
 */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with npm test (or npx vitest), whose global setup provides a Redis');
  return url;
}
