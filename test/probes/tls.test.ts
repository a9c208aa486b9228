import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTlsProbe, formatDuration, tlsProbe } from '../../src/probes/tls.js';
import type { ProbeResult } from '../../src/probes/probe.js';
import { labCerts, type LabCerts } from '../lab/certs.js';
import { makeContext, makeTarget, restrictivePolicy, startResettingServer, startSilentServer, startTcpServer } from './support.js';

const run = promisify(execFile);

/** A CA whose names say "Zscaler", and a leaf for 127.0.0.1 it signed: what a TLS-intercepting proxy presents. */
async function makeInterceptorCerts(): Promise<{ rootCert: string; leafCert: string; leafKey: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
  try {
    const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'root.key',
      '-out',
      'root.crt',
      '-days',
      '30',
      '-subj',
      '/O=Zscaler Inc./CN=Zscaler Intermediate Root CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    await ssl('req', '-new', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
    await ssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'root.crt',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '10',
      '-out',
      'leaf.crt',
      '-extfile',
      'ext.cnf',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { rootCert: read('root.crt'), leafCert: read('leaf.crt'), leafKey: read('leaf.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A node:tls server on `host` port 0 that completes handshakes and hangs up. */
async function tlsServer(options: TlsOptions, host = '127.0.0.1'): Promise<number> {
  const server = createTlsServer({ ALPNProtocols: ['http/1.1'], ...options }, (socket) => socket.end());
  server.on('tlsClientError', () => {});
  server.listen(0, host);
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

const errors = (r: ProbeResult) => r.signals.filter((s) => s.name === 'tls.error').map((s) => s.value);
const has = (r: ProbeResult, name: string) => r.signals.some((s) => s.name === name);

describe('tls probe', () => {
  let certs: LabCerts;
  let trusting: ReturnType<typeof createTlsProbe>;
  beforeAll(async () => {
    certs = await labCerts();
    trusting = createTlsProbe({ extraCaPems: [certs.ca.cert] });
  });

  it('handshakes with an https server and describes a good certificate', async () => {
    const server = createHttpsServer({ cert: certs.valid.cert, key: certs.valid.key }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(result.status).toBe('ok');
    expect(result.signals).toEqual([]);
    expect(result.details.protocol).toBe('TLSv1.3');
    expect(result.details.alpn).toBe('http/1.1');
    expect(result.details.subject).toBe('CN=127.0.0.1');
    expect(result.details.issuer).toBe('CN=Gateway Triage Lab Root CA');
    expect(result.details.sans).toEqual(['IP Address:127.0.0.1', 'DNS:localhost']);
    expect(result.details.daysLeft).toBeGreaterThan(360);
    expect(result.details.trusted).toBe(true);
    expect(result.details.chainLength).toBeGreaterThanOrEqual(1);
    expect(result.phases.connect).toBeTypeOf('number');
    expect(result.phases.tls).toBeTypeOf('number');
    expect(result.summary).toMatch(
      /^TLS with 127\.0\.0\.1:\d+: TLSv1\.3 TLS_\w+ ALPN http\/1\.1 in [\d.]+ ms; certificate CN=127\.0\.0\.1 valid for \d+ more days$/,
    );
  });

  it('sends SNI = the host name and checks the certificate against it', async () => {
    let sni: string | undefined;
    const port = await tlsServer({
      cert: certs.valid.cert,
      key: certs.valid.key,
      SNICallback: (name, cb) => ((sni = name), cb(null, undefined)),
    });
    const result = await trusting.run(makeContext(`https://localhost:${port}/`));
    if (result.details.address !== '127.0.0.1') return; // localhost → ::1 first on this system
    expect(sni).toBe('localhost');
    expect(result.status).toBe('ok');
  });

  it('reports an expired certificate and how long ago it expired', async () => {
    const port = await tlsServer({ cert: certs.expired.cert, key: certs.expired.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(result.status).toBe('failed');
    expect(errors(result)).toEqual(['cert_expired']);
    const excerpt = result.signals[0]!.excerpt;
    expect(excerpt).toMatch(/certificate 127\.0\.0\.1 expired (29d 23h|30d 0h) ago \(notAfter \d{4}-/);
    expect(result.details.daysLeft).toBeLessThan(-28);
  });

  it('reports a certificate that is not yet valid', async () => {
    const port = await tlsServer({ cert: certs.notYetValid.cert, key: certs.notYetValid.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['cert_not_yet_valid']);
    expect(result.signals[0]!.excerpt).toMatch(/is not valid for another (29d 23h|30d 0h)/);
  });

  it('reports a hostname mismatch, listing the names the certificate has', async () => {
    const port = await tlsServer({ cert: certs.wrongHost.cert, key: certs.wrongHost.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['hostname_mismatch']);
    expect(result.signals[0]!.excerpt).toMatch(/does not name 127\.0\.0\.1; it names DNS:other\.example/);
  });

  it('reports a self-signed certificate', async () => {
    const port = await tlsServer({ cert: certs.selfSigned.cert, key: certs.selfSigned.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['self_signed']);
    expect(result.details.trusted).toBe(false);
  });

  it('reports a missing intermediate when the server sends the leaf alone', async () => {
    const port = await tlsServer({ cert: certs.viaIntermediate.cert, key: certs.viaIntermediate.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['missing_intermediate']);
    expect(result.signals[0]!.excerpt).toMatch(/issuer CN=Gateway Triage Lab Intermediate CA of 127\.0\.0\.1 was not sent by the server/);
  });

  it('accepts the full chain, and walks it to the trusted root', async () => {
    const port = await tlsServer({ cert: certs.viaIntermediateFullChain, key: certs.viaIntermediate.key });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(result.status).toBe('ok');
    expect(result.details.path).toEqual(['CN=127.0.0.1', 'CN=Gateway Triage Lab Intermediate CA', 'CN=Gateway Triage Lab Root CA']);
  });

  it('reports an untrusted issuer when the chain leads to a root nobody trusts', async () => {
    const port = await tlsServer({ cert: certs.viaIntermediateFullChain, key: certs.viaIntermediate.key });
    const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['unknown_issuer']);
    expect(result.signals[0]!.excerpt).toMatch(
      /issuer CN=Gateway Triage Lab Root CA of Gateway Triage Lab Intermediate CA is not a trusted root/,
    );
  });

  it('reports every problem, not just the first', async () => {
    // 127.0.0.2 is loopback too, but the certificate names only 127.0.0.1 and localhost.
    const port = await tlsServer({ cert: certs.expired.cert, key: certs.expired.key }, '127.0.0.2');
    const result = await tlsProbe.run(makeContext(`https://127.0.0.2:${port}/`));
    expect(errors(result).sort()).toEqual(['cert_expired', 'hostname_mismatch', 'missing_intermediate']);
    expect(result.details.problems).toHaveLength(3);
    expect(result.summary).toMatch(/certificate problems: .*expired.*; .*does not name 127\.0\.0\.2/);
  });

  it('names an intercepting corporate CA', async () => {
    const z = await makeInterceptorCerts();
    const port = await tlsServer({ cert: z.leafCert + z.rootCert, key: z.leafKey });
    const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(has(result, 'tls.intercepted')).toBe(true);
    expect(result.signals.find((s) => s.name === 'tls.intercepted')!.excerpt).toMatch(/issued by Zscaler/);
    expect(errors(result)).toEqual(['unknown_issuer']);
    expect(result.details.interceptedBy).toBe('Zscaler');
  });

  it('tells plain HTTP on the port: tls.error=wrong_version_number', async () => {
    const server = createHttpServer((_req, res) => res.end('plain'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`));
    expect(result.status).toBe('failed');
    expect(errors(result)).toEqual(['wrong_version_number']);
    expect(result.signals.find((s) => s.name === 'net.phase')?.value).toBe('tls');
  });

  it('tells a server that speaks only an old protocol version', async () => {
    const port = await tlsServer({
      cert: certs.valid.cert,
      key: certs.valid.key,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['protocol_version']);
    expect(result.details.legacyProtocol).toBe('TLSv1.1');
    expect(result.summary).toMatch(/accepts only TLSv1\.1/);
  });

  it('tells no shared cipher from a generic handshake failure', async () => {
    const port = await tlsServer({
      cert: certs.valid.cert,
      key: certs.valid.key,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-CAMELLIA256-SHA384',
    });
    const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
    expect(errors(result)).toEqual(['no_shared_cipher']);
    expect(result.summary).toMatch(/accepts only .*CAMELLIA/);
  });

  it.each(['TLSv1.3', 'TLSv1.2'] as const)(
    'tells a server that requires a client certificate (%s), and still analyses its certificate',
    async (version) => {
      const port = await tlsServer({
        cert: certs.valid.cert,
        key: certs.valid.key,
        requestCert: true,
        rejectUnauthorized: true,
        ca: [certs.ca.cert],
        maxVersion: version,
      });
      const result = await trusting.run(makeContext(`https://127.0.0.1:${port}/`));
      expect(result.status).toBe('failed');
      expect(errors(result)).toEqual(['client_cert_required']);
      if (version === 'TLSv1.3') expect(result.details.subject).toBe('CN=127.0.0.1');
    },
  );

  it.each(['reset', 'close'] as const)('tells a %s during the handshake', async (how) => {
    const s =
      how === 'reset' ? await startResettingServer('on-data') : await startTcpServer((socket) => socket.once('data', () => socket.end()));
    try {
      const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${s.port}/`));
      expect(errors(result)).toEqual(['reset_during_handshake']);
    } finally {
      await s.close();
    }
  });

  it('tells a handshake that never completes (net.tls_handshake_timeout)', async () => {
    const s = await startSilentServer();
    try {
      const started = performance.now();
      const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${s.port}/`, { limits: { timeoutMs: 600 } }));
      expect(performance.now() - started).toBeLessThan(1200);
      expect(has(result, 'net.tls_handshake_timeout')).toBe(true);
      expect(result.signals.find((x) => x.name === 'net.phase')?.value).toBe('tls');
    } finally {
      await s.close();
    }
  });

  it('reports a refused connect before any TLS', async () => {
    const s = await startSilentServer();
    await s.close();
    const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${s.port}/`));
    expect(result.signals.map((x) => `${x.name}=${x.value}`)).toEqual(['net.error=connection_refused', 'net.phase=connect']);
  });

  it('is refused by a restrictive policy without a connection attempt', async () => {
    const s = await startSilentServer();
    try {
      const result = await tlsProbe.run(makeContext(`https://127.0.0.1:${s.port}/`, { policy: restrictivePolicy }));
      expect(result.status).toBe('refused');
      expect(s.connections()).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('applies to https URLs without a proxy', () => {
    expect(tlsProbe.applies(makeTarget('https://example.com/'))).toBe(true);
    expect(tlsProbe.applies(makeTarget('http://example.com/'))).toBe(false);
    expect(tlsProbe.applies(makeTarget({ url: 'https://example.com/', proxy: 'http://proxy:3128' }))).toBe(false);
  });

  it('formats durations', () => {
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5000)).toBe('3d 4h');
    expect(formatDuration(192 * 60_000)).toBe('3h 12m');
    expect(formatDuration(42 * 60_000)).toBe('42m');
  });
});
