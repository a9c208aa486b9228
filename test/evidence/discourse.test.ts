import { describe, expect, it } from 'vitest';
import { classifyLine, describesOnly } from '../../src/evidence/discourse.js';
import { createEngine } from '../../src/triage/engine.js';

const engine = createEngine();
const causes = (text: string) => engine.explain(text).causes.map((c) => c.id);

describe('text that describes failures rather than showing one', () => {
  it('reads hard-wrapped prose as its sentences (docs, markdown, e-mail)', () => {
    const wrapped = [
      'When all endpoints in a load',
      'balancer are unavailable, requests may be failed with [503 Service Unavailable]',
      'errors, or, if the Service is one of multiple',
      'backends, a different backend may be selected.',
    ];
    expect(describesOnly(wrapped)).toBe(true);
    expect(causes(wrapped.join('\n'))).toEqual([]);
  });

  it('never joins output to prose: a `label: message` line, an indented frame, a log line', () => {
    expect(causes('Got this error \nfailed: Error during WebSocket handshake: Unexpected response code: 400.')).not.toEqual([]);
    expect(
      describesOnly([
        'This error usually means the upstream closed the connection, and',
        '    at Socket.socketOnEnd (node:_http_client:524:23)',
        '    at Socket.emit (node:events:525:35)',
        '    at endReadableNT (node:internal/streams/readable:1359:12)',
        '    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)',
      ]),
    ).toBe(false);
  });

  it('takes changelog bullets for descriptions, in any language', () => {
    expect(classifyLine('* Feature: upstream组内无可用server时返回502而非500，新增指令upstream_change_no_server_status (lianglli)')).toBe(
      'description',
    );
    expect(classifyLine('- Fixed: a 502 when the backend closed keep-alive connections early')).toBe('description');
  });
});

describe('a parser\'s "invalid token"', () => {
  it('is syntax, not credentials', () => {
    expect(causes('Expected colon but found invalid token at character 9')).toEqual([]);
    expect(causes('SyntaxError: invalid token at line 3, column 7')).toEqual([]);
  });
  it("while an auth server's invalid token still is", () => {
    expect(causes('{"error":"invalid_token","error_description":"The access token is invalid"}')[0]).toBe('token-invalid');
    expect(causes('HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer error="invalid_token"')[0]).toBe('token-invalid');
  });
});
