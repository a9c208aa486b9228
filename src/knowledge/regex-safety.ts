/**
 * Regex safety for knowledge patterns. Patterns run over megabytes of hostile text, so each must
 * match in linear time. Two layers:
 * - {@link structuralProblem}: a fast syntactic check run at every load; it rejects the constructs
 *   that cause catastrophic backtracking (backreferences, lookbehind, nested quantifiers, a leading
 *   unbounded quantifier, adjacent overlapping unbounded quantifiers).
 * - {@link auditPatterns}: the recheck ReDoS checker, a complete analysis run by `triage kb check`
 *   and by the test suite. recheck is a development dependency (a native binary and a jar, half the
 *   size of the production node_modules): an installation without it runs everything but that proof.
 */
import { TriageError } from '../errors.js';

/** Returns a problem description, or undefined when the pattern passes the syntactic check. */
export function structuralProblem(src: string): string | undefined {
  if (/\\[1-9]|\\k</.test(src)) return 'uses a backreference';
  if (/\(\?<[=!]/.test(src)) return 'uses lookbehind';
  const tokens = tokenize(src);
  if (tokens === undefined) return 'could not be parsed';
  const first = tokens.find((t) => t.kind !== 'anchor');
  if (first && first.quant === 'unbounded' && tokens[0]?.kind !== 'anchor') {
    return 'starts with an unbounded quantifier (e.g. ".*foo"), which makes an unanchored search quadratic: start with a literal';
  }
  for (const t of tokens) {
    // (a+)+ and (a+){2,9} backtrack exponentially; (a+)? and (a{0,3})? repeat at most once.
    if (t.kind === 'group' && t.innerQuantified !== 'none' && (t.quant === 'unbounded' || (t.maxRep > 1 && t.innerQuantified === 'unbounded'))) {
      return 'has a quantified group that contains a quantifier (nested quantifiers, e.g. "(a+)+")';
    }
  }
  for (let i = 1; i < tokens.length; i++) {
    const a = tokens[i - 1]!;
    const b = tokens[i]!;
    if (a.quant === 'unbounded' && b.quant === 'unbounded' && overlaps(a, b)) {
      return `has two adjacent unbounded quantifiers over overlapping characters ("${a.text}${b.text}")`;
    }
  }
  return undefined;
}

type Quant = 'none' | 'bounded' | 'unbounded';
interface Token {
  kind: 'char' | 'class' | 'group' | 'anchor' | 'alt';
  text: string;
  quant: Quant;
  /** Most repetitions of the quantifier (1 for none or ?). */
  maxRep: number;
  innerQuantified: Quant;
}

function tokenize(src: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    let tok: Token;
    if (c === '\\') {
      tok = { kind: /[dDwWsS.]/.test(src[i + 1] ?? '') ? 'class' : 'char', text: src.slice(i, i + 2), quant: 'none', maxRep: 1, innerQuantified: 'none' };
      i += 2;
    } else if (c === '[') {
      let j = i + 1;
      if (src[j] === '^') j++;
      if (src[j] === ']') j++;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) return undefined;
      tok = { kind: 'class', text: src.slice(i, j + 1), quant: 'none', maxRep: 1, innerQuantified: 'none' };
      i = j + 1;
    } else if (c === '(') {
      let depth = 0;
      let j = i;
      for (; j < src.length; j++) {
        const d = src[j];
        if (d === '\\') {
          j++;
          continue;
        }
        if (d === '[') {
          j++;
          while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      if (j >= src.length) return undefined;
      const inner = src.slice(i + 1, j);
      const flat = inner.replace(/\\./g, 'x').replace(/\[(?:\\.|[^\]\\])*\]/g, 'x');
      const innerQuantified: Quant = /[*+]|\{\d+,\}/.test(flat) ? 'unbounded' : /\{\d+(,\d+)?\}|\?/.test(flat.replace(/\(\?[:=!]/g, '(')) ? 'bounded' : 'none';
      tok = { kind: 'group', text: src.slice(i, j + 1), quant: 'none', maxRep: 1, innerQuantified };
      i = j + 1;
    } else if (c === '^' || c === '$') {
      tok = { kind: 'anchor', text: c, quant: 'none', maxRep: 1, innerQuantified: 'none' };
      i++;
    } else if (c === '|') {
      tok = { kind: 'alt', text: c, quant: 'none', maxRep: 1, innerQuantified: 'none' };
      i++;
    } else {
      tok = { kind: c === '.' ? 'class' : 'char', text: c, quant: 'none', maxRep: 1, innerQuantified: 'none' };
      i++;
    }
    const q = /^(?:[*+]|\{(\d+)(,(\d*))?\})\??/.exec(src.slice(i));
    const opt = src[i] === '?';
    if (q) {
      const unbounded = q[0].startsWith('*') || q[0].startsWith('+') || (q[2] !== undefined && q[3] === '');
      tok.quant = unbounded ? 'unbounded' : 'bounded';
      tok.maxRep = unbounded ? Infinity : Number(q[3] ?? q[1] ?? 1);
      i += q[0].length;
    } else if (opt) {
      tok.quant = 'bounded';
      i += src[i + 1] === '?' ? 2 : 1;
    }
    out.push(tok);
  }
  return out;
}

/** Conservative: two atoms overlap unless both are distinct literal characters. */
function overlaps(a: Token, b: Token): boolean {
  if (a.kind === 'char' && b.kind === 'char') return a.text.toLowerCase() === b.text.toLowerCase();
  if (a.kind === 'alt' || b.kind === 'alt' || a.kind === 'anchor' || b.kind === 'anchor') return false;
  return true;
}

/** The verdict of the complete ReDoS analysis for one pattern. */
export interface AuditResult {
  readonly regex: string;
  readonly flags: string;
  readonly status: 'safe' | 'vulnerable' | 'unknown';
  /** For vulnerable patterns: the complexity (e.g. "2nd degree polynomial") and an attack string. */
  readonly detail?: string;
}

type Recheck = typeof import('recheck');

/** How to get recheck where it is missing (a production install: npm ci --omit=dev, the image). */
export const RECHECK_MISSING =
  'the ReDoS prover (the npm package recheck, a development dependency) is not installed: run "npm ci" (or "npm install --no-save recheck@4") where gateway-triage is installed, then run "triage kb check" again';

async function importRecheck(): Promise<Recheck> {
  try {
    return await import('recheck');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new TriageError('DEPENDENCY_MISSING', RECHECK_MISSING);
    throw err;
  }
}

/**
 * Run the recheck ReDoS checker over patterns: its automaton analysis first (exact and
 * deterministic, a few ms a pattern), then its fuzzer for the patterns the automaton cannot
 * decide. Slow compared with a load: for `triage kb check` and the tests, not for every start.
 * Throws a DEPENDENCY_MISSING TriageError saying how to install recheck when it is missing.
 */
export async function auditPatterns(
  patterns: readonly { regex: string; flags: string }[],
  load: () => Promise<Recheck> = importRecheck,
): Promise<AuditResult[]> {
  const { checkSync } = await load();
  /** recheck's verdict, and whether an unknown one only ran out of time. */
  const verdict = (regex: string, flags: string, checker: 'automaton' | 'auto', timeout = 10_000): [AuditResult, boolean] => {
    const d = checkSync(regex, flags, { checker, timeout });
    if (d.status === 'vulnerable') {
      const complexity = d.complexity.type === 'exponential' ? 'exponential' : `${d.complexity.degree ?? 2}-degree polynomial`;
      return [{ regex, flags, status: 'vulnerable', detail: `${complexity} backtracking, e.g. on ${JSON.stringify(d.attack.pattern)}` }, false];
    }
    const timedOut = d.status === 'unknown' && (d as { error?: { kind?: string } }).error?.kind === 'timeout';
    return [{ regex, flags, status: d.status }, timedOut];
  };
  return patterns.map(({ regex, flags }) => {
    const [first] = verdict(regex, flags, 'automaton');
    if (first.status !== 'unknown') return first;
    const [second, timedOut] = verdict(regex, flags, 'auto');
    // A proof that only ran out of time (a busy machine) gets one longer try before it counts as unproved.
    return timedOut ? verdict(regex, flags, 'auto', 60_000)[0] : second;
  });
}
