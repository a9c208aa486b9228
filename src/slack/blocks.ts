import type { Lang } from '../knowledge/types.js';
import type { ProbeResult } from '../probes/probe.js';
import type { Masked } from '../security/redact.js';
import type { DiagnoseResult } from '../triage/diagnose.js';
import type { CauseResult, Diagnosis, FixResult } from '../triage/result.js';

/*
 * Slack Block Kit rendering of a diagnosis. Pure: data in, message JSON out; the bot posts it.
 * Every string that came from outside is already Masked; here it is only mrkdwn-escaped (&, <, >)
 * so that user text cannot become a mention (<!channel>, <@U…>) or a link.
 */

// ---------------------------------------------------------------------------------------------
// Block Kit types (the subset this renderer emits)

export interface PlainTextObject {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

/** `verbatim: true`: Slack does not auto-link URLs, channel names or mentions in the text. */
export interface MrkdwnObject {
  readonly type: 'mrkdwn';
  readonly text: string;
  readonly verbatim?: boolean;
}

export interface ButtonElement {
  readonly type: 'button';
  /** A question's buttons carry `answer_question:<answer id>` (one action id per answer in a block). */
  readonly action_id: ActionId | `answer_question:${string}`;
  readonly text: PlainTextObject;
  /** JSON, see {@link ActionValue}. At most 2000 characters. */
  readonly value: string;
  readonly style?: 'primary' | 'danger';
}

export interface HeaderBlock {
  readonly type: 'header';
  readonly block_id: string;
  readonly text: PlainTextObject;
}

export interface SectionBlock {
  readonly type: 'section';
  readonly block_id: string;
  readonly text: MrkdwnObject;
}

export interface ContextBlock {
  readonly type: 'context';
  readonly block_id: string;
  readonly elements: readonly MrkdwnObject[];
}

export interface DividerBlock {
  readonly type: 'divider';
}

export interface ActionsBlock {
  readonly type: 'actions';
  readonly block_id: string;
  readonly elements: readonly ButtonElement[];
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | DividerBlock | ActionsBlock;

/** A message for chat.postMessage / chat.update / response_url. */
export interface SlackMessage {
  /** Fallback for notifications and screen readers (mrkdwn-escaped). */
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** A reply only the user who asked sees (slash command / response_url). */
export interface EphemeralMessage extends SlackMessage {
  readonly response_type: 'ephemeral';
}

/** The `action_id`s of the buttons this renderer emits; the bot routes on them. */
export const ACTIONS = {
  showAll: 'show_all',
  runProbes: 'run_probes',
  reprobe: 'reprobe',
  fixed: 'feedback_fixed',
  wrong: 'feedback_wrong',
  answerQuestion: 'answer_question',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/**
 * A button's `value`, as JSON: `{"requestId": "…"}` for show_all / run_probes / reprobe, plus
 * `causeId` for feedback_fixed / feedback_wrong.
 */
export interface ActionValue {
  readonly requestId: string;
  readonly causeId?: string;
  /** A question's button: the question id and the answer id (knowledge/questions/). */
  readonly question?: string;
  readonly answer?: string;
}

/**
 * Slack's limits (https://docs.slack.dev/reference/block-kit) and this renderer's own budget.
 * Every rendered message respects all of them.
 */
export const SLACK_LIMITS = {
  /** Blocks in one message. */
  blocks: 50,
  /** Characters of a section's text. */
  sectionText: 3000,
  /** Characters of a header's plain_text. */
  headerText: 150,
  /** Elements in a context block. */
  contextElements: 10,
  /** Characters of one context element (our bound; Slack allows more). */
  contextText: 2000,
  /** Elements in an actions block. */
  actionsElements: 25,
  /** Characters of a button's label. */
  buttonText: 75,
  /** Characters of a button's value. */
  buttonValue: 2000,
  /** Characters of a block_id. */
  blockId: 255,
  /** Characters of `JSON.stringify(blocks)`: our budget, so a message stays readable and postable. */
  blocksJson: 12_000,
} as const;

/** Options of {@link renderDiagnosisBlocks}. */
export interface RenderBlocksOptions {
  /** UI language; cause titles and fixes come in the diagnosis' own language. */
  readonly lang: Lang;
  readonly context: {
    /** What the diagnosis came from: pasted text, or probes of a URL. */
    readonly source: 'text' | 'probes';
    /** The URL, when known (enables "Run probes" for text). */
    readonly url?: Masked;
    /** Carried in every button value, so a click finds its request. */
    readonly requestId: string;
  };
  /** Every cause instead of the top 3. @defaultValue false */
  readonly showAll?: boolean;
  /** A fix that worked for this cause before (feedback memory). */
  readonly recalled?: { readonly causeId: string; readonly fixTitle: string; readonly when: string };
  /** What changed since the last run (Re-probe). An empty list says "nothing changed". */
  readonly changes?: readonly Masked[];
  /**
   * A partial answer while these probes still run: it says so, and has no buttons yet (the
   * request is kept once the answer is complete). @defaultValue a complete answer
   */
  readonly pending?: readonly string[];
  /**
   * An investigation of several items (a thread): each evidence item's label by id (mrkdwn,
   * escaped), shown with the evidence it gave, and listed under `originsTitle`.
   */
  readonly origins?: ReadonlyMap<string, string>;
  readonly originsTitle?: string;
}

// ---------------------------------------------------------------------------------------------
// UI strings

const UI = {
  en: {
    noCause: 'No known cause',
    noneText: 'No known cause matched this text.',
    noneProbes: 'The probes saw nothing that matches a known cause.',
    noneHint: "Paste more of it: the proxy's error.log lines around the failure, the full curl -v output, or the whole stack trace.",
    noneProbesHint: 'If it still fails for you, paste the error you see (curl -v output, proxy log lines).',
    seen: 'Signals seen',
    fromText: 'From pasted text',
    fromProbes: (url: string) => (url ? `Probed ${url}` : 'From probes'),
    request: 'request',
    cause: 'cause',
    evidence: 'Evidence',
    symptom: 'Symptom',
    usual: (title: string) => `a usual cause of: ${title}`,
    thin: 'Ranked from the symptom alone, in the usual order: nothing in it singles one cause out yet.',
    against: 'Against',
    line: 'line',
    fixes: 'Try, in order',
    moreFixes: (n: number) => `… ${n} more fix(es)`,
    moreLines: (n: number) => `… ${n} more line(s)`,
    configCut: 'config left out to fit; press Show all',
    more: (n: number) => `… ${n} more cause(s)`,
    cut: '… (cut; press Show all)',
    cutAll: (n: number) =>
      `… (cut to fit Slack's limits${n > 0 ? `: ${n} cause(s) not shown` : ''}; \`triage explain --all\` shows everything)`,
    separate: 'To tell these apart',
    probe: (p: string) => `run the ${p} probe (Run probes)`,
    vantage: 'From each pool',
    recalled: (fix: string, when: string) => `Last time, ${fix} fixed this (${when})`,
    changes: 'What changed since the last run',
    noChanges: 'Nothing changed since the last run.',
    note: 'note',
    moreProbes: (n: number) => `+${n} more probe(s)`,
    phases: { resolve: 'resolve', connect: 'connect', tls: 'tls', tunnel: 'tunnel', processing: 'processing', transfer: 'transfer' },
    confidence: { high: 'high', medium: 'medium', low: 'low' },
    pct: (n: number) => `${n} %`,
    buttons: { showAll: 'Show all causes', runProbes: 'Run probes', reprobe: 'Re-probe', fixed: 'Fixed it', wrong: 'Wrong cause' },
    fallbackTop: (title: string, conf: string, n: number) => `${title} (${conf})${n > 1 ? ` and ${n - 1} more possible cause(s)` : ''}`,
    probing: (url: string) => `Probing ${url} …`,
    probingHint: 'DNS, TCP, TLS, HTTP and the proxy path; this takes a few seconds.',
    pending: (probes: string) => `So far — still running: ${probes}. This message updates when they finish.`,
    error: 'Something went wrong',
  },
  zh: {
    noCause: '未找到已知原因',
    noneText: '没有匹配到已知原因。',
    noneProbes: '探测结果没有匹配到已知原因。',
    noneHint: '请粘贴更多内容：故障前后代理的 error.log、完整的 curl -v 输出或完整的堆栈。',
    noneProbesHint: '如果仍然失败，请粘贴你看到的错误（curl -v 输出、代理日志）。',
    seen: '识别到的信号',
    fromText: '来自粘贴的文本',
    fromProbes: (url: string) => (url ? `已探测 ${url}` : '来自探测'),
    request: '请求',
    cause: '原因',
    evidence: '证据',
    symptom: '症状',
    usual: (title: string) => `常见原因之一：${title}`,
    thin: '仅根据症状按常见顺序排列：现有证据还不足以确定其中一个。',
    against: '反证',
    line: '行',
    fixes: '按顺序尝试',
    moreFixes: (n: number) => `…… 另有 ${n} 个修复方法`,
    moreLines: (n: number) => `…… 另有 ${n} 行`,
    configCut: '为适应长度省略了配置；点击“显示全部原因”',
    more: (n: number) => `…… 另有 ${n} 个原因`,
    cut: '……（已截断；点击“显示全部原因”）',
    cutAll: (n: number) => `……（为适应 Slack 的限制已截断${n > 0 ? `：${n} 个原因未显示` : ''}；\`triage explain --all\` 可查看全部）`,
    separate: '如何区分',
    probe: (p: string) => `运行 ${p} 探测（点击“运行探测”）`,
    vantage: '各探测点的结果',
    recalled: (fix: string, when: string) => `上次「${fix}」解决了这个问题（${when}）`,
    changes: '与上次相比的变化',
    noChanges: '与上次相比没有变化。',
    note: '注',
    moreProbes: (n: number) => `另有 ${n} 个探测`,
    phases: { resolve: '解析', connect: '连接', tls: 'TLS', tunnel: '隧道', processing: '处理', transfer: '传输' },
    confidence: { high: '高', medium: '中', low: '低' },
    pct: (n: number) => `${n}%`,
    buttons: { showAll: '显示全部原因', runProbes: '运行探测', reprobe: '重新探测', fixed: '已解决', wrong: '原因不对' },
    fallbackTop: (title: string, conf: string, n: number) => `${title}（${conf}）${n > 1 ? `，另有 ${n - 1} 个可能原因` : ''}`,
    probing: (url: string) => `正在探测 ${url} ……`,
    probingHint: '检查 DNS、TCP、TLS、HTTP 和代理路径，需要几秒钟。',
    pending: (probes: string) => `初步结果——仍在运行：${probes}。完成后本消息会更新。`,
    error: '出错了',
  },
} as const;

type Ui = (typeof UI)[Lang];

const SHOWN_CAUSES = 3;
const SHOWN_FIXES = 2;
const SHOWN_EVIDENCE = 4;
const SHOWN_PROBES = 20;
const EXCERPT_CHARS = 300;

/**
 * How much of each fix to show. The fitter starts at `full` and steps down only when even the top
 * cause alone does not fit.
 */
const FIX_DETAIL = {
  full: { configs: 2, configChars: 1200, commands: 3, steps: 4 },
  short: { configs: 1, configChars: 400, commands: 2, steps: 2 },
  minimal: { configs: 0, configChars: 0, commands: 1, steps: 0 },
  bare: { configs: 0, configChars: 0, commands: 0, steps: 0 },
} as const;

type FixDetail = keyof typeof FIX_DETAIL;

// ---------------------------------------------------------------------------------------------
// Public renderers

/**
 * A diagnosis (from text, or from probes) as a Slack message: header, the top causes with evidence
 * and fixes, probe timings, the next step, and buttons. Fits Slack's limits ({@link SLACK_LIMITS}):
 * lower causes are dropped first, then fix config is shortened; a note and "Show all causes" say so.
 *
 * @example renderDiagnosisBlocks(engine.explain(text), { lang: 'en', context: { source: 'text', requestId } })
 */
export function renderDiagnosisBlocks(d: Diagnosis | DiagnoseResult, opts: RenderBlocksOptions): SlackMessage {
  const ui = UI[opts.lang];
  const wanted = opts.showAll ? d.causes : d.causes.slice(0, SHOWN_CAUSES);
  const maxByBlocks = Math.max(1, Math.floor(SLACK_LIMITS.blocks / 3));
  const start = Math.min(wanted.length, maxByBlocks);

  // The top answer drops lower causes before shortening fixes; "Show all causes" shortens fixes first.
  const details = Object.keys(FIX_DETAIL) as FixDetail[];
  const counts = Array.from({ length: start - Math.min(1, start) + 1 }, (_, i) => start - i);
  const tries: [number, FixDetail][] = opts.showAll
    ? counts.flatMap((n) => details.map((detail): [number, FixDetail] => [n, detail]))
    : details.flatMap((detail) => counts.map((n): [number, FixDetail] => [n, detail]));
  for (const compact of [false, true]) {
    for (const [n, detail] of tries) {
      const r = compose(d, opts, wanted.slice(0, n), detail, compact);
      if (fits(r.blocks)) return { text: fallbackText(d, ui), blocks: r.blocks };
    }
  }
  // Unreachable with the bounds above; kept so the limits hold whatever the input.
  const last = compose(d, opts, wanted.slice(0, 1), 'bare', true).blocks;
  return { text: fallbackText(d, ui), blocks: hardTrim(last) };
}

/** The placeholder posted while probes run; replaced by the diagnosis. */
export function renderProbingMessage(url: Masked, lang: Lang): SlackMessage {
  const ui = UI[lang];
  const shown = clip(url, 500);
  return {
    text: escapeMrkdwn(ui.probing(shown)),
    blocks: [section('probing', `:mag: ${ui.probing(code(shown))}`), context('probing-hint', [escapeMrkdwn(ui.probingHint)])],
  };
}

/** An error only the asking user sees. */
export function renderError(message: Masked, lang: Lang): EphemeralMessage {
  const ui = UI[lang];
  const text = escapeMrkdwn(clip(message, 2000));
  return {
    response_type: 'ephemeral',
    text: `${escapeMrkdwn(ui.error)}: ${text}`,
    blocks: [section('error', `:warning: *${escapeMrkdwn(ui.error)}*\n${text}`)],
  };
}

/** Escape Slack's control characters so text shows as written (no mentions, links, entities). */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------
// Composition

interface Composed {
  readonly blocks: Block[];
}

function compose(
  d: Diagnosis | DiagnoseResult,
  opts: RenderBlocksOptions,
  shown: readonly CauseResult[],
  detail: FixDetail,
  compact: boolean,
): Composed {
  const ui = UI[opts.lang];
  const blocks: Block[] = [];
  const servers = new Set(d.signals.filter((s) => s.signal.startsWith('http.server=')).map((s) => s.signal.slice('http.server='.length)));
  const wanted = opts.showAll ? d.causes.length : Math.min(SHOWN_CAUSES, d.causes.length);
  const clipped = { any: false };

  const top = d.causes[0];
  blocks.push({ type: 'header', block_id: 'header', text: plain(top ? clip(top.title, SLACK_LIMITS.headerText) : ui.noCause) });
  blocks.push(metaContext(opts, 'target' in d ? d.target.url : undefined, ui));
  if (opts.pending && opts.pending.length > 0)
    blocks.push(context('pending', [`:hourglass_flowing_sand: ${escapeMrkdwn(ui.pending(clip(opts.pending.join(', '), 300)))}`]));

  if (!top) blocks.push(...noCause(d, opts, ui));
  else if (d.symptoms.length > 0) blocks.push(symptomContext(d, ui));
  const symptoms = new Map(d.symptoms.map((x) => [x.id, x.title]));
  for (const [i, cause] of shown.entries()) {
    blocks.push({ type: 'divider' });
    blocks.push(causeSection(cause, i + 1, ui, symptoms, opts.origins));
    blocks.push(fixSection(cause, detail, servers, ui, clipped));
    if (!opts.pending) blocks.push(feedbackActions(cause, opts.context.requestId, ui));
  }

  const probes = 'probes' in d ? d.probes : [];
  const tail: Block[] = [];
  if (probes.length > 0) tail.push(...(compact ? [probesCompact(probes, ui)] : probeContexts(probes, ui)));
  if ('vantage' in d && d.vantage) tail.push(vantageContext(d.vantage, compact));
  if (d.next && top) tail.push(nextSection(d.next, compact, ui));
  if (d.next?.ask && top && !opts.pending) tail.push(...askBlocks(d.next.ask, opts.context.requestId));
  if (opts.origins && opts.origins.size > 1 && !compact) tail.push(originsContext(opts.origins, opts.originsTitle ?? ''));
  if (opts.recalled) tail.push(recalledContext(opts.recalled, shown, ui));
  if (opts.changes) tail.push(changesSection(opts.changes, compact, ui));
  if (d.notes.length > 0 && !compact)
    tail.push(
      context(
        'notes',
        d.notes.slice(0, 5).map((n) => `${ui.note}: ${escapeMrkdwn(clip(n, 300))}`),
      ),
    );
  if (tail.length > 0) blocks.push({ type: 'divider' }, ...tail);

  const cut = shown.length < wanted || detail !== 'full' || compact || clipped.any;
  const hidden = d.causes.length - shown.length;
  if (cut) blocks.push(context('cut', [opts.showAll ? ui.cutAll(hidden) : ui.cut]));
  else if (hidden > 0) blocks.push(context('more', [ui.more(hidden)]));

  const actions = opts.pending ? undefined : mainActions(opts, hidden > 0 || cut, ui);
  if (actions) blocks.push(actions);
  return { blocks };
}

function metaContext(opts: RenderBlocksOptions, target: Masked | undefined, ui: Ui): ContextBlock {
  const { source, requestId } = opts.context;
  const url = opts.context.url ?? target;
  const from = source === 'text' ? ui.fromText : ui.fromProbes(url ? code(url, 500) : '');
  return context('meta', [from, `${ui.request} ${code(clip(requestId, 100))}`]);
}

function noCause(d: Diagnosis, opts: RenderBlocksOptions, ui: Ui): Block[] {
  const probes = opts.context.source === 'probes';
  const lines = [`*${escapeMrkdwn(probes ? ui.noneProbes : ui.noneText)}*`, escapeMrkdwn(probes ? ui.noneProbesHint : ui.noneHint)];
  if (d.signals.length > 0) {
    lines.push('', `*${escapeMrkdwn(ui.seen)}*`);
    for (const s of d.signals.slice(0, 10)) lines.push(`• ${code(s.signal, 120)}  ${code(s.excerpt, 200)}`);
  }
  return [section('none', lines.join('\n'))];
}

/** What failed, and when nothing but the symptom ranks the causes, that the order is the usual one. */
function symptomContext(d: Diagnosis, ui: Ui): ContextBlock {
  const lines = d.symptoms.slice(0, 3).map((x) => `*${escapeMrkdwn(ui.symptom)}:* ${escapeMrkdwn(clip(x.title, 200))}`);
  if (d.causes.every((c) => c.evidence.every((e) => e.symptom !== undefined))) lines.push(`_${escapeMrkdwn(ui.thin)}_`);
  return context('symptoms', lines);
}

function causeSection(
  cause: CauseResult,
  rank: number,
  ui: Ui,
  symptoms: ReadonlyMap<string, string>,
  origins?: ReadonlyMap<string, string>,
): SectionBlock {
  const pct = Math.round(cause.score * 100);
  const from = (origin: string | undefined) => (origin !== undefined && origins?.has(origin) ? origins.get(origin)! : undefined);
  const lines = [
    `*${rank}. ${escapeMrkdwn(clip(cause.title, 200))}*`,
    `${meter(cause.score, cause.confidence)}  ${escapeMrkdwn(ui.confidence[cause.confidence])} ${ui.pct(pct)}  ·  ${ui.cause} ${code(cause.id, 100)}`,
    escapeMrkdwn(clip(cause.summary, 600)),
  ];
  if (cause.evidence.length > 0) {
    lines.push(`*${escapeMrkdwn(ui.evidence)}*`);
    let previous: string | undefined;
    for (const e of cause.evidence.slice(0, SHOWN_EVIDENCE)) {
      if (e.symptom) {
        lines.push(`• _${escapeMrkdwn(ui.usual(clip(symptoms.get(e.symptom) ?? e.symptom, 200)))}_`);
        continue;
      }
      const at = [
        from(e.origin),
        e.line !== undefined ? `${ui.line} ${e.line}${e.count > 1 ? `, ×${e.count}` : ''}` : e.count > 1 ? `×${e.count}` : undefined,
      ].filter((x) => x !== undefined);
      const where = at.length > 0 ? ` _(${at.join(', ')})_` : '';
      lines.push(`• ${code(e.signal, 150)}${where}`);
      if (e.excerpt !== previous) lines.push(`    ${code(e.excerpt, EXCERPT_CHARS)}`);
      previous = e.excerpt;
    }
  }
  for (const e of cause.against.slice(0, 2)) lines.push(`− ${escapeMrkdwn(ui.against)}: ${code(e.signal, 150)}  ${code(e.excerpt, 150)}`);
  return section(blockId('cause', cause.id), lines.join('\n'));
}

function fixSection(cause: CauseResult, detail: FixDetail, servers: ReadonlySet<string>, ui: Ui, clipped: { any: boolean }): SectionBlock {
  const lim = FIX_DETAIL[detail];
  const fixes = cause.fixes.slice(0, SHOWN_FIXES);
  const parts = [`*${escapeMrkdwn(ui.fixes)}*`];
  for (const [i, f] of fixes.entries()) parts.push(fixText(f, i + 1, lim, servers, ui, clipped));
  if (fixes.length < cause.fixes.length) parts.push(`_${escapeMrkdwn(ui.moreFixes(cause.fixes.length - fixes.length))}_`);
  const text = parts.join('\n');
  if (text.length > SLACK_LIMITS.sectionText) clipped.any = true;
  return section(blockId('fixes', cause.id), text);
}

function fixText(
  f: FixResult,
  n: number,
  lim: (typeof FIX_DETAIL)[FixDetail],
  servers: ReadonlySet<string>,
  ui: Ui,
  clipped: { any: boolean },
): string {
  const out = [`*${n})* ${escapeMrkdwn(clip(f.title, 300))}`];
  for (const s of f.steps.slice(0, lim.steps)) out.push(`    · ${escapeMrkdwn(clip(s, 300))}`);
  const cmds = f.commands.slice(0, lim.commands);
  if (cmds.length > 0) out.push(codeBlock(cmds.map((c) => `$ ${c}`).join('\n'), 600, ui, clipped));
  const ordered = [...f.config.filter((c) => servers.has(c.for)), ...f.config.filter((c) => !servers.has(c.for))];
  for (const cfg of ordered.slice(0, lim.configs)) {
    out.push(`_${escapeMrkdwn(cfg.for)}${cfg.file ? ` (${escapeMrkdwn(clip(cfg.file, 120))})` : ''}:_`);
    out.push(codeBlock(cfg.lines, lim.configChars, ui, clipped));
  }
  if (lim.configs === 0 && f.config.length > 0) out.push(`    _${escapeMrkdwn(ui.configCut)}_`);
  return out.join('\n');
}

function feedbackActions(cause: CauseResult, requestId: string, ui: Ui): ActionsBlock {
  const value: ActionValue = { requestId: clip(requestId, 255), causeId: clip(cause.id, 255) };
  return {
    type: 'actions',
    block_id: blockId('feedback', cause.id),
    elements: [button(ACTIONS.fixed, ui.buttons.fixed, value, 'primary'), button(ACTIONS.wrong, ui.buttons.wrong, value)],
  };
}

function mainActions(opts: RenderBlocksOptions, more: boolean, ui: Ui): ActionsBlock | undefined {
  const value: ActionValue = { requestId: clip(opts.context.requestId, 255) };
  const elements: ButtonElement[] = [];
  if (more && !opts.showAll) elements.push(button(ACTIONS.showAll, ui.buttons.showAll, value));
  if (opts.context.source === 'text' && opts.context.url) elements.push(button(ACTIONS.runProbes, ui.buttons.runProbes, value, 'primary'));
  if (opts.context.source === 'probes') elements.push(button(ACTIONS.reprobe, ui.buttons.reprobe, value, 'primary'));
  return elements.length > 0 ? { type: 'actions', block_id: 'actions', elements } : undefined;
}

const MARK = { ok: '✓', failed: '✗', refused: '⊘', skipped: '·' } as const;

function probeLabel(p: ProbeResult): string {
  const pool = (p as { pool?: unknown }).pool;
  return `${MARK[p.status]} ${typeof pool === 'string' ? `[${escapeMrkdwn(clip(pool, 40))}] ` : ''}*${escapeMrkdwn(clip(p.probe, 40))}*`;
}

function probeContexts(probes: readonly ProbeResult[], ui: Ui): ContextBlock[] {
  const out = probes.slice(0, SHOWN_PROBES).map((p, i) => {
    const phases = (Object.keys(ui.phases) as (keyof Ui['phases'])[])
      .filter((k) => typeof p.phases[k] === 'number')
      .map((k) => `${ui.phases[k]} ${Number(p.phases[k]).toFixed(1)} ms`)
      .join(' · ');
    const elements = [`${probeLabel(p)}  ${escapeMrkdwn(clip(p.summary, 300))}`];
    if (p.route && p.route !== 'direct') elements.push(`via ${escapeMrkdwn(clip(p.route, 200))}`);
    if (phases) elements.push(phases);
    return context(`probe:${i}:${clip(p.probe, 40)}`, elements);
  });
  if (probes.length > SHOWN_PROBES) out.push(context('probes-more', [ui.moreProbes(probes.length - SHOWN_PROBES)]));
  return out;
}

function probesCompact(probes: readonly ProbeResult[], ui: Ui): ContextBlock {
  const max = SLACK_LIMITS.contextElements;
  const els = probes.slice(0, probes.length > max ? max - 1 : max).map(probeLabel);
  if (probes.length > max) els.push(ui.moreProbes(probes.length - (max - 1)));
  return context('probes', els);
}

function vantageContext(v: NonNullable<DiagnoseResult['vantage']>, compact: boolean): ContextBlock {
  const pools = compact ? [] : v.pools.slice(0, SLACK_LIMITS.contextElements - 1);
  return context('vantage', [
    `:globe_with_meridians: *${escapeMrkdwn(clip(v.summary, 600))}*`,
    ...pools.map((p) => `${p.healthy ? '✓' : '✗'} ${escapeMrkdwn(clip(p.pool, 60))}: ${code(p.error ?? p.outcome, 100)}`),
  ]);
}

/** The question that separates the top two, with one button per answer. */
function askBlocks(ask: NonNullable<NonNullable<Diagnosis['next']>['ask']>, requestId: string): Block[] {
  return [
    section('ask', `:question: *${escapeMrkdwn(clip(ask.text, 400))}*`),
    {
      type: 'actions',
      block_id: 'ask-answers',
      elements: ask.answers
        .slice(0, 5)
        // Slack wants each action_id once per block: one per answer.
        .map((a) =>
          button(`${ACTIONS.answerQuestion}:${a.id}`, a.label, {
            requestId: clip(requestId, 255),
            question: clip(ask.id, 64),
            answer: clip(a.id, 64),
          }),
        ),
    },
  ];
}

/** The thread's evidence items, oldest first. */
function originsContext(origins: ReadonlyMap<string, string>, title: string): ContextBlock {
  const labels = [...origins.values()];
  const max = SLACK_LIMITS.contextElements - 1;
  const shown = labels.length > max ? [...labels.slice(0, max - 1), `+${labels.length - (max - 1)}`] : labels;
  return context('origins', [`*${escapeMrkdwn(title)}:*`, ...shown]);
}

function nextSection(next: NonNullable<Diagnosis['next']>, compact: boolean, ui: Ui): SectionBlock {
  const lines = [`*${escapeMrkdwn(ui.separate)}* (${next.between.map((c) => code(c, 100)).join(' / ')})`];
  for (const s of next.steps.slice(0, compact ? 2 : 4)) {
    const how = s.probe ? ui.probe(s.probe) : (s.question ?? s.description);
    lines.push(`→ ${code(s.cause, 100)}: ${escapeMrkdwn(clip(how, 400))}`);
  }
  return section('next', lines.join('\n'));
}

function recalledContext(r: NonNullable<RenderBlocksOptions['recalled']>, shown: readonly CauseResult[], ui: Ui): ContextBlock {
  const title = shown.find((c) => c.id === r.causeId)?.title;
  const line = ui.recalled(`*${escapeMrkdwn(clip(r.fixTitle, 300))}*`, escapeMrkdwn(clip(r.when, 100)));
  return context('recalled', [`:repeat: ${line}${title ? ` — ${escapeMrkdwn(clip(title, 200))}` : ` — ${code(r.causeId, 100)}`}`]);
}

function changesSection(changes: readonly Masked[], compact: boolean, ui: Ui): SectionBlock {
  if (changes.length === 0) return section('changes', `*${escapeMrkdwn(ui.changes)}*\n${escapeMrkdwn(ui.noChanges)}`);
  const max = compact ? 5 : 15;
  const lines = changes.slice(0, max).map((c) => `• ${escapeMrkdwn(clip(c, 300))}`);
  if (changes.length > max) lines.push(`• … +${changes.length - max}`);
  return section('changes', `*${escapeMrkdwn(ui.changes)}*\n${lines.join('\n')}`);
}

function fallbackText(d: Diagnosis, ui: Ui): string {
  const top = d.causes[0];
  if (!top) return escapeMrkdwn(ui.noneText);
  const conf = `${ui.confidence[top.confidence]} ${ui.pct(Math.round(top.score * 100))}`;
  return escapeMrkdwn(clip(ui.fallbackTop(top.title, conf, d.causes.length), 300));
}

// ---------------------------------------------------------------------------------------------
// Limits

function fits(blocks: readonly Block[]): boolean {
  return blocks.length <= SLACK_LIMITS.blocks && JSON.stringify(blocks).length <= SLACK_LIMITS.blocksJson;
}

/** Last resort: drop blocks before the final actions until the message fits. */
function hardTrim(blocks: Block[]): Block[] {
  const out = [...blocks];
  const lastIsActions = out[out.length - 1]?.type === 'actions';
  while (!fits(out) && out.length > 2) out.splice(out.length - (lastIsActions ? 2 : 1), 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Block and text helpers

function plain(text: string): PlainTextObject {
  return { type: 'plain_text', text, emoji: true };
}

function mrkdwn(text: string, max: number): MrkdwnObject {
  return { type: 'mrkdwn', text: clipMrkdwn(text, max), verbatim: true };
}

function section(id: string, text: string): SectionBlock {
  return { type: 'section', block_id: id, text: mrkdwn(text, SLACK_LIMITS.sectionText) };
}

/** Elements are mrkdwn, already escaped. */
function context(id: string, elements: readonly string[]): ContextBlock {
  return {
    type: 'context',
    block_id: clip(id, SLACK_LIMITS.blockId),
    elements: elements.slice(0, SLACK_LIMITS.contextElements).map((e) => mrkdwn(e, SLACK_LIMITS.contextText)),
  };
}

function button(
  action: ActionId | `answer_question:${string}`,
  label: string,
  value: ActionValue,
  style?: 'primary' | 'danger',
): ButtonElement {
  return {
    type: 'button',
    action_id: action,
    text: plain(clip(label, SLACK_LIMITS.buttonText)),
    value: JSON.stringify(value).slice(0, SLACK_LIMITS.buttonValue),
    ...(style ? { style } : {}),
  };
}

function blockId(kind: string, id: string): string {
  return `${kind}:${id}`.slice(0, SLACK_LIMITS.blockId);
}

/** Inline code: one line, no backticks that could close it, escaped. Empty text stays empty. */
function code(s: string, max = EXCERPT_CHARS): string {
  const one = clip(s.replace(/\s*\n\s*/g, ' ').replace(/`/g, 'ˋ'), max);
  return one.trim() === '' ? '' : `\`${escapeMrkdwn(one)}\``;
}

/** A fenced block of at most `max` escaped characters of content, cut at a line with a "… n more" line. */
function codeBlock(text: string, max: number, ui: Ui, clipped: { any: boolean }): string {
  const lines = text.replace(/`(?=`)/g, '`\u200b').split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    const esc = escapeMrkdwn(line.length > 400 ? `${line.slice(0, 399)}…` : line);
    if (size + esc.length + 1 > max && kept.length > 0) break;
    if (size + esc.length + 1 > max) {
      kept.push(escapeMrkdwn(clip(line, Math.max(20, Math.floor(max / 2)))));
      break;
    }
    kept.push(esc);
    size += esc.length + 1;
  }
  if (kept.length < lines.length) {
    clipped.any = true;
    kept.push(ui.moreLines(lines.length - kept.length));
  }
  return `\`\`\`\n${kept.join('\n')}\n\`\`\``;
}

/** Meter of four squares coloured by confidence. */
function meter(score: number, confidence: CauseResult['confidence']): string {
  const filled = Math.max(0, Math.min(4, Math.round(score * 4)));
  const sq = confidence === 'high' ? '🟥' : confidence === 'medium' ? '🟧' : '🟨';
  return `${sq.repeat(filled)}${'⬜'.repeat(4 - filled)}`;
}

/** Cut plain text to `max` characters (with "…"), never inside a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, Math.max(0, max - 1));
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * Cut mrkdwn to `max` characters without breaking it: not inside an entity (&amp;) or a surrogate
 * pair, and a code fence or inline code span left open is closed.
 */
export function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '\n…';
  let cut = text.slice(0, max - marker.length - 5);
  cut = cut.replace(/&[a-z]{0,3}$/i, '').replace(/`+$/, '');
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const fences = (cut.match(/```/g) ?? []).length;
  if (fences % 2 === 1) cut += '\n```';
  else {
    const lastLine = cut.slice(cut.lastIndexOf('\n') + 1);
    if ((lastLine.replace(/```/g, '').match(/`/g) ?? []).length % 2 === 1) cut += '`';
  }
  return cut + marker;
}
