import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/setup.ts'],
    // Every `triage` a test runs answers in its own process unless the test says otherwise: no
    // daemon started on first use (src/cli/handoff.ts) outlives the run or answers another test.
    env: { TRIAGE_DAEMON: 'off' },
  },
});
