import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Vitest global setup: build dist/ once, so CLI tests run the real entry point. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
