import type { Extractor } from './extractor.js';
import { eachMatch, SignalSink } from './proxy-common.js';
import { lineBefore } from './rule-kit.js';
import type { TextDoc } from './text.js';
import { SOCKET_ERRORS } from './vocab/socket-errors.js';

/**
 * Socket errors in any runtime and any language: symbolic names (ECONNRESET, WSAECONNREFUSED,
 * Errno::EHOSTUNREACH, :econnrefused, ConnectionResetError), error numbers after a word that says
 * so (`[Errno 111]`, `os error 10061`, `SocketException (10054)`, `errno=104`, `error(10065`), and the
 * operating system's messages in the languages people paste (src/evidence/vocab/socket-errors.ts).
 * Emits net.error.
 */

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const NAME_VALUE = new Map<string, string>();
const MESSAGE_VALUE = new Map<string, string>();
const NUMBER_VALUE = new Map<number, { value: string; tier: 'winsock' | 'linux' | 'bsd' }>();
for (const e of SOCKET_ERRORS) {
  for (const n of e.names) NAME_VALUE.set(n.toLowerCase(), e.value);
  for (const m of e.messages) MESSAGE_VALUE.set(m.toLowerCase(), e.value);
  if (e.winsock) NUMBER_VALUE.set(e.winsock, { value: e.value, tier: 'winsock' });
  if (e.linux) NUMBER_VALUE.set(e.linux, { value: e.value, tier: 'linux' });
  if (e.bsd) NUMBER_VALUE.set(e.bsd, { value: e.value, tier: 'bsd' });
}

/** Longest first, so that an alternation prefers the fuller name or message. */
const byLength = (a: string, b: string) => b.length - a.length;
const NAMES = new RegExp(`\\b(?:${[...NAME_VALUE.keys()].sort(byLength).map(escape).join('|')})\\b`, 'gi');
const MESSAGES = new RegExp([...MESSAGE_VALUE.keys()].sort(byLength).map(escape).join('|'), 'gi');
/** A number after a word that names it an error number. */
const NUMBER =
  /\b(errno|os error|winerror|socketexception|socket error|wsagetlasterror\(\)|error code|error|err|code)[ \t]{0,2}[:=#([]{0,2}[ \t]{0,2}(\d{2,5})\b/gi;
/** Which words may introduce which numbers: a bare "code 61" is not an errno, a Winsock 100xx is. */
const TIER_WORDS: Readonly<Record<'winsock' | 'linux' | 'bsd', RegExp>> = {
  winsock: /./,
  linux: /^(?:errno|os error|error|err|socket error)$/i,
  bsd: /^(?:errno|os error)$/i,
};

/** Elixir's Mint (under Finch, Req, Tesla): `%Mint.TransportError{reason: :closed}`, `** (Mint.TransportError) timeout`. */
const MINT = /\bMint\.TransportError(?:\{reason: :|\) )(closed|timeout)\b/g;
const MINT_VALUE: Readonly<Record<string, string>> = { closed: 'unexpected_eof', timeout: 'timeout' };

/** Receiving, not connecting: Winsock's WSAETIMEDOUT (10060) covers an established connection too. */
const RECEIVING = /\b(?:Receive(?:Async|From)?|Recv|wsarecv|read(?:Async)?|ReadTimeout)\b/i;

/**
 * A timeout reported on a receive or read is a timeout of an established connection, whatever the
 * message says of connection attempts.
 */
function phased(value: string, m: RegExpExecArray): string {
  if (value !== 'connect_timeout') return value;
  const around = m.input.slice(Math.max(0, m.index - 300), Math.min(m.input.length, m.index + m[0].length + 600));
  return RECEIVING.test(around) ? 'timeout' : value;
}

/**
 * A pipe, not a socket: coreutils and shells report a reader gone away as "write error: Broken pipe"
 * or "standard output: Broken pipe" (`tar … | gzip` on a full disk, `yes | head`).
 */
const LOCAL_PIPE = /(?:write error|standard output|stdout|stdin)[ \t]{0,2}:[ \t]{0,2}$/i;

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'socket');
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];
  eachMatch(NAMES, doc, (m) => {
    const value = NAME_VALUE.get(m[0].toLowerCase());
    if (value) sink.add('net.error', value, ...at(m));
  });
  eachMatch(MESSAGES, doc, (m) => {
    const value = MESSAGE_VALUE.get(m[0].toLowerCase());
    if (value === 'broken_pipe' && LOCAL_PIPE.test(lineBefore(m))) return;
    if (value) sink.add('net.error', phased(value, m), ...at(m));
  });
  eachMatch(NUMBER, doc, (m) => {
    const known = NUMBER_VALUE.get(Number(m[2]));
    if (known && TIER_WORDS[known.tier].test(m[1] ?? '')) sink.add('net.error', phased(known.value, m), ...at(m));
  });
  if (doc.mayContain('mint.transporterror')) eachMatch(MINT, doc, (m) => sink.add('net.error', MINT_VALUE[m[1] ?? ''], ...at(m)));
  return sink;
}

export const SOCKET_PATTERNS: readonly RegExp[] = [NAMES, MESSAGES, NUMBER, MINT];

export const socketExtractor: Extractor = {
  name: 'socket',
  reads: 'socket errors by name, number and operating-system message, in every runtime and in many languages',
  patterns: SOCKET_PATTERNS,
  extract: (doc) => extract(doc).signals,
};
