// Bundles the CLI. dist/cli.js (as tsc wrote it) stays a thin entry: it imports only the daemon's
// client half (src/cli/handoff.ts, one small chunk), so a command a warm daemon answers compiles
// almost nothing. Without a daemon it loads the commands: dist/cli/commands.js and every module they
// import statically become one chunk, so that start reads one file instead of eighty, which is most
// of what it spends before the first probe (npm run bench: bench/diagnose.js). What the commands
// load only on demand (the probes, the API client, the queue) gets chunks of its own, in
// dist/cli-chunks/. Packages under node_modules stay outside. Run by `npm run build` after the
// knowledge snapshot.
//
// The bundle holds the knowledge loader's code, not its files, so the loader digest the snapshot was
// checked against (src/knowledge/snapshot.ts loaderDigest) is written into it here.
import { mkdtempSync, readdirSync, renameSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { build } from 'rolldown';
import { loaderDigest } from '../dist/knowledge/snapshot.js';

const DIST = 'dist';
const ENTRY = join(DIST, 'cli.js');
const CHUNKS = 'cli-chunks';
const PLACEHOLDER = '@@gateway-triage-loader-digest@@';
// src/cli/handoff.ts BUILD_ID: a resident daemon answers only a client of the same bundle.
const BUILD_PLACEHOLDER = '@@gateway-triage-build@@';

// The commands (dist/cli/commands.js) and every module they import statically: one chunk, so a start
// without a daemon compiles one file for them, as before there was a thin entry. The handoff, which
// the entry imports, stays out of it.
const HANDOFF = resolve(DIST, 'cli', 'handoff.js');
const COMMANDS = staticClosure(resolve(DIST, 'cli', 'commands.js'));
COMMANDS.delete(HANDOFF);

/** A module and the project modules it imports statically, transitively (tsc's output: `import … from './x.js'`). */
function staticClosure(start) {
  const seen = new Set();
  const todo = [start];
  while (todo.length > 0) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+['"](\.[^'"]+)['"]/gm))
      todo.push(resolve(dirname(file), m[1]));
  }
  return seen;
}

const out = mkdtempSync(join(DIST, '.bundle-'));
try {
  await build({
    input: ENTRY,
    platform: 'node',
    // Packages (and node: built-ins) stay imports; only the project's own modules are bundled.
    external: (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id),
    logLevel: 'silent',
    output: {
      dir: out,
      format: 'esm',
      entryFileNames: 'cli.js',
      chunkFileNames: `${CHUNKS}/[name]-[hash].js`,
      sourcemap: false,
      codeSplitting: {
        groups: [
          { name: (id) => (id === HANDOFF ? 'handoff' : null), priority: 2 },
          { name: (id) => (COMMANDS.has(id) ? 'commands' : null), priority: 1 },
        ],
      },
    },
  });
  const digest = loaderDigest();
  let replaced = 0;
  const files = ['cli.js', ...readdirSync(join(out, CHUNKS)).map((f) => join(CHUNKS, f))];
  for (const f of files) {
    const text = readFileSync(join(out, f), 'utf8');
    const count = text.split(PLACEHOLDER).length - 1;
    if (count > 0) writeFileSync(join(out, f), text.split(PLACEHOLDER).join(digest));
    replaced += count;
  }
  if (replaced !== 1) throw new Error(`expected the loader-digest placeholder once in the bundle, found it ${replaced} times`);
  // The build: a digest of every file of the bundle (with its own placeholder still in place).
  const hash = createHash('sha256');
  for (const f of [...files].sort()) hash.update(`${f}\0`).update(readFileSync(join(out, f)));
  const buildId = `sha256:${hash.digest('hex')}`;
  let builds = 0;
  for (const f of files) {
    const text = readFileSync(join(out, f), 'utf8');
    const count = text.split(BUILD_PLACEHOLDER).length - 1;
    if (count > 0) writeFileSync(join(out, f), text.split(BUILD_PLACEHOLDER).join(buildId));
    builds += count;
  }
  if (builds !== 1) throw new Error(`expected the build placeholder once in the bundle, found it ${builds} times`);
  rmSync(join(DIST, CHUNKS), { recursive: true, force: true });
  mkdirSync(join(DIST, CHUNKS));
  for (const f of files) renameSync(join(out, f), join(DIST, f));
  process.stdout.write(`cli bundle: ${ENTRY} + ${files.length - 1} chunks in ${join(DIST, CHUNKS)}/\n`);
} catch (err) {
  process.stderr.write(`cli bundle: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
