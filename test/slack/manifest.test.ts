import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

interface Manifest {
  display_information: { name: string; description: string };
  features: { bot_user: { display_name: string }; slash_commands: { command: string; usage_hint?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
}

const manifest = yaml.load(readFileSync(resolve(import.meta.dirname, '../../manifest.yaml'), 'utf8')) as Manifest;

describe('manifest.yaml', () => {
  it('creates the bot user, /diagnose with a usage hint, the events, interactivity and Socket Mode', () => {
    expect(manifest.features.bot_user.display_name).toBe('Gateway Triage');
    const diagnose = manifest.features.slash_commands.find((c) => c.command === '/diagnose');
    expect(diagnose?.usage_hint).toMatch(/<url>/);
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual([
      'app_mention',
      'message.channels',
      'message.groups',
      'message.im',
    ]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
  });

  it('asks for exactly the scopes the bot uses: each Web API method it calls, each event, the command, file downloads', () => {
    const source = sourceFiles(resolve(import.meta.dirname, '../../src'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    // Every Web API method the bot calls (`client.chat.postMessage(…)`, `chat.update(…)` …).
    const called = new Set(
      [...source.matchAll(/\.(chat|users|conversations|files|reactions|views|auth|apps)\.([a-zA-Z]+)\(/g)].map((m) => `${m[1]}.${m[2]}`),
    );
    expect([...called].sort()).toEqual([
      'auth.test',
      'chat.postEphemeral',
      'chat.postMessage',
      'chat.update',
      'conversations.replies',
      'users.info',
    ]);
    for (const m of called)
      expect(Object.keys(METHOD_SCOPES), `${m} is called: add it and its scope to METHOD_SCOPES and manifest.yaml`).toContain(m);
    const needed = new Set<string>();
    for (const m of called) if (METHOD_SCOPES[m]) needed.add(METHOD_SCOPES[m]!);
    for (const e of manifest.settings.event_subscriptions.bot_events) needed.add(EVENT_SCOPES[e]!);
    if (manifest.features.slash_commands.length > 0) needed.add('commands');
    // Attached files and snippets are downloaded from url_private with the bot token.
    if (/url_private/.test(source)) needed.add('files:read');
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });
});

/** The scope each Web API method the bot may call needs (docs.slack.dev/reference/methods/<method>); null: none. */
const METHOD_SCOPES: Readonly<Record<string, string | null>> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'users.info': 'users:read',
  // One scope per conversation type (channels/groups/im/mpim:history); the bot's message events already need them.
  'conversations.replies': 'channels:history',
};

/** The scope each bot event subscription needs. */
const EVENT_SCOPES: Readonly<Record<string, string>> = {
  app_mention: 'app_mentions:read',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
  'message.im': 'im:history',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
