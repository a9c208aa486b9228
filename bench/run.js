// npm run bench: throughput and memory of `explain`. Targets: 1 MB of log in under 250 ms on one core.
// Prints one line per measurement; run on an idle machine for stable figures.
import { createEngine } from '../dist/triage/engine.js';
import { readSplit, SPLITS } from '../scripts/lib/evaluate.js';

const t0 = performance.now();
const engine = createEngine();
const loadMs = performance.now() - t0;
const snippets = SPLITS.flatMap((split) => readSplit('test/corpus', split))
  .filter((s) => s.expect !== 'none')
  .map((s) => s.text);

function mixedLog(bytes) {
  const filler = [
    '10.1.2.3 - - [01/Mar/2024:10:00:00 +0000] "GET /api/items?page=2 HTTP/1.1" 200 5123 "-" "Mozilla/5.0" 512 0.012 [default-api-80] [] 10.4.0.12:8080 5123 0.011 200 1f2e3d4c',
    '2024/03/01 10:00:01 [info] 31#31: *1009 client 10.1.2.3 closed keepalive connection',
    'Mar  1 10:00:02 lb1 haproxy[812]: 10.1.2.3:51234 [01/Mar/2024:10:00:02.123] www~ app/app2 0/0/1/12/13 200 1430 - - ---- 12/12/0/0/0 0/0 "GET /index.html HTTP/1.1"',
    '{"level":"info","time":"2024-03-01T10:00:03Z","msg":"request completed","status":200,"path":"/healthz","duration_ms":2}',
  ];
  const parts = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const line = i % 25 === 0 ? snippets[(i / 25) % snippets.length] : filler[i % filler.length];
    parts.push(line);
    size += line.length + 1;
    i++;
  }
  return parts.join('\n');
}

const results = [];
const report = (name, value, unit, extra = '') => {
  results.push({ name, value, unit });
  console.log(`${name.padEnd(44)} ${String(value).padStart(10)} ${unit}${extra ? `  ${extra}` : ''}`);
};

report('knowledge load + compile', loadMs.toFixed(1), 'ms');

// Single snippets: warm up, then time the corpus several times.
for (const s of snippets.slice(0, 50)) engine.explain(s);
let n = 0;
const t1 = performance.now();
while (performance.now() - t1 < 3000) {
  for (const s of snippets) {
    engine.explain(s);
    n++;
  }
}
report('explain, single snippets', Math.round(n / ((performance.now() - t1) / 1000)), 'snippets/s', `(${snippets.length} corpus snippets)`);

const oneMb = mixedLog(1024 * 1024);
engine.explain(oneMb);
const times = [];
for (let k = 0; k < 7; k++) {
  const t = performance.now();
  engine.explain(oneMb);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
report('explain, 1 MB mixed log (median of 7)', times[3].toFixed(1), 'ms', 'target < 250 ms');

// Linear in size: the cost per MB at 1, 10 and 50 MB should stay about the same.
const rssBefore = process.resourceUsage().maxRSS;
const perMb = [];
for (const mb of [1, 10, 50]) {
  let log = mixedLog(mb * 1000 * 1000);
  const t = performance.now();
  const d = engine.explain(log);
  const ms = performance.now() - t;
  log = undefined;
  perMb.push(ms / mb);
  report(`explain, ${mb} MB mixed log`, (ms / mb).toFixed(1), 'ms/MB', `${ms.toFixed(0)} ms in all, ${d.causes.length} causes`);
}
report('cost per MB, 50 MB vs 1 MB', (perMb[2] / perMb[0]).toFixed(2), '×', 'linear: about 1');
report(
  'peak RSS (whole run)',
  Math.round(process.resourceUsage().maxRSS / 1024),
  'MiB',
  `before the 1/10/50 MB runs: ${Math.round(rssBefore / 1024)} MiB`,
);
