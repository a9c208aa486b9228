import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Vitest global setup: build dist/ once, so CLI tests run the real entry point. */
export default function setup(): void {
  // For quick local runs of tests that do not spawn dist/ (never set in CI).
  if (process.env.TEST_SKIP_BUILD === '1') return;
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
