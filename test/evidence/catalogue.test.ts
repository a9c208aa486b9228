import { describe, expect, it } from 'vitest';
import { EXTRACTORS } from '../../src/evidence/index.js';
import { TextDoc } from '../../src/evidence/text.js';
import { MASK } from '../../src/security/redact.js';
import { createEngine } from '../../src/triage/engine.js';
import { readCorpus } from '../support/corpus.js';

const engine = createEngine();
const corpus = readCorpus();

describe('every extractor', () => {
  it('is registered once, by a unique name', () => {
    const names = EXTRACTORS.map((x) => x.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('emits only signals and values declared in the catalogue, over the whole corpus', () => {
    const bad = new Set<string>();
    for (const s of corpus) {
      for (const sig of engine.signalsOf(TextDoc.from(s.text))) {
        const def = engine.kb.signals.get(sig.name);
        if (!def) bad.add(`${sig.source}: unknown signal ${sig.name}`);
        else if (sig.value !== undefined && def.values && !def.values.includes(sig.value))
          bad.add(`${sig.source}: ${sig.name}=${sig.value} not declared`);
        else if (sig.value !== undefined && !def.values && !def.open) bad.add(`${sig.source}: ${sig.name} is a flag but got a value`);
        else if (sig.value === undefined && (def.values || def.open) && !sig.name.startsWith('jwt.'))
          bad.add(`${sig.source}: ${sig.name} needs a value`);
      }
    }
    expect([...bad]).toEqual([]);
  });

  it('emits nothing for ordinary conversation', () => {
    const chat = [
      'Morning all! standup in 5 minutes, who is taking notes today?',
      'I pushed the new README, can someone review the PR before lunch?',
      '今天下午三点开会，请大家准时参加。',
      'The quarterly report is attached; numbers look good, 502 customers signed up.',
    ];
    for (const text of chat)
      expect(
        engine.explain(text).causes.map((c) => c.id),
        text,
      ).toEqual([]);
  });

  it('masks secrets in every excerpt', () => {
    const doc = TextDoc.from(
      'curl -v -H "Authorization: Bearer abcdefghijklmnop1234" https://api.example.com\n< HTTP/1.1 401 Unauthorized\n< Set-Cookie: sid=zzzzzzzzzzzz; Path=/',
    );
    for (const s of engine.signalsOf(doc)) {
      expect(s.excerpt).not.toMatch(/abcdefghijklmnop1234|zzzzzzzzzzzz/);
      if (/authorization|cookie/i.test(s.excerpt)) expect(s.excerpt).toContain(MASK);
    }
  });
});

describe('the localized extractor', () => {
  const localized = EXTRACTORS.find((x) => x.name === 'localized')!;
  const keys = (text: string) =>
    localized.extract(TextDoc.from(text)).map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));
  it('emits a status with what the status implies, as every other extractor does', () => {
    // Django REST framework's "Request was throttled." in German, Squid's proxy-auth page in Dutch.
    expect(keys('Die Anfrage wurde gedrosselt.')).toEqual(['http.status=429', 'limit.rate']);
    expect(keys('FOUT: toegang tot kasgeheue geweier')).toEqual(['http.status=407', 'proxy.auth_required']);
  });
});
