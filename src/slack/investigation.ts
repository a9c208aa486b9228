import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { runSignals } from '../probes/derive.js';
import { answerSignal, type KnowledgeBase, type Lang, type Question, type QuestionAnswer } from '../knowledge/types.js';
import { redact, type Masked } from '../security/redact.js';
import type { FeedbackStore } from '../store/feedback.js';
import type { Investigation, InvestigationMeta, InvestigationStore, ThreadItem } from '../store/investigations.js';
import { boundedMap } from '../store/redis-kit.js';
import type { DiagnoseResult } from '../triage/diagnose.js';
import type { Engine, EvidenceItem } from '../triage/engine.js';
import type { Diagnosis } from '../triage/result.js';
import { escapeMrkdwn, renderDiagnosisBlocks, type SlackMessage } from './blocks.js';
import { baseBlockId, type Poster } from './poster.js';
import { clipText, compactSignals, expandSignals, type RequestStates } from './requests.js';

/*
 * The thread is the investigation. Every answer (a paste, /diagnose, an alert) opens one for its
 * thread; each follow-up the bot would read there (a paste, a file, a probe run, an answer to the
 * answer's question) is kept as an evidence item with its origin, everything is ranked again as
 * one (Engine.investigate), and the first answer is updated in place. A short note goes to the
 * thread only when the top cause changes. Edits and deletes of a follow-up change or remove its
 * item. Items are bounded (THREAD_EVIDENCE_MAX; the oldest are summarised into one item that
 * keeps their signals), masked before they are stored, and kept as long as answers are.
 */

/** A change to a thread's evidence. */
export type EvidenceChange = { readonly put: ThreadItem } | { readonly remove: string };

export interface ThreadsDeps {
  readonly engine: Engine;
  readonly store: InvestigationStore;
  readonly states: RequestStates;
  readonly poster: Poster;
  readonly client: WebClient;
  readonly feedback?: FeedbackStore;
  /** The bot's own ids, known after start (its answers are found in a thread by them). */
  readonly self: { readonly userId?: string; readonly botId?: string };
  /** Items kept per thread. */
  readonly maxItems: number;
}

/** What re-ranking a thread did. */
export interface ThreadUpdate {
  readonly diagnosis: Diagnosis;
  readonly topChanged: boolean;
}

const LINES = {
  en: {
    nowFirst: (title: string, id: string, conf: string) => `:arrows_counterclockwise: Now ranked first: *${title}* (\`${id}\`, ${conf})`,
    because: (origin: string, excerpt: string) => ` — ${origin} shows ${excerpt}`,
    noneNow: ':arrows_counterclockwise: With this change no known cause matches any more.',
    evidence: 'Evidence in this thread',
    message: (who: string) => `${who}'s message`,
    file: (who: string) => `${who}'s file`,
    probes: (url: string) => `probes of ${url}`,
    answer: (who: string, label: string) => `${who}'s answer “${label}”`,
    alert: 'the alert',
    first: 'the first message',
    earlier: (n: string) => `${n} earlier items`,
    someone: 'someone',
  },
  zh: {
    nowFirst: (title: string, id: string, conf: string) => `:arrows_counterclockwise: 现在排第一：*${title}*（\`${id}\`，${conf}）`,
    because: (origin: string, excerpt: string) => `——${origin}显示 ${excerpt}`,
    noneNow: ':arrows_counterclockwise: 这次变更之后，已没有匹配的已知原因。',
    evidence: '本讨论串中的证据',
    message: (who: string) => `${who} 的消息`,
    file: (who: string) => `${who} 的文件`,
    probes: (url: string) => `对 ${url} 的探测`,
    answer: (who: string, label: string) => `${who} 的回答“${label}”`,
    alert: '告警',
    first: '第一条消息',
    earlier: (n: string) => `更早的 ${n} 条证据`,
    someone: '某人',
  },
} as const;

/** How long a thread found without an answer of ours is not read again (conversations.replies is rate-limited). */
const NO_ANSWER_MS = 60_000;

const CONF = { en: { high: 'high', medium: 'medium', low: 'low' }, zh: { high: '高', medium: '中', low: '低' } } as const;
const USER = /^[UW][A-Z0-9]{2,20}$/;

/** The item id of a probe run of `url`: a re-probe of the same target replaces it. */
export function probesItemId(url: string): string {
  return `probes:${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

/** A probe run as an evidence item: its signals (masked, compact) and each probe's outcome line. */
export function probesItem(d: DiagnoseResult, seq: number, by?: string): ThreadItem {
  return {
    id: probesItemId(d.target.url),
    kind: 'probes',
    at: Date.now(),
    seq,
    ...(by ? { by } : {}),
    label: redact(d.target.url).slice(0, 300),
    signals: compactSignals(runSignals(d.probes)),
    probes: d.probes.slice(0, 20).map((p) => ({
      probe: p.probe,
      status: p.status,
      summary: redact(p.summary).slice(0, 300),
      ...(p.route ? { route: redact(p.route).slice(0, 200) } : {}),
      durationMs: Math.round(p.durationMs),
    })),
  };
}

/** An answer to a question (a click or a typed reply) as an evidence item: one per question, the latest wins. */
export function answerItem(question: string, answer: string, label: string, seq: number, by?: string, ts?: string): ThreadItem {
  return {
    id: `answer:${question}`,
    kind: 'answer',
    at: Date.now(),
    seq,
    ...(by ? { by } : {}),
    ...(ts ? { ts } : {}),
    label: redact(label).slice(0, 80),
    signals: [{ n: answerSignal(question), v: answer, e: redact(label).slice(0, 160), s: 'question' }],
  };
}

/** A pasted text (or file) as an evidence item, masked and clipped. */
export function textItem(id: string, kind: 'text' | 'file' | 'alert', text: string, seq: number, by?: string, ts?: string): ThreadItem {
  return { id, kind, at: Date.now(), seq, ...(by ? { by } : {}), ...(ts ? { ts } : {}), text: clipText(text) };
}

export function createThreads(deps: ThreadsDeps) {
  const { engine, store, poster } = deps;
  const locks = new Map<string, Promise<unknown>>();
  const noAnswer = boundedMap<number>(1000);

  /** One change at a time per thread in this process (a paste and a click at once both count). */
  function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return next;
  }

  /** The items as the engine takes them: texts to read, signals already seen. */
  function evidenceOf(items: readonly ThreadItem[]): EvidenceItem[] {
    return items.map((i) => ({
      id: i.id,
      kind: i.kind,
      ...(i.text !== undefined ? { text: i.text } : {}),
      ...(i.signals ? { signals: expandSignals(i.signals) } : {}),
    }));
  }

  /** Rank the thread's evidence as one, with the latest probe run's outcome lines and the feedback of the workspace. */
  async function rank(inv: Investigation): Promise<Diagnosis | DiagnoseResult> {
    const adjust = deps.feedback ? await deps.feedback.adjustFor(inv.meta.team).catch(() => undefined) : undefined;
    const d = engine.investigate(evidenceOf(inv.items), { lang: inv.meta.lang, ...(adjust ? { adjust } : {}) });
    const run = [...inv.items].reverse().find((i) => i.kind === 'probes' && i.probes);
    if (!run?.probes) return d;
    return {
      ...d,
      target: { url: redact(run.label ?? inv.meta.url ?? '') },
      probes: run.probes.map((p) => ({
        probe: p.probe,
        status: p.status,
        durationMs: p.durationMs,
        phases: {},
        summary: redact(p.summary),
        details: {},
        signals: [],
        ...(p.route ? { route: redact(p.route) } : {}),
      })),
    } satisfies DiagnoseResult;
  }

  /** How each item is named next to the evidence it gave (mrkdwn, escaped). */
  function originLabels(inv: Investigation): Map<string, string> {
    const t = LINES[inv.meta.lang];
    const who = (by: string | undefined) => (by && USER.test(by) ? `<@${by}>` : t.someone);
    const when = (ms: number) => {
      const sec = Math.floor(ms / 1000);
      return `<!date^${sec}^{time}|${new Date(sec * 1000).toISOString().slice(11, 16)} UTC>`;
    };
    const out = new Map<string, string>();
    for (const i of inv.items) {
      const label =
        i.kind === 'text'
          ? i.by
            ? t.message(who(i.by))
            : t.first
          : i.kind === 'file'
            ? t.file(who(i.by))
            : i.kind === 'probes'
              ? t.probes(`\`${escapeMrkdwn((i.label ?? '').replace(/`/g, 'ˋ').slice(0, 200))}\``)
              : i.kind === 'answer'
                ? t.answer(who(i.by), escapeMrkdwn((i.label ?? '').slice(0, 80)))
                : i.kind === 'alert'
                  ? t.alert
                  : t.earlier(escapeMrkdwn(i.label ?? ''));
      out.set(i.id, `${label} ${when(i.at)}`);
    }
    return out;
  }

  function render(
    inv: Investigation,
    d: Diagnosis | DiagnoseResult,
    opts: { showAll?: boolean; changes?: readonly Masked[]; pending?: readonly string[] } = {},
  ): SlackMessage {
    const origins = originLabels(inv);
    const message = renderDiagnosisBlocks(d, {
      lang: inv.meta.lang,
      context: { source: inv.meta.source, requestId: inv.meta.requestId, ...(inv.meta.url ? { url: redact(inv.meta.url) } : {}) },
      ...(inv.items.length > 1 ? { origins, originsTitle: LINES[inv.meta.lang].evidence } : {}),
      ...(opts.showAll ? { showAll: true } : {}),
      ...(opts.changes ? { changes: opts.changes } : {}),
      ...(opts.pending ? { pending: opts.pending } : {}),
    });
    return withCarriedLines(message, inv.meta.lines ?? []);
  }

  /** The note posted when the top cause changes: the new top and the evidence (with its origin) that put it there. */
  function topNote(inv: Investigation, d: Diagnosis): SlackMessage {
    const lang = inv.meta.lang;
    const t = LINES[lang];
    const top = d.causes[0];
    if (!top) return { text: t.noneNow, blocks: [{ type: 'section', block_id: 'top-changed', text: { type: 'mrkdwn', text: t.noneNow } }] };
    const best = top.evidence.find((e) => e.symptom === undefined) ?? top.evidence[0];
    const origins = originLabels(inv);
    let text = t.nowFirst(escapeMrkdwn(top.title.slice(0, 200)), escapeMrkdwn(top.id), CONF[lang][top.confidence]);
    const fromAnswer = best?.origin !== undefined && inv.items.find((i) => i.id === best.origin)?.kind === 'answer';
    if (best && best.symptom === undefined && fromAnswer) text += ` — ${origins.get(best.origin!) ?? ''}`;
    else if (best && best.symptom === undefined) {
      const excerpt = `\`${escapeMrkdwn(
        best.excerpt
          .replace(/\s*\n\s*/g, ' ')
          .replace(/`/g, 'ˋ')
          .slice(0, 240),
      )}\``;
      text += t.because(best.origin ? (origins.get(best.origin) ?? escapeMrkdwn(best.origin)) : t.first, excerpt);
    }
    return { text, blocks: [{ type: 'section', block_id: 'top-changed', text: { type: 'mrkdwn', text } }] };
  }

  /** Past the bound, the oldest items become one summary item that keeps their signals. */
  async function bound(inv: Investigation): Promise<Investigation> {
    if (inv.items.length <= deps.maxItems) return inv;
    const over = inv.items.length - deps.maxItems + 1;
    const oldest = inv.items.slice(0, over);
    const earlier = oldest.reduce((n, i) => n + (i.kind === 'summary' ? Number(i.label ?? 0) || 1 : 1), 0);
    const summary: ThreadItem = {
      id: 'summary',
      kind: 'summary',
      at: oldest[oldest.length - 1]!.at,
      seq: oldest[0]!.seq,
      label: String(earlier),
      signals: compactSignals(engine.gather(evidenceOf(oldest)).signals),
    };
    await store.remove(
      inv.meta.channel,
      inv.meta.thread,
      oldest.map((i) => i.id),
    );
    await store.put(inv.meta.channel, inv.meta.thread, summary);
    return { meta: inv.meta, items: [summary, ...inv.items.slice(over)] };
  }

  const threads = {
    /** Start the investigation of a new answer's thread. */
    async open(meta: Omit<InvestigationMeta, 'top'>, d: Diagnosis, items: readonly ThreadItem[]): Promise<void> {
      await store.open({ ...meta, top: d.causes[0]?.id ?? 'none' }, items).catch(() => undefined);
    },

    /**
     * The thread's investigation: kept, or rebuilt from the thread's first answer of ours (an alert
     * answer, or one from before investigations), found with conversations.replies and the state its
     * buttons point to. Undefined when the thread holds no answer of ours.
     */
    async find(channel: string, thread: string, opts: { rebuild?: boolean } = {}): Promise<Investigation | undefined> {
      const kept = await store.get(channel, thread);
      if (kept || opts.rebuild === false) return kept;
      // A thread already looked through and found without an answer of ours is not read again for a while.
      const key = `${channel}:${thread}`;
      const until = noAnswer.get(key);
      if (until !== undefined && until > Date.now()) return undefined;
      const found = await ourAnswerIn(channel, thread);
      if (!found) {
        noAnswer.set(key, Date.now() + NO_ANSWER_MS);
        return undefined;
      }
      const state = await deps.states.load(found.requestId).catch(() => undefined);
      if (!state) return undefined;
      const item: ThreadItem | undefined =
        state.kind === 'text' && state.text
          ? textItem('first', found.alert ? 'alert' : 'text', state.text, 0)
          : state.kind === 'probes' && state.signals
            ? {
                id: probesItemId(state.url ?? ''),
                kind: 'probes',
                at: Date.now(),
                seq: 0,
                signals: state.signals,
                ...(state.url ? { label: state.url } : {}),
              }
            : undefined;
      if (!item) return undefined;
      const lines = carriedLines(found.blocks);
      const meta: InvestigationMeta = {
        channel,
        thread,
        ...(lines.length > 0 ? { lines } : {}),
        answerTs: found.ts,
        requestId: found.requestId,
        team: state.team,
        lang: state.lang,
        source: state.kind,
        ...(state.url ? { url: state.url } : {}),
        top: 'unknown',
      };
      const inv = { meta, items: [item] };
      const d = await rank(inv);
      await store.open({ ...meta, top: d.causes[0]?.id ?? 'none' }, [item]).catch(() => undefined);
      return { meta: { ...meta, top: d.causes[0]?.id ?? 'none' }, items: [item] };
    },

    /** The question the thread's answer offers now (its top two are close), if any. */
    async offered(inv: Investigation): Promise<Question | undefined> {
      const id = (await rank(inv)).next?.ask?.id;
      return id ? engine.kb.questions.get(id) : undefined;
    },

    /** The next sequence number of a thread's items. */
    nextSeq(inv: Investigation): number {
      return inv.items.reduce((n, i) => Math.max(n, i.seq), 0) + 1;
    },

    /**
     * Apply a change to the thread's evidence, rank everything again, update the first answer in
     * place, and post a short note when the top cause changed. Undefined when the thread has no
     * investigation (or a remove found nothing to remove).
     */
    async change(
      channel: string,
      thread: string,
      change: EvidenceChange,
      opts: { changes?: readonly Masked[] } = {},
    ): Promise<ThreadUpdate | undefined> {
      return serial(`${channel}:${thread}`, async () => {
        const before = await store.get(channel, thread);
        if (!before) return undefined;
        if ('put' in change) {
          const earlier = before.items.find((i) => i.id === change.put.id);
          await store.put(channel, thread, earlier ? { ...change.put, seq: earlier.seq } : change.put);
        } else {
          // By item id, or by the message it came from (a typed answer is kept under its question).
          const ids = before.items.filter((i) => i.id === change.remove || i.ts === change.remove).map((i) => i.id);
          if (!(await store.remove(channel, thread, ids))) return undefined;
        }
        const now = await store.get(channel, thread);
        if (!now) return undefined;
        const inv = await bound(now);
        const d = await rank(inv);
        await poster.update(channel, inv.meta.answerTs, render(inv, d, opts));
        const top = d.causes[0]?.id ?? 'none';
        const topChanged = top !== inv.meta.top;
        if (topChanged) {
          await store.setTop(channel, thread, top).catch(() => undefined);
          await poster.post(channel, topNote(inv, d), { thread_ts: thread });
        }
        return { diagnosis: d, topChanged };
      });
    },

    /**
     * An answer made elsewhere is about to be updated (an alert firing again, resolving): when its
     * thread has follow-ups, the update shows the whole thread's ranking instead, with the context
     * lines the new message carries (kept for later updates too).
     */
    async beforeUpdate(channel: string, answerTs: string, message: SlackMessage): Promise<SlackMessage> {
      const thread = await store.threadOf(channel, answerTs);
      if (!thread) return message;
      return serial(`${channel}:${thread}`, async () => {
        const inv = await store.get(channel, thread);
        if (!inv || inv.meta.answerTs !== answerTs) return message;
        const lines = carriedLines(message.blocks);
        await store.setLines(channel, thread, lines).catch(() => undefined);
        if (inv.items.length <= 1) return message;
        return render({ meta: { ...inv.meta, lines }, items: inv.items }, await rank(inv));
      });
    },

    /** The answer as it stands; with `pending`, saying that these probes still run (no buttons meanwhile). */
    async refresh(channel: string, thread: string, pending?: readonly string[]): Promise<void> {
      const inv = await store.get(channel, thread);
      if (!inv) return;
      const d = await rank(inv);
      const message = render(inv, d, pending && pending.length > 0 ? { pending } : {});
      await poster.update(channel, inv.meta.answerTs, message);
    },

    /** The thread's answer as it stands (Show all causes). */
    async render(inv: Investigation, opts: { showAll?: boolean } = {}): Promise<SlackMessage> {
      return render(inv, await rank(inv), opts);
    },
  };

  /** Our first answer in a thread, with the request id its buttons carry. */
  async function ourAnswerIn(
    channel: string,
    thread: string,
  ): Promise<{ ts: string; requestId: string; alert: boolean; blocks: unknown } | undefined> {
    if (!deps.self.botId && !deps.self.userId) return undefined;
    try {
      const r = await deps.client.conversations.replies({ channel, ts: thread, limit: 50 });
      const messages = (r.messages ?? []) as { ts?: string; bot_id?: string; user?: string; blocks?: unknown[] }[];
      const root = messages.find((m) => m.ts === thread);
      for (const m of messages) {
        const ours = (deps.self.botId && m.bot_id === deps.self.botId) || (deps.self.userId && m.user === deps.self.userId);
        const requestId = ours && m.ts ? requestIdOf(m.blocks) : undefined;
        if (requestId)
          return { ts: m.ts!, requestId, alert: Boolean(root && root !== m && (root.bot_id || root.user === undefined)), blocks: m.blocks };
      }
    } catch {
      // No history scope, or Slack trouble: the follow-up is answered as before.
    }
    return undefined;
  }

  return threads;
}

export type Threads = ReturnType<typeof createThreads>;

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The request id in an answer's button values. */
function requestIdOf(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const b of blocks as { type?: string; block_id?: unknown; elements?: { value?: unknown; text?: unknown }[] }[]) {
    // An answer without buttons (no known cause) still names its request in its meta line.
    if (b?.type === 'context' && typeof b.block_id === 'string' && baseBlockId(b.block_id) === 'meta' && Array.isArray(b.elements)) {
      const m = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(b.elements.map((e) => String(e?.text ?? '')).join(' '));
      if (m) return m[0];
    }
    if (b?.type !== 'actions' || !Array.isArray(b.elements)) continue;
    for (const el of b.elements) {
      if (typeof el?.value !== 'string') continue;
      try {
        const v = JSON.parse(el.value) as { requestId?: unknown };
        if (typeof v.requestId === 'string' && REQUEST_ID.test(v.requestId)) return v.requestId;
      } catch {
        // not one of ours
      }
    }
  }
  return undefined;
}

/** Block ids of context lines an answer keeps through re-rankings: the alert pipeline's status lines. */
const CARRIED = /^alert-[a-z-]+$/;

/** The carried context lines of a message's blocks (block ids without the poster's version suffix). */
export function carriedLines(blocks: unknown): { id: string; text: string }[] {
  if (!Array.isArray(blocks)) return [];
  const out: { id: string; text: string }[] = [];
  for (const b of blocks as { type?: string; block_id?: unknown; elements?: { text?: unknown }[] }[]) {
    const id = typeof b?.block_id === 'string' ? baseBlockId(b.block_id) : '';
    if (b?.type !== 'context' || !CARRIED.test(id)) continue;
    const text = b.elements?.map((e) => (typeof e?.text === 'string' ? e.text : '')).join(' ') ?? '';
    if (text) out.push({ id, text: text.slice(0, 600) });
  }
  return out.slice(0, 5);
}

/** The message with the carried lines right under its header, in their order. */
function withCarriedLines(message: SlackMessage, lines: readonly { id: string; text: string }[]): SlackMessage {
  if (lines.length === 0) return message;
  const blocks = message.blocks.filter((b) => !('block_id' in b) || !CARRIED.test(String(b.block_id)));
  const at = blocks[0]?.type === 'header' ? 1 : 0;
  const added = lines.map((l) => ({
    type: 'context' as const,
    block_id: l.id,
    elements: [{ type: 'mrkdwn' as const, text: l.text, verbatim: true }],
  }));
  return { text: message.text, blocks: [...blocks.slice(0, at), ...added, ...blocks.slice(at)].slice(0, 50) };
}

/**
 * The answer a typed reply gives to a question: one of its labels or replies (knowledge/questions/)
 * at the start of the reply, as whole words ("Only some of them" → some, "yes, after the 10:00
 * deploy" → yes); the longest that fits wins. Undefined when the reply starts with none.
 */
export function typedAnswer(q: Question, text: string): QuestionAnswer | undefined {
  const reply = text
    .toLowerCase()
    .replace(/^[\s@>*_~`"'“([-]+/u, '')
    .slice(0, 200);
  let best: { a: QuestionAnswer; len: number } | undefined;
  for (const a of q.answers) {
    for (const phrase of [a.label.en.toLowerCase(), a.label.zh, ...a.replies]) {
      if (!reply.startsWith(phrase)) continue;
      const next = reply.charAt(phrase.length);
      // A Latin word must end there ("no" is not "nope"); CJK has no spaces to wait for.
      if (/[a-z0-9]$/.test(phrase) && /[\p{L}\p{N}]/u.test(next)) continue;
      if (!best || phrase.length > best.len) best = { a, len: phrase.length };
    }
  }
  return best?.a;
}

/** Whether a knowledge base has this question and answer (a click's value is checked against it). */
export function knownAnswer(kb: KnowledgeBase, question: string, answer: string): { label: (lang: Lang) => string } | undefined {
  const a = kb.questions.get(question)?.answers.find((x) => x.id === answer);
  return a ? { label: (lang) => a.label[lang] } : undefined;
}
