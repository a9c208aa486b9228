import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Build dist/ (npm run build: TypeScript, then the knowledge snapshot), so CLI tests run the real entry point. */
export function build(): void {
  // For quick local runs of tests that do not spawn dist/ (never set in CI).
  if (process.env.TEST_SKIP_BUILD === '1') return;
  const root = resolve(import.meta.dirname, '../..');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
