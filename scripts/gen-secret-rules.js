// Generates src/security/secret-rules.gen.ts: the detection regexes of secretlint's recommended
// preset (@secretlint/secretlint-rule-preset-recommend, a devDependency), brought in as data so that
// redact() runs them synchronously on its hot path, with the package's name, version and source.
//
// secretlint's rules are code (`create(context).file(source)`), so the regexes are taken by running
// each scanner rule over sample sources and recording every global regex it scans with
// (RegExp.prototype[Symbol.matchAll] / exec, wrapped for the run). Rule logic that is not a regex
// (the GCP rule parses .json/.p12 files; allow-lists; "looks like an example" filters) is not
// carried over: redact() masks more, never less. Each regex is proved linear-time with recheck
// (as knowledge patterns are); one that is not stops the generation.
//
// Usage: node scripts/gen-secret-rules.js           (npm run gen:secrets: write the file; ~30 s, recheck)
//        node scripts/gen-secret-rules.js --check   (npm run check:secrets, part of lint: exit 1 when stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const PACKAGE = '@secretlint/secretlint-rule-preset-recommend';
const OUT = fileURLToPath(new URL('../src/security/secret-rules.gen.ts', import.meta.url));
const SHOWN = relative(process.cwd(), OUT) || OUT;

/** The label shown after the mask (`[masked](label)`) per rule; `token` otherwise; none for a URL's password. */
const LABELS = {
  '@secretlint/secretlint-rule-aws': 'aws-key',
  '@secretlint/secretlint-rule-privatekey': 'private-key',
  '@secretlint/secretlint-rule-slack': 'slack-token',
  '@secretlint/secretlint-rule-basicauth': null,
  '@secretlint/secretlint-rule-database-connection-string': null,
};

/** Rules of the preset that detect nothing themselves, and why. */
const NOT_DETECTORS = {
  '@secretlint/secretlint-rule-filter-comments': "suppresses the other rules' reports after secretlint-disable comments; detects nothing",
};

/** Sources each rule is run over, so that every branch that scans (by file type) is seen. */
const SOURCES = [
  { filePath: '/sample.txt', ext: '.txt', content: 'sample' },
  { filePath: '/sample.json', ext: '.json', content: '{}' },
  { filePath: '/.npmrc', ext: '.npmrc', content: 'sample' },
  { filePath: '/package.json', ext: '.json', content: '{}' },
  { filePath: '/.env', ext: '.env', content: 'sample' },
];

async function collect() {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8'));
  const { creator } = await import(PACKAGE);
  const seen = new Map();
  let current;
  const patched = [Symbol.matchAll, 'exec', 'test', Symbol.replace, Symbol.match, Symbol.split];
  const originals = patched.map((name) => [name, RegExp.prototype[name]]);
  for (const [name, original] of originals) {
    RegExp.prototype[name] = function (...args) {
      if (current && this.global) {
        const list = seen.get(current) ?? new Map();
        list.set(`${this.source}/${this.flags}`, { source: this.source, flags: this.flags });
        seen.set(current, list);
      }
      return original.apply(this, args);
    };
  }
  const skipped = [];
  try {
    for (const rule of creator.rules) {
      const notDetector =
        NOT_DETECTORS[rule.meta.id] ?? (rule.meta.type !== 'scanner' ? `a ${rule.meta.type} rule, not a detector` : undefined);
      if (notDetector) {
        skipped.push({ rule: rule.meta.id, why: notDetector });
        continue;
      }
      current = rule.meta.id;
      const handlers = rule.create({ report() {}, createTranslator: () => () => '' }, { enableIDScanRule: true });
      for (const source of SOURCES) for (const handler of Object.values(handlers)) await handler(source);
      current = undefined;
      if (!seen.has(rule.meta.id)) skipped.push({ rule: rule.meta.id, why: 'detects by parsing files (no regex to carry over)' });
    }
  } finally {
    for (const [name, original] of originals) RegExp.prototype[name] = original;
  }
  const rules = [];
  for (const [rule, list] of seen)
    for (const { source, flags } of list.values()) {
      // Matches are masked whole, or only the password of a URL when the regex names it.
      const group = /\(\?<password>/.test(source) ? 'password' : undefined;
      const label = rule in LABELS ? LABELS[rule] : 'token';
      const literals = literalsOf(source);
      rules.push({
        rule,
        ...(label ? { label } : {}),
        ...(literals ? { literals } : {}),
        source,
        flags: flags.includes('d') ? flags : `${flags}d`,
        ...(group ? { group } : {}),
      });
    }
  return { pkg, rules, skipped };
}

/**
 * Lower-case literals one of which every match of `source` contains, read from the start of the
 * pattern (optional parts skipped, alternatives each giving theirs), or undefined when it cannot
 * tell. redact() runs a regex only when one of its literals is in the text.
 */
function literalsOf(source) {
  const alternatives = splitTop(source);
  if (alternatives.length > 1) return union(alternatives.map(literalsOf));
  let i = 0;
  let lit = '';
  const quantAt = (k) => {
    const q = source[k];
    if (q === '?' || q === '*') return { optional: true, len: 1 };
    if (q === '+') return { optional: false, len: 1 };
    if (q === '{') {
      const m = /^\{(\d+)(?:,\d*)?\}/.exec(source.slice(k));
      if (m) return { optional: m[1] === '0', len: m[0].length };
    }
    return undefined;
  };
  while (i < source.length) {
    const c = source[i];
    if (source.startsWith('(?<!', i) || source.startsWith('(?<=', i) || source.startsWith('(?=', i) || source.startsWith('(?!', i)) {
      const end = closing(source, i);
      if (end < 0) return undefined;
      if (lit) break;
      i = end + 1;
      continue;
    }
    if (source.startsWith('\\b', i) || c === '^') {
      if (lit) break;
      i += c === '^' ? 1 : 2;
      continue;
    }
    if (c === '(') {
      const end = closing(source, i);
      if (end < 0) return undefined;
      const q = quantAt(end + 1);
      if (q?.optional) {
        if (lit) break;
        i = end + 1 + q.len;
        continue;
      }
      if (lit) break;
      const inner = source.slice(i + 1, end).replace(/^\?(?::|<[A-Za-z_][A-Za-z0-9_]*>)/, '');
      return literalsOf(inner);
    }
    let ch;
    let len = 1;
    if (c === '\\') {
      const e = source[i + 1];
      if (e === undefined || /[A-Za-z0-9]/.test(e)) break; // \w \d \s \p{…}: not a literal
      ch = e;
      len = 2;
    } else if (/[A-Za-z0-9_\-:=@#%~,;'"/ ]/.test(c)) ch = c;
    else if (c === '[' || c === '.') {
      // A class: skip it when optional, else the literal ends here.
      const end = c === '[' ? classEnd(source, i) : i;
      const q = quantAt(end + 1);
      if (q?.optional && !lit) {
        i = end + 1 + q.len;
        continue;
      }
      break;
    } else break;
    const q = quantAt(i + len);
    if (q?.optional) {
      if (lit) break;
      i += len + q.len;
      continue;
    }
    lit += ch;
    if (q) break;
    i += len;
  }
  return lit.length >= 2 ? [lit.toLowerCase()] : undefined;
}

function union(sets) {
  if (sets.some((s) => s === undefined)) return undefined;
  return [...new Set(sets.flat())];
}

/** The top-level alternatives of a pattern. */
function splitTop(source) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

function classEnd(source, i) {
  let j = i + 1;
  if (source[j] === '^') j++;
  if (source[j] === ']') j++;
  while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
  return j;
}

/** The index of the `)` closing the group that opens at `i`, or -1. */
function closing(source, i) {
  let depth = 0;
  for (let j = i; j < source.length; j++) {
    const c = source[j];
    if (c === '\\') j++;
    else if (c === '[') j = classEnd(source, j);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j;
  }
  return -1;
}

async function audit(rules) {
  const { checkSync } = await import('recheck');
  const problems = [];
  for (const r of rules) {
    // As src/knowledge/regex-safety.ts does: the exact automaton analysis, the fuzzer only when it
    // cannot decide (the fuzzer mistakes a bounded repetition's constant work for growth).
    const flags = r.flags.replace('d', '');
    let result = checkSync(r.source, flags, { checker: 'automaton', timeout: 10_000 });
    if (result.status === 'unknown') result = checkSync(r.source, flags, { checker: 'auto', timeout: 10_000 });
    if (result.status !== 'safe')
      problems.push(`${r.rule}: /${r.source}/ is ${result.status}${result.complexity ? ` (${result.complexity.type})` : ''}`);
  }
  return problems;
}

async function generate(check) {
  const { pkg, rules, skipped } = await collect();
  // Checking staleness needs no proof (test/security/secret-rules.test.ts audits the committed rules).
  const problems = check ? [] : await audit(rules);
  if (problems.length > 0) throw new Error(`these regexes are not proved linear-time:\n  ${problems.join('\n  ')}`);
  const source = `// Generated by \`npm run gen:secrets\` (scripts/gen-secret-rules.js) from ${pkg.name}@${pkg.version}. Do not edit.

import type { GeneratedRule } from './secret-rules.js';

/** The rule set these regexes come from. */
export const RULE_SET = ${JSON.stringify({
    name: pkg.name,
    version: pkg.version,
    license: pkg.license,
    source: pkg.homepage,
  })} as const;

/** ${PACKAGE} rules with no regex to carry over, and why. */
export const SKIPPED_RULES: readonly { rule: string; why: string }[] = ${JSON.stringify(skipped)};

/** Every detection regex of the preset, each proved linear-time by recheck when generated. */
export const GENERATED_RULES: readonly GeneratedRule[] = ${JSON.stringify(rules)};
`;
  const options = (await prettier.resolveConfig(OUT)) ?? {};
  return prettier.format(source, { ...options, filepath: OUT });
}

const check = process.argv.includes('--check');
let fresh;
try {
  fresh = await generate(check);
} catch (err) {
  process.stderr.write(`cannot generate ${SHOWN}: ${String(err?.message ?? err)}\n`);
  process.exit(1);
}
if (check) {
  let committed = '';
  try {
    committed = readFileSync(OUT, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (committed !== fresh) {
    process.stderr.write(`${SHOWN} is stale (${PACKAGE} changed): run npm run gen:secrets and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${SHOWN} is up to date\n`);
} else {
  writeFileSync(OUT, fresh);
  process.stdout.write(`wrote ${SHOWN}\n`);
}
