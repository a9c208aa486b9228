import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { recentRequestsOnly } from '../../src/slack/request-age.js';

/** Serve `recentRequestsOnly(ok)` with a fixed clock and send one request with this timestamp header. */
async function statusFor(timestamp: string | undefined): Promise<number> {
  const now = 1_700_000_000_000;
  const server = createServer(
    recentRequestsOnly(
      (_req, res) => res.end('ok'),
      300,
      () => now,
    ),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          port: (server.address() as AddressInfo).port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/slack/events',
          headers: timestamp ? { 'x-slack-request-timestamp': timestamp } : {},
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
  } finally {
    server.close();
  }
}

describe('recentRequestsOnly', () => {
  it('passes requests within five minutes either way, refuses the rest and a missing or odd timestamp', async () => {
    const at = (sec: number) => String(1_700_000_000 + sec);
    expect(await statusFor(at(0))).toBe(200);
    expect(await statusFor(at(-299))).toBe(200);
    expect(await statusFor(at(299))).toBe(200);
    expect(await statusFor(at(-301))).toBe(401);
    expect(await statusFor(at(301))).toBe(401);
    expect(await statusFor(at(600))).toBe(401);
    expect(await statusFor(undefined)).toBe(401);
    expect(await statusFor('1e12')).toBe(401);
  });
});
