#!/usr/bin/env node
// `triage`: hands explain and diagnose to a running daemon when there is one (src/cli/handoff.ts),
// else loads the commands and runs them in this process (src/cli/commands.ts).
import { fileURLToPath } from 'node:url';
import { afterWrites, BUILD_ID, handOff, startInBackground } from './cli/handoff.js';

const argv = process.argv.slice(2);

const script = fileURLToPath(import.meta.url);
const handed = await handOff(argv, process.env, process.cwd());
if (typeof handed === 'number') {
  // Done: leave as soon as the answer is written, without waiting for the loop to wind down.
  afterWrites(() => process.exit(handed));
} else {
  // A reader that stopped reading (`triage diagnose … | head`) is not an error: stop quietly, as grep does.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  if (handed === 'none') await startInBackground(process.env, process.cwd(), script);
  const { runCli, processIo } = await import('./cli/commands.js');
  process.exitCode = await runCli(argv, processIo({ script, build: BUILD_ID }));
}
