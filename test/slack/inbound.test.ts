import { describe, expect, it } from 'vitest';
import { chatView, decodeSlackText, readInbound } from '../../src/slack/inbound.js';
import { typedToRichText, typedToWire } from '../support/slack-wire.js';

describe('decodeSlackText: what Slack sends back to what was typed, once', () => {
  it('decodes &amp; &lt; &gt; exactly once', () => {
    expect(decodeSlackText('a &amp;&amp; b &lt;tag&gt; &amp;lt; &amp;amp;').text).toBe('a && b <tag> &lt; &amp;');
  });

  it('keeps what only looks like an entity: a query string, a bare ampersand', () => {
    expect(decodeSlackText('x?a=1&timestamp=2&copy=3 & more').text).toBe('x?a=1&timestamp=2&copy=3 & more');
  });

  it('recovers what an integration HTML-escaped beyond Slack (&#39; &quot;)', () => {
    expect(decodeSlackText('host=&#39;orders&#39; said &quot;no&quot;').text).toBe(`host='orders' said "no"`);
  });

  it('resolves links: a typed URL, a typed host, a labelled link, mailto, & inside the URL', () => {
    const d = decodeSlackText(
      'see <https://x.io/a?p=2&amp;l=50> on <http://api.example.com|api.example.com> and <https://wiki/x|the runbook>, mail <mailto:ops@example.com|ops@example.com>',
    );
    expect(d.text).toBe('see https://x.io/a?p=2&l=50 on api.example.com and the runbook (https://wiki/x), mail ops@example.com');
    expect(d.plain).toBe('see https://x.io/a?p=2&l=50 on api.example.com and the runbook, mail ops@example.com');
    expect(d.links.map((l) => l.url)).toEqual([
      'https://x.io/a?p=2&l=50',
      'http://api.example.com',
      'https://wiki/x',
      'mailto:ops@example.com',
    ]);
  });

  it('resolves mentions, channels, broadcasts, user groups and dates', () => {
    const d = decodeSlackText(
      '<@U123> <@U9|ana> in <#C1|ops> <#C2> <!here> <!channel> <!subteam^S1|@oncall> <!subteam^S2> <!date^1392734382^{date_short}|Feb 18, 2014> <!date^0^{date}>',
    );
    expect(d.text).toBe('@U123 @ana in #ops #C2 @here @channel @oncall @S2 Feb 18, 2014 1970-01-01T00:00:00.000Z');
    expect(d.users).toEqual(['U123', 'U9']);
  });

  it("drops the bot's own mention when asked", () => {
    expect(decodeSlackText('<@U0BOT> why 502?', { dropUser: 'U0BOT' }).text).toBe(' why 502?');
  });

  it("round-trips what a person typed through Slack's escaping", () => {
    const typed = [
      '> GET /api?x=1&y=2 HTTP/1.1',
      '< HTTP/1.1 502 Bad Gateway',
      'a && b || c <tag> &amp; done',
      'see https://shop.example.com/a?b=1&c=2.',
    ].join('\n');
    const wire = typedToWire(typed);
    expect(wire).not.toContain('> GET');
    expect(decodeSlackText(wire).text).toBe(typed.replace('https://shop.example.com', 'https://shop.example.com'));
  });
});

describe('readInbound', () => {
  it('reads a message as typed, and an edit with its previous version', () => {
    const typed = 'curl says &lt; HTTP/1.1 502';
    const m = readInbound({
      type: 'message',
      user: 'U1',
      channel: 'D1',
      channel_type: 'im',
      ts: '1.1',
      text: typedToWire(typed),
      blocks: [typedToRichText(typed)],
    });
    expect(m).toMatchObject({ channel: 'D1', channelType: 'im', user: 'U1', ts: '1.1', edited: false, text: typed });
    const e = readInbound({
      type: 'message',
      subtype: 'message_changed',
      channel: 'D1',
      channel_type: 'im',
      message: { type: 'message', user: 'U1', text: 'new &amp; improved', ts: '1.1', edited: { user: 'U1', ts: '2.2' } },
      previous_message: { type: 'message', user: 'U1', text: 'old', ts: '1.1' },
    });
    expect(e).toMatchObject({ edited: true, text: 'new & improved', ts: '1.1', channel: 'D1', previous: { text: 'old' } });
  });

  it('reads rich_text elements raw when the message has no text', () => {
    const m = readInbound({ type: 'message', user: 'U1', text: '', blocks: [typedToRichText('a < b & c\n```x > y```')] });
    expect(m.text).toContain('a < b & c');
    expect(m.text).toContain('x > y');
  });

  it('never throws, whatever it is given', () => {
    for (const odd of [
      undefined,
      null,
      7,
      'x',
      [],
      { subtype: 'message_changed', message: 5 },
      { text: { a: 1 }, files: 'x', blocks: 'y' },
    ])
      expect(() => readInbound(odd)).not.toThrow();
  });
});

describe('chatView', () => {
  it('normalises colours as Slack stores them and decodes every part once', () => {
    const v = chatView({
      bot_id: 'B1',
      username: 'AlertManager',
      attachments: [
        {
          color: 'good',
          title: '[RESOLVED] X &amp; Y',
          text: 'upstream: &quot;http://a/b?c=1&amp;d=2&quot;',
          fields: [{ title: 'Host', value: '<http://web-1|web-1>' }],
        },
        { color: '#D63232', title: 't' },
        { color: '2eb886', title: 'u' },
      ],
    });
    expect(v.colors).toEqual(['2eb886', 'd63232', '2eb886']);
    expect(v.parts.map((p) => p.text)).toEqual(['[RESOLVED] X & Y', 'upstream: "http://a/b?c=1&d=2"', 'Host: web-1', 't', 'u']);
    expect(v.fields).toEqual([{ key: 'Host', value: 'web-1' }]);
    expect(v.fromBot).toBe(true);
    expect(v.poster).toBe('alertmanager');
  });
});
