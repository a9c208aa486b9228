import type { Lang } from '../knowledge/types.js';
import type { ProbeResult } from '../probes/probe.js';
import type { CauseResult, Diagnosis, FixResult } from './result.js';

/** Terminal rendering options. */
export interface TerminalOptions {
  /** Columns to fit. @defaultValue 100 */
  readonly width?: number;
  readonly color?: boolean;
  /** Show every cause and every fix instead of the top ones. @defaultValue false */
  readonly all?: boolean;
  /** Where the signals came from, for the "nothing found" message. @defaultValue 'text' */
  readonly source?: 'text' | 'probes';
}

const UI = {
  en: {
    none: 'No known cause matched this text.',
    noneHint: "Paste more of it: the proxy's error.log lines around the failure, the full curl -v output, or the whole stack trace.",
    noneProbes: 'The probes saw no failure that matches a known cause.',
    noneProbesHint:
      "If the failure comes and goes, run again with --repeat; add --upstream HOST:PORT to probe the backend directly, or paste the proxy's error log into triage explain.",
    seen: 'Signals seen',
    symptom: 'Symptom',
    usual: (title: string) => `a usual cause of: ${title}`,
    thin: 'Ranked from the symptom alone, in the usual order: the evidence below does not single one out yet.',
    causes: (n: number) => (n === 1 ? '1 possible cause' : `${n} possible causes`),
    evidence: 'Evidence',
    against: 'Against',
    fixes: 'Try, in order',
    more: (n: number) => `… ${n} more cause(s): run again with --all`,
    moreFixes: (n: number) => `… ${n} more fix(es): --all`,
    separate: 'To tell these apart',
    probe: (p: string) => `run the ${p} probe: triage diagnose <url>${PROBE_FLAGS[p] ?? ''}`,
    line: 'line',
    refs: 'Docs',
    confidence: { high: 'high', medium: 'medium', low: 'low' },
  },
  zh: {
    none: '没有匹配到已知原因。',
    noneHint: '请粘贴更多内容：故障前后代理的 error.log、完整的 curl -v 输出或完整的堆栈。',
    noneProbes: '探测没有发现与已知原因相符的故障。',
    noneProbesHint:
      '如果故障时有时无，请加 --repeat 再运行；加 --upstream HOST:PORT 直接探测后端，或把代理的错误日志粘贴给 triage explain。',
    seen: '识别到的信号',
    symptom: '症状',
    usual: (title: string) => `常见原因之一：${title}`,
    thin: '仅根据症状按常见顺序排列：现有证据还不足以确定其中一个。',
    causes: (n: number) => `${n} 个可能原因`,
    evidence: '证据',
    against: '反证',
    fixes: '按顺序尝试',
    more: (n: number) => `…… 另有 ${n} 个原因：加 --all 查看`,
    moreFixes: (n: number) => `…… 另有 ${n} 个修复方法：加 --all 查看`,
    separate: '如何区分',
    probe: (p: string) => `运行 ${p} 探测：triage diagnose <url>${PROBE_FLAGS[p] ?? ''}`,
    line: '行',
    refs: '文档',
    confidence: { high: '高', medium: '中', low: '低' },
  },
} as const;

/** The diagnose option that runs a probe, when it needs one. */
const PROBE_FLAGS: Readonly<Record<string, string>> = {
  upstream: ' --upstream HOST:PORT',
  connect: ' --proxy http://PROXY:PORT',
  repeat: ' --repeat',
  cors: ' --origin https://APP-ORIGIN',
  auth: ' --header "Authorization: …"',
};

const SHOWN_CAUSES = 3;
const SHOWN_FIXES = 2;

export function renderTerminal(d: Diagnosis, opts: TerminalOptions = {}): string {
  const width = Math.max(40, Math.min(opts.width ?? 100, 160));
  const ui = UI[d.lang];
  const c = colours(opts.color ?? false);
  const out: string[] = [];
  const servers = new Set(d.signals.filter((s) => s.signal.startsWith('http.server=')).map((s) => s.signal.slice(12)));

  if (d.causes.length === 0) {
    const probes = opts.source === 'probes';
    out.push(c.bold(probes ? ui.noneProbes : ui.none), ...wrap(probes ? ui.noneProbesHint : ui.noneHint, width, ''));
    if (d.signals.length > 0) {
      out.push('', `${ui.seen}:`);
      for (const s of d.signals.slice(0, 10)) out.push(`  • ${s.signal}  ${c.dim(clip(s.excerpt, width - 6 - s.signal.length))}`);
    }
    return finish(out, d);
  }

  const shown = opts.all ? d.causes : d.causes.slice(0, SHOWN_CAUSES);
  const symptoms = new Map(d.symptoms.map((s) => [s.id, s.title]));
  for (const s of d.symptoms) {
    const e = s.evidence[0];
    const at = [e?.origin, e?.line !== undefined ? `${ui.line} ${e.line}` : undefined].filter(Boolean);
    const where = at.length > 0 ? c.dim(` (${at.join(', ')})`) : '';
    out.push(`${c.bold(`${ui.symptom}:`)} ${s.title}${where}`);
  }
  out.push(c.bold(ui.causes(d.causes.length)));
  if (d.causes.every((x) => x.evidence.every((e) => e.symptom !== undefined))) out.push(...wrap(ui.thin, width, ''));
  out.push('');
  shown.forEach((cause, i) => out.push(...renderCause(cause, i + 1, d.lang, width, c, servers, opts.all ?? false, symptoms), ''));
  if (shown.length < d.causes.length) out.push(c.dim(ui.more(d.causes.length - shown.length)), '');
  if (d.next) {
    out.push(c.bold(`${ui.separate} (${d.next.between.join(' / ')}):`));
    // Two causes told apart by the same probe get one line.
    const hows = new Map<string, string[]>();
    for (const s of d.next.steps) {
      const how = s.probe ? ui.probe(s.probe) : (s.question ?? s.description);
      hows.set(how, [...(hows.get(how) ?? []), s.cause]);
    }
    for (const [how, causes] of hows) out.push(...wrap(`→ ${causes.join(' / ')}: ${how}`, width, '  '));
    if (d.next.ask) out.push(...wrap(`? ${d.next.ask.text} (${d.next.ask.answers.map((a) => a.label).join(' / ')})`, width, '  '));
    out.push('');
  }
  return finish(out, d);
}

function finish(out: string[], d: Diagnosis): string {
  for (const n of d.notes) out.push(`note: ${n}`);
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

function renderCause(
  cause: CauseResult,
  n: number,
  lang: Lang,
  width: number,
  c: Colours,
  servers: Set<string>,
  all: boolean,
  symptoms: ReadonlyMap<string, string>,
): string[] {
  const ui = UI[lang];
  const out: string[] = [];
  const conf = ui.confidence[cause.confidence];
  out.push(
    `${c.bold(`${n}. ${cause.title}`)}  ${c.dim(`[${cause.id}]`)}  ${meter(cause.score)} ${c.conf(cause.confidence, `${conf} ${Math.round(cause.score * 100)}%`)}`,
  );
  out.push(...wrap(cause.summary, width, '   '));
  out.push(`   ${ui.evidence}:`);
  for (const e of cause.evidence.slice(0, all ? undefined : 4)) {
    if (e.symptom) {
      out.push(`     + ${c.dim(ui.usual(symptoms.get(e.symptom) ?? e.symptom))}`);
      continue;
    }
    const at = [e.origin, e.line !== undefined ? `${ui.line} ${e.line}${e.count > 1 ? `, ×${e.count}` : ''}` : undefined].filter(Boolean);
    const where = at.length > 0 ? ` ${c.dim(`(${at.join(', ')})`)}` : '';
    out.push(`     + ${e.signal}${where}`);
    out.push(`       ${c.dim(clip(e.excerpt, width - 9))}`);
  }
  for (const e of cause.against.slice(0, 2))
    out.push(`     − ${ui.against}: ${e.signal}  ${c.dim(clip(e.excerpt, width - 20 - e.signal.length))}`);
  const fixes = all ? cause.fixes : cause.fixes.slice(0, SHOWN_FIXES);
  out.push(`   ${ui.fixes}:`);
  fixes.forEach((f, i) => out.push(...renderFix(f, i + 1, width, c, servers, all)));
  if (fixes.length < cause.fixes.length) out.push(`     ${c.dim(ui.moreFixes(cause.fixes.length - fixes.length))}`);
  if (all && cause.references.length > 0) {
    out.push(`   ${ui.refs}:`);
    for (const r of cause.references) out.push(`     ${r.title}: ${r.url}`);
  }
  return out;
}

function renderFix(f: FixResult, n: number, width: number, c: Colours, servers: Set<string>, all: boolean): string[] {
  const out = wrap(`${n}) ${f.title}`, width, '     ');
  for (const s of f.steps) out.push(...wrap(`· ${s}`, width, '        '));
  for (const cmd of f.commands.slice(0, all ? undefined : 3)) out.push(`        ${c.code(`$ ${cmd}`)}`);
  const preferred = f.config.filter((x) => servers.has(x.for));
  const configs = all ? f.config : (preferred.length > 0 ? preferred : f.config).slice(0, 2);
  for (const cfg of configs) {
    out.push(`        ${c.dim(`${cfg.for}${cfg.file ? ` (${cfg.file})` : ''}:`)}`);
    for (const line of cfg.lines.split('\n')) out.push(`          ${c.code(line)}`);
  }
  return out;
}

function meter(score: number): string {
  const filled = Math.round(score * 10);
  return `${'█'.repeat(filled)}${'░'.repeat(10 - filled)}`;
}

function clip(s: string, max: number): string {
  const m = Math.max(10, max);
  return s.length <= m ? s : `${s.slice(0, m - 1)}…`;
}

/** Greedy word wrap; CJK text (no spaces) wraps by character. */
export function wrap(text: string, width: number, indent: string): string[] {
  const max = Math.max(20, width - indent.length);
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let cur = '';
    let curWidth = 0;
    const tokens = para.match(/[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+|\s+/g) ?? [];
    for (const t of tokens) {
      const w = displayWidth(t);
      if (/^\s+$/.test(t)) {
        if (cur !== '') {
          cur += ' ';
          curWidth += 1;
        }
        continue;
      }
      if (curWidth + w > max && cur.trim() !== '') {
        lines.push(indent + cur.trimEnd());
        cur = '';
        curWidth = 0;
      }
      cur += t;
      curWidth += w;
    }
    if (cur.trim() !== '') lines.push(indent + cur.trimEnd());
  }
  return lines;
}

function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1;
  return w;
}

interface Colours {
  bold(s: string): string;
  dim(s: string): string;
  code(s: string): string;
  conf(level: string, s: string): string;
}

function colours(on: boolean): Colours {
  const esc = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  const levels: Record<string, (s: string) => string> = { high: esc('31;1'), medium: esc('33'), low: esc('2') };
  return { bold: esc('1'), dim: esc('2'), code: esc('36'), conf: (l, s) => (levels[l] ?? esc('0'))(s) };
}

/** The probes section of `triage diagnose`: one line per probe with its phase timings. */
export function renderProbes(
  d: { probes: readonly ProbeResult[]; vantage?: { summary: string }; target?: { route?: string } },
  opts: TerminalOptions = {},
): string {
  const width = Math.max(40, Math.min(opts.width ?? 100, 160));
  const c = colours(opts.color ?? false);
  const out: string[] = [];
  const mark = { ok: '✓', failed: '✗', refused: '⊘', skipped: '·' } as const;
  // The way the probes went, direct included (a proxy in the environment may have been bypassed).
  if (d.target?.route) out.push(c.dim(`route: ${clip(d.target.route, width - 7)}`));
  for (const p of d.probes) {
    const phases = Object.entries(p.phases)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k} ${Number(v).toFixed(1)}ms`)
      .join(', ');
    const pool = 'pool' in p && typeof (p as { pool?: unknown }).pool === 'string' ? `[${(p as { pool: string }).pool}] ` : '';
    out.push(`${mark[p.status]} ${pool}${p.probe.padEnd(9)} ${clip(p.summary, width - 12 - pool.length)}`);
    // Say the way the probe went when it was not straight to the URL's host.
    const via = p.route && p.route !== 'direct' ? `via ${p.route}` : '';
    const line = [via, phases].filter(Boolean).join(' · ');
    if (line) out.push(`  ${' '.repeat(pool.length + 9)} ${c.dim(clip(line, width - 12 - pool.length))}`);
  }
  if (d.vantage) out.push('', c.bold(d.vantage.summary));
  return out.length > 0 ? `${out.join('\n')}\n\n` : '';
}
