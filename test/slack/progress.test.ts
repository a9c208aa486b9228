import { describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../src/slack/blocks.js';
import { progressiveMessage } from '../../src/slack/progress.js';

const msg = (text: string): SlackMessage => ({ text, blocks: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progressiveMessage', () => {
  it('sends the first partial after firstAfterMs, only the latest waiting one, and the final last', async () => {
    const sent: [string, number][] = [];
    const t0 = Date.now();
    const m = progressiveMessage(
      async (x) => {
        sent.push([x.text, Date.now() - t0]);
        await sleep(30);
      },
      { firstAfterMs: 100, everyMs: 100 },
    );
    m.partial(msg('a'));
    m.partial(msg('b'));
    await sleep(150);
    m.partial(msg('c'));
    m.partial(msg('d'));
    await sleep(150);
    await m.final(msg('final'));
    m.partial(msg('late'));
    await sleep(150);
    expect(sent.map(([t]) => t)).toEqual(['b', 'd', 'final']);
    expect(sent[0]![1]).toBeGreaterThanOrEqual(95);
    expect(sent[1]![1] - sent[0]![1]).toBeGreaterThanOrEqual(95);
  });

  it('a run that ends before the first partial is due sends only the final answer', async () => {
    const sent: string[] = [];
    const m = progressiveMessage(async (x) => void sent.push(x.text), { firstAfterMs: 500 });
    m.partial(msg('early'));
    await m.final(msg('final'));
    await sleep(600);
    expect(sent).toEqual(['final']);
  });

  it('waits for the update in flight before the final one, and a failed update does not stop it', async () => {
    const sent: string[] = [];
    const m = progressiveMessage(
      async (x) => {
        await sleep(100);
        if (x.text === 'partial') throw new Error('ratelimited');
        sent.push(x.text);
      },
      { firstAfterMs: 0 },
    );
    m.partial(msg('partial'));
    await sleep(20);
    await m.final(msg('final'));
    expect(sent).toEqual(['final']);
  });
});
