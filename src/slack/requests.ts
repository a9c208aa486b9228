import type { Signal } from '../evidence/signal.js';
import type { Lang } from '../knowledge/types.js';
import type { ProbeResult } from '../probes/probe.js';
import type { Sealer } from '../queue/seal.js';
import { redact, type Masked } from '../security/redact.js';
import type { DiagnoseResult } from '../triage/diagnose.js';
import type { Diagnosis } from '../triage/result.js';
import type { TargetInput } from '../triage/target.js';
import type { AnswerStore } from '../store/answers.js';
import type { SaveResult } from '../store/redis-kit.js';

/*
 * What a button click needs to find its answer again: the request behind a posted message.
 *
 * 1. Every answer gets a request id (in its buttons' values) and a saved RequestState: the masked
 *    text or the probes' masked signals (so "Show all causes" can rank again without probing), the
 *    target (so "Run probes" / "Re-probe" can probe), and the shown causes' first fixes (feedback).
 * 2. The target is kept only when it can be kept safely: sealed with QUEUE_SECRET when set
 *    (headers included), otherwise only when masking did not change it and without headers.
 * 3. State lives in the answer store (src/store/answers.ts: Redis, ≤ 16 KB, 7 days; or, without
 *    Redis, a bounded map).
 */

/** A probe target as kept for later runs (the same fields /diagnose takes). */
export type KeptTarget = TargetInput & { readonly pools?: readonly string[] };

/** One signal, compact: enough to rank again. */
interface CompactSignal {
  readonly n: string;
  readonly v?: string;
  readonly e: string;
  readonly s: string;
}

export interface RequestState {
  readonly kind: 'text' | 'probes';
  readonly team: string;
  readonly channel: string;
  readonly lang: Lang;
  /** The masked text of a text answer, clipped. */
  readonly text?: string;
  /** The masked signals of a probes answer. */
  readonly signals?: readonly CompactSignal[];
  /** The masked URL, for display. */
  readonly url?: string;
  /** The target in the clear, when it carries no secret and nothing had to be dropped. */
  readonly target?: KeptTarget;
  /** The target sealed with QUEUE_SECRET (headers included). */
  readonly sealedTarget?: string;
  /** Why the target could not be kept, when it could not. */
  readonly targetDropped?: 'secret' | 'headers';
  /** The error signature of the answer (feedback and recall). */
  readonly signature: string;
  /** First fix title per shown cause (what "Fixed it" remembers). */
  readonly fixes: Readonly<Record<string, string>>;
}

/** The part of a probe run that Re-probe compares. */
export interface RunSummary {
  readonly top: string;
  readonly probes: Readonly<Record<string, string>>;
}

/** Where request state lives: the Redis store, or process memory for a single replica without Redis. */
export interface RequestStates {
  save(id: string, state: RequestState): Promise<SaveResult>;
  load(id: string): Promise<RequestState | undefined>;
  saveRun(id: string, run: RunSummary): Promise<void>;
  lastRun(id: string): Promise<RunSummary | undefined>;
  /** Remember which of our messages answered a user's message (so an edit updates that answer). */
  saveReply(channel: string, ts: string, replyTs: string): Promise<void>;
  reply(channel: string, ts: string): Promise<string | undefined>;
}

const LIMITS = {
  textChars: 8_000,
  signals: 80,
  excerptChars: 160,
} as const;

/** Request states over an answer store; state too large even after compaction keeps its smaller parts. */
export function requestStates(store: AnswerStore): RequestStates {
  return {
    async save(id, state) {
      const r = await store.save(id, state);
      // Too large: drop the bulky parts; the buttons then explain what is missing.
      if (!r.ok) return store.save(id, { ...state, text: state.text?.slice(0, 1000), signals: state.signals?.slice(0, 20) });
      return r;
    },
    load: (id) => store.load<RequestState>(id),
    async saveRun(id, run) {
      await store.saveRun(id, run);
    },
    lastRun: (id) => store.lastRun<RunSummary>(id),
    saveReply: (channel, ts, replyTs) => store.saveReply(channel, ts, replyTs),
    reply: (channel, ts) => store.reply(channel, ts),
  };
}

/** Keep a target for later runs: sealed when a sealer exists, else in the clear only when it holds no secret. */
export function keepTarget(
  target: KeptTarget,
  sealer: Sealer | undefined,
): Pick<RequestState, 'target' | 'sealedTarget' | 'targetDropped' | 'url'> {
  const url = redact(target.url);
  if (sealer) return { url, sealedTarget: sealer.seal(target) };
  const clear = [target.url, target.proxy ?? ''].every((s) => redact(s) === s);
  if (!clear) return { url, targetDropped: 'secret' };
  const { headers, ...rest } = target;
  return { url, target: rest, ...(headers && headers.length > 0 ? { targetDropped: 'headers' as const } : {}) };
}

/** The target to probe again, or undefined when it was not kept. */
export function recoverTarget(state: RequestState, sealer: Sealer | undefined): KeptTarget | undefined {
  if (state.sealedTarget && sealer) {
    try {
      return sealer.unseal<KeptTarget>(state.sealedTarget);
    } catch {
      return undefined;
    }
  }
  return state.target;
}

/** Signals compacted for storage (masked excerpts, clipped). */
export function compactSignals(signals: readonly Signal[]): CompactSignal[] {
  const seen = new Set<string>();
  const out: CompactSignal[] = [];
  for (const s of signals) {
    const key = `${s.name}=${s.value ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ n: s.name, ...(s.value !== undefined ? { v: s.value } : {}), e: s.excerpt.slice(0, LIMITS.excerptChars), s: s.source });
    if (out.length >= LIMITS.signals) break;
  }
  return out;
}

export function expandSignals(compact: readonly CompactSignal[]): Signal[] {
  return compact.map((c) => ({ name: c.n, ...(c.v !== undefined ? { value: c.v } : {}), excerpt: redact(c.e), source: c.s }));
}

export function clipText(text: string): string {
  return redact(text.slice(0, LIMITS.textChars));
}

/** First fix title of each cause (what a "Fixed it" on that cause remembers). */
export function firstFixes(d: Diagnosis): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of d.causes.slice(0, 10)) if (c.fixes[0]) out[c.id] = c.fixes[0].title.slice(0, 200);
  return out;
}

/** A probe run reduced to what Re-probe compares: the top cause and each probe's outcome. */
export function summariseRun(d: DiagnoseResult): RunSummary {
  const probes: Record<string, string> = {};
  for (const p of d.probes as readonly (ProbeResult & { pool?: string })[])
    probes[p.pool ? `${p.probe}@${p.pool}` : p.probe] = probeOutcome(p);
  return { top: d.causes[0]?.id ?? 'none', probes };
}

function probeOutcome(p: ProbeResult): string {
  const pick = (name: string) => p.signals.find((s) => s.name === name)?.value;
  const status = pick('http.status') ?? pick('connect.status');
  const error = pick('net.error') ?? pick('tls.error') ?? pick('dns.error');
  return [p.status, status, error].filter(Boolean).join(' ');
}

/** What changed between two runs, one line each; empty when nothing did. */
export function diffRuns(before: RunSummary, after: RunSummary, lang: Lang): Masked[] {
  const out: Masked[] = [];
  const zh = lang === 'zh';
  if (before.top !== after.top) out.push(redact(zh ? `首要原因：${before.top} → ${after.top}` : `top cause: ${before.top} → ${after.top}`));
  const names = [...new Set([...Object.keys(before.probes), ...Object.keys(after.probes)])].sort();
  for (const n of names) {
    const a = before.probes[n] ?? (zh ? '未运行' : 'not run');
    const b = after.probes[n] ?? (zh ? '未运行' : 'not run');
    if (a !== b) out.push(redact(`${n}: ${a} → ${b}`));
  }
  return out;
}
