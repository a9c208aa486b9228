import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testRedisUrl } from '../support/redis-url.js';

/**
 * The container image, built from the Dockerfile with buildah and smoke-run (scripts/build-image.sh
 * and scripts/smoke-image.js): explain, kb check, the worker and the API inside the image, as uid
 * 1000 on a read-only root filesystem. It needs buildah, root and the npm registry; without one of
 * them it is skipped, and its title says why.
 */
const root = resolve(import.meta.dirname, '../..');
const buildah = spawnSync('buildah', ['--version'], { encoding: 'utf8' });
const isRoot = process.getuid?.() === 0;
/** The Dockerfile's `npm ci` needs the npm registry (asked once, quickly: no retries). */
const registry = () => spawnSync('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=10000'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
const why =
  buildah.status !== 0
    ? 'buildah is not installed (apt-get install buildah)'
    : !isRoot
      ? 'building and running the image needs root'
      : !registry()
        ? 'the npm registry does not answer, and the Dockerfile runs npm ci'
        : '';

describe.skipIf(why !== '')(why ? `the container image — SKIPPED: ${why}` : 'the container image, built with buildah and smoke-run', () => {
  it(
    'builds from the Dockerfile and runs explain, kb check, the worker and the API as uid 1000 on a read-only root filesystem',
    () => {
      const r = spawnSync('bash', ['scripts/build-image.sh'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, SMOKE_REDIS_URL: testRedisUrl() },
        maxBuffer: 16 * 1024 * 1024,
      });
      const out = `${r.stdout}${r.stderr}`;
      expect(r.status, out).toBe(0);
      expect(out).toMatch(/build-image: image size: \S+/);
      for (const line of [
        'smoke: ok  triage explain (dist/cli.js) ranks upstream-refused first',
        'smoke: ok  triage kb check, without the dev-only recheck in the image, says how to get it',
        'smoke: ok  runs as uid 1000 (gid 1000) and cannot write to /app (read-only root filesystem: EROFS)',
        'smoke: ok  the worker (dist/worker.js) answers GET /healthz 200',
        'smoke: ok  the worker exits 0 on SIGTERM',
        'smoke: ok  dist/ loads the knowledge base from the snapshot the build wrote',
        'smoke: ok  POST /v1/explain with the bearer token ranks upstream-slow first',
        'smoke: ok  the API exits 0 on SIGTERM',
        'smoke: all checks passed',
      ])
        expect(out).toContain(line);
    },
    30 * 60_000,
  );
});
