import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';

/**
 * The Debian packages the tests need (the lab's nginx, HAProxy, Squid, tinyproxy, openssl, setpriv,
 * and redis-server), installed by scripts/install-lab-deps.sh, which also says what is missing
 * (`--check`). npm test runs it when something is: as root directly, as a user through sudo when
 * sudo works without a password; otherwise it stops with one line that names the command to run.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/install-lab-deps.sh');

/** Why the tests cannot start: one line, naming the command that fixes it. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

/** What this machine offers for installing packages. */
export interface InstallFacts {
  /** Packages whose programs are missing (install-lab-deps.sh --check). */
  readonly missing: readonly string[];
  readonly root: boolean;
  /** sudo: absent, present but asking for a password, or usable without one. */
  readonly sudo: 'absent' | 'password' | 'passwordless';
  readonly apt: boolean;
}

/** The command that installs the packages, as a person would type it here. */
export function installCommand(root: boolean, script = relative(process.cwd(), SCRIPT) || SCRIPT): string {
  return `${root ? '' : 'sudo '}bash ${script}`;
}

/** What to do about missing packages: nothing, run a command, or stop with a one-line message. */
export function planInstall(
  facts: InstallFacts,
  script?: string,
): { kind: 'none' } | { kind: 'run'; argv: string[] } | { kind: 'stop'; message: string } {
  if (facts.missing.length === 0) return { kind: 'none' };
  const what = `the Debian packages ${facts.missing.join(' ')} are missing`;
  if (!facts.apt)
    return {
      kind: 'stop',
      message: `${what}, and this machine has no apt-get: install them with its package manager, then run npm test again`,
    };
  const shown = installCommand(facts.root, script);
  const scriptPath = script ?? SCRIPT;
  if (facts.root) return { kind: 'run', argv: ['bash', scriptPath] };
  if (facts.sudo === 'passwordless') return { kind: 'run', argv: ['sudo', '-n', 'bash', scriptPath] };
  if (facts.sudo === 'password')
    return { kind: 'stop', message: `${what}: run "${shown}" (it asks for your password), then npm test again` };
  return {
    kind: 'stop',
    message: `${what}, and there is no sudo here: as root, run "${installCommand(true, script)}", then npm test again`,
  };
}

function onPath(name: string): boolean {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** The facts of this machine. */
export function installFacts(): InstallFacts {
  const check = spawnSync('bash', [SCRIPT, '--check'], { encoding: 'utf8' });
  if (check.error) throw new ProvisionError(`cannot run ${SCRIPT} (${check.error.message}): npm test needs bash`);
  const missing = check.status === 0 ? [] : check.stdout.trim().split(/\s+/).filter(Boolean);
  const root = process.getuid?.() === 0;
  let sudo: InstallFacts['sudo'] = 'absent';
  if (!root && missing.length > 0 && onPath('sudo')) {
    sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? 'passwordless' : 'password';
  }
  return { missing, root, sudo, apt: onPath('apt-get') };
}

/**
 * Install what is missing, or throw a {@link ProvisionError}. Says on stderr what it installs
 * (apt-get takes a while); the script's own output is shown only when it fails.
 */
export function ensureLabPackages(facts: InstallFacts = installFacts()): void {
  const plan = planInstall(facts);
  if (plan.kind === 'none') return;
  if (plan.kind === 'stop') throw new ProvisionError(plan.message);
  process.stderr.write(`npm test: installing ${facts.missing.join(' ')} (${plan.argv.join(' ')})\n`);
  const r = spawnSync(plan.argv[0]!, plan.argv.slice(1), { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    const last = output.split('\n').filter(Boolean).at(-1) ?? r.error?.message ?? `exit ${r.status}`;
    throw new ProvisionError(
      `installing the test packages failed (${last.replace(/^install-lab-deps: /, '')}): run "${installCommand(facts.root)}" to see why`,
    );
  }
}
