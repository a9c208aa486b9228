import { describe, expect, it } from 'vitest';
import { parseDiagnoseCommand } from '../../src/slack/command.js';
import { decodeSlackText } from '../../src/slack/inbound.js';

/** The command as Slack sends it, decoded at the edge. */
const parse = (wire: string) => parseDiagnoseCommand(decodeSlackText(wire));

describe('parseDiagnoseCommand', () => {
  it('shows usage for nothing or help', () => {
    for (const t of ['', '  ', 'help', 'HELP', '--help', '?']) expect(parse(t).kind).toBe('help');
  });

  it('reads links in Slack markup and the flags', () => {
    expect(
      parse(
        '<https://api.example.com/health?a=1&amp;b=2|api.example.com/health?a=1&amp;b=2> --proxy <http://proxy.corp:3128> --upstream 10.0.3.4:8080 --header "Authorization: Bearer abc" --from eu-west,DMZ',
      ),
    ).toEqual({
      kind: 'diagnose',
      input: {
        url: 'https://api.example.com/health?a=1&b=2',
        proxy: 'http://proxy.corp:3128',
        upstream: '10.0.3.4:8080',
        headers: ['Authorization: Bearer abc'],
      },
      pools: ['eu-west', 'dmz'],
    });
  });

  it('reads an escaped URL as typed (should_escape off: no angle brackets)', () => {
    expect(parse('https://api.example.com/v1/orders?page=2&amp;limit=50')).toMatchObject({
      kind: 'diagnose',
      input: { url: 'https://api.example.com/v1/orders?page=2&limit=50' },
    });
  });

  it('probes a host Slack linked at the URL Slack gave it', () => {
    expect(parse('<http://api.example.com|api.example.com> --proxy <http://proxy.corp:3128|proxy.corp:3128>')).toMatchObject({
      kind: 'diagnose',
      input: { url: 'http://api.example.com', proxy: 'http://proxy.corp:3128' },
    });
  });

  it('explains anything that is not a URL followed by flags, decoded', () => {
    const text = '2024/03/01 [error] connect() failed (111: Connection refused) while connecting to upstream';
    expect(parse(text)).toEqual({ kind: 'explain', text });
    expect(parse('&gt; GET /api HTTP/1.1\n&lt; HTTP/1.1 502 Bad Gateway')).toEqual({
      kind: 'explain',
      text: '> GET /api HTTP/1.1\n< HTTP/1.1 502 Bad Gateway',
    });
    expect(parse('https://x.example.com returns 502 since noon').kind).toBe('explain');
  });

  it('says what is wrong with a flag', () => {
    expect(parse('https://x.example.com --proxy')).toEqual({
      kind: 'error',
      message: expect.stringMatching(/--proxy needs a value/),
    });
    expect(parse('https://x.example.com --frobnicate 1')).toEqual({
      kind: 'error',
      message: expect.stringMatching(/unknown option --frobnicate/),
    });
    expect(parse('https://x.example.com --from "bad pool!"').kind).toBe('error');
  });
});
