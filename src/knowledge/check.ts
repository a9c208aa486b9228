import { formatProblem, loadKnowledge } from './load.js';
import { auditPatterns } from './regex-safety.js';

export interface CheckReport {
  /** One line per problem: `file: field: message`. */
  readonly problems: readonly string[];
  readonly summary: string;
}

/**
 * Everything `triage kb check` verifies: the strict load of every directory, then the complete
 * ReDoS analysis of every pattern (slow, so not part of the ordinary load).
 */
export async function checkKnowledge(dirs: readonly string[]): Promise<CheckReport> {
  const result = loadKnowledge(dirs);
  if (!result.kb) {
    return { problems: result.problems.map(formatProblem), summary: `${result.problems.length} problem(s) found` };
  }
  const kb = result.kb;
  const patterns = [...kb.entries.values()].flatMap((e) =>
    e.patterns.map((p, i) => ({ file: e.file, field: `patterns[${i}].regex`, regex: p.regex, flags: p.caseSensitive ? 'gm' : 'gim' })),
  );
  const verdicts = await auditPatterns(patterns);
  const problems: string[] = [];
  verdicts.forEach((v, i) => {
    const p = patterns[i]!;
    if (v.status === 'vulnerable') problems.push(`${p.file}: ${p.field}: takes super-linear time (${v.detail}): bound the repeats and start with a literal`);
    else if (v.status === 'unknown') problems.push(`${p.file}: ${p.field}: could not be proven linear-time: simplify it`);
  });
  const summary =
    problems.length > 0
      ? `${problems.length} problem(s) found`
      : `ok: ${kb.entries.size} causes, ${kb.signals.size} signals, ${patterns.length} patterns, all linear-time`;
  return { problems, summary };
}
