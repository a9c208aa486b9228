import { describe, expect, it } from 'vitest';
import { parseDiagnoseCommand, unwrapSlackLinks } from '../../src/slack/command.js';

describe('parseDiagnoseCommand', () => {
  it('shows usage for nothing or help', () => {
    for (const t of ['', '  ', 'help', 'HELP', '--help', '?']) expect(parseDiagnoseCommand(t).kind).toBe('help');
  });

  it('unwraps Slack link markup and reads the flags', () => {
    expect(
      parseDiagnoseCommand(
        '<https://api.example.com/health|api.example.com/health> --proxy <http://proxy.corp:3128> --upstream 10.0.3.4:8080 --header "Authorization: Bearer abc" --from eu-west,DMZ',
      ),
    ).toEqual({
      kind: 'diagnose',
      input: {
        url: 'https://api.example.com/health',
        proxy: 'http://proxy.corp:3128',
        upstream: '10.0.3.4:8080',
        headers: ['Authorization: Bearer abc'],
      },
      pools: ['eu-west', 'dmz'],
    });
  });

  it('explains anything that is not a URL followed by flags', () => {
    const text = '2024/03/01 [error] connect() failed (111: Connection refused) while connecting to upstream';
    expect(parseDiagnoseCommand(text)).toEqual({ kind: 'explain', text });
    expect(parseDiagnoseCommand('https://x.example.com returns 502 since noon').kind).toBe('explain');
  });

  it('says what is wrong with a flag', () => {
    expect(parseDiagnoseCommand('https://x.example.com --proxy')).toEqual({
      kind: 'error',
      message: expect.stringMatching(/--proxy needs a value/),
    });
    expect(parseDiagnoseCommand('https://x.example.com --frobnicate 1')).toEqual({
      kind: 'error',
      message: expect.stringMatching(/unknown option --frobnicate/),
    });
    expect(parseDiagnoseCommand('https://x.example.com --from "bad pool!"').kind).toBe('error');
  });

  it('unwraps only http(s) and mailto links', () => {
    expect(unwrapSlackLinks('see <https://a.example/b|here> and <@U0123ABC>')).toBe('see https://a.example/b and <@U0123ABC>');
  });
});
