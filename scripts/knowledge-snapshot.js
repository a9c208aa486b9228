// Writes dist/knowledge.snapshot.json: the built-in knowledge base, validated in full, for dist/ to
// load at start instead of parsing and checking knowledge/ again (src/knowledge/snapshot.ts).
// Run by `npm run build` after tsc; fails, listing every problem, when the knowledge base is invalid.
import { relative } from 'node:path';
import { SNAPSHOT_FILE, writeSnapshot } from '../dist/knowledge/snapshot.js';

try {
  const { digest, bytes } = writeSnapshot();
  process.stdout.write(
    `knowledge snapshot: ${relative(process.cwd(), SNAPSHOT_FILE)} (${Math.round(bytes / 1024)} KiB, ${digest.slice(0, 19)}…)\n`,
  );
} catch (err) {
  process.stderr.write(`knowledge snapshot: ${err.message}\n`);
  for (const line of err.details ?? []) process.stderr.write(`  ${line}\n`);
  process.exit(1);
}
