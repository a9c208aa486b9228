import type { KnowledgeBase } from '../knowledge/types.js';
import type { Lexicon } from './lexicon.js';
import { parseSignalRef, type Signal } from './signal.js';
import type { TextDoc } from './text.js';

/** Most signals one pattern contributes from one text; further matches are counted, not kept. */
export const MAX_MATCHES_PER_PATTERN = 20;

interface Compiled {
  readonly source: string;
  readonly re: RegExp;
  readonly name: string;
  readonly value?: string;
  /** Capture group (number or name) whose text is the value. */
  readonly capture?: string;
  readonly literals?: readonly string[];
  readonly caseSensitive: boolean;
}

/** The knowledge base's text patterns, compiled once, run over a document. */
export class PatternSet {
  private readonly compiled: Compiled[] = [];
  /** With a lexicon bound: the patterns each of its literal ids may start, and those with no literal. */
  private bound: { lexicon: Lexicon; byLiteral: Map<number, number[]>; always: number[] } | undefined;

  constructor(kb: KnowledgeBase) {
    for (const entry of kb.entries.values()) {
      for (const p of entry.patterns) {
        const { name, value } = parseSignalRef(p.emit);
        const capture = value && /^\$(\w+)$/.exec(value)?.[1];
        const literals = p.literals;
        this.compiled.push({
          source: `${entry.id}#${p.id}`,
          re: new RegExp(p.regex, p.caseSensitive ? 'gm' : 'gim'),
          name,
          ...(capture ? { capture } : value !== undefined ? { value } : {}),
          ...(literals ? { literals } : {}),
          caseSensitive: p.caseSensitive,
        });
      }
    }
  }

  get size(): number {
    return this.compiled.length;
  }

  /** The lower-case literals the patterns require (for the engine's lexicon). */
  *literals(): Generator<string> {
    for (const c of this.compiled) for (const l of c.literals ?? []) yield l.toLowerCase();
  }

  /**
   * Index the patterns by the lexicon's literal ids: on a document the lexicon has scanned, only the
   * patterns one of whose literals was found are looked at.
   */
  bind(lexicon: Lexicon): void {
    const byLiteral = new Map<number, number[]>();
    const always: number[] = [];
    this.compiled.forEach((c, i) => {
      const ids = (c.literals ?? []).map((l) => lexicon.idOf(l.toLowerCase()));
      if (ids.length === 0 || ids.some((id) => id === undefined)) return void always.push(i);
      for (const id of ids) {
        const list = byLiteral.get(id!);
        if (list) list.push(i);
        else byLiteral.set(id!, [i]);
      }
    });
    this.bound = { lexicon, byLiteral, always };
  }

  /** The patterns worth running on this document, in their order. */
  private candidates(doc: TextDoc): readonly Compiled[] {
    const found = this.bound && doc.literalsFound(this.bound.lexicon);
    if (!this.bound || !found) return this.compiled.filter((c) => !c.literals || c.literals.some((l) => doc.mayContain(l.toLowerCase())));
    const picked = new Set(this.bound.always);
    for (const id of found.keys()) for (const i of this.bound.byLiteral.get(id) ?? []) picked.add(i);
    return [...picked].sort((a, b) => a - b).map((i) => this.compiled[i]!);
  }

  /** Run every pattern over the document. */
  run(doc: TextDoc): Signal[] {
    const out: Signal[] = [];
    for (const c of this.candidates(doc)) {
      let n = 0;
      for (const m of doc.matches(c.re)) {
        let value = c.value;
        if (c.capture) {
          const got = /^\d+$/.test(c.capture) ? m[Number(c.capture)] : m.groups?.[c.capture];
          if (!got) continue;
          value = normaliseValue(got);
        }
        out.push(doc.signal(c.name, value, m.index, m.index + m[0].length, c.source));
        if (++n >= MAX_MATCHES_PER_PATTERN) break;
      }
    }
    return out;
  }
}

/** Captured values are trimmed; codes keep their case (SC--, ERR_ACCESS_DENIED). */
function normaliseValue(v: string): string {
  return v.trim().slice(0, 64);
}
