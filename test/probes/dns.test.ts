import { once } from 'node:events';
import { promises as dnsPromises } from 'node:dns';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsProbe, dnsProbe } from '../../src/probes/dns.js';
import { createSsrfPolicy } from '../../src/security/ssrf.js';
import { makeContext, makeTarget, restrictivePolicy } from './support.js';

/** What the test DNS server answers for a name: an rcode, addresses, or nothing at all. */
type Zone = Record<string, { rcode?: number; a?: string[]; aaaa?: string[]; silent?: boolean }>;

/** A real DNS server over UDP on 127.0.0.1 (a few dozen lines of RFC 1035), answering from `zone`; unknown names are NXDOMAIN. */
async function startDnsServer(zone: Zone): Promise<{ server: string; queries: string[]; close(): Promise<void> }> {
  const socket: UdpSocket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (msg[off]! > 0) {
      labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString('latin1'));
      off += msg[off]! + 1;
    }
    const qEnd = off + 5;
    const qtype = msg.readUInt16BE(off + 1);
    const name = labels.join('.').toLowerCase();
    queries.push(`${name} ${qtype === 28 ? 'AAAA' : qtype === 1 ? 'A' : qtype}`);
    const entry = zone[name];
    if (entry?.silent) return;
    const rcode = entry ? (entry.rcode ?? 0) : 3;
    const addresses = rcode === 0 ? (qtype === 1 ? (entry?.a ?? []) : qtype === 28 ? (entry?.aaaa ?? []) : []) : [];
    const answers = addresses.map((addr) => {
      const rdata = qtype === 1 ? Buffer.from(addr.split('.').map(Number)) : ipv6Bytes(addr);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, msg.subarray(12, qEnd), ...answers]), rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf;
}

const ZONE: Zone = {
  'shop.test': { a: ['192.0.2.10'], aaaa: ['2001:db8::10'] },
  'v4only.test': { a: ['192.0.2.11'] },
  'empty.test': {},
  'broken.test': { rcode: 2 },
  'refusing.test': { rcode: 5 },
  'slow.test': { silent: true },
  'proxy.test': { a: ['192.0.2.20'] },
};

describe('dns probe', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let probe: ReturnType<typeof createDnsProbe>;
  /** An allow-all policy that resolves through the same test server (so the policy check sees the zone too). */
  let policy: ReturnType<typeof createSsrfPolicy>;

  beforeAll(async () => {
    dns = await startDnsServer(ZONE);
    probe = createDnsProbe({ servers: [dns.server], queryTimeoutMs: 400, systemLookup: false });
    const resolver = new dnsPromises.Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([dns.server]);
    policy = createSsrfPolicy({
      allowAll: true,
      lookup: async (name) => {
        const [a, aaaa] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
        const v4 = a.status === 'fulfilled' ? a.value.map((address) => ({ address, family: 4 })) : [];
        const v6 = aaaa.status === 'fulfilled' ? aaaa.value.map((address) => ({ address, family: 6 })) : [];
        if (v4.length + v6.length === 0) throw Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        return [...v4, ...v6];
      },
    });
  });
  afterAll(() => dns.close());

  const run = (target: Parameters<typeof makeContext>[0], limits = {}) => probe.run(makeContext(target, { policy, limits }));
  const value = (r: { signals: readonly { name: string; value?: string }[] }, name: string) =>
    r.signals.find((s) => s.name === name)?.value;

  it('resolves A and AAAA and times the resolution', async () => {
    const result = await run('https://shop.test/cart');
    expect(result.status).toBe('ok');
    expect(result.details['url.a']).toEqual(['192.0.2.10']);
    expect(result.details['url.aaaa']).toEqual(['2001:db8::10']);
    expect(result.details['url.source']).toBe('dns');
    expect(result.phases.resolve).toBeTypeOf('number');
    expect(result.summary).toMatch(/^shop\.test → 192\.0\.2\.10, 2001:db8::10 in [\d.]+ ms$/);
    expect(result.signals).toEqual([]);
  });

  it('is ok with only an A record', async () => {
    const result = await run('http://v4only.test/');
    expect(result.status).toBe('ok');
    expect(result.details['url.aaaa']).toEqual([]);
  });

  it('tells NXDOMAIN: net.error=dns_not_found, net.phase=dns', async () => {
    const result = await run('https://nope.test/');
    expect(result.status).toBe('failed');
    expect(value(result, 'net.error')).toBe('dns_not_found');
    expect(value(result, 'net.phase')).toBe('dns');
    expect(result.signals[0]!.excerpt).toMatch(
      new RegExp(`^A/AAAA for nope\\.test: NXDOMAIN \\(ENOTFOUND\\) from ${dns.server.replace(/\./g, '\\.')} after [\\d.]+ ms$`),
    );
    expect(result.signals[0]!.source).toBe('dns');
  });

  it('tells a name with no addresses (NODATA) as not found', async () => {
    const result = await run('https://empty.test/');
    expect(value(result, 'net.error')).toBe('dns_not_found');
    expect(result.summary).toMatch(/no A or AAAA records/);
  });

  it('tells SERVFAIL from NXDOMAIN: net.error=dns_temporary', async () => {
    const result = await run('https://broken.test/');
    expect(result.status).toBe('failed');
    expect(value(result, 'net.error')).toBe('dns_temporary');
    expect(result.summary).toMatch(/SERVFAIL \(ESERVFAIL\)/);
  });

  it('tells a REFUSED answer as temporary', async () => {
    const result = await run('https://refusing.test/');
    expect(value(result, 'net.error')).toBe('dns_temporary');
    expect(result.summary).toMatch(/REFUSED/);
  });

  it('tells a server that does not answer: dns_temporary after the query timeout', async () => {
    const started = performance.now();
    const result = await run('https://slow.test/', { timeoutMs: 3000 });
    expect(performance.now() - started).toBeLessThan(2500);
    expect(value(result, 'net.error')).toBe('dns_temporary');
    expect(result.summary).toMatch(/no answer \(ETIMEOUT\)/);
  });

  it('resolves the proxy host too, and says which host failed', async () => {
    const result = await run({ url: 'https://shop.test/', proxy: 'http://user:pw@nxproxy.test:3128' });
    expect(result.status).toBe('failed');
    expect(result.details['url.a']).toEqual(['192.0.2.10']);
    expect(result.details['proxy.host']).toBe('nxproxy.test');
    expect(result.signals.filter((s) => s.name === 'net.error')).toHaveLength(1);
    expect(result.signals[0]!.excerpt).toMatch(/^A\/AAAA for proxy host nxproxy\.test: NXDOMAIN/);
    expect(JSON.stringify(result)).not.toContain('pw@');
  });

  it("through a forward proxy, the URL's host failing here is shown but is no evidence: the proxy resolves it (as curl -x)", async () => {
    const result = await run({ url: 'https://nowhere.test/', proxy: 'http://proxy.test:3128' });
    expect(result.status).toBe('ok');
    expect(result.signals).toEqual([]);
    expect(result.details['url.resolved_by']).toBe('proxy');
    expect(result.summary).toMatch(/A\/AAAA for nowhere\.test here: NXDOMAIN.*not used: the proxy resolves it/);
    // Without the proxy the same failure is the evidence.
    expect(value(await run({ url: 'https://nowhere.test/' }), 'net.error')).toBe('dns_not_found');
  });

  it('resolves the upstream host when given', async () => {
    const result = await run({ url: 'https://shop.test/', upstream: { host: 'proxy.test', port: 8080 } });
    expect(result.status).toBe('ok');
    expect(result.details['upstream.a']).toEqual(['192.0.2.20']);
  });

  it('falls back to the system resolver for hosts-file names such as localhost', async () => {
    const withFallback = createDnsProbe({ servers: [dns.server], queryTimeoutMs: 400 });
    const result = await withFallback.run(makeContext('http://localhost:8080/'));
    expect(result.status).toBe('ok');
    expect(result.details['url.source']).toBe('system');
    expect(result.details['url.dns']).toBe('A ENOTFOUND, AAAA ENOTFOUND');
    expect(
      [...(result.details['url.a'] as readonly string[]), ...(result.details['url.aaaa'] as readonly string[])].length,
    ).toBeGreaterThan(0);
  });

  it('skips IP literal hosts', async () => {
    expect(dnsProbe.applies(makeTarget('http://127.0.0.1:8080/'))).toBe(false);
    expect(dnsProbe.applies(makeTarget('http://[::1]:8080/'))).toBe(false);
    expect(dnsProbe.applies(makeTarget({ url: 'http://127.0.0.1/', proxy: 'http://proxy.corp:3128' }))).toBe(true);
    const result = await probe.run(makeContext('http://127.0.0.1:8080/', { policy }));
    expect(result.status).toBe('skipped');
  });

  it('is refused by a restrictive policy without any query', async () => {
    const before = dns.queries.length;
    const result = await probe.run(makeContext('http://localhost:8080/', { policy: restrictivePolicy }));
    expect(result.status).toBe('refused');
    expect(result.summary).toMatch(/localhost resolves to .*loopback.*refused/);
    expect(dns.queries.length).toBe(before);
  });

  it('stops when aborted while a query is outstanding', async () => {
    const slowProbe = createDnsProbe({ servers: [dns.server], queryTimeoutMs: 5000, systemLookup: false });
    const controller = new AbortController();
    const running = slowProbe.run(makeContext('https://slow.test/', { policy, signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const result = await running;
    expect(performance.now() - started).toBeLessThan(600);
    expect(result.status).toBe('failed');
    expect(result.signals).toEqual([]);
  });
});
