import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installCommand, planInstall, type InstallFacts } from './lab-packages.js';

const root = resolve(import.meta.dirname, '../..');
const script = 'scripts/install-lab-deps.sh';
const missing = ['nginx', 'redis-server'];
const facts = (f: Partial<InstallFacts>): InstallFacts => ({ missing, root: false, sudo: 'absent', apt: true, ...f });

describe('what npm test does about missing packages', () => {
  it('does nothing when everything is there', () => {
    expect(planInstall(facts({ missing: [] }), script)).toEqual({ kind: 'none' });
  });

  it('installs them as root directly, and as a user through sudo when it needs no password', () => {
    expect(planInstall(facts({ root: true }), script)).toEqual({ kind: 'run', argv: ['bash', script] });
    expect(planInstall(facts({ sudo: 'passwordless' }), script)).toEqual({ kind: 'run', argv: ['sudo', '-n', 'bash', script] });
  });

  it('stops with one line naming the command when it cannot install them itself', () => {
    const asked = planInstall(facts({ sudo: 'password' }), script);
    expect(asked).toEqual({
      kind: 'stop',
      message: `the Debian packages nginx redis-server are missing: run "sudo bash ${script}" (it asks for your password), then npm test again`,
    });
    const noSudo = planInstall(facts({ sudo: 'absent' }), script);
    expect(noSudo).toEqual({
      kind: 'stop',
      message: `the Debian packages nginx redis-server are missing, and there is no sudo here: as root, run "bash ${script}", then npm test again`,
    });
    const noApt = planInstall(facts({ root: true, apt: false }), script);
    expect(noApt.kind).toBe('stop');
    for (const p of [asked, noSudo, noApt]) if (p.kind === 'stop') expect(p.message).not.toContain('\n');
  });

  it('never says sudo to root', () => {
    expect(installCommand(true, script)).toBe(`bash ${script}`);
    expect(installCommand(false, script)).toBe(`sudo bash ${script}`);
  });
});

describe('scripts/install-lab-deps.sh --check', () => {
  it('exits 0 and prints nothing when every package is there (the global setup installed them)', () => {
    const r = spawnSync('bash', [script, '--check'], { cwd: root, encoding: 'utf8' });
    expect({ code: r.status, out: r.stdout, err: r.stderr }).toEqual({ code: 0, out: '', err: '' });
  });

  it('names the missing packages on one line and exits 1 when their programs are not found', () => {
    // A PATH without /usr/bin: only what the script itself adds (the sbin folders) is searched, so
    // the packages whose programs live in /usr/bin count as missing, and those in /usr/sbin do not.
    const r = spawnSync('/bin/bash', [script, '--check'], { cwd: root, encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('tinyproxy openssl util-linux redis-server\n');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown argument, and never mentions sudo to root', () => {
    const r = spawnSync('bash', [script, '--bogus'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown argument --bogus');
    if (process.getuid?.() === 0) expect(r.stderr).not.toContain('sudo');
  });
});
