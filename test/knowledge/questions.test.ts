import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_KNOWLEDGE_DIR, formatProblem, loadKnowledge, loadKnowledgeOrThrow } from '../../src/knowledge/load.js';
import { answerSignal } from '../../src/knowledge/types.js';
import { priorAt, rank, SignalIndex, questionFor } from '../../src/match/score.js';
import type { Signal } from '../../src/evidence/signal.js';
import type { Masked } from '../../src/security/redact.js';
import { typedAnswer } from '../../src/slack/investigation.js';

const sig = (name: string, value?: string): Signal => ({ name, ...(value ? { value } : {}), excerpt: 'x' as Masked, source: 'test' });

const entry = (id: string, indicator: string) => `id: ${id}
family: demo
title: { en: ${id}, zh: 演示 }
summary: { en: A demo cause., zh: 一个演示原因。 }
indicators:
  - signal: ${indicator}
    weight: 0.3
fixes:
  - id: f1
    title: { en: Fix it, zh: 修复 }
    commands: [echo fix]
references:
  - { title: Docs, url: https://example.org/docs }
`;

const question = `- id: how-often
  ask: { en: Every request or some?, zh: 每个请求还是部分请求？ }
  answers:
    - id: every
      label: { en: Every, zh: 每个 }
      weights: { alpha: 0.4, beta: -0.5 }
    - id: some
      label: { en: Some, zh: 部分 }
      weights: { beta: 0.4, alpha: -0.5 }
`;

/** A knowledge dir with two causes both pointing at http.status=502, and the given question file. */
function kbDir(questions: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbq-'));
  mkdirSync(join(dir, 'signals'));
  writeFileSync(join(dir, 'signals/core.yaml'), readFileSync(join(BUILTIN_KNOWLEDGE_DIR, 'signals/core.yaml')));
  mkdirSync(join(dir, 'demo'));
  writeFileSync(join(dir, 'demo/alpha.yaml'), entry('alpha', 'http.status=502'));
  writeFileSync(join(dir, 'demo/beta.yaml'), entry('beta', 'http.status=502'));
  writeFileSync(join(dir, 'demo/gamma.yaml'), entry('gamma', 'http.status=504'));
  mkdirSync(join(dir, 'symptoms'));
  writeFileSync(
    join(dir, 'symptoms/s.yaml'),
    `- id: demo-502\n  title: { en: A 502, zh: 五零二 }\n  when: [http.status=502]\n  causes: [alpha, beta]\n- id: demo-504\n  title: { en: A 504, zh: 五零四 }\n  when: [http.status=504]\n  causes: [gamma]\n`,
  );
  mkdirSync(join(dir, 'questions'));
  writeFileSync(join(dir, 'questions/q.yaml'), questions);
  return dir;
}

describe('questions (knowledge/questions/)', () => {
  it('the built-in questions load, each answer naming causes that exist', () => {
    const kb = loadKnowledgeOrThrow();
    expect([...kb.questions.keys()]).toEqual(expect.arrayContaining(['every-request', 'after-deploy']));
    for (const q of kb.questions.values()) {
      expect(q.answers.length).toBeGreaterThanOrEqual(2);
      expect(kb.signals.get(answerSignal(q.id))?.values).toEqual(q.answers.map((a) => a.id));
      for (const a of q.answers) for (const cause of Object.keys(a.weights)) expect(kb.entries.has(cause), cause).toBe(true);
    }
  });

  it("an answer's stated weights become the causes' indicators (positive) and contra-indicators (negative)", () => {
    const kb = loadKnowledgeOrThrow([kbDir(question)]);
    expect(kb.entries.get('alpha')!.indicators).toContainEqual({ all: ['answer.how_often=every'], weight: 0.4 });
    expect(kb.entries.get('alpha')!.against).toContainEqual({ all: ['answer.how_often=some'], weight: 0.5 });
    const before = rank(kb, [sig('http.status', '502')]);
    const after = rank(kb, [sig('http.status', '502'), sig('answer.how_often', 'some')]);
    const score = (r: typeof before, id: string) => r.causes.find((c) => c.entry.id === id)?.score ?? 0;
    // Noisy-OR of the indicator (0.3), the symptom's prior by place, and the answer's weight; a contra-indicator multiplies.
    expect(score(before, 'alpha')).toBeCloseTo(1 - (1 - 0.3) * (1 - priorAt(0)), 3);
    expect(score(before, 'beta')).toBeCloseTo(1 - (1 - 0.3) * (1 - priorAt(1)), 3);
    expect(before.causes[0]!.entry.id).toBe('alpha');
    expect(score(after, 'beta')).toBeCloseTo(1 - (1 - 0.3) * (1 - priorAt(1)) * (1 - 0.4), 2);
    expect(score(after, 'alpha')).toBeCloseTo((1 - (1 - 0.3) * (1 - priorAt(0))) * (1 - 0.5), 2);
    expect(after.causes[0]!.entry.id).toBe('beta');
  });

  it('is offered between two close causes it separates, and not once answered', () => {
    const kb = loadKnowledgeOrThrow([kbDir(question)]);
    const close = rank(kb, [sig('http.status', '502')]);
    expect(close.separation?.question?.id).toBe('how-often');
    expect(questionFor(kb, 'alpha', 'gamma', new SignalIndex([]))?.id).toBe('how-often');
    const answered = new SignalIndex([sig('answer.how_often', 'every')]);
    expect(questionFor(kb, 'alpha', 'beta', answered)).toBeUndefined();
  });

  it('an answer alone brings in no cause: gamma (a 504 cause) stays out of a 502 however it is answered', () => {
    const q = question.replace('weights: { alpha: 0.4, beta: -0.5 }', 'weights: { alpha: 0.4, beta: -0.5, gamma: 0.9 }');
    const kb = loadKnowledgeOrThrow([kbDir(q)]);
    const r = rank(kb, [sig('http.status', '502'), sig('answer.how_often', 'every')]);
    expect(r.causes.map((c) => c.entry.id)).not.toContain('gamma');
    expect(rank(kb, [sig('answer.how_often', 'every')]).causes).toEqual([]);
  });

  const invalid: [string, string, RegExp][] = [
    ['an unknown cause', question.replace('alpha: 0.4', 'alfa: 0.4'), /answers\[0\]\.weights\.alfa: unknown key/],
    ['a weight of 0', question.replace('alpha: 0.4', 'alpha: 0'), /weights\.alpha: must be a number in \[-1, 1\] other than 0/],
    ['a weight over 1', question.replace('alpha: 0.4', 'alpha: 1.5'), /weights\.alpha: must be a number in \[-1, 1\]/],
    ['one answer only', question.slice(0, question.indexOf('    - id: some')), /answers: needs at least 2 item/],
    ['the same answer twice', question.replace('id: some', 'id: every'), /answer id "every" is used twice/],
    ['no causes named', question.replace('weights: { alpha: 0.4, beta: -0.5 }', 'weights: {}'), /names no cause/],
    ['a bad answer id', question.replace('id: some', 'id: Some-Thing'), /answer ids are lower_snake_case/],
    ['no Chinese', question.replace('zh: 每个 }', 'zh: every }'), /must be written in Chinese/],
  ];
  it.each(invalid)('refuses %s, naming the file and field', (_name, text, expected) => {
    const r = loadKnowledge([kbDir(text)]);
    expect(r.kb).toBeUndefined();
    expect(r.problems.map(formatProblem).join('\n')).toMatch(expected);
    expect(r.problems.map(formatProblem).join('\n')).toMatch(/questions\/q\.yaml/);
  });
});

describe('typed replies to a question', () => {
  const kb = loadKnowledgeOrThrow();
  const q = kb.questions.get('every-request')!;
  const said = (text: string) => typedAnswer(q, text)?.id;
  it('reads a label or a listed reply at the start, as whole words, in English or Chinese', () => {
    expect(said('Only some of them, maybe 1 in 20')).toBe('some');
    expect(said('every request since 10:02')).toBe('every');
    expect(said('> all of them')).toBe('every');
    expect(said('偶尔出现，大概二十分之一')).toBe('some');
    expect(said('每次都失败')).toBe('every');
  });
  it('leaves anything else alone', () => {
    expect(said('looking into it')).toBeUndefined();
    expect(said('allowed hosts changed?')).toBeUndefined();
    expect(said('not all of them')).toBeUndefined();
    expect(typedAnswer(kb.questions.get('after-deploy')!, 'nope, nothing shipped today')?.id).toBe('no');
    expect(typedAnswer(kb.questions.get('after-deploy')!, 'notably after lunch')).toBeUndefined();
  });
});
