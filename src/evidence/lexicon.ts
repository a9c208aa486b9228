/**
 * A fixed set of lower-case literals found in one pass over a text (Aho–Corasick, compiled to a
 * table-driven automaton). Built once per engine from the literals its regexes require
 * (knowledge patterns, extractors' patterns and keys), it replaces one `indexOf` scan per literal
 * (hundreds per megabyte of log) with a single scan that records where each literal occurs.
 */
/** Limits that keep the automaton small. */
const LEXICON = {
  /** Literals are found by their first characters, then checked whole. @defaultValue 12 */
  keyChars: 12,
  /** Characters outside ASCII share this many table columns (a shared column is checked whole too). @defaultValue 24 */
  sharedColumns: 24,
} as const;

export class Lexicon {
  readonly literals: readonly string[];
  private readonly ids = new Map<string, number>();
  /** Character code → column of the transition table (0: a character no literal holds). */
  private readonly column: Uint16Array;
  private readonly width: number;
  /** delta[state * width + column] → next state, for the rows filled so far ({@link row}). */
  private readonly delta: Int32Array;
  /** The key (literal prefix) that ends at a state, or -1. */
  private readonly ends: Int32Array;
  /** The nearest state on the failure chain that ends a key, or -1. */
  private readonly link: Int32Array;
  /** The failure state of each state. */
  private readonly fail: Int32Array;
  /** The trie: each state's first child, each child's next sibling, the column of the edge into a child. */
  private readonly firstChild: Int32Array;
  private readonly sibling: Int32Array;
  private readonly columnInto: Int32Array;
  /** Whether a state's row of {@link delta} is filled yet. */
  private readonly filled: Uint8Array;
  /** The keys, and the literals that start with each. */
  private readonly keys: string[] = [];
  private readonly byKey: number[][] = [];

  constructor(literals: Iterable<string>) {
    const list = [...new Set([...literals].filter((l) => l.length > 0))];
    this.literals = list;
    list.forEach((l, i) => this.ids.set(l, i));
    const keyIds = new Map<string, number>();
    for (const [i, l] of list.entries()) {
      const key = l.slice(0, LEXICON.keyChars);
      let k = keyIds.get(key);
      if (k === undefined) {
        k = this.keys.length;
        keyIds.set(key, k);
        this.keys.push(key);
        this.byKey.push([]);
      }
      this.byKey[k]!.push(i);
    }

    this.column = new Uint16Array(65536);
    let width = 1;
    for (const key of this.keys)
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i);
        if (code < 128 && this.column[code] === 0) this.column[code] = width++;
      }
    const shared = width;
    for (const key of this.keys)
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i);
        if (code >= 128) this.column[code] = shared + (code % LEXICON.sharedColumns);
      }
    this.width = width = shared + LEXICON.sharedColumns;

    // The trie of keys as typed arrays: each state's first child, each child's next sibling and the
    // column of the edge into it (a key has at most keyChars characters, so the states are bounded).
    let bound = 1;
    for (const key of this.keys) bound += key.length;
    const firstChild = new Int32Array(bound).fill(-1);
    const sibling = new Int32Array(bound).fill(-1);
    const columnInto = new Int32Array(bound);
    const ends = new Int32Array(bound).fill(-1);
    let states = 1;
    const childOf = (s: number, c: number): number => {
      for (let n = firstChild[s]!; n >= 0; n = sibling[n]!) if (columnInto[n] === c) return n;
      return -1;
    };
    this.keys.forEach((key, id) => {
      let s = 0;
      for (let i = 0; i < key.length; i++) {
        const c = this.column[key.charCodeAt(i)]!;
        let next = childOf(s, c);
        if (next < 0) {
          next = states++;
          columnInto[next] = c;
          sibling[next] = firstChild[s]!;
          firstChild[s] = next;
        }
        s = next;
      }
      // Two keys can meet in one state when they differ only in characters sharing a column.
      if (ends[s]! >= 0) this.byKey[ends[s]!]!.push(...this.byKey[id]!);
      else ends[s] = id;
    });

    this.ends = ends.slice(0, states);
    this.firstChild = firstChild.slice(0, states);
    this.sibling = sibling.slice(0, states);
    this.columnInto = columnInto.slice(0, states);
    this.link = new Int32Array(states).fill(-1);
    this.fail = new Int32Array(states);
    // Failure states, breadth first (a state's failure state is shallower, so it is known first),
    // walking trie edges only: the transition table is filled row by row when a scan first enters a
    // state ({@link row}), so a start pays for the states its texts visit, not for all of them.
    const queue = new Int32Array(states);
    let tail = 1;
    for (let q = 0; q < tail; q++) {
      const s = queue[q]!;
      const f = this.fail[s]!;
      if (s !== 0) this.link[s] = this.ends[f]! >= 0 ? f : this.link[f]!;
      for (let n = firstChild[s]!; n >= 0; n = sibling[n]!) {
        queue[tail++] = n;
        if (s === 0) continue;
        const c = columnInto[n]!;
        let t = f;
        let to = childOf(t, c);
        while (to < 0 && t !== 0) {
          t = this.fail[t]!;
          to = childOf(t, c);
        }
        this.fail[n] = to < 0 ? 0 : to;
      }
    }
    this.delta = new Int32Array(states * width);
    this.filled = new Uint8Array(states);
  }

  /** Fill state `s`'s row of the transition table: its failure state's row, then its own trie edges. */
  private row(s: number): void {
    const { width, delta } = this;
    const rowAt = s * width;
    if (s !== 0) {
      const f = this.fail[s]!;
      if (this.filled[f] === 0) this.row(f);
      delta.copyWithin(rowAt, f * width, f * width + width);
    }
    for (let n = this.firstChild[s]!; n >= 0; n = this.sibling[n]!) delta[rowAt + this.columnInto[n]!] = n;
    this.filled[s] = 1;
  }

  /** The id of a literal, or undefined when it is not in the set. */
  idOf(literal: string): number | undefined {
    return this.ids.get(literal);
  }

  /**
   * Start offsets of each literal found in `lower`, by literal id (a literal absent from the text has
   * no entry), at most `cap` each; a literal seen more often than that gets `null` ("dense": callers
   * treat it as present everywhere).
   */
  scan(lower: string, cap: number): Map<number, number[] | null> {
    const found = new Map<number, number[] | null>();
    const { column, delta, width, ends, link, literals, keys, byKey, filled } = this;
    const hit = (key: number, end: number) => {
      const start = end - keys[key]!.length + 1;
      for (const id of byKey[key]!) {
        if (!lower.startsWith(literals[id]!, start)) continue;
        const at = found.get(id);
        if (at === null) continue;
        if (at === undefined) found.set(id, [start]);
        else if (at.length >= cap) found.set(id, null);
        else at.push(start);
      }
    };
    let s = 0;
    if (filled[0] === 0) this.row(0);
    for (let i = 0; i < lower.length; i++) {
      s = delta[s * width + column[lower.charCodeAt(i)]!]!;
      if (filled[s] === 0) this.row(s);
      if (s === 0) continue;
      if (ends[s]! >= 0) hit(ends[s]!, i);
      for (let t = link[s]!; t > 0; t = link[t]!) hit(ends[t]!, i);
    }
    return found;
  }
}
