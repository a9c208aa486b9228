import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TriageError } from '../../src/errors.js';
import { BUILTIN_KNOWLEDGE_DIR, loadKnowledge } from '../../src/knowledge/load.js';
import { decode, encode, knowledgeDigest, knowledgeStamp, loadKnowledgeBase, readSnapshot, writeSnapshot } from '../../src/knowledge/snapshot.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'kb-snapshot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the built-in knowledge folder that a test may change. */
function copyOfBuiltin(name: string): string {
  const dir = join(tmp, name);
  cpSync(BUILTIN_KNOWLEDGE_DIR, dir, { recursive: true });
  return dir;
}

describe('the knowledge snapshot', () => {
  it('gives back exactly the knowledge base the full load gives', () => {
    const file = join(tmp, 'builtin.json');
    writeSnapshot([BUILTIN_KNOWLEDGE_DIR], file);
    const fromSnapshot = readSnapshot([BUILTIN_KNOWLEDGE_DIR], file);
    expect(fromSnapshot).toBeDefined();
    const full = loadKnowledge([BUILTIN_KNOWLEDGE_DIR]);
    expect(full.problems).toEqual([]);
    expect(fromSnapshot).toEqual(full.kb);
    expect(fromSnapshot!.entries).toBeInstanceOf(Map);
    expect(fromSnapshot!.signals).toBeInstanceOf(Map);
  });

  it('is ignored once a knowledge file changes, and the full load sees the change', () => {
    const dir = copyOfBuiltin('changed');
    const file = join(tmp, 'changed.json');
    writeSnapshot([dir], file);
    expect(readSnapshot([dir], file)).toBeDefined();
    const entry = join(dir, 'availability/dns-failure.yaml');
    writeFileSync(entry, readFileSync(entry, 'utf8').replace(/^( {2}en: ).*$/m, '$1Changed after the build'));
    expect(readSnapshot([dir], file)).toBeUndefined();
    expect(loadKnowledgeBase([dir], file).entries.get('dns-failure')?.title.en).toBe('Changed after the build');
  });

  it('stands on the files\' sizes and times when they are the build\'s, and on their bytes when they are not', () => {
    const dir = copyOfBuiltin('stamped');
    const file = join(tmp, 'stamped.json');
    writeSnapshot([dir], file);
    const stamp = knowledgeStamp([dir]);
    const entry = join(dir, 'availability/dns-failure.yaml');
    // Touched, bytes unchanged: the stamp differs, the content digest still matches.
    const later = new Date(Date.now() + 60_000);
    utimesSync(entry, later, later);
    expect(knowledgeStamp([dir])).not.toBe(stamp);
    expect(readSnapshot([dir], file)).toBeDefined();
    // The same size, another byte: the stamp differs (the time moved) and so does the digest.
    const text = readFileSync(entry, 'utf8');
    writeFileSync(entry, text.replace('dns-failure', 'dns-failurf'));
    expect(readSnapshot([dir], file)).toBeUndefined();
    // What a start does not see: an edit that keeps both the size and the time (set back on purpose).
    const second = 1_700_000_000;
    writeFileSync(entry, text);
    utimesSync(entry, second, second);
    writeSnapshot([dir], file);
    writeFileSync(entry, text.replace('dns-failure', 'dns-failurf'));
    utimesSync(entry, second, second);
    expect(readSnapshot([dir], file)).toBeDefined();
  });

  it('is ignored when a file is added or removed', () => {
    const dir = copyOfBuiltin('added');
    const before = knowledgeDigest([dir]);
    writeFileSync(join(dir, 'availability/extra-notes.yaml'), '# nothing yet\n');
    expect(knowledgeDigest([dir])).not.toBe(before);
    rmSync(join(dir, 'availability/extra-notes.yaml'));
    expect(knowledgeDigest([dir])).toBe(before);
    rmSync(join(dir, 'availability/dns-failure.yaml'));
    expect(knowledgeDigest([dir])).not.toBe(before);
  });

  it('does not stand for other folders: KNOWLEDGE_DIRS get the full validation, problems included', () => {
    const file = join(tmp, 'builtin-only.json');
    writeSnapshot([BUILTIN_KNOWLEDGE_DIR], file);
    const extra = join(tmp, 'extra');
    cpSync(join(BUILTIN_KNOWLEDGE_DIR, 'availability/dns-failure.yaml'), join(extra, 'dns-failure.yaml'));
    writeFileSync(join(extra, 'broken.yaml'), 'id: broken\nfamily: nowhere\n');
    expect(readSnapshot([BUILTIN_KNOWLEDGE_DIR, extra], file)).toBeUndefined();
    let thrown: unknown;
    try {
      loadKnowledgeBase([BUILTIN_KNOWLEDGE_DIR, extra], file);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TriageError);
    expect((thrown as TriageError).code).toBe('KNOWLEDGE_INVALID');
    expect((thrown as TriageError).details.join('\n')).toContain('broken.yaml');
  });

  it('names a folder that cannot be read as the load does, instead of failing to hash it', () => {
    const file = join(tmp, 'with-missing.json');
    writeSnapshot([BUILTIN_KNOWLEDGE_DIR], file);
    const gone = join(tmp, 'no-such-folder');
    expect(readSnapshot([BUILTIN_KNOWLEDGE_DIR, gone], file)).toBeUndefined();
    expect(knowledgeDigest([gone])).toMatch(/^sha256:/);
    let thrown: unknown;
    try {
      loadKnowledgeBase([BUILTIN_KNOWLEDGE_DIR, gone], file);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as TriageError).code).toBe('KNOWLEDGE_INVALID');
    expect((thrown as TriageError).details.join('\n')).toContain('no-such-folder');
  });

  it('falls back to the full load when the snapshot is missing or unreadable', () => {
    expect(loadKnowledgeBase([BUILTIN_KNOWLEDGE_DIR], join(tmp, 'missing.json')).entries.size).toBeGreaterThan(40);
    const garbage = join(tmp, 'garbage.json');
    writeFileSync(garbage, '{"format": 1, "digest": "sha256:');
    expect(readSnapshot([BUILTIN_KNOWLEDGE_DIR], garbage)).toBeUndefined();
    writeFileSync(garbage, JSON.stringify({ format: 999, digest: knowledgeDigest([BUILTIN_KNOWLEDGE_DIR]), kb: {} }));
    expect(readSnapshot([BUILTIN_KNOWLEDGE_DIR], garbage)).toBeUndefined();
  });

  it('refuses to write an invalid knowledge base, listing its problems', () => {
    const dir = copyOfBuiltin('invalid');
    writeFileSync(join(dir, 'availability/dns-failure.yaml'), 'id: dns-failure\n');
    const file = join(tmp, 'invalid.json');
    expect(() => writeSnapshot([dir], file)).toThrow(/problem/);
    expect(existsSync(file)).toBe(false);
  });

  it('is written by npm run build beside dist/, for the knowledge/ it was built from', () => {
    // The global setup ran the build; dist/ must load its knowledge from the snapshot.
    const file = join(root, 'dist/knowledge.snapshot.json');
    expect(existsSync(file)).toBe(true);
    const snap = JSON.parse(readFileSync(file, 'utf8')) as { digest: string };
    expect(snap.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('the snapshot encoding', () => {
  it('keeps Maps, Sets, RegExps, nested plain data, and objects that look like its own tags', () => {
    const value = {
      m: new Map<string, unknown>([
        ['a', { list: [1, 'two', null, true], re: /a+b/gi }],
        ['b', new Set(['x', 'y'])],
      ]),
      tagLike: { $map: 'just a field' },
      nested: [{ deep: { deeper: [new Map([[1, 2]])] } }],
    };
    const back = decode(JSON.parse(JSON.stringify(encode(value))));
    expect(back).toEqual(value);
    const re = ((back as typeof value).m.get('a') as { re: RegExp }).re;
    expect(re).toBeInstanceOf(RegExp);
    expect(re.flags).toBe('gi');
  });

  it('drops undefined fields, as the loader’s optional fields are absent', () => {
    expect(encode({ a: 1, b: undefined })).toEqual({ a: 1 });
  });

  it('refuses what JSON would lose, naming where it is', () => {
    class Compiled {
      constructor(readonly source: string) {}
    }
    expect(() => encode({ entries: new Map([['x', { fn: () => 1 }]]) })).toThrow(/entries\.get\(x\)\.fn is a function/);
    expect(() => encode({ p: new Compiled('a') })).toThrow(/p is a Compiled instance/);
    expect(() => encode({ w: Number.NaN })).toThrow(/w is NaN/);
  });
});
