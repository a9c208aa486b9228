import { describe, expect, it } from 'vitest';
import { boltLogger, createLogger, type LogLevel } from '../src/log.js';
import type { LogLevel as BoltLogLevel } from '@slack/bolt';

/** A logger writing into an array: one entry per write, so "one JSON object per line" is checkable. */
function captured(level: LogLevel = 'info') {
  const writes: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void writes.push(s) } });
  const lines = () => writes.map((w) => JSON.parse(w) as Record<string, unknown>);
  return { logger, writes, lines };
}

const SLACK_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';
const BEARER = 'eyZ0bWFkZS11cC1iZWFyZXItdG9rZW4tdmFsdWU';

describe('structured logs', () => {
  it('writes one JSON object per line with a level label, an ISO time and msg', () => {
    const { logger, writes, lines } = captured();
    logger.info('worker ready');
    logger.warn({ pool: 'eu-west' }, 'slow pool');
    expect(writes).toHaveLength(2);
    for (const w of writes) {
      expect(w.endsWith('\n')).toBe(true);
      expect(w.slice(0, -1)).not.toContain('\n');
    }
    const [a, b] = lines();
    expect(a).toEqual(expect.objectContaining({ level: 'info', msg: 'worker ready' }));
    expect(a!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(b).toEqual(expect.objectContaining({ level: 'warn', pool: 'eu-west', msg: 'slow pool' }));
  });

  it('drops lines below the level', () => {
    const { logger, lines } = captured('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines().map((l) => l.level)).toEqual(['warn', 'error']);
    logger.level = 'debug';
    logger.debug('d2');
    expect(lines().at(-1)).toEqual(expect.objectContaining({ level: 'debug', msg: 'd2' }));
  });

  it('masks Slack and bearer tokens in messages, printf arguments included', () => {
    const { logger, writes } = captured();
    logger.info(`posting with ${SLACK_TOKEN}`);
    logger.info('upstream said %s', `Authorization: Bearer ${BEARER}`);
    logger.info('token split across arguments: Bearer %s', BEARER);
    const out = writes.join('');
    expect(out).not.toContain(SLACK_TOKEN.slice(5));
    expect(out).not.toContain(BEARER);
    expect(out).toContain('[masked]');
  });

  it('masks an authorization field, headers, secret-looking keys at any depth and a password in a URL', () => {
    const { logger, writes, lines } = captured();
    logger.info(
      {
        authorization: `Bearer ${BEARER}`,
        headers: { 'x-api-key': 'k-123456789', accept: 'text/html' },
        job: { target: { url: 'https://alice:hunter2-pw@proxy.example:3128/', nested: { QueueSecret: 'q-very-secret-value' } } },
        upstream: new URL('http://bob:s3cr3t-pw@10.0.0.1:8080/'),
      },
      'probe %s',
      'http://carol:pa55-word@gw.example/',
    );
    const out = writes.join('');
    for (const secret of [BEARER, 'k-123456789', 'hunter2-pw', 'q-very-secret-value', 's3cr3t-pw', 'pa55-word'])
      expect(out).not.toContain(secret);
    const line = lines()[0]!;
    expect(line.authorization).toBe('[masked]');
    expect(line.headers).toEqual({ 'x-api-key': '[masked]', accept: '[masked]' });
    expect(line.upstream).toBe('http://bob:[masked]@10.0.0.1:8080/');
    expect(line.msg).toBe('probe http://carol:[masked]@gw.example/');
  });

  it('masks errors: their message, stack and the msg taken from them', () => {
    const { logger, writes, lines } = captured();
    logger.error(new Error(`Slack refused ${SLACK_TOKEN}`));
    logger.warn({ err: new Error(`proxy said Bearer ${BEARER}`) }, 'probe failed');
    expect(writes.join('')).not.toContain(SLACK_TOKEN.slice(5));
    expect(writes.join('')).not.toContain(BEARER);
    const [a, b] = lines();
    expect(a!.msg).toBe('Slack refused [masked](slack-token)');
    expect((a!.err as { type: string; stack: string }).type).toBe('Error');
    expect((a!.err as { stack: string }).stack).toMatch(/^Error: Slack refused \[masked\]/);
    expect(b!.msg).toBe('probe failed');
  });

  it('masks secret keys in child bindings through pino redact paths', () => {
    const { logger, writes } = captured();
    logger.child({ authorization: 'raw-credential-1', headers: { cookie: 'sid=raw-cookie-2' } }).info('child');
    expect(writes.join('')).not.toMatch(/raw-credential-1|raw-cookie-2/);
  });
});

describe('boltLogger', () => {
  it('implements Bolt’s Logger on pino: levels, name, errors, masking', () => {
    const { logger, lines } = captured('debug');
    const bolt = boltLogger(logger);
    bolt.setLevel('info' as BoltLogLevel);
    expect(bolt.getLevel()).toBe('info');
    bolt.debug('hidden');
    bolt.setName('socket-mode:SocketModeClient:0');
    bolt.info('connected with', SLACK_TOKEN, { attempt: 2 });
    bolt.error('An unhandled error occurred', new Error('boom'));
    bolt.setLevel('debug' as BoltLogLevel);
    bolt.debug('shown');
    const all = lines();
    expect(all.map((l) => l.msg)).toEqual([
      'connected with [masked](slack-token) { attempt: 2 }',
      'An unhandled error occurred boom',
      'shown',
    ]);
    expect(all[0]).toEqual(expect.objectContaining({ level: 'info', component: 'slack', name: 'socket-mode:SocketModeClient:0' }));
    expect(all[1]).toEqual(expect.objectContaining({ level: 'error', err: expect.objectContaining({ message: 'boom' }) }));
    expect(bolt.getLevel()).toBe('debug');
  });
});
