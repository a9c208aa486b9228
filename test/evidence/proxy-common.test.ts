import { describe, expect, it } from 'vitest';
import {
  atLineEnd,
  atLineStart,
  eachMatch,
  errnoKind,
  isKnownStatus,
  lineBounds,
  nearTimeout,
  SignalSink,
  SINK_LIMITS,
} from '../../src/evidence/proxy-common.js';
import { TextDoc } from '../../src/evidence/text.js';

describe('proxy-common', () => {
  it('names the configured timeout a duration lands on, within ±3 %', () => {
    const nginx = [{ seconds: 60, name: 'nginx_proxy_read_60s' }];
    expect(nearTimeout(60.002, nginx)).toBe('nginx_proxy_read_60s');
    expect(nearTimeout(58.3, nginx)).toBe('nginx_proxy_read_60s');
    expect(nearTimeout(57.9, nginx)).toBeUndefined();
    expect(nearTimeout(60.002)).toBe('timeout_60s');
    expect(nearTimeout(99.5)).toBe('cloudflare_100s');
    expect(nearTimeout(2.7)).toBeUndefined();
    expect(nearTimeout(Number.NaN)).toBeUndefined();
  });

  it('normalises errno by message first, then by the Linux code', () => {
    expect(errnoKind(61, 'Connection refused')).toBe('connection_refused');
    expect(errnoKind(111, '')).toBe('connection_refused');
    expect(errnoKind(110, 'Unknown error')).toBe('timeout');
    expect(errnoKind(104, 'Connection reset by peer')).toBe('reset');
    expect(errnoKind(24, 'No file descriptors available')).toBe('too_many_open_files');
    expect(errnoKind(undefined, 'something else')).toBeUndefined();
  });

  it('knows real status codes', () => {
    for (const c of [200, 301, 403, 413, 429, 431, 460, 499, 502, 504, 522, 561]) expect(isKnownStatus(c), String(c)).toBe(true);
    for (const c of [127, 250, 600, 999, 432]) expect(isKnownStatus(c), String(c)).toBe(false);
  });

  it('finds line bounds without scanning further than the radius', () => {
    const text = 'first\nsecond line\nthird';
    expect(lineBounds(text, 8)).toEqual([6, 17]);
    expect(lineBounds('x'.repeat(5000), 2500, 100)).toEqual([2400, 2600]);
    expect(atLineStart('  < Server: x', 4, ' <', 6)).toBe(true);
    expect(atLineStart('Our Server: x', 4)).toBe(false);
    expect(atLineEnd('nginx/1.2  \nnext', 9)).toBe(true);
    expect(atLineEnd('nginx is great', 5)).toBe(false);
  });

  it('keeps one signal per name=value per line, and caps each name=value', () => {
    const doc = TextDoc.from(Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n'));
    const sink = new SignalSink(doc, 'test');
    sink.add('http.status', '502', 0, 4);
    sink.add('http.status', '502', 2, 4);
    sink.add('http.status', '503', 0, 4);
    expect(sink.signals.map((s) => `${s.value}@${s.line}`)).toEqual(['502@1', '503@1']);
    for (let i = 0; i < 50; i++) sink.add('client.closed', undefined, doc.text.indexOf(`line ${i}`), doc.text.indexOf(`line ${i}`) + 4);
    expect(sink.signals.filter((s) => s.name === 'client.closed')).toHaveLength(SINK_LIMITS.maxPerKey);
    sink.once('http.server', 'nginx', 0, 4);
    sink.once('http.server', 'nginx', 10, 14);
    expect(sink.signals.filter((s) => s.name === 'http.server')).toHaveLength(1);
    expect(sink.has('http.server', 'nginx')).toBe(true);
    expect(sink.signals.every((s) => s.source === 'test')).toBe(true);
  });

  it('bounds the matches it examines and survives empty matches', () => {
    let n = 0;
    eachMatch(/x/g, TextDoc.from('x'.repeat(SINK_LIMITS.maxMatches + 10)), () => n++);
    expect(n).toBe(SINK_LIMITS.maxMatches);
    let empty = 0;
    eachMatch(/(?:)/g, TextDoc.from('abc'), () => empty++);
    expect(empty).toBe(0);
  });
});
