import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Dockerfile's structure, read without building it: that everything it copies exists and is
 * not hidden by .dockerignore. image.test.ts builds it (with buildah) and runs the image.
 */
const repoRoot = resolve(import.meta.dirname, '../..');

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, grouped by stage; ARG defaults before the first FROM are substituted. */
function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.startsWith('#')) return;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m) instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
  });
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      const from = image!.replace(/\$\{(\w+)\}/g, (_, n: string) => globalArgs.get(n) ?? `\${${n}}`);
      stages.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), steps: [] });
    } else if (stages.length === 0) {
      if (ins.op === 'ARG') {
        const [k, v] = ins.args.split('=');
        globalArgs.set(k!, v ?? '');
      }
    } else {
      stages[stages.length - 1]!.steps.push(ins);
    }
  }
  return { globalArgs, stages };
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  const rest: string[] = [];
  for (const w of words) {
    const f = /^--from=(.+)$/.exec(w);
    if (f) from = f[1];
    else if (!w.startsWith('--')) rest.push(w);
  }
  return { ...(from ? { from } : {}), sources: rest.slice(0, -1), dest: rest[rest.length - 1]! };
}

/** Whether a .dockerignore pattern list hides a path of the build context (enough of Docker's rules for this file: *, **, leading /, and ! exceptions). */
function ignored(patterns: string[], path: string): boolean {
  let hidden = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const p = (negate ? raw.slice(1) : raw).replace(/^\//, '').replace(/\/$/, '');
    const re = new RegExp(
      `^${p
        .split('**')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('.*')}(/.*)?$`,
    );
    if (re.test(path)) hidden = !negate;
  }
  return hidden;
}

const dockerfile = readFileSync(resolve(repoRoot, 'Dockerfile'), 'utf8');
const { stages } = parseDockerfile(dockerfile);
const final = stages[stages.length - 1]!;
const steps = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op);
const dockerignore = readFileSync(resolve(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage on Node 20, and the runtime stage starts from a Node 20 image too', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^node:20(-|$)/);
    expect(final.name).not.toBe(stages[0]!.name);
  });

  it('builds with npm ci and npm run build, and drops dev dependencies before anything is copied out', () => {
    const build = stages.find((s) => steps(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    const runs = steps(build!, 'RUN').map((r) => r.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    // node_modules that reach the runtime stage come from a stage that pruned or installed without dev deps.
    const modules = steps(final, 'COPY')
      .map((c) => parseCopy(c.args))
      .filter((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
    expect(modules).toHaveLength(1);
    const source = stages.find((s) => s.name === modules[0]!.from);
    expect(source, `COPY --from=${modules[0]!.from} names a stage`).toBeDefined();
    expect(steps(source!, 'RUN').some((r) => /npm (prune|ci)\b[^&]*--omit=dev/.test(r.args))).toBe(true);
  });

  it('copies only dist/, knowledge/, production node_modules and package.json into the runtime stage', () => {
    const copies = steps(final, 'COPY').map((c) => parseCopy(c.args));
    const names = copies.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '').replace(/\/$/, '')));
    expect(names.sort()).toEqual(['dist', 'knowledge', 'node_modules', 'package.json']);
    expect(steps(final, 'RUN')).toEqual([]);
    expect(steps(final, 'ADD')).toEqual([]);
  });

  it('keeps package.json, dist/ and knowledge/ side by side, where the knowledge loader looks (the folder above it with package.json and knowledge/)', () => {
    const workdir = steps(final, 'WORKDIR').at(-1)?.args;
    expect(workdir).toBe('/app');
    const dest = (src: string) =>
      steps(final, 'COPY')
        .map((c) => parseCopy(c.args))
        .find((c) => c.sources.some((s) => s.replace(/^\/app\//, '').replace(/\/$/, '') === src))?.dest;
    expect(dest('dist')).toMatch(/^(\.\/|\/app\/)dist\/?$/);
    expect(dest('knowledge')).toMatch(/^(\.\/|\/app\/)knowledge\/?$/);
    expect(dest('package.json')).toMatch(/^(\.\/|\/app\/)(package\.json)?$/);
    expect(readFileSync(resolve(repoRoot, 'src/knowledge/load.ts'), 'utf8')).toMatch(/existsSync\(join\(dir, 'package\.json'\)\) && existsSync\(join\(dir, 'knowledge'\)\)/);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const fromContext = stages.flatMap((s) =>
      steps(s, 'COPY')
        .map((c) => parseCopy(c.args))
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources),
    );
    expect(fromContext.length).toBeGreaterThan(3);
    expect(fromContext).not.toContain('.');
    for (const src of fromContext) {
      expect(existsSync(resolve(repoRoot, src)), `${src} exists`).toBe(true);
      expect(ignored(dockerignore, src.replace(/^\.\//, '').replace(/\/$/, '')), `${src} is not in .dockerignore`).toBe(false);
    }
  });

  it('has a .dockerignore that keeps local builds, tests and history out of the context', () => {
    for (const p of ['node_modules', 'dist', 'test', '.git', 'bench', 'coverage', 'helm']) {
      expect(ignored(dockerignore, p), `${p} is ignored`).toBe(true);
    }
    expect(ignored(dockerignore, 'src/main.ts')).toBe(false);
    expect(ignored(dockerignore, 'knowledge/tls/cert-expired.yaml')).toBe(false);
  });

  it('runs as a non-root user with NODE_ENV=production, and starts the bot by default', () => {
    const user = steps(final, 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    const name = user!.split(':')[0]!;
    expect(['root', '0']).not.toContain(name);
    // Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    expect(name).toMatch(/^[1-9][0-9]*$/);
    const env = steps(final, 'ENV').map((e) => e.args);
    expect(env.some((e) => /(^|\s)NODE_ENV=production(\s|$)/.test(e))).toBe(true);
    // A `triage` run in the pod must not start a daemon inside the bot's memory limit.
    expect(env.some((e) => /(^|\s)TRIAGE_DAEMON=manual(\s|$)/.test(e))).toBe(true);
    const cmd = steps(final, 'CMD').at(-1)?.args;
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', 'dist/main.js']);
    expect(steps(final, 'ENTRYPOINT')).toEqual([]);
    expect(steps(final, 'EXPOSE').map((e) => e.args.split(/\s+/)).flat()).toContain('3000');
  });

  it('runs entry points that the build produces (dist/main.js, dist/worker.js, dist/cli.js from src/)', () => {
    for (const entry of ['main', 'worker', 'cli']) expect(existsSync(resolve(repoRoot, `src/${entry}.ts`)), entry).toBe(true);
    const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.triage).toBe('dist/cli.js');
  });

  it('carries OCI labels', () => {
    const labels = steps(final, 'LABEL')
      .map((l) => l.args)
      .join(' ');
    for (const key of ['org.opencontainers.image.title', 'org.opencontainers.image.version', 'org.opencontainers.image.description']) {
      expect(labels).toContain(`${key}=`);
    }
  });
});
