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
  /** delta[state * width + column] → next state. */
  private readonly delta: Int32Array;
  /** The key (literal prefix) that ends at a state, or -1. */
  private readonly ends: Int32Array;
  /** The nearest state on the failure chain that ends a key, or -1. */
  private readonly link: Int32Array;
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

    // The trie of keys: children per state as maps while building.
    const children: Map<number, number>[] = [new Map()];
    const endsList: number[] = [-1];
    this.keys.forEach((key, id) => {
      let s = 0;
      for (let i = 0; i < key.length; i++) {
        const c = this.column[key.charCodeAt(i)]!;
        let next = children[s]!.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          endsList.push(-1);
          children[s]!.set(c, next);
        }
        s = next;
      }
      // Two keys can meet in one state when they differ only in characters sharing a column.
      if (endsList[s]! >= 0) this.byKey[endsList[s]!]!.push(...this.byKey[id]!);
      else endsList[s] = id;
    });

    const states = children.length;
    this.delta = new Int32Array(states * width);
    this.ends = Int32Array.from(endsList);
    this.link = new Int32Array(states).fill(-1);
    const fail = new Int32Array(states);
    // Breadth first: a state's transitions are its children, else its failure state's transitions.
    const queue: number[] = [];
    for (const [c, next] of children[0]!) {
      this.delta[c] = next;
      queue.push(next);
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      const f = fail[s]!;
      this.link[s] = this.ends[f]! >= 0 ? f : this.link[f]!;
      const row = s * width;
      const frow = f * width;
      for (let c = 0; c < width; c++) this.delta[row + c] = this.delta[frow + c]!;
      for (const [c, next] of children[s]!) {
        this.delta[row + c] = next;
        fail[next] = this.delta[frow + c]!;
        queue.push(next);
      }
    }
  }

  /** The id of a literal, or undefined when it is not in the set. */
  idOf(literal: string): number | undefined {
    return this.ids.get(literal);
  }

  /**
   * Start offsets of each literal in `lower` (indexed by id), at most `cap` each; a literal seen
   * more often than that gets `null` ("dense": callers treat it as present everywhere).
   */
  scan(lower: string, cap: number): (number[] | null)[] {
    const found: (number[] | null)[] = this.literals.map(() => []);
    const { column, delta, width, ends, link, literals, keys, byKey } = this;
    const hit = (key: number, end: number) => {
      const start = end - keys[key]!.length + 1;
      for (const id of byKey[key]!) {
        const at = found[id];
        if (at === null || at === undefined || !lower.startsWith(literals[id]!, start)) continue;
        if (at.length >= cap) found[id] = null;
        else at.push(start);
      }
    };
    let s = 0;
    for (let i = 0; i < lower.length; i++) {
      s = delta[s * width + column[lower.charCodeAt(i)]!]!;
      if (s === 0) continue;
      if (ends[s]! >= 0) hit(ends[s]!, i);
      for (let t = link[s]!; t > 0; t = link[t]!) hit(ends[t]!, i);
    }
    return found;
  }
}
