import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_KNOWLEDGE_DIR, loadKnowledgeOrThrow } from '../../src/knowledge/load.js';
import { loadKnowledgeSnapshot, plainData, sourcesKey } from '../../src/knowledge/snapshot.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('knowledge snapshot', () => {
  it('gives exactly the base the YAML gives, from the snapshot the second time', () => {
    const cacheDir = tmp('kb-cache-');
    const fresh = loadKnowledgeOrThrow([BUILTIN_KNOWLEDGE_DIR]);
    const first = loadKnowledgeSnapshot([BUILTIN_KNOWLEDGE_DIR], { cacheDir });
    const files = readdirSync(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^knowledge-[0-9a-f]{32}\.v8$/)]);
    const second = loadKnowledgeSnapshot([BUILTIN_KNOWLEDGE_DIR], { cacheDir });
    expect(first).toEqual(fresh);
    expect(second).toEqual(fresh);
    expect(second).not.toBe(first);
  });

  it('a changed knowledge file makes a new snapshot: never a stale answer', () => {
    const cacheDir = tmp('kb-cache-');
    const dir = tmp('kb-copy-');
    cpSync(BUILTIN_KNOWLEDGE_DIR, dir, { recursive: true });
    const before = loadKnowledgeSnapshot([dir], { cacheDir });
    const file = join(dir, 'timeouts', 'upstream-slow.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^( {2}en: )The upstream answers slower/m, '$1Renamed, the upstream answers slower'));
    const after = loadKnowledgeSnapshot([dir], { cacheDir });
    expect(before.entries.get('upstream-slow')!.title.en).toMatch(/^The upstream/);
    expect(after.entries.get('upstream-slow')!.title.en).toMatch(/^Renamed,/);
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it('ignores a damaged or foreign snapshot and loads the YAML', () => {
    const cacheDir = tmp('kb-cache-');
    const key = sourcesKey([BUILTIN_KNOWLEDGE_DIR])!;
    writeFileSync(join(cacheDir, `knowledge-${key}.v8`), 'not a snapshot');
    const kb = loadKnowledgeSnapshot([BUILTIN_KNOWLEDGE_DIR], { cacheDir });
    expect(kb.entries.get('upstream-refused')).toBeDefined();
  });

  it('snapshots only plain data', () => {
    expect(plainData({ a: [1, 'x', /re/g], m: new Map([['k', { v: null }]]) })).toBe(true);
    expect(plainData({ a: new (class Compiled {})() })).toBe(false);
    expect(plainData({ f: () => 1 })).toBe(false);
  });
});
