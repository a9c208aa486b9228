import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/probes/probe.js';
import { redact } from '../../src/security/redact.js';
import {
  SLACK_LIMITS,
  clipMrkdwn,
  renderDiagnosisBlocks,
  renderError,
  renderProbingMessage,
  type ActionsBlock,
  type Block,
  type ButtonElement,
  type RenderBlocksOptions,
  type SectionBlock,
  type SlackMessage,
} from '../../src/slack/blocks.js';
import type { DiagnoseResult } from '../../src/triage/diagnose.js';
import { createEngine } from '../../src/triage/engine.js';
import type { CauseResult, Diagnosis } from '../../src/triage/result.js';

const engine = createEngine();

const NGINX =
  '2024/05/01 10:00:00 [error] 1234#0: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: api.example.com, request: "GET /v1 HTTP/1.1", upstream: "http://10.0.0.2:8080/v1", host: "api.example.com"';
const CURL_TLS = 'curl: (60) SSL certificate problem: unable to get local issuer certificate';
const ZH = '请求失败：连接被拒绝，上游服务器返回 502 Bad Gateway';
const TWO_CAUSES = '504 Gateway Time-out';

const textOpts = (over: Partial<RenderBlocksOptions> = {}): RenderBlocksOptions => ({
  lang: 'en',
  context: { source: 'text', requestId: 'req-1' },
  ...over,
});

/** Every Slack limit this renderer promises, checked on a whole message. */
function expectWithinLimits(m: SlackMessage): void {
  expect(m.text.length).toBeGreaterThan(0);
  expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.blocksJson);
  const ids = new Set<string>();
  for (const b of m.blocks) {
    if ('block_id' in b) {
      expect(b.block_id.length).toBeLessThanOrEqual(SLACK_LIMITS.blockId);
      expect(ids.has(b.block_id), `duplicate block_id ${b.block_id}`).toBe(false);
      ids.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        expect(b.text.type).toBe('plain_text');
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
        break;
      case 'section':
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect(b.text.text.length).toBeGreaterThan(0);
        expect((b.text.text.match(/```/g) ?? []).length % 2, `unbalanced fence in ${b.block_id}`).toBe(0);
        break;
      case 'context':
        expect(b.elements.length).toBeGreaterThan(0);
        expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
        for (const e of b.elements) expect(e.text.length).toBeGreaterThan(0);
        break;
      case 'actions': {
        expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.actionsElements);
        const actionIds = b.elements.map((e) => e.action_id);
        expect(new Set(actionIds).size).toBe(actionIds.length);
        for (const e of b.elements) {
          expect(e.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
          expect(e.value.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonValue);
          expect(() => JSON.parse(e.value)).not.toThrow();
        }
        break;
      }
      case 'divider':
        break;
    }
  }
}

const sections = (m: SlackMessage): SectionBlock[] => m.blocks.filter((b): b is SectionBlock => b.type === 'section');
const buttons = (m: SlackMessage): ButtonElement[] => m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
const byId = (m: SlackMessage, id: string): Block | undefined => m.blocks.find((b) => 'block_id' in b && b.block_id === id);
const mainActionIds = (m: SlackMessage): string[] =>
  ((byId(m, 'actions') as ActionsBlock | undefined)?.elements ?? []).map((e) => e.action_id);

function probe(name: string, status: ProbeResult['status'], summary: string, phases: ProbeResult['phases']): ProbeResult {
  return { probe: name, status, durationMs: 12, phases, summary: redact(summary), details: {}, signals: [] };
}

function fakeDiagnoseResult(): DiagnoseResult {
  const d = engine.explain(NGINX);
  return {
    ...d,
    target: { url: redact('https://api.example.com/v1?token=s3cr3t') },
    probes: [
      probe('dns', 'ok', 'api.example.com → 10.0.0.2', { resolve: 1.234 }),
      probe('tcp', 'failed', 'connect to 10.0.0.2:8080 refused', { resolve: 1.2, connect: 0.8 }),
      probe('http', 'failed', '502 Bad Gateway from nginx', { resolve: 1, connect: 2, tls: 15.5, processing: 30, transfer: 0.4 }),
    ],
    vantage: {
      pools: [
        { pool: 'eu', worker: 'w1', outcome: redact('502'), healthy: false },
        { pool: 'us', worker: 'w2', outcome: redact('200'), healthy: true },
      ],
      summary: redact('fails only from eu (eu: 502, us: 200): look at what differs on that network path'),
    },
  };
}

describe('renderDiagnosisBlocks from real diagnoses', () => {
  it('renders an nginx refused line: header, cause section, fixes, feedback buttons', () => {
    const d = engine.explain(NGINX);
    const m = renderDiagnosisBlocks(d, textOpts());
    expectWithinLimits(m);
    const top = d.causes[0]!;
    expect(top.id).toBe('upstream-refused');
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: top.title } });
    const cause = byId(m, 'cause:upstream-refused') as SectionBlock;
    expect(cause.text.text).toContain('*1. ');
    expect(cause.text.text).toMatch(/🟥+⬜* {2}high 9\d %/);
    expect(cause.text.text).toContain('`upstream-refused`');
    expect(cause.text.text).toContain('`proxy.upstream_error=connection_refused`');
    const fixes = byId(m, 'fixes:upstream-refused') as SectionBlock;
    // nginx named in the signals: its config comes first.
    expect(fixes.text.text).toContain('_nginx');
    expect(fixes.text.text.indexOf('_nginx')).toBeLessThan(fixes.text.text.indexOf('_squid') >>> 0);
    expect(fixes.text.text).toContain('```\n$ ');
    const feedback = byId(m, 'feedback:upstream-refused') as ActionsBlock;
    expect(feedback.elements.map((e) => e.action_id)).toEqual(['feedback_fixed', 'feedback_wrong']);
    for (const e of feedback.elements) expect(JSON.parse(e.value)).toEqual({ requestId: 'req-1', causeId: 'upstream-refused' });
    expect(m.text).toContain(top.title.slice(0, 20));
  });

  it('offers Run probes for text with a URL, and no Show all when every cause is shown', () => {
    const m = renderDiagnosisBlocks(
      engine.explain(CURL_TLS),
      textOpts({ context: { source: 'text', url: redact('https://x.test/'), requestId: 'r2' } }),
    );
    expectWithinLimits(m);
    expect(byId(m, 'cause:tls-cert-untrusted')).toBeDefined();
    // The TLS differential lists four causes: three shown, so "Show all" is offered.
    expect(mainActionIds(m)).toEqual(['show_all', 'run_probes']);
    expect(JSON.parse(buttons(m).find((b) => b.action_id === 'run_probes')!.value)).toEqual({ requestId: 'r2' });
    // Without a URL there is nothing to probe.
    expect(mainActionIds(renderDiagnosisBlocks(engine.explain(CURL_TLS), textOpts()))).toEqual(['show_all']);
    // Three causes, all shown: no "Show all".
    const three = engine.explain(ZH);
    expect(three.causes).toHaveLength(3);
    expect(
      mainActionIds(
        renderDiagnosisBlocks(three, textOpts({ context: { source: 'text', url: redact('https://x.test/'), requestId: 'r4' } })),
      ),
    ).toEqual(['run_probes']);
  });

  it('speaks Chinese for zh users', () => {
    const d = engine.explain(ZH, { lang: 'zh' });
    const m = renderDiagnosisBlocks(d, { lang: 'zh', context: { source: 'text', url: redact('https://x.test/'), requestId: 'r3' } });
    expectWithinLimits(m);
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { text: '上游地址上没有服务在监听（连接被拒绝）' } });
    const all = JSON.stringify(m.blocks);
    expect(all).toContain('证据');
    expect(all).toContain('按顺序尝试');
    expect(all).toContain('来自粘贴的文本');
    expect(buttons(m).map((b) => b.text.text)).toEqual(['已解决', '原因不对', '已解决', '原因不对', '已解决', '原因不对', '运行探测']);
    expect(all).toContain('症状');
    expect(all).not.toMatch(/Evidence|Try, in order|Fixed it/);
  });

  it('shows the next step that separates close causes', () => {
    const d = engine.explain(TWO_CAUSES);
    expect(d.next).toBeDefined();
    const m = renderDiagnosisBlocks(d, textOpts());
    expectWithinLimits(m);
    const next = byId(m, 'next') as SectionBlock;
    expect(next.text.text).toContain('To tell these apart');
    expect(next.text.text).toContain('run the upstream probe');
  });

  it('shows the symptom and says when only the symptom ranks the causes', () => {
    const d = engine.explain('HTTP/1.1 502 Bad Gateway\nServer: awselb/2.0');
    const m = renderDiagnosisBlocks(d, textOpts());
    expectWithinLimits(m);
    const symptoms = JSON.stringify(byId(m, 'symptoms'));
    expect(symptoms).toContain('502 Bad Gateway from a proxy or load balancer');
    expect(symptoms).toContain('Ranked from the symptom alone');
    expect(JSON.stringify(m.blocks)).toContain('a usual cause of: 502 Bad Gateway');
  });

  it('is honest when no cause matched', () => {
    // A product named and nothing failing (a 200 transcript is judged no failure at all and shows nothing).
    const d = engine.explain('Server: nginx');
    expect(d.causes).toHaveLength(0);
    const m = renderDiagnosisBlocks(d, textOpts());
    expectWithinLimits(m);
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { text: 'No known cause' } });
    expect(m.text).toBe('No known cause matched this text.');
    const none = byId(m, 'none') as SectionBlock;
    expect(none.text.text).toContain("Paste more of it: the proxy's error.log");
    expect(none.text.text).toContain('`http.server=nginx`');
    expect(m.blocks.some((b) => 'block_id' in b && b.block_id.startsWith('cause:'))).toBe(false);
    expect(buttons(m)).toHaveLength(0);

    const zh = renderDiagnosisBlocks(d, { lang: 'zh', context: { source: 'text', requestId: 'r' } });
    expect(zh.blocks[0]).toMatchObject({ text: { text: '未找到已知原因' } });
  });
});

describe('renderDiagnosisBlocks from probes', () => {
  it('shows phase timings, the vantage line, Re-probe, recalled fix and changes', () => {
    const d = fakeDiagnoseResult();
    const m = renderDiagnosisBlocks(d, {
      lang: 'en',
      context: { source: 'probes', requestId: 'req-9' },
      recalled: { causeId: 'upstream-refused', fixTitle: 'Restart or scale out the backend', when: '3 days ago' },
      changes: [redact('http: 200 → 502'), redact('tcp: connect now refused')],
    });
    expectWithinLimits(m);
    expect(m.blocks[0]).toMatchObject({ type: 'header' });
    const meta = JSON.stringify(byId(m, 'meta'));
    expect(meta).toContain('Probed `https://api.example.com/v1?token=[masked]`');
    expect(meta).not.toContain('s3cr3t');
    const http = byId(m, 'probe:2:http');
    expect(http).toMatchObject({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: '✗ *http*  502 Bad Gateway from nginx' },
        { type: 'mrkdwn', text: 'resolve 1.0 ms · connect 2.0 ms · tls 15.5 ms · processing 30.0 ms · transfer 0.4 ms' },
      ],
    });
    expect(JSON.stringify(byId(m, 'probe:0:dns'))).toContain('✓ *dns*');
    expect(JSON.stringify(byId(m, 'vantage'))).toContain('fails only from eu');
    expect(JSON.stringify(byId(m, 'recalled'))).toContain('Last time, *Restart or scale out the backend* fixed this (3 days ago)');
    const changes = byId(m, 'changes') as SectionBlock;
    expect(changes.text.text).toBe('*What changed since the last run*\n• http: 200 → 502\n• tcp: connect now refused');
    expect(mainActionIds(m)).toEqual(['reprobe']);
    expect(byId(m, 'feedback:upstream-refused')).toBeDefined();
  });

  it('says so when nothing changed, in Chinese too', () => {
    const d = fakeDiagnoseResult();
    const m = renderDiagnosisBlocks(d, { lang: 'zh', context: { source: 'probes', requestId: 'r' }, changes: [] });
    expect((byId(m, 'changes') as SectionBlock).text.text).toContain('与上次相比没有变化');
    expect(JSON.stringify(byId(m, 'probe:2:http'))).toContain('解析 1.0 ms');
    expect(buttons(m).map((b) => b.text.text)).toContain('重新探测');
  });
});

describe('mrkdwn escaping', () => {
  it('escapes mentions and links in excerpts, signals and changes', () => {
    const d = engine.explain(`${NGINX}\n<!channel> <@U123> <https://evil.test|click> & more`);
    const base = d.causes[0]!;
    const evil = redact('upstream said <!channel> <@U0BAD> & <https://evil.test|click>');
    const poisoned: Diagnosis = {
      ...d,
      causes: [{ ...base, evidence: [{ ...base.evidence[0]!, excerpt: evil }, ...base.evidence.slice(1)] }],
    };
    const m = renderDiagnosisBlocks(poisoned, textOpts({ changes: [redact('<!here> appeared')] }));
    expectWithinLimits(m);
    const json = JSON.stringify(m.blocks);
    for (const raw of ['<!channel>', '<@U0BAD>', '<https://evil.test', '<!here>']) expect(json).not.toContain(raw);
    const cause = (byId(m, 'cause:upstream-refused') as SectionBlock).text;
    expect(cause.text).toContain('`upstream said &lt;!channel&gt; &lt;@U0BAD&gt; &amp; &lt;https://evil.test|click&gt;`');
    expect(cause.verbatim).toBe(true);
  });

  it('keeps backticks in excerpts from closing the code span', () => {
    const d = engine.explain(NGINX);
    const base = d.causes[0]!;
    const m = renderDiagnosisBlocks(
      { ...d, causes: [{ ...base, evidence: [{ ...base.evidence[0]!, excerpt: redact('a ` b ```c') }] }] },
      textOpts(),
    );
    expect((byId(m, 'cause:upstream-refused') as SectionBlock).text.text).toContain('`a ˋ b ˋˋˋc`');
  });
});

describe('limits', () => {
  const BIG = 'location / {\n  proxy_pass http://backend<1>;\n  proxy_set_header Host $host;\n}\n'.repeat(80).slice(0, 5 * 1024);

  function huge(): Diagnosis {
    const d = engine.explain(NGINX);
    const base = d.causes[0]!;
    const causes: CauseResult[] = Array.from({ length: 60 }, (_, i) => ({
      ...base,
      id: `cause-${String(i).padStart(2, '0')}`,
      title: `Cause number ${i} `.repeat(20),
      score: 1 - i / 100,
      fixes: [0, 1, 2].map((k) => ({
        id: `fix-${k}`,
        title: `Fix ${k}`,
        steps: ['Do this', 'Then that'],
        commands: ['curl -v http://backend:8080/ && echo "```"', 'ss -ltnp'],
        config: [
          { for: 'nginx', file: 'nginx.conf', lines: BIG },
          { for: 'haproxy', lines: `backend b\n  server s1 10.0.0.1:8080 check\n${'#'.repeat(5000)}` },
          { for: 'envoy', lines: BIG },
        ],
        refs: [],
      })),
    }));
    return { ...d, causes };
  }

  it('fits 60 causes with 5 KB of config each, top three requested', () => {
    const m = renderDiagnosisBlocks(huge(), textOpts());
    expectWithinLimits(m);
    expect(byId(m, 'cause:cause-00')).toBeDefined();
    expect(m.blocks[0]).toMatchObject({ type: 'header' });
    expect((m.blocks[0] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(150);
    expect(JSON.stringify(byId(m, 'cut'))).toContain('… (cut; press Show all)');
    expect(mainActionIds(m)).toContain('show_all');
    for (const s of sections(m)) expect(s.text.text).not.toContain('<1>');
  });

  it('fits 60 causes with showAll: lower causes dropped, never a broken fence', () => {
    const m = renderDiagnosisBlocks(huge(), textOpts({ showAll: true, context: { source: 'probes', requestId: 'x'.repeat(3000) } }));
    expectWithinLimits(m);
    expect(byId(m, 'cause:cause-00')).toBeDefined();
    expect(byId(m, 'cause:cause-59')).toBeUndefined();
    expect(JSON.stringify(byId(m, 'cut'))).toContain('cause(s) not shown');
    expect(mainActionIds(m)).toEqual(['reprobe']);
  });

  it('fits a DiagnoseResult with many probes from many pools', () => {
    const d = fakeDiagnoseResult();
    const probes = Array.from({ length: 60 }, (_, i) => ({
      ...probe(`p${i}`, 'failed', `summary ${'x'.repeat(500)}`, { resolve: 1, connect: 2, tls: 3, processing: 4, transfer: 5 }),
      pool: `pool-${i % 6}`,
    }));
    const m = renderDiagnosisBlocks(
      { ...huge(), target: d.target, probes },
      { lang: 'en', context: { source: 'probes', requestId: 'r' }, showAll: true },
    );
    expectWithinLimits(m);
    expect(byId(m, 'cause:cause-00')).toBeDefined();
  });

  it('clipMrkdwn closes a fence and an inline span it cut into, and never splits an entity', () => {
    const fenced = clipMrkdwn(`intro\n\`\`\`\n${'a &amp; b\n'.repeat(500)}\`\`\``, 3000);
    expect(fenced.length).toBeLessThanOrEqual(3000);
    expect((fenced.match(/```/g) ?? []).length % 2).toBe(0);
    expect(fenced).not.toMatch(/&[a-z]{0,3}\n```/);
    const inline = clipMrkdwn(`x \`${'y'.repeat(100)}\``, 50);
    expect((inline.match(/`/g) ?? []).length % 2).toBe(0);
    expect(clipMrkdwn('short', 10)).toBe('short');
  });
});

describe('placeholder and error', () => {
  it('renders the probing placeholder, escaped', () => {
    const m = renderProbingMessage(redact('https://x.test/?a=<b>&token=abc'), 'en');
    expectWithinLimits(m);
    expect(m.text).toBe('Probing https://x.test/?a=&lt;b&gt;&amp;token=[masked] …');
    expect((m.blocks[0] as SectionBlock).text.text).toContain('`https://x.test/?a=&lt;b&gt;&amp;token=[masked]`');
    expect(renderProbingMessage(redact('https://x.test/'), 'zh').text).toContain('正在探测');
  });

  it('renders an ephemeral error', () => {
    const m = renderError(redact('worker pool <!channel> unreachable'), 'zh');
    expect(m.response_type).toBe('ephemeral');
    expectWithinLimits(m);
    expect(m.text).toBe('出错了: worker pool &lt;!channel&gt; unreachable');
    expect(JSON.stringify(m.blocks)).not.toContain('<!channel>');
  });
});
