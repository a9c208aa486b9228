import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { auditPatterns } from '../../src/knowledge/regex-safety.js';
import { DETECTORS, LOG_DETECTORS, patternDetector } from '../../src/security/secret-rules.js';
import { GENERATED_RULES, RULE_SET } from '../../src/security/secret-rules.gen.js';

/** Every regex source in secret-rules.ts, read from the file (the detectors keep them private). */
function projectRegexes(): { regex: string; flags: string }[] {
  const src = readFileSync(new URL('../../src/security/secret-rules.ts', import.meta.url), 'utf8');
  return [...src.matchAll(/^\s*(?:re: |const [A-Z_]+ = )\/((?:\\.|\[(?:\\.|[^\]])*\]|[^/\\[\n])+)\/([dgimsuy]*)[,;]$/gm)].map((m) => ({
    regex: m[1]!,
    flags: m[2]!.replace('d', ''),
  }));
}

describe('secret detectors', () => {
  it('come from the installed version of the maintained rule set', () => {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve(`${RULE_SET.name}/package.json`), 'utf8')) as { version: string };
    // A different version installed: npm run gen:secrets (npm run check:secrets in lint says so too).
    expect(pkg.version).toBe(RULE_SET.version);
    expect(GENERATED_RULES.length).toBeGreaterThan(30);
    expect(DETECTORS.length).toBe(GENERATED_RULES.length + LOG_DETECTORS.length);
  });

  it('are all proved linear-time by recheck, the preset as generated and this project’s own', async () => {
    const own = projectRegexes();
    expect(own.length).toBeGreaterThanOrEqual(12);
    const all = [...own, ...GENERATED_RULES.map((r) => ({ regex: r.source, flags: r.flags.replace('d', '') }))];
    const results = await auditPatterns(all);
    expect(results.filter((r) => r.status !== 'safe')).toEqual([]);
  }, 120_000);

  it('run a regex only when one of its literals is in the text, and report the secret group', () => {
    const d = patternDetector({ kind: 't', re: /pass=(\w+)/dg, group: 1, literals: ['pass='] });
    const out: { start: number; end: number }[] = [];
    d.find('x pass=abc y', 'x pass=abc y', out);
    expect(out).toEqual([{ start: 7, end: 10 }]);
    expect(d.literals).toEqual(['pass=']);
  });
});
