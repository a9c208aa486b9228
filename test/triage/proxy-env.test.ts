import { describe, expect, it } from 'vitest';
import { noProxyMatches, proxyFromEnv } from '../../src/triage/proxy-env.js';

const u = (s: string) => new URL(s);

describe('proxyFromEnv: the variables as curl reads them', () => {
  it('https:// takes https_proxy, else HTTPS_PROXY, else all_proxy / ALL_PROXY', () => {
    expect(proxyFromEnv(u('https://a.example/'), { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' })).toEqual({
      proxy: 'http://low:1',
      from: 'https_proxy',
    });
    expect(proxyFromEnv(u('https://a.example/'), { HTTPS_PROXY: 'http://up:2' })).toEqual({ proxy: 'http://up:2', from: 'HTTPS_PROXY' });
    expect(proxyFromEnv(u('https://a.example/'), { ALL_PROXY: 'http://all:3' })).toEqual({ proxy: 'http://all:3', from: 'ALL_PROXY' });
    expect(proxyFromEnv(u('https://a.example/'), { all_proxy: 'http://a:3', ALL_PROXY: 'http://b:3' })).toMatchObject({
      from: 'all_proxy',
    });
  });

  it('http:// takes http_proxy only: HTTP_PROXY is ignored, as curl ignores it, and the answer says so', () => {
    expect(proxyFromEnv(u('http://a.example/'), { http_proxy: 'http://p:1' })).toEqual({ proxy: 'http://p:1', from: 'http_proxy' });
    expect(proxyFromEnv(u('http://a.example/'), { HTTP_PROXY: 'http://p:1' })).toEqual({
      note: 'HTTP_PROXY is ignored, as curl ignores it (set http_proxy)',
    });
    expect(proxyFromEnv(u('http://a.example/'), { https_proxy: 'http://p:1' })).toEqual({});
  });

  it('a lower-case variable set empty means no proxy, and stops the search', () => {
    expect(proxyFromEnv(u('https://a.example/'), { https_proxy: '', HTTPS_PROXY: 'http://up:2' })).toEqual({});
  });

  it('no_proxy (lower case first) sends matching hosts direct, saying why', () => {
    const env = { https_proxy: 'http://p:1', no_proxy: '.example.com', NO_PROXY: '*' };
    expect(proxyFromEnv(u('https://api.example.com/'), env)).toEqual({ from: 'no_proxy', bypass: 'no_proxy matches api.example.com' });
    expect(proxyFromEnv(u('https://other.test/'), env)).toEqual({ proxy: 'http://p:1', from: 'https_proxy' });
    expect(proxyFromEnv(u('https://other.test/'), { https_proxy: 'http://p:1', NO_PROXY: '*' })).toMatchObject({
      bypass: 'NO_PROXY matches other.test',
    });
  });
});

describe('noProxyMatches: curl’s rules', () => {
  it('`*` alone matches everything; `*` inside a list is only a name', () => {
    expect(noProxyMatches('anything.example', '*')).toBe(true);
    expect(noProxyMatches('anything.example', 'a.test, *')).toBe(false);
  });
  it('a name matches itself and the names below it, not a longer name ending the same', () => {
    expect(noProxyMatches('example.com', 'example.com')).toBe(true);
    expect(noProxyMatches('api.example.com', 'example.com')).toBe(true);
    expect(noProxyMatches('api.example.com', '.example.com')).toBe(true);
    expect(noProxyMatches('notexample.com', 'example.com')).toBe(false);
    expect(noProxyMatches('API.Example.COM.', 'example.com.')).toBe(true);
    expect(noProxyMatches('a.test', ' b.test ,, a.test')).toBe(true);
  });
  it('an address matches an address or a CIDR range of its family, never a name', () => {
    expect(noProxyMatches('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(noProxyMatches('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(noProxyMatches('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(noProxyMatches('127.0.0.1', 'localhost')).toBe(false);
    expect(noProxyMatches('[fd00::5]', 'fd00::/8')).toBe(true);
    expect(noProxyMatches('[::1]', '::1')).toBe(true);
    expect(noProxyMatches('[2001:db8::1]', '10.0.0.0/8, fd00::/8')).toBe(false);
    expect(noProxyMatches('[::ffff:10.0.0.1]', '::ffff:10.0.0.0/104')).toBe(true);
  });
});
