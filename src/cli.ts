#!/usr/bin/env node
// `triage`: hands explain and diagnose to a running daemon when there is one (src/cli/handoff.ts),
// else loads the commands and runs them in this process (src/cli/commands.ts).
import { fileURLToPath } from 'node:url';
import { BUILD_ID, handOff, startInBackground } from './cli/handoff.js';

const argv = process.argv.slice(2);

// A reader that stopped reading (`triage diagnose … | head`) is not an error: stop quietly, as grep does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const script = fileURLToPath(import.meta.url);
const handed = await handOff(argv, process.env, process.cwd());
if (typeof handed === 'number') {
  // Done: leave as soon as standard output has taken the answer, without waiting for the loop to wind down.
  process.stdout.write('', () => process.exit(handed));
} else {
  if (handed === 'none') await startInBackground(process.env, process.cwd(), script);
  const { runCli, processIo } = await import('./cli/commands.js');
  process.exitCode = await runCli(argv, processIo({ script, build: BUILD_ID }));
}
