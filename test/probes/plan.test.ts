import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/evidence/signal.js';
import { answerSettled, repeatReason } from '../../src/probes/plan.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { trusted } from '../../src/security/redact.js';

/** A result as the probes write them, from `name=value` signal keys. */
function result(probe: string, status: ProbeResult['status'], keys: string[] = [], extra: Partial<ProbeResult> = {}): ProbeResult {
  const signals: Signal[] = keys.map((k) => {
    const [name, value] = k.split('=') as [string, string | undefined];
    return value === undefined ? { name, excerpt: trusted(k), source: probe } : { name, value, excerpt: trusted(k), source: probe };
  });
  return { probe, status, durationMs: 1, phases: {}, summary: trusted(probe), details: {}, signals, ...extra };
}

describe('repeatReason: repeat only when the first round disagrees with itself', () => {
  it('identical refusals, an NXDOMAIN, a bad certificate, a 401, a 502 page, a 504: no repeat', () => {
    const refused = ['net.error=connection_refused', 'net.phase=connect'];
    expect(repeatReason([result('tcp', 'failed', refused), result('http', 'failed', refused), result('auth', 'failed', refused)])).toBe(
      undefined,
    );
    const dns = ['net.error=dns_not_found', 'net.phase=dns'];
    expect(repeatReason([result('dns', 'failed', dns), result('tcp', 'failed', dns), result('http', 'failed', dns)])).toBe(undefined);
    // The tls probe finishes the handshake and judges the certificate; Node's https refuses it: the same verdict.
    expect(
      repeatReason([
        result('tcp', 'ok'),
        result('tls', 'failed', ['tls.error=self_signed']),
        result('http', 'failed', ['tls.error=self_signed', 'net.phase=tls']),
      ]),
    ).toBe(undefined);
    expect(
      repeatReason([result('tcp', 'ok'), result('http', 'failed', ['http.status=401']), result('auth', 'failed', ['http.status=401'])]),
    ).toBe(undefined);
    expect(repeatReason([result('tcp', 'ok'), result('http', 'failed', ['http.status=502', 'http.server=nginx'])])).toBe(undefined);
    expect(repeatReason([result('tcp', 'ok'), result('http', 'failed', ['http.status=504']), result('upstream', 'ok')])).toBe(undefined);
  });

  it('a connect that worked for one probe and failed for another moments later: repeat', () => {
    expect(repeatReason([result('tcp', 'ok'), result('http', 'failed', ['net.error=connection_refused', 'net.phase=connect'])])).toMatch(
      /tcp probe connected, the http probe did not/,
    );
  });

  it('a TLS handshake that completed once and failed once: repeat', () => {
    expect(
      repeatReason([
        result('tcp', 'ok'),
        result('tls', 'ok'),
        result('http', 'failed', ['tls.error=reset_during_handshake', 'net.phase=tls'], { phases: { connect: 1 } }),
      ]),
    ).toMatch(/TLS handshake/);
  });

  it('two answers to CONNECT from one proxy: repeat', () => {
    expect(repeatReason([result('connect', 'ok', ['connect.status=200']), result('http', 'failed', ['connect.status=503'])])).toMatch(
      /CONNECT with 200 and 503/,
    );
  });

  it('a reset that comes after the accept is not a failed connect', () => {
    const reset = result('tcp', 'failed', ['net.error=connection_reset', 'net.phase=connect'], { details: { resetAfterAccept: true } });
    expect(repeatReason([reset, result('http', 'failed', ['net.error=empty_reply', 'net.phase=response_header'])])).toBe(undefined);
  });

  it('routed probes are not compared with the direct tcp and tls probes', () => {
    expect(
      repeatReason([
        result('tcp', 'failed', ['net.error=connection_refused', 'net.phase=connect']),
        result('http', 'ok', ['http.status=200'], { route: trusted('proxy http://127.0.0.1:3128 (absolute-form GET)') }),
      ]),
    ).toBe(undefined);
  });
});

describe('answerSettled: when the idle keep-alive watch can no longer change the answer', () => {
  const http = (keys: string[]) => result('http', 'failed', keys);
  it('waits while other probes run, or before the main request answered', () => {
    expect(answerSettled([http(['http.status=403'])], ['upstream', 'auth'])).toBe(false);
    expect(answerSettled([result('tcp', 'ok')], ['upstream'])).toBe(false);
  });
  it('settled by answers the idle timeout cannot explain', () => {
    for (const keys of [
      ['http.status=401'],
      ['http.status=403'],
      ['http.status=503'],
      ['http.status=504'],
      ['http.status=301', 'http.redirect_loop'],
      ['net.error=connection_refused'],
      ['net.error=read_timeout'],
      ['tls.error=cert_expired', 'net.phase=tls'],
      ['connect.status=400'],
    ])
      expect(answerSettled([http(keys)], ['upstream']), keys.join(' ')).toBe(true);
  });
  it('not settled by what a keep-alive race produces, nor by a success (the failure is intermittent)', () => {
    for (const keys of [['http.status=502'], ['http.status=200'], ['net.error=connection_reset'], ['net.error=empty_reply']])
      expect(answerSettled([http(keys)], ['upstream']), keys.join(' ')).toBe(false);
  });
});
