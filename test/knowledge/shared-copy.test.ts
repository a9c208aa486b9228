import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/corpus.js';

/*
 * test/fixtures/shared/ keeps a copy of what the tests read from ../shared/ (the cause ids, the
 * shared evaluation sample), so `npm test` runs where only this repository is. Where ../shared/ is
 * there too, the copy must be the same: refresh it with `cp ../shared/causes.md test/fixtures/shared/`
 * and `cp ../shared/eval/*.jsonl test/fixtures/shared/eval/`.
 */
const FILES = ['causes.md', 'eval/sample.jsonl', 'eval/negatives-sample.jsonl'];
const live = resolve(ROOT, '../shared');

describe('the copy of ../shared/ in test/fixtures/shared/', () => {
  it('holds every file the tests read', () => {
    for (const f of FILES) expect(existsSync(resolve(ROOT, 'test/fixtures/shared', f)), f).toBe(true);
  });

  it.skipIf(!existsSync(live))('is the same as ../shared/ (refresh it with cp when this fails)', () => {
    for (const f of FILES) {
      if (!existsSync(resolve(live, f))) continue;
      expect(readFileSync(resolve(ROOT, 'test/fixtures/shared', f), 'utf8'), f).toBe(readFileSync(resolve(live, f), 'utf8'));
    }
  });
});
