/**
 * A producer connection recovers when Redis comes back: a long-running bot must not stay broken
 * after a Redis restart. A real redis-server on a spare port, stopped and started again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queue/redis.js';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
}

async function until(f: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
});

describe('producer connection', () => {
  it('fails fast while Redis is down and works again once it is back', async () => {
    const port = await freePort();
    server = startRedis(port);
    const redis = createRedis(`redis://127.0.0.1:${port}/0`, 'producer');
    expect(await until(async () => (await redis.ping()) === 'PONG', 5000)).toBe(true);
    server.kill('SIGKILL');
    await once(server, 'exit');
    // Down: a call fails at once instead of hanging.
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    await expect(redis.ping()).rejects.toThrow();
    expect(Date.now() - t).toBeLessThan(1000);
    // Down for longer than a few reconnect attempts, then back.
    await new Promise((r) => setTimeout(r, 2500));
    server = startRedis(port);
    expect(await until(async () => (await redis.ping()) === 'PONG', 8000)).toBe(true);
    redis.disconnect();
  });
});
