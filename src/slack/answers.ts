import { randomUUID } from 'node:crypto';
import type { Lang } from '../knowledge/types.js';
import { diagnoses, topCauseLabel } from '../metrics.js';
import { runSignals } from '../probes/derive.js';
import type { ProbeRunner } from '../queue/runner.js';
import type { Sealer } from '../queue/seal.js';
import { redact, type Masked } from '../security/redact.js';
import { diagnose, type DiagnoseResult } from '../triage/diagnose.js';
import type { Engine } from '../triage/engine.js';
import type { Diagnosis } from '../triage/result.js';
import { parseTarget } from '../triage/target.js';
import { renderDiagnosisBlocks, type RenderBlocksOptions, type SlackMessage } from './blocks.js';
import {
  clipText,
  compactSignals,
  diffRuns,
  firstFixes,
  keepTarget,
  summariseRun,
  type KeptTarget,
  type RequestState,
  type RequestStates,
  type RunSummary,
} from './requests.js';
import { errorSignature, type FeedbackStore } from '../store/feedback.js';

/** Where an answer was asked for, for the diagnoses metric (`alertmanager`: the webhook). */
export type Entry = 'slack_command' | 'slack_message' | 'slack_alert' | 'slack_button' | 'alertmanager';

/** Who asked, where: feedback and recall are per workspace. */
export interface Asker {
  readonly team: string;
  readonly channel: string;
  readonly lang: Lang;
}

/** A rendered answer and the id its buttons carry. */
export interface Answer {
  readonly requestId: string;
  readonly message: SlackMessage;
  readonly diagnosis: Diagnosis | DiagnoseResult;
  /** Probes answers: the run's summary (what Re-probe compares). */
  readonly run?: RunSummary;
}

export interface AnswererDeps {
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly states: RequestStates;
  /** Per-workspace votes (ranking and recall); absent without Redis. */
  readonly feedback?: FeedbackStore;
  readonly sealer?: Sealer;
}

/** Bounds of a probe run asked for without a person waiting (an alert). */
export interface ProbeBounds {
  readonly signal?: AbortSignal;
  /** Budget of each probe. */
  readonly timeoutMs?: number;
}

/** Recent full answers by request id, so "Show all causes" re-renders probes answers with their timings. */
const RECENT_MAX = 200;

/**
 * Makes answers: explain or probe with the workspace's feedback applied to the ranking, recall a
 * fix that worked before, render Block Kit, and keep the request's state for its buttons.
 */
export function createAnswerer(deps: AnswererDeps) {
  const recent = new Map<string, Diagnosis | DiagnoseResult>();
  const remember = (id: string, d: Diagnosis | DiagnoseResult) => {
    recent.set(id, d);
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  };

  /** The workspace's feedback as a ranking factor; neutral without Redis or when Redis is slow. */
  async function adjustFor(team: string): Promise<((id: string) => number) | undefined> {
    return deps.feedback ? deps.feedback.adjustFor(team).catch(() => undefined) : undefined;
  }

  async function recalled(team: string, signature: string, d: Diagnosis): Promise<RenderBlocksOptions['recalled']> {
    const r = deps.feedback ? await deps.feedback.recallFix(team, signature).catch(() => undefined) : undefined;
    if (!r) return undefined;
    const cause = d.causes.find((c) => c.id === r.causeId);
    const fixTitle = r.fixTitle ?? cause?.fixes[0]?.title ?? r.causeId;
    return { causeId: r.causeId, fixTitle, when: new Date(r.at).toISOString().slice(0, 10) };
  }

  async function finish(
    asker: Asker,
    entry: Entry,
    d: Diagnosis | DiagnoseResult,
    state: Omit<RequestState, 'team' | 'channel' | 'lang' | 'signature' | 'fixes'>,
    previous?: RunSummary,
    requestId: string = randomUUID(),
  ): Promise<Answer> {
    const signature = errorSignature(d.signals.map((s) => s.signal));
    const full: RequestState = { ...state, team: asker.team, channel: asker.channel, lang: asker.lang, signature, fixes: firstFixes(d) };
    await deps.states.save(requestId, full).catch(() => undefined);
    const run = 'probes' in d ? summariseRun(d) : undefined;
    if (run) await deps.states.saveRun(requestId, run).catch(() => undefined);
    remember(requestId, d);
    diagnoses.inc({ entry, top_cause: topCauseLabel(d.causes) });
    const recall = await recalled(asker.team, signature, d);
    const message = renderDiagnosisBlocks(d, {
      lang: asker.lang,
      context: { source: state.kind, requestId, ...(state.url ? { url: redact(state.url) } : {}) },
      ...(recall ? { recalled: recall } : {}),
      ...(previous && run ? { changes: diffRuns(previous, run, asker.lang) } : {}),
    });
    return { requestId, message, diagnosis: d, ...(run ? { run } : {}) };
  }

  return {
    /** Pasted text → answer; `undefined` when no cause matched and nobody asked (no spam). Throws TriageError on unusable input. */
    async explain(asker: Asker, entry: Entry, text: string, asked: boolean, url?: string): Promise<Answer | undefined> {
      const adjust = await adjustFor(asker.team);
      const d = deps.engine.explain(text, { lang: asker.lang, ...(adjust ? { adjust } : {}) });
      if (d.causes.length === 0 && !asked) return undefined;
      const target = url ? parseTarget({ url }).target : undefined;
      const kept = target ? keepTarget({ url: target.url.href }, deps.sealer) : {};
      return finish(asker, entry, d, { kind: 'text', text: clipText(text), ...kept });
    },

    /**
     * Probe a target (from its pools) → answer. With `onPartial`, each partial answer (ranked from
     * the probes finished so far, saying which still run, without buttons) is handed over as it
     * comes. Throws when no run succeeded (no worker, Redis down).
     */
    async probe(
      asker: Asker,
      entry: Entry,
      target: KeptTarget,
      previous?: RunSummary,
      bounds: ProbeBounds = {},
      onPartial?: (message: SlackMessage) => void,
    ): Promise<Answer> {
      const parsed = parseTarget(target);
      if (!parsed.target) throw new Error(parsed.problems.join('; '));
      const adjust = await adjustFor(asker.team);
      const requestId = randomUUID();
      const d = await diagnose(deps.engine, deps.runner, parsed.target, {
        lang: asker.lang,
        ...(adjust ? { adjust } : {}),
        ...(bounds.signal ? { signal: bounds.signal } : {}),
        ...(bounds.timeoutMs ? { limits: { timeoutMs: bounds.timeoutMs } } : {}),
        ...(target.pools && target.pools.length > 0 ? { pools: target.pools } : {}),
        ...(onPartial
          ? {
              onProgress: (partial: DiagnoseResult, pending: readonly string[]) =>
                onPartial(
                  renderDiagnosisBlocks(partial, {
                    lang: asker.lang,
                    context: { source: 'probes', requestId, url: partial.target.url },
                    pending,
                  }),
                ),
            }
          : {}),
      });
      const signals = runSignals(d.probes);
      const state = { kind: 'probes', signals: compactSignals(signals), ...keepTarget(target, deps.sealer) } as const;
      return finish(asker, entry, d, state, previous, requestId);
    },

    /** The full answer behind a request id, when this process made it. */
    recent(requestId: string): Diagnosis | DiagnoseResult | undefined {
      return recent.get(requestId);
    },
  };
}

export type Answerer = ReturnType<typeof createAnswerer>;

/** A short masked message for an error thrown while answering. */
export function errorText(err: unknown): Masked {
  return redact(err instanceof Error ? err.message : String(err));
}
