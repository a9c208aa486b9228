import { describe, expect, it } from 'vitest';
import { TextDoc, TEXT_LIMITS } from '../../src/evidence/text.js';
import { TriageError } from '../../src/errors.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof TriageError ? err.code : 'OTHER';
  }
  return undefined;
}

describe('TextDoc', () => {
  it('refuses empty and blank input with a message that says what to paste', () => {
    expect(code(() => TextDoc.from(''))).toBe('INPUT_EMPTY');
    expect(code(() => TextDoc.from(' \n\t\r\n'))).toBe('INPUT_EMPTY');
    expect(code(() => TextDoc.from(new Uint8Array()))).toBe('INPUT_EMPTY');
  });

  it('refuses binary data', () => {
    const gz = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48]);
    expect(code(() => TextDoc.from(gz))).toBe('INPUT_BINARY');
  });

  it('removes NUL and other control bytes inside otherwise textual input, with a note', () => {
    const log = `2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused)\0\0\0 while connecting to upstream\x07\n\0\0next`;
    for (const input of [log, new TextEncoder().encode(log)]) {
      const doc = TextDoc.from(input);
      expect(doc.text).toBe(
        '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream \nnext',
      );
      expect(doc.notes.join(' ')).toMatch(/6 control character\(s\), 5 of them NUL bytes, were removed/);
    }
    expect(TextDoc.from('plain text').notes).toEqual([]);
  });

  it('still refuses what is binary: many control bytes, UTF-16 without a BOM, compressed and executable files', () => {
    const utf16 = new Uint8Array([...'upstream timed out'].flatMap((c) => [c.charCodeAt(0), 0]));
    expect(code(() => TextDoc.from(utf16))).toBe('INPUT_BINARY');
    const gzipThenText = new Uint8Array([
      0x1f,
      0x8b,
      ...new TextEncoder().encode(' connect() failed (111: Connection refused)'.repeat(20)),
    ]);
    expect(code(() => TextDoc.from(gzipThenText))).toBe('INPUT_BINARY');
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new TextEncoder().encode(' upstream timed out'.repeat(20))]);
    expect(code(() => TextDoc.from(elf))).toBe('INPUT_BINARY');
    expect(code(() => TextDoc.from('\x01\x02\x03\x04 upstream timed out'))).toBe('INPUT_BINARY');
  });

  it('refuses input over the size limit before decoding it', () => {
    expect(code(() => TextDoc.from(new Uint8Array(TEXT_LIMITS.maxBytes + 1)))).toBe('INPUT_TOO_LARGE');
  });

  it('replaces invalid UTF-8 and says so', () => {
    const doc = TextDoc.from(new Uint8Array([0x34, 0x30, 0x33, 0x20, 0xff, 0xfe, 0x46, 0x6f, 0x72, 0x62, 0x69, 0x64, 0x64, 0x65, 0x6e]));
    expect(doc.text).toContain('Forbidden');
    expect(doc.notes.join(' ')).toMatch(/invalid UTF-8/);
  });

  it('decodes UTF-16 with a BOM (Windows PowerShell output)', () => {
    const s = 'curl: (7) Failed to connect';
    const bytes = new Uint8Array(2 + s.length * 2);
    bytes[0] = 0xff;
    bytes[1] = 0xfe;
    for (let i = 0; i < s.length; i++) bytes[2 + i * 2] = s.charCodeAt(i);
    expect(TextDoc.from(bytes).text).toBe(s);
  });

  it('strips ANSI escapes and normalises CRLF', () => {
    const doc = TextDoc.from('\x1b[31mERROR\x1b[0m 502\r\nnext\rline');
    expect(doc.text).toBe('ERROR 502\nnext\nline');
    expect(doc.lineOf(doc.text.indexOf('next'))).toBe(2);
    expect(doc.lineOf(doc.text.indexOf('line'))).toBe(3);
  });

  it('cuts excerpts of very long lines around the match and masks them', () => {
    const line = `${'x'.repeat(5000)} connect() failed ${'a'.repeat(80)} Authorization: Bearer sup3rs3cr3tt0k3n ${'y'.repeat(5000)}`;
    const doc = TextDoc.from(line);
    const at = line.indexOf('connect()');
    const ex = doc.excerpt(at, at + 9);
    expect(ex.length).toBeLessThanOrEqual(TEXT_LIMITS.excerptChars + 16);
    expect(ex).toContain('connect()');
    expect(ex).not.toMatch(/sup3r/);
  });
});
