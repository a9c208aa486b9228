/**
 * Required literals of a regex, for a cheap prefilter: when none of the returned strings occurs in
 * the (lower-cased) text, the regex cannot match and is not run. Returns undefined when no literal
 * is required (the regex must always run). Sound but not complete: it may return fewer literals
 * than exist, never one that a match could lack.
 */
export function requiredLiterals(src: string, caseSensitive: boolean): string[] | undefined {
  const branches = splitTopLevel(src);
  if (!branches) return undefined;
  const out: string[] = [];
  for (const b of branches) {
    const lit = longestLiteral(b);
    // Two CJK characters are as telling as a short English word.
    if (!lit || lit.length < (/[\u2e80-\u9fff]/.test(lit) ? 2 : 3)) return undefined;
    out.push(caseSensitive ? lit : lit.toLowerCase());
  }
  return out;
}

function splitTopLevel(src: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(src.slice(start));
  return parts;
}

const ESCAPED_LITERAL = /[\\^$.|?*+()[\]{}/ -]/;

/** Longest run of mandatory literal characters at the top level of one branch. */
function longestLiteral(branch: string): string {
  let best = '';
  let cur = '';
  const flush = () => {
    if (cur.length > best.length) best = cur;
    cur = '';
  };
  for (let i = 0; i < branch.length;) {
    const c = branch[i]!;
    let atom: string | undefined;
    let len = 1;
    if (c === '\\') {
      const n = branch[i + 1] ?? '';
      atom = ESCAPED_LITERAL.test(n) ? n : undefined;
      len = 2;
    } else if (c === '[' || c === '(') {
      atom = undefined;
      let depth = 0;
      let j = i;
      if (c === '[') {
        j++;
        while (j < branch.length && branch[j] !== ']') j += branch[j] === '\\' ? 2 : 1;
      } else {
        for (; j < branch.length; j++) {
          if (branch[j] === '\\') {
            j++;
            continue;
          }
          if (branch[j] === '[') {
            j++;
            while (j < branch.length && branch[j] !== ']') j += branch[j] === '\\' ? 2 : 1;
            continue;
          }
          if (branch[j] === '(') depth++;
          else if (branch[j] === ')' && --depth === 0) break;
        }
      }
      len = j + 1 - i;
    } else if ('.^$'.includes(c)) {
      atom = undefined;
    } else {
      atom = c;
    }
    i += len;
    const q = /^(?:[*?]|\{0,?\d*\})/.exec(branch.slice(i));
    const plus = /^(?:\+|\{[1-9]\d*,?\d*\})/.exec(branch.slice(i));
    if (q) {
      // Optional atom: ends the run without contributing.
      i += q[0].length;
      if (branch[i] === '?') i++;
      flush();
      continue;
    }
    if (plus) {
      i += plus[0].length;
      if (branch[i] === '?') i++;
      if (atom !== undefined) cur += atom;
      flush();
      continue;
    }
    if (atom === undefined) flush();
    else cur += atom;
  }
  flush();
  return best;
}
