/** src/api/schema.gen.ts is generated: the committed file must be what `npm run gen:api` writes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const check = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/gen-api.js', '--check', ...args], { cwd: root, encoding: 'utf8' });

describe('npm run check:api', () => {
  it('passes: the committed types match openapi.yaml', () => {
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);

  it('fails with what to run when the file is stale', () => {
    const stale = join(mkdtempSync(join(tmpdir(), 'gen-api-')), 'schema.gen.ts');
    writeFileSync(
      stale,
      readFileSync(join(root, 'src/api/schema.gen.ts'), 'utf8').replace('export interface paths', 'export interface pathz'),
    );
    const r = check('--out', stale);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is stale .*run npm run gen:api/);
  }, 60_000);
});
