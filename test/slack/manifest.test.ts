import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

  it('asks for exactly the scopes those need', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      [
        'app_mentions:read', // app_mention
        'channels:history', // message.channels
        'groups:history', // message.groups
        'im:history', // message.im
        'chat:write', // chat.postMessage, chat.update, chat.postEphemeral
        'commands', // /diagnose
        'users:read', // users.info (locale)
        'channels:read', // conversations.info
        'groups:read',
        'im:read',
        'files:read', // snippets attached to messages
      ].sort(),
    );
  });
});
