import { describe, expect, it } from 'vitest';
import type { Extractor } from '../../src/evidence/extractor.js';
import { signalKey } from '../../src/evidence/signal.js';
import { TextDoc } from '../../src/evidence/text.js';
import { describeConformance } from './conformance-kit.js';

/**
 * The proxy / gateway extractors (nginx, http, haproxy, envoy, squid, cloud, ingress) pass the shared
 * conformance suite, plus what their formats add: prose full of numbers and product names, and
 * megabytes of *matching* log (every line an error), not only ordinary log.
 */

/** The `name` / `name=value` keys an extractor emits for a text, sorted and unique. */
export function keysOf(x: Extractor, text: string): string[] {
  return [...new Set(x.extract(TextDoc.from(text)).map(signalKey))].sort();
}

/** Writing that mentions numbers, servers and timeouts without being an error. */
export const PROXY_PROSE = [
  'We moved the nginx config to the new repo last week; the server status page looks fine.',
  'I got 500 new followers and returned 404 books to the library while waiting for the 60 second timer.',
  'Our HAProxy talk is at 10/12/2024 in room 3, and the Envoy one at 14:30.',
  'The Squid game night is moved; TCP and UDP chapters are due, see page 403.',
  'Cloudflare and AWS both sent invoices; error budget review at 10:00.',
  '今天下午三点开会，请大家准时参加。我们返回了 200 份问卷。',
];

/** About 1 MB: `line` repeated (a log where every line matches), or a run of the characters rules look for. */
function megabytes(line: string): string {
  const mb = 1 << 20;
  return line.repeat(Math.ceil(mb / line.length)).slice(0, mb);
}
const HOSTILE = [
  '(24: (23: failed (1',
  '"GET " 502 "- ',
  '1/2/3/4/5 200 1 - - ',
  'HTTP/1.1 HTTP 5 status: ',
  'ERR_ERR_TCP_/',
  ' '.repeat(999) + 'x',
  '2023-03-08T12:07:13.659167Z -1 ',
  '"GET / HTTP/1.1" 0 UF,UF ',
  '<center>nginx/',
  'upstream prematurely closed while ',
  'a'.repeat(4000) + '\n',
];

/**
 * Run the shared suite and the proxy extras. `samples[0]` must be one full log line of the format
 * that yields signals: it is repeated to 1 MB.
 */
export function proxyConformance(x: Extractor, patterns: readonly RegExp[], samples: readonly string[]): void {
  describeConformance(x, patterns, samples);

  describe(`${x.name} extractor: proxy formats`, () => {
    it('says nothing about prose full of numbers and product names', () => {
      for (const text of PROXY_PROSE) expect(keysOf(x, text), text).toEqual([]);
    });

    it('reads the samples', () => {
      for (const text of samples) expect(x.extract(TextDoc.from(text)).length, text).toBeGreaterThan(0);
    });

    it('reads 1 MB of matching log, or of hostile text, in linear time', () => {
      const dense = `${(samples[0] ?? '').split('\n')[0]}\n`;
      let worst = { ms: 0, what: '' };
      for (const line of [dense, ...HOSTILE]) {
        const doc = TextDoc.from(megabytes(line));
        void doc.lower;
        const before = process.cpuUsage();
        const signals = x.extract(doc);
        const used = process.cpuUsage(before);
        const ms = (used.user + used.system) / 1000;
        if (ms > worst.ms) worst = { ms, what: line.slice(0, 40) };
        expect(signals.length).toBeLessThan(2000);
      }
      // 5-20 ms of CPU on an idle machine for a log where every line is an error; a super-linear rule takes seconds.
      expect(worst.ms, worst.what).toBeLessThan(400);
    });
  });
}
