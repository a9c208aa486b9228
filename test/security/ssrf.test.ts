import { once } from 'node:events';
import { get, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TriageError } from '../../src/errors.js';
import {
  METADATA_HOSTS,
  SSRF_DEFAULTS,
  builtInRangeProblems,
  createSsrfPolicy,
  parseProbeAllow,
  type Resolve,
  type SsrfPolicy,
  type SsrfAddressResult,
  type SsrfRefusal,
  type SsrfResult,
  type SsrfTarget,
} from '../../src/security/ssrf.js';

/** A resolver from a table; counts its calls. Unknown names fail like getaddrinfo does. */
function fakeDns(table: Record<string, string[]>) {
  const calls: string[] = [];
  const lookup: Resolve = async (name) => {
    calls.push(name);
    const answer = table[name];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, calls };
}

const DNS = {
  'public.example.com': ['93.184.216.34'],
  'dual.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
  'meta.example.com': ['169.254.169.254'],
  'metamix.example.com': ['10.0.0.7', '93.184.216.34', '169.254.169.254'],
  'internal.example.com': ['10.1.2.3'],
  'sub.internal.example.com': ['10.1.2.4'],
  'corp.example.com': ['10.9.9.9'],
  'a.corp.example.com': ['10.9.9.10'],
  'a.b.corp.example.com': ['172.16.0.5'],
  'evilcorp.example.com': ['10.9.9.11'],
  'meta.corp.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
  'zone.example.com': ['fe80::1%eth0'],
  'loop.example.com': ['127.0.0.1'],
  'empty.example.com': [],
  'garbage.example.com': ['not-an-ip'],
};

const restrictive = (allow = '') => {
  const dns = fakeDns(DNS);
  return { policy: createSsrfPolicy({ allow, lookup: dns.lookup }), calls: dns.calls };
};
const allowAll = () => createSsrfPolicy({ allowAll: true, lookup: fakeDns(DNS).lookup });

function refused(r: SsrfResult | SsrfAddressResult, code: SsrfRefusal['code'] = 'SSRF_REFUSED'): SsrfRefusal {
  if (r.ok) throw new Error(`expected a refusal, got ${r.address.address}`);
  expect(r.code).toBe(code);
  expect(r.reason).not.toBe('');
  expect(r.hint).not.toBe('');
  return r;
}

function allowed(r: SsrfResult): SsrfTarget {
  if (!r.ok) throw new Error(`expected a target, got ${r.code}: ${r.reason}`);
  return r;
}

describe('built-in ranges', () => {
  it('are read at start-up without the strict parser, and the strict parser reads each of them the same way', () => {
    expect(builtInRangeProblems()).toEqual([]);
  });
});

describe('schemes', () => {
  const { policy } = restrictive();
  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'ftp://example.com/',
    'dict://example.com:11211/',
    'ldap://example.com/',
    'ws://example.com/',
    'javascript:alert(1)',
    'data:text/plain,hi',
  ])('refuses %s with the reason and no way to allow it', async (url) => {
    const r = refused(await policy.check(url));
    expect(r.reason).toMatch(/^scheme [a-z]+: is refused: only http: and https: URLs can be probed$/);
    expect(r.hint).toMatch(/no setting allows other schemes/);
  });

  it('refuses bad schemes in allow-all mode too, and for proxies', async () => {
    expect(refused(await allowAll().check('file:///etc/passwd')).reason).toMatch(/scheme file:/);
    expect(refused(await allowAll().checkProxy('socks5://proxy.example.com:1080')).reason).toBe(
      'proxy scheme socks5: is refused: only http: and https: proxies can be probed',
    );
  });

  it('accepts http and https, with default ports', async () => {
    const { policy } = restrictive();
    expect(allowed(await policy.check('http://public.example.com/x')).port).toBe(80);
    expect(allowed(await policy.check('HTTPS://PUBLIC.example.com/x')).port).toBe(443);
    expect(allowed(await policy.check('https://public.example.com:8443/')).authority).toBe('public.example.com:8443');
  });
});

describe('bad input', () => {
  const { policy } = restrictive();
  it.each([
    'not a url',
    'http://',
    '//example.com/',
    'http://1.2.3.4.5/',
    'http://256.1.1.1/',
    'http://09.1.1.1/',
    'http://a..b/',
    'http://a*b.example.com/',
    'http://example.com:0/',
  ])('answers BAD_URL for %s', async (url) => {
    expect(refused(await policy.check(url), 'BAD_URL').hint).toMatch(/https:\/\//);
  });

  it.each([
    'example.com',
    'example.com:',
    'example.com:99999',
    'example.com:0',
    '::1:443',
    'user@example.com:443',
    'example.com/x:443',
    '%31%32%37.0.0.1:80',
    '[nonsense]:443',
    ':443',
  ])('answers BAD_URL for the CONNECT target %s', async (target) => {
    expect(refused(await policy.checkConnectTarget(target), 'BAD_URL').hint).toMatch(/host:port/);
  });

  it('does not echo secrets from a bad URL', async () => {
    const r = refused(await policy.check('ht tp://alice:hunter2@x/?token=abcdef123456'), 'BAD_URL');
    expect(r.reason).not.toContain('hunter2');
    expect(r.reason).not.toContain('abcdef123456');
  });
});

describe('cloud metadata and link-local: always refused', () => {
  const everything = '0.0.0.0/0, ::/0, *.example.com, *.corp.example.com, meta.example.com';
  const policies: [string, () => SsrfPolicy][] = [
    ['restrictive', () => restrictive().policy],
    ['allowing everything', () => restrictive(everything).policy],
    ['allow-all', allowAll],
  ];
  const cases: [string, RegExp][] = [
    ['http://169.254.169.254/latest/meta-data/', /^169\.254\.169\.254 is a cloud metadata address: always refused$/],
    ['http://169.254.170.2/v2/credentials', /cloud metadata address \(AWS ECS/],
    ['http://100.100.100.200/latest/meta-data/', /^100\.100\.100\.200 is a cloud metadata address \(Alibaba Cloud\): always refused$/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /^fd00:ec2::254 is a cloud metadata address \(AWS\): always refused$/],
    ['http://168.63.129.16/machine', /Azure WireServer/],
    ['http://metadata.google.internal/computeMetadata/v1/', /^metadata\.google\.internal is a cloud metadata name: always refused$/],
    ['http://METADATA.google.internal./computeMetadata/v1/', /^metadata\.google\.internal is a cloud metadata name/],
    ['http://metadata/computeMetadata/v1/', /^metadata is a cloud metadata name/],
    ['http://169.254.1.1/', /^169\.254\.1\.1 is a link-local address \(169\.254\.0\.0\/16\): always refused$/],
    ['http://[fe80::1]/', /^fe80::1 is a link-local address \(fe80::\/10\): always refused$/],
    ['http://[FE80::1%25eth0]/', /^fe80::1 is a link-local address/],
    ['http://0251.0376.0251.0376/', /^169\.254\.169\.254 is a cloud metadata address/],
    ['http://0xa9fea9fe/', /^169\.254\.169\.254 is a cloud metadata address/],
    ['http://2852039166/', /^169\.254\.169\.254 is a cloud metadata address/],
    [
      'http://[::ffff:169.254.169.254]/',
      /^::ffff:a9fe:a9fe \(IPv4-mapped 169\.254\.169\.254\) is a cloud metadata address: always refused$/,
    ],
    ['http://[::ffff:a9fe:a9fe]/', /^::ffff:a9fe:a9fe \(IPv4-mapped 169\.254\.169\.254\) is a cloud metadata address/],
    ['http://[64:ff9b::169.254.169.254]/', /^64:ff9b::a9fe:a9fe \(NAT64 169\.254\.169\.254\) is a cloud metadata address/],
    ['http://[2002:a9fe:a9fe::1]/', /^2002:a9fe:a9fe::1 \(6to4 169\.254\.169\.254\) is a cloud metadata address/],
    ['http://meta.example.com/', /^meta\.example\.com resolves to 169\.254\.169\.254 is a cloud metadata address: always refused$/],
    ['http://meta.corp.example.com/', /cloud metadata address: always refused$/],
    ['http://zone.example.com/', /resolves to fe80::1 is a link-local address/],
  ];
  for (const [mode, make] of policies) {
    it.each(cases)(`${mode}: refuses %s`, async (url, reason) => {
      const r = refused(await make().check(url));
      expect(r.reason).toMatch(reason);
      expect(r.hint).not.toMatch(/PROBE_ALLOW|169\.254|fd00:ec2|metadata\.google/);
      expect(r.hint).toMatch(/cannot be allowed/);
    });
  }

  it('refuses a metadata name without asking DNS', async () => {
    const { policy, calls } = restrictive();
    for (const host of METADATA_HOSTS) refused(await policy.check(`http://${host}/`));
    expect(calls).toEqual([]);
  });

  it('refuses metadata as a CONNECT target, proxy, redirect hop and socket address', async () => {
    const policy = allowAll();
    expect(refused(await policy.checkConnectTarget('169.254.169.254:80')).reason).toMatch(
      /^CONNECT target 169\.254\.169\.254 is a cloud metadata/,
    );
    expect(refused(await policy.checkConnectTarget('metadata.google.internal:80')).reason).toMatch(
      /^CONNECT target metadata\.google\.internal/,
    );
    expect(refused(await policy.checkConnectTarget('[fe80::1%eth0]:443')).reason).toMatch(/^CONNECT target fe80::1 is a link-local/);
    expect(refused(await policy.checkProxy('http://169.254.169.254:3128')).reason).toMatch(/^proxy 169\.254\.169\.254 is a cloud metadata/);
    expect(refused(await policy.checkRedirect('http://169.254.169.254/latest/', 'https://public.example.com/')).reason).toMatch(
      /^redirect target 169\.254\.169\.254 is a cloud metadata/,
    );
    expect(refused(policy.checkAddress('::ffff:169.254.169.254')).reason).toMatch(/cloud metadata/);
  });

  it('names the metadata answer among several, whatever the order', async () => {
    const r = refused(await restrictive('10.0.0.0/8').policy.check('http://metamix.example.com/'));
    expect(r.reason).toMatch(/169\.254\.169\.254 is a cloud metadata address: always refused/);
  });
});

describe('non-public addresses: refused unless PROBE_ALLOW allows them', () => {
  const cases: [string, RegExp, string][] = [
    ['127.0.0.1', /^127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\): refused$/, '127.0.0.0/8'],
    ['127.255.255.254', /loopback/, '127.0.0.0/8'],
    ['[::1]', /^::1 is a loopback address: refused$/, '::1'],
    ['10.1.2.3', /^10\.1\.2\.3 is a private address \(10\.0\.0\.0\/8\): refused$/, '10.0.0.0/8'],
    ['172.16.0.1', /private address \(172\.16\.0\.0\/12\)/, '172.16.0.0/12'],
    ['172.31.255.255', /private/, '172.16.0.0/12'],
    ['192.168.1.1', /private address \(192\.168\.0\.0\/16\)/, '192.168.0.0/16'],
    ['[fc00::1]', /private address \(fc00::\/7\)/, 'fc00::/7'],
    ['[fd12:3456::1]', /private/, 'fc00::/7'],
    ['[fec0::1]', /site-local/, 'fec0::/10'],
    ['100.64.0.1', /carrier-grade NAT \(shared\) address \(100\.64\.0\.0\/10\)/, '100.64.0.0/10'],
    ['100.127.255.255', /carrier-grade NAT/, '100.64.0.0/10'],
    ['0.0.0.0', /"this network" address \(0\.0\.0\.0\/8\)/, '0.0.0.0/8'],
    ['0.1.2.3', /"this network"/, '0.0.0.0/8'],
    ['[::]', /^:: is the unspecified address: refused$/, '::'],
    ['224.0.0.1', /multicast address \(224\.0\.0\.0\/4\)/, '224.0.0.0/4'],
    ['239.255.255.250', /multicast/, '224.0.0.0/4'],
    ['[ff02::1]', /multicast address \(ff00::\/8\)/, 'ff00::/8'],
    ['255.255.255.255', /^255\.255\.255\.255 is the broadcast address: refused$/, '255.255.255.255'],
    ['240.0.0.1', /reserved address \(240\.0\.0\.0\/4\)/, '240.0.0.0/4'],
    ['192.0.0.8', /IETF protocol assignments/, '192.0.0.0/24'],
    ['192.88.99.1', /6to4 relay/, '192.88.99.0/24'],
    ['198.18.0.1', /benchmarking address \(198\.18\.0\.0\/15\)/, '198.18.0.0/15'],
    ['198.19.255.255', /benchmarking/, '198.18.0.0/15'],
    ['[2001:2::1]', /benchmarking/, '2001:2::/48'],
    ['192.0.2.1', /documentation address \(192\.0\.2\.0\/24\)/, '192.0.2.0/24'],
    ['198.51.100.1', /documentation/, '198.51.100.0/24'],
    ['203.0.113.1', /documentation/, '203.0.113.0/24'],
    ['[2001:db8::1]', /documentation address \(2001:db8::\/32\)/, '2001:db8::/32'],
    ['[3fff::1]', /documentation/, '3fff::/20'],
    ['[100::1]', /discard-only/, '100::/64'],
    ['[2001:10::1]', /ORCHID/, '2001:10::/28'],
    ['[4000::1]', /not global unicast/, '4000::1'],
    ['[64:ff9b:1::1]', /local-use NAT64/, '64:ff9b:1::/48'],
    ['[::ffff:127.0.0.1]', /^::ffff:7f00:1 \(IPv4-mapped 127\.0\.0\.1\) is a loopback address/, '127.0.0.0/8'],
    ['[::ffff:7f00:1]', /^::ffff:7f00:1 \(IPv4-mapped 127\.0\.0\.1\) is a loopback address/, '127.0.0.0/8'],
    ['[::127.0.0.1]', /^::7f00:1 \(IPv4-compatible 127\.0\.0\.1\) is a loopback address/, '127.0.0.0/8'],
    ['[::8.8.8.8]', /deprecated IPv4-compatible/, '::/96'],
    ['[64:ff9b::10.0.0.1]', /^64:ff9b::a00:1 \(NAT64 10\.0\.0\.1\) is a private address \(10\.0\.0\.0\/8\)/, '10.0.0.0/8'],
    ['[2002:0a00:0001::]', /^2002:a00:1:: \(6to4 10\.0\.0\.1\) is a private address/, '10.0.0.0/8'],
    ['[2001:0:4136:e378:8000:63bf:f5ff:fffe]', /\(Teredo 10\.0\.0\.1\) is a private address/, '10.0.0.0/8'],
  ];

  it.each(cases)('refuses %s, and says which range to allow', async (host, reason, allowEntry) => {
    const r = refused(await restrictive().policy.check(`http://${host}/`));
    expect(r.reason).toMatch(reason);
    expect(r.hint).toMatch(/^if the bot should reach it, an admin can add .* to PROBE_ALLOW$/);
    expect(r.hint).toContain(allowEntry);
    expect(allowed(await restrictive(allowEntry).policy.check(`http://${host}/`)).host).not.toBe('');
    expect(allowed(await allowAll().check(`http://${host}/`)).host).not.toBe('');
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '169.253.255.255',
    '[2606:4700::1111]',
    '[64:ff9b::8.8.8.8]',
    '[2002:0808:0808::1]',
    '[::ffff:8.8.8.8]',
  ])('allows the public address %s', async (host) => {
    expect(allowed(await restrictive().policy.check(`http://${host}/`)).addresses).toHaveLength(1);
  });

  it('allows only what the CIDR covers', async () => {
    const { policy } = restrictive('10.0.0.0/8, fd00::/8, 192.168.1.10');
    expect(allowed(await policy.check('http://10.200.0.1/')).address).toEqual({ address: '10.200.0.1', family: 4 });
    expect(allowed(await policy.check('http://[fd00::5]/')).address).toEqual({ address: 'fd00::5', family: 6 });
    expect(allowed(await policy.check('http://192.168.1.10/')).host).toBe('192.168.1.10');
    refused(await policy.check('http://192.168.1.11/'));
    refused(await policy.check('http://[fc00::5]/'));
    refused(await policy.check('http://127.0.0.1/'));
  });

  it('suggests the host name first for a name', async () => {
    const r = refused(await restrictive().policy.check('http://internal.example.com/'));
    expect(r.reason).toBe('internal.example.com resolves to 10.1.2.3 is a private address (10.0.0.0/8): refused');
    expect(r.hint).toBe('if the bot should reach internal.example.com, an admin can add internal.example.com or 10.0.0.0/8 to PROBE_ALLOW');
  });
});

describe('IPv4 encodings and host normalisation', () => {
  // What WHATWG URL (node's URL) makes of each host: checked here so a change in node shows up.
  const loopbacks: [string, string][] = [
    ['0x7f.1', '127.0.0.1'],
    ['0X7F.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0x7f.0x0.0x0.0x1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
    ['[::FFFF:7F00:1]', '[::ffff:7f00:1]'],
  ];

  it.each(loopbacks)('URL reads %s as %s, and the policy refuses it as loopback', async (host, hostname) => {
    expect(new URL(`http://${host}/`).hostname).toBe(hostname);
    expect(refused(await restrictive().policy.check(`http://${host}:8080/`)).reason).toMatch(/127\.0\.0\.1\)? is a loopback address/);
  });

  it.each(loopbacks)('a CONNECT target %s:443 that never goes through URL is normalised too', async (host) => {
    const r = refused(await restrictive().policy.checkConnectTarget(`${host}:443`));
    expect(r.reason).toMatch(/^CONNECT target .*127\.0\.0\.1\)? is a loopback address/);
  });

  it.each(['0x7f.1', '2130706433', '017700000001', '::ffff:7f00:1', '[::ffff:127.0.0.1]', '127.0.0.1'])(
    'checkAddress unwraps %s',
    (address) => {
      expect(refused(restrictive().policy.checkAddress(address)).reason).toMatch(/127\.0\.0\.1\)? is a loopback address/);
    },
  );

  it('pins an IPv4-mapped address as the IPv4 it carries', async () => {
    const t = allowed(await allowAll().check('http://[::ffff:127.0.0.1]:8080/'));
    expect(t.address).toEqual({ address: '127.0.0.1', family: 4 });
    expect(t.host).toBe('::ffff:7f00:1');
    expect(t.authority).toBe('[::ffff:7f00:1]:8080');
    expect(t.pinnedAuthority).toBe('127.0.0.1:8080');
  });

  it('normalises case, trailing dots and IDN in names', async () => {
    const dns = fakeDns({ 'public.example.com': ['93.184.216.34'], 'xn--bcher-kva.example': ['93.184.216.35'] });
    const policy = createSsrfPolicy({ lookup: dns.lookup });
    expect(allowed(await policy.check('http://Public.EXAMPLE.com./')).host).toBe('public.example.com');
    expect(allowed(await policy.checkConnectTarget('PUBLIC.example.com.:443')).authority).toBe('public.example.com:443');
    expect(allowed(await policy.checkConnectTarget('bücher.example:443')).host).toBe('xn--bcher-kva.example');
    expect(dns.calls).toEqual(['public.example.com', 'public.example.com', 'xn--bcher-kva.example']);
  });

  it('takes a zone id off a bracketed IPv6 host, and refuses one on an address that is not link-local', async () => {
    expect(() => new URL('http://[fe80::1%25eth0]/')).toThrow();
    expect(refused(await allowAll().check('http://[fe80::1%25eth0]/')).reason).toMatch(/^fe80::1 is a link-local/);
    expect(refused(await allowAll().check('http://[2606:4700::1111%25eth0]/'), 'BAD_URL').reason).toMatch(/zone id/);
    expect(refused(await allowAll().checkConnectTarget('[2606:4700::1111%eth0]:443'), 'BAD_URL').reason).toMatch(/zone id/);
  });
});

describe('DNS: resolve once, check every answer, pin', () => {
  it('pins a public answer and never resolves again', async () => {
    const { policy, calls } = restrictive();
    const t = allowed(await policy.check('https://dual.example.com/'));
    expect(t.addresses).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
    expect(t.address).toEqual({ address: '93.184.216.34', family: 4 });
    expect(t.pinnedAuthority).toBe('93.184.216.34:443');
    expect(calls).toEqual(['dual.example.com']);
  });

  it('refuses a name if any answer is forbidden (mixed answers are a rebinding sign)', async () => {
    const r = refused(await restrictive().policy.check('http://mixed.example.com/'));
    expect(r.reason).toBe(
      'mixed.example.com resolves to 93.184.216.34, 10.0.0.7, and 10.0.0.7 is a private address (10.0.0.0/8): refused (one forbidden answer refuses the name: mixed answers are a DNS rebinding sign)',
    );
  });

  it('checks an IPv4-mapped answer as IPv4', async () => {
    expect(refused(await restrictive().policy.check('http://mapped.example.com/')).reason).toMatch(
      /IPv4-mapped 10\.0\.0\.1\) is a private/,
    );
  });

  it('answers DNS_FAILED when the name does not resolve, resolves to nothing or to garbage', async () => {
    const { policy } = restrictive();
    expect(refused(await policy.check('http://nx.example.com/'), 'DNS_FAILED').reason).toBe('nx.example.com does not resolve (ENOTFOUND)');
    expect(refused(await policy.check('http://nx.example.com/'), 'DNS_FAILED').hint).toMatch(/dig nx\.example\.com/);
    expect(refused(await policy.check('http://empty.example.com/'), 'DNS_FAILED').reason).toMatch(/no addresses/);
    expect(refused(await policy.check('http://garbage.example.com/'), 'DNS_FAILED').reason).toMatch(/not an IP address/);
  });

  it('does not resolve an IP literal', async () => {
    const { policy, calls } = restrictive();
    allowed(await policy.check('http://93.184.216.34/'));
    expect(calls).toEqual([]);
  });

  it('honours an AbortSignal during the lookup', async () => {
    const never: Resolve = () => new Promise(() => {});
    const policy = createSsrfPolicy({ lookup: never });
    const ac = new AbortController();
    const pending = policy.check('http://slow.example.com/', { signal: ac.signal });
    ac.abort();
    expect(refused(await pending, 'DNS_FAILED').reason).toMatch(/aborted/);
    expect(refused(await policy.check('http://slow.example.com/', { signal: AbortSignal.abort() }), 'DNS_FAILED').reason).toMatch(
      /aborted/,
    );
  });

  it('keeps the pin when DNS changes its answer afterwards (rebinding)', async () => {
    let n = 0;
    const rebinding: Resolve = async () => [{ address: n++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    const t = allowed(await createSsrfPolicy({ lookup: rebinding }).check('http://rebind.example.com/'));
    const viaLookup = await new Promise<unknown[]>((resolve) => t.lookup('rebind.example.com', {}, (...args) => resolve(args)));
    expect(viaLookup).toEqual([null, '93.184.216.34', 4]);
    expect(n).toBe(1);
  });
});

describe('the pinned lookup', () => {
  const target = async () => allowed(await restrictive().policy.check('https://dual.example.com/'));

  it('answers in both forms node uses (single, and all: true for autoSelectFamily)', async () => {
    const t = await target();
    const one = await new Promise<unknown[]>((resolve) => t.lookup('dual.example.com', { family: 0 }, (...a) => resolve(a)));
    expect(one).toEqual([null, '93.184.216.34', 4]);
    const all = await new Promise<unknown[]>((resolve) => t.lookup('DUAL.example.com.', { all: true }, (...a) => resolve(a)));
    expect(all).toEqual([null, [{ address: '93.184.216.34', family: 4 }]]);
  });

  it('fails for a name it was not pinned for', async () => {
    const t = await target();
    const [err] = await new Promise<unknown[]>((resolve) => t.lookup('other.example.com', {}, (...a) => resolve(a)));
    expect((err as NodeJS.ErrnoException).code).toBe('ERR_SSRF_UNPINNED');
  });

  describe('with node:http', () => {
    let close: (() => void) | undefined;
    afterEach(() => close?.());

    it('connects to the pinned address for a name DNS does not know', async () => {
      const server = createServer((_req, res) => res.end('pinned'));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      close = () => server.close();
      const { port } = server.address() as AddressInfo;
      const policy = createSsrfPolicy({ allowAll: true, lookup: fakeDns({ 'app.invalid': ['127.0.0.1'] }).lookup });
      const t = allowed(await policy.check(`http://app.invalid:${port}/`));
      const body = await new Promise<string>((resolve, reject) => {
        get(t.url!, { lookup: t.lookup }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('pinned');
    });
  });
});

describe('host patterns', () => {
  const { policy } = restrictive('internal.example.com, *.corp.example.com');

  it('lets an exact name resolve to a private address, and not its subdomains', async () => {
    expect(allowed(await policy.check('http://INTERNAL.example.com./')).address.address).toBe('10.1.2.3');
    refused(await policy.check('http://sub.internal.example.com/'));
  });

  it('lets a wildcard match subdomains at any depth, but not the apex or a look-alike', async () => {
    allowed(await policy.check('http://a.corp.example.com/'));
    allowed(await policy.check('http://a.b.corp.example.com/'));
    refused(await policy.check('http://corp.example.com/'));
    refused(await policy.check('http://evilcorp.example.com/'));
  });

  it('does not allow metadata, and does not allow IP literals', async () => {
    expect(refused(await policy.check('http://meta.corp.example.com/')).reason).toMatch(/cloud metadata address: always refused/);
    refused(await policy.check('http://10.1.2.3/'));
  });
});

describe('redirects, proxies and CONNECT targets', () => {
  const { policy } = restrictive();

  it('checks each redirect hop, resolving a relative Location', async () => {
    const t = allowed(await policy.checkRedirect('/login?next=1', 'https://public.example.com/a/b'));
    expect(t.url?.href).toBe('https://public.example.com/login?next=1');
    expect(refused(await policy.checkRedirect('http://10.0.0.1/admin', 'https://public.example.com/')).reason).toBe(
      'redirect target 10.0.0.1 is a private address (10.0.0.0/8): refused',
    );
    expect(refused(await policy.checkRedirect('gopher://public.example.com/', 'https://public.example.com/')).reason).toMatch(
      /^redirect target scheme gopher:/,
    );
    expect(refused(await policy.checkRedirect('http://[', 'https://public.example.com/'), 'BAD_URL').reason).toMatch(/Location/);
  });

  it('checks the proxy like a URL, and PROBE_ALLOW can allow an internal proxy', async () => {
    const r = refused(await policy.checkProxy('http://user:secret@10.0.0.5:3128'));
    expect(r.reason).toBe('proxy 10.0.0.5 is a private address (10.0.0.0/8): refused');
    expect(r.hint).toContain('PROBE_ALLOW');
    const t = allowed(await restrictive('10.0.0.5').policy.checkProxy('http://10.0.0.5:3128'));
    expect(t.pinnedAuthority).toBe('10.0.0.5:3128');
  });

  it('checks the CONNECT target and gives both authorities', async () => {
    const t = allowed(await policy.checkConnectTarget('public.example.com:443'));
    expect([t.authority, t.pinnedAuthority, t.url]).toEqual(['public.example.com:443', '93.184.216.34:443', undefined]);
    const v6 = allowed(await policy.checkConnectTarget('[2606:4700:0::1111]:443'));
    expect([v6.authority, v6.pinnedAuthority]).toEqual(['[2606:4700::1111]:443', '[2606:4700::1111]:443']);
    expect(refused(await policy.checkConnectTarget('[::1]:22')).reason).toBe('CONNECT target ::1 is a loopback address: refused');
    expect(refused(await policy.checkConnectTarget('internal.example.com:5432')).reason).toMatch(
      /^CONNECT target internal\.example\.com resolves to 10\.1\.2\.3/,
    );
  });

  it('checks a connected socket address', () => {
    expect(policy.checkAddress('93.184.216.34')).toEqual({ ok: true, address: { address: '93.184.216.34', family: 4 } });
    refused(policy.checkAddress('10.0.0.1'));
    refused(policy.checkAddress('not-an-ip'), 'BAD_URL');
  });
});

describe('parseProbeAllow', () => {
  it('accepts CIDRs, addresses and host patterns, separated by commas or white space', () => {
    const r = parseProbeAllow(' 10.0.0.0/8,fd00::/8\n192.168.1.10 ,, ::1, internal.example.com, *.corp.example.com, Bücher.example, ');
    expect('policy' in r).toBe(true);
    expect(parseProbeAllow('')).toHaveProperty('policy');
  });

  it('reports every bad item with its fix, at once', () => {
    const bad: [string, RegExp][] = [
      ['10.0.0.1/8', /has host bits set: write 10\.0\.0\.0\/8$/],
      ['10.0.0.0/33', /IPv4 prefix is 0 to 32/],
      ['fd00::/129', /IPv6 prefix is 0 to 128/],
      ['10.0.0.0/x', /bad prefix length/],
      ['10.0.0/8', /is not a CIDR/],
      ['0x7f.1', /write it as 127\.0\.0\.1$/],
      ['127.1', /write it as 127\.0\.0\.1$/],
      ['1.2.3.4.5', /not a valid IPv4 address or host name/],
      ['http://internal.example.com/x', /is a URL: write only the host, internal\.example\.com$/],
      ['internal.example.com:8080', /has a port: write only the host, internal\.example\.com$/],
      ['[fd00::1]', /has brackets: write fd00::1$/],
      ['fe80::1%eth0', /zone id/],
      ['*', /leading "\*\." label/],
      ['foo.*.example.com', /leading "\*\." label/],
      ['*.com', /too broad/],
      ['bad_host!', /not a valid host name/],
      ['169.254.169.254', /cloud metadata address, which is always refused: remove it$/],
      ['169.254.0.0/16', /link-local address, which is always refused: remove it$/],
      ['169.254.169.0/24', /link-local address, which is always refused/],
      ['fd00:ec2::254', /cloud metadata address \(AWS\), which is always refused/],
      ['fe80::/10', /link-local address, which is always refused/],
      ['0xa9fea9fe', /cloud metadata address, which is always refused/],
      ['metadata.google.internal', /cloud metadata name, which is always refused: remove it$/],
    ];
    const r = parseProbeAllow(['10.0.0.0/8', ...bad.map(([item]) => item)].join(','));
    if (!('problems' in r)) throw new Error('expected problems');
    expect(r.problems).toHaveLength(bad.length);
    bad.forEach(([item, fix], i) => {
      expect(r.problems[i]).toContain(`PROBE_ALLOW: "${item}"`);
      expect(r.problems[i]).toMatch(fix);
    });
  });

  it('allows a CIDR that merely contains metadata, which stays refused', async () => {
    const r = parseProbeAllow('0.0.0.0/0, 100.64.0.0/10', { lookup: fakeDns(DNS).lookup });
    if (!('policy' in r)) throw new Error(r.problems.join('\n'));
    allowed(await r.policy.check('http://100.100.100.199/'));
    refused(await r.policy.check('http://100.100.100.200/'));
    refused(await r.policy.check('http://169.254.169.254/'));
  });

  it('createSsrfPolicy throws CONFIG_INVALID with every problem', () => {
    let err: unknown;
    try {
      createSsrfPolicy({ allow: '10.0.0.1/8, *.com' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TriageError);
    expect((err as TriageError).code).toBe('CONFIG_INVALID');
    expect((err as TriageError).details).toHaveLength(2);
  });
});

describe('modes and defaults', () => {
  it('is restrictive with no allowance by default', () => {
    expect(SSRF_DEFAULTS.allowAll).toBe(false);
    expect(SSRF_DEFAULTS.allow).toBe('');
    expect(createSsrfPolicy().allowAll).toBe(false);
  });

  it('allow-all allows private and loopback addresses, still pinned, and ignores PROBE_ALLOW', async () => {
    const policy = createSsrfPolicy({ allowAll: true, allow: '192.168.0.0/16', lookup: fakeDns(DNS).lookup });
    expect(policy.allowAll).toBe(true);
    expect(allowed(await policy.check('http://loop.example.com/')).address).toEqual({ address: '127.0.0.1', family: 4 });
    expect(allowed(await policy.check('http://mixed.example.com/')).addresses).toHaveLength(2);
    allowed(await policy.checkConnectTarget('10.0.0.1:22'));
    refused(await policy.check('http://meta.example.com/'));
  });

  it('uses the real resolver: localhost is loopback', async () => {
    const r = refused(await createSsrfPolicy().check('http://localhost:8080/'));
    expect(r.reason).toMatch(/^localhost resolves to .*(127\.0\.0\.1|::1).* is a loopback address/);
    expect(r.hint).toMatch(/an admin can add localhost or/);
    const t = allowed(await createSsrfPolicy({ allowAll: true }).check('http://localhost:8080/'));
    expect(['127.0.0.1', '::1']).toContain(t.address.address);
    expect(allowed(await createSsrfPolicy({ allow: 'localhost' }).check('http://localhost/')).host).toBe('localhost');
  });
});
