import { describe, expect, it } from 'vitest';
import { fingerprintOf, type Alert } from '../../src/alerts/alert.js';
import { createAlertPipeline, type AlertResponder, type AlertStatus, type AlertTarget } from '../../src/alerts/pipeline.js';
import { redact } from '../../src/security/redact.js';
import { memoryAlertWindows } from '../../src/store/alert-windows.js';

/** A responder that records what it was asked (injected: the pipeline's only way out). */
function fakeResponder(opts: { postFails?: boolean; onAnswer?: () => Promise<void> } = {}) {
  const posted: { target: AlertTarget; message: string[] }[] = [];
  const updated: { ts: string; message: string[] }[] = [];
  let next = 1;
  const responder: AlertResponder<string[]> = {
    async answer(alert) {
      await opts.onAnswer?.();
      return [`answer to ${alert.title}`];
    },
    annotate: (message, status: AlertStatus) => [
      ...message.filter((l) => !l.startsWith('status:')),
      status.kind === 'opened'
        ? `opened: ${status.alert.source}`
        : status.kind === 'seen'
          ? `status: seen ${status.count}`
          : `status: resolved ${status.title}`,
    ],
    async post(target, message) {
      if (opts.postFails) return { ok: false, error: 'channel_not_found' };
      posted.push({ target, message });
      return { ok: true, ts: `${next++}.0` };
    },
    async update(_channel, ts, message) {
      updated.push({ ts, message });
      return { ok: true };
    },
  };
  return { responder, posted, updated };
}

const alert = (state: 'firing' | 'resolved'): Alert => ({
  source: 'alertmanager',
  state,
  fingerprint: fingerprintOf('alertmanager', 'ProbeFailed'),
  title: redact('ProbeFailed'),
  text: redact('[FIRING:1] ProbeFailed'),
});
const target: AlertTarget = { channel: 'C1', threadTs: '9.9', team: 'T1', lang: 'en', via: 'chat' };
const run = async (r: { work?: (s: AbortSignal) => Promise<void> }) => r.work?.(new AbortController().signal);

describe('createAlertPipeline', () => {
  it('answers the first firing, updates on repeats, resolves once; a resolved alert is never a firing', async () => {
    const f = fakeResponder();
    const p = createAlertPipeline({ windows: memoryAlertWindows(), responder: f.responder });
    // Resolved before any firing: nothing to do, and it opens no window.
    expect((await p.receive(alert('resolved'), target)).action).toBe('ignore');
    const first = await p.receive(alert('firing'), target);
    expect(first.action).toBe('answer');
    await run(first);
    expect(f.posted).toEqual([{ target, message: ['answer to ProbeFailed'] }]);
    const again = await p.receive(alert('firing'), target);
    expect(again.action).toBe('repeat');
    await run(again);
    expect(f.updated.at(-1)).toEqual({ ts: '1.0', message: ['answer to ProbeFailed', 'status: seen 2'] });
    const resolved = await p.receive(alert('resolved'), target);
    expect(resolved.action).toBe('resolve');
    await run(resolved);
    expect(f.updated.at(-1)!.message.at(-1)).toBe('status: resolved ProbeFailed');
    expect((await p.receive(alert('resolved'), target)).action).toBe('ignore');
    // Firing again after the resolution: a new answer.
    expect((await p.receive(alert('firing'), target)).action).toBe('answer');
    expect(f.posted).toHaveLength(1);
  });

  it('names the alert on an answer posted outside a thread (a webhook)', async () => {
    const f = fakeResponder();
    const p = createAlertPipeline({ windows: memoryAlertWindows(), responder: f.responder });
    await run(await p.receive(alert('firing'), { ...target, threadTs: undefined, via: 'webhook' }));
    expect(f.posted[0]!.message).toEqual(['answer to ProbeFailed', 'opened: alertmanager']);
  });

  it('gives the window back when the answer cannot be posted, so the next firing tries again', async () => {
    const failing = fakeResponder({ postFails: true });
    const windows = memoryAlertWindows();
    const logged: string[] = [];
    const p = createAlertPipeline({ windows, responder: failing.responder, log: (_l, m) => logged.push(m) });
    await run(await p.receive(alert('firing'), target));
    expect(logged.join()).toMatch(/channel_not_found/);
    expect((await p.receive(alert('firing'), target)).action).toBe('answer');
  });

  it('marks the answer resolved at once when the alert resolved while it was being answered', async () => {
    const during: { resolve?: () => Promise<unknown> } = {};
    const f = fakeResponder({ onAnswer: async () => void (await during.resolve?.()) });
    const p = createAlertPipeline({ windows: memoryAlertWindows(), responder: f.responder });
    during.resolve = async () => expect((await p.receive(alert('resolved'), target)).action).toBe('ignore');
    await run(await p.receive(alert('firing'), target));
    expect(f.posted).toHaveLength(1);
    expect(f.updated.at(-1)!.message.at(-1)).toBe('status: resolved ProbeFailed');
  });
});
