// npm run bench: throughput and memory of `explain`. Targets: 1 MB of log in under 250 ms on one core.
// Prints one line per measurement; run on an idle machine for stable figures.
import { readFileSync, readdirSync } from 'node:fs';
import { createEngine } from '../dist/triage/engine.js';

const t0 = performance.now();
const engine = createEngine();
const loadMs = performance.now() - t0;
const snippets = readdirSync('test/corpus')
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) =>
    readFileSync(`test/corpus/${f}`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).text),
  );

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

const five = mixedLog(5 * 1024 * 1024);
const rssBefore = process.resourceUsage().maxRSS;
const t2 = performance.now();
const d = engine.explain(five);
const s5 = (performance.now() - t2) / 1000;
report('explain, 5 MB mixed log', (5 / s5).toFixed(1), 'MB/s', `${(s5 * 1000).toFixed(0)} ms, ${d.causes.length} causes`);
report(
  'peak RSS (whole run)',
  Math.round(process.resourceUsage().maxRSS / 1024),
  'MiB',
  `before the 5 MB run: ${Math.round(rssBefore / 1024)} MiB`,
);
