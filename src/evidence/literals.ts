/**
 * Required literals of a regex, for a cheap prefilter: every match of the regex contains at least
 * one of the returned strings (in lower case unless `caseSensitive`). Returns undefined when no
 * literal is required (the regex must always run). Sound but not complete: it may return a weaker
 * set than exists, never a string that a match could lack.
 *
 * It looks inside groups: `\b(?:ThrottlingException|Rate exceeded)\b` requires one of
 * `throttlingexception`, `rate exceeded`. Of the requirements a branch offers (each run of mandatory
 * literal characters, each mandatory group), it keeps the one whose shortest string is longest.
 */
export function requiredLiterals(src: string, caseSensitive: boolean): string[] | undefined {
  const found = anyOf(src);
  if (!found) return undefined;
  return [...new Set(found.map((l) => (caseSensitive ? l : l.toLowerCase())))];
}

/** Shortest literal worth filtering on: two CJK characters are as telling as a short English word. */
function longEnough(lit: string): boolean {
  return lit.length >= (/[\u2e80-\u9fff\uac00-\ud7af]/.test(lit) ? 2 : 3);
}

/** One of these strings is in every match of `src` (an alternation), or undefined. */
function anyOf(src: string): string[] | undefined {
  const branches = splitTopLevel(src);
  if (!branches) return undefined;
  const out: string[] = [];
  for (const b of branches) {
    const req = bestOf(b);
    if (!req) return undefined;
    out.push(...req);
  }
  return out;
}

/** Index just past the group or class that starts at `i` (`(` or `[`). */
function skipBracket(s: string, i: number): number {
  if (s[i] === '[') {
    let j = i + 1;
    if (s[j] === '^') j++;
    if (s[j] === ']') j++;
    while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '[') {
      j = skipBracket(s, j) - 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return s.length + 1;
}

function splitTopLevel(src: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[' || c === '(') {
      const end = skipBracket(src, i);
      if (end > src.length) return undefined;
      i = end - 1;
      continue;
    }
    if (c === ')') return undefined;
    if (c === '|') {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(src.slice(start));
  return parts;
}

const ESCAPED_LITERAL = /[\\^$.|?*+()[\]{}/ -]/;
const OPTIONAL = /^(?:[*?]|\{0(?:,\d*)?\})\??/;
const MANDATORY_REPEAT = /^(?:\+|\{[1-9]\d*(?:,\d*)?\})\??/;

/** The strongest requirement one branch (a sequence of atoms) offers. */
function bestOf(branch: string): string[] | undefined {
  const candidates: string[][] = [];
  let run = '';
  const flush = () => {
    if (run) candidates.push([run]);
    run = '';
  };
  for (let i = 0; i < branch.length;) {
    const c = branch[i]!;
    let atom: string | undefined;
    let group: string | undefined;
    let next = i + 1;
    if (c === '\\') {
      const n = branch[i + 1] ?? '';
      atom = ESCAPED_LITERAL.test(n) ? n : undefined;
      next = i + 2;
    } else if (c === '[') {
      next = skipBracket(branch, i);
    } else if (c === '(') {
      next = skipBracket(branch, i);
      const inner = branch.slice(i + 1, next - 1);
      // Lookarounds match no text; a capture or a non-capturing group does.
      if (!/^\?[=!<]/.test(inner) || /^\?<[A-Za-z_]/.test(inner)) group = inner.replace(/^\?(?::|<[A-Za-z_]\w*>)/, '');
    } else if (!'.^$'.includes(c)) {
      atom = c;
    }
    i = next;
    const optional = OPTIONAL.exec(branch.slice(i));
    if (optional) {
      i += optional[0].length;
      flush();
      continue;
    }
    const repeat = MANDATORY_REPEAT.exec(branch.slice(i));
    if (repeat) i += repeat[0].length;
    if (group !== undefined) {
      flush();
      const req = anyOf(group);
      if (req) candidates.push(req);
      continue;
    }
    if (atom === undefined) {
      flush();
      continue;
    }
    run += atom;
    // A repeated literal character is still required once, but what follows need not be adjacent.
    if (repeat) flush();
  }
  flush();
  let best: string[] | undefined;
  let bestMin = 0;
  for (const cand of candidates) {
    if (!cand.every(longEnough)) continue;
    const min = Math.min(...cand.map((l) => l.length));
    if (min > bestMin || (min === bestMin && best && cand.length < best.length)) {
      best = cand;
      bestMin = min;
    }
  }
  return best;
}
