import type { KnowledgeBase } from '../knowledge/types.js';
import { parseSignalRef, type Signal } from './signal.js';
import { requiredLiterals } from './literals.js';
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

  constructor(kb: KnowledgeBase) {
    for (const entry of kb.entries.values()) {
      for (const p of entry.patterns) {
        const { name, value } = parseSignalRef(p.emit);
        const capture = value && /^\$(\w+)$/.exec(value)?.[1];
        const literals = requiredLiterals(p.regex, p.caseSensitive);
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

  /** Run every pattern over the document. */
  run(doc: TextDoc): Signal[] {
    const out: Signal[] = [];
    for (const c of this.compiled) {
      if (c.literals && !c.literals.some((l) => doc.mayContain(c.caseSensitive ? l.toLowerCase() : l))) continue;
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
