import { it } from 'vitest';
import { createEngine } from '../../src/triage/engine.js';
import { renderDiagnosisBlocks } from '../../src/slack/blocks.js';
it('stats', () => {
  const d = createEngine().explain('2024/05/01 10:00:00 [error] 1: *5 connect() failed (111: Connection refused) while connecting to upstream, upstream: "http://10.0.0.2:8080/v1"');
  const base = d.causes[0]!;
  const BIG = 'proxy_pass http://backend;\n'.repeat(200).slice(0, 5120);
  const causes = Array.from({ length: 60 }, (_, i) => ({ ...base, id: `c${i}`, fixes: base.fixes.map((f) => ({ ...f, config: f.config.map((c) => ({ ...c, lines: BIG })) })) }));
  for (const showAll of [false, true]) {
    const m = renderDiagnosisBlocks({ ...d, causes }, { lang: 'en', showAll, context: { source: 'text', requestId: 'r' } });
    const s = m.blocks.find((b) => 'block_id' in b && b.block_id === 'fixes:c0');
    console.log(showAll, m.blocks.length, JSON.stringify(m.blocks).length, m.blocks.filter((b) => 'block_id' in b && b.block_id.startsWith('cause:')).length, JSON.stringify(s).length);
  }
});
