import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_KNOWLEDGE_DIR, formatProblem, loadKnowledge } from '../../src/knowledge/load.js';
import { readShared } from '../support/corpus.js';

const causes = [...readShared('causes.md').matchAll(/^## (\w+)|^\| ([a-z0-9-]+) \|/gm)];
const taxonomy: { family: string; id: string }[] = [];
let family = '';
for (const m of causes) {
  if (m[1]) family = m[1];
  else if (m[2] && m[2] !== 'id') taxonomy.push({ family, id: m[2] });
}

describe('the built-in knowledge base', () => {
  const result = loadKnowledge();

  it('loads without a problem', () => {
    expect(result.problems.map(formatProblem)).toEqual([]);
  });

  it('has one complete entry for every cause id of the taxonomy, in its family folder', () => {
    expect(taxonomy.length).toBe(42);
    for (const { family: fam, id } of taxonomy) {
      const e = result.kb?.entries.get(id);
      expect(e, id).toBeDefined();
      expect(e!.family).toBe(fam);
      expect(e!.file).toContain(`${fam}/${id}.yaml`);
      expect(e!.indicators.length, id).toBeGreaterThan(0);
      expect(e!.fixes.length, id).toBeGreaterThanOrEqual(2);
      expect(e!.references.length, id).toBeGreaterThanOrEqual(1);
      expect(e!.fixes.some((f) => f.commands.length > 0 || f.config.length > 0), id).toBe(true);
    }
  });
});

/** A fresh knowledge dir with the built-in signal catalogue and the given entry files. */
function kbDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-'));
  mkdirSync(join(dir, 'signals'));
  writeFileSync(join(dir, 'signals/core.yaml'), readFileSync(join(BUILTIN_KNOWLEDGE_DIR, 'signals/core.yaml')));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name.split('/')[0]!), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const valid = `id: demo-cause
family: demo
title: { en: Demo, zh: 演示 }
summary: { en: A demo cause., zh: 一个演示原因。 }
patterns:
  - id: p1
    regex: 'demo failure \\d{1,3}'
    emit: http.status=502
    sample: demo failure 12
indicators:
  - signal: http.status=502
    weight: 0.5
fixes:
  - id: f1
    title: { en: Fix it, zh: 修复 }
    commands: [echo fix]
references:
  - { title: Docs, url: https://example.org/docs }
`;

describe('validation', () => {
  it('accepts a valid entry', () => {
    const r = loadKnowledge([kbDir({ 'demo/demo-cause.yaml': valid })]);
    expect(r.problems).toEqual([]);
    expect(r.kb?.entries.get('demo-cause')?.patterns[0]?.id).toBe('p1');
  });

  const invalid: [string, string, RegExp][] = [
    ['an unknown key', valid.replace('references:', 'colour: red\nreferences:'), /\(root\)\.colour: unknown key/],
    ['an unknown signal', valid.replace('signal: http.status=502', 'signal: http.statuz=502'), /indicators\[0\]\.signal: unknown signal "http\.statuz"/],
    ['a value outside a closed list', valid.replace('signal: http.status=502', 'signal: net.error=banana'), /"banana" is not a value of net\.error/],
    ['a value on a flag', valid.replace('signal: http.status=502', 'signal: connect.sent=yes'), /is a flag and takes no value/],
    ['a regex that does not compile', valid.replace("'demo failure \\d{1,3}'", "'demo (failure'"), /patterns\[0\]\.regex: does not compile/],
    ['a nested quantifier', valid.replace("'demo failure \\d{1,3}'", "'demo (a+)+ failure'"), /patterns\[0\]\.regex: may take super-linear time: .*nested/],
    ['a leading .*', valid.replace("'demo failure \\d{1,3}'", "'.*demo failure'"), /patterns\[0\]\.regex: may take super-linear time: .*starts with an unbounded/],
    ['a backreference', valid.replace("'demo failure \\d{1,3}'", "'(demo) \\1'"), /backreference/],
    ['a sample the regex misses', valid.replace('sample: demo failure 12', 'sample: nothing'), /patterns\[0\]\.sample: is not matched/],
    ['a weight out of range', valid.replace('weight: 0.5', 'weight: 1.5'), /indicators\[0\]\.weight: must be a number in \(0, 1\]/],
    ['a missing Chinese title', valid.replace('title: { en: Demo, zh: 演示 }', 'title: { en: Demo }'), /title\.zh: is required/],
    ['English in the Chinese field', valid.replace('zh: 演示 }', 'zh: Demo }'), /title\.zh: must be written in Chinese/],
    ['an id that is not the file name', valid.replace('id: demo-cause', 'id: other-cause'), /id: "other-cause" does not match the file name/],
    ['a fix without commands, config or steps', valid.replace('    commands: [echo fix]\n', ''), /fixes\[0\]: a fix needs commands, config lines or steps/],
    ['a reference that is not https', valid.replace('https://example.org/docs', 'ftp://x'), /references\[0\]\.url: "ftp:\/\/x" is not valid/],
    ['broken YAML', 'id: [unclosed', /\(yaml\): does not parse/],
  ];
  for (const [what, text, message] of invalid) {
    it(`rejects ${what}, naming the file and the field`, () => {
      const r = loadKnowledge([kbDir({ 'demo/demo-cause.yaml': text })]);
      expect(r.kb).toBeUndefined();
      const lines = r.problems.map(formatProblem);
      expect(lines.some((l) => l.includes('demo-cause.yaml') && message.test(l)), lines.join('\n')).toBe(true);
    });
  }

  it('reports every problem at once, across files', () => {
    const r = loadKnowledge([
      kbDir({
        'demo/demo-cause.yaml': valid.replace('weight: 0.5', 'weight: 2').replace('colour', ''),
        'demo/other.yaml': valid.replace('id: demo-cause', 'id: other').replace('signal: http.status=502', 'signal: nope.nope'),
      }),
    ]);
    expect(r.problems.length).toBeGreaterThanOrEqual(2);
    expect(new Set(r.problems.map((p) => p.file)).size).toBe(2);
  });

  it('rejects duplicate ids within one directory', () => {
    const r = loadKnowledge([kbDir({ 'demo/demo-cause.yaml': valid, 'other/demo-cause.yaml': valid.replace('family: demo', 'family: other') })]);
    expect(r.problems.map(formatProblem).join('\n')).toMatch(/duplicate id "demo-cause"/);
  });

  it('lets a later directory override an entry by id', () => {
    const base = kbDir({ 'demo/demo-cause.yaml': valid });
    const over = kbDir({ 'demo/demo-cause.yaml': valid.replace('title: { en: Demo,', 'title: { en: Overridden,') });
    const r = loadKnowledge([base, over]);
    expect(r.kb?.entries.get('demo-cause')?.title.en).toBe('Overridden');
  });
});
