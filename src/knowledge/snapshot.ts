/**
 * A per-user snapshot of the validated knowledge base, so that a `triage` command starts in
 * milliseconds instead of parsing and validating every YAML file again (most of a short run's
 * time). The snapshot is the base as {@link loadKnowledgeOrThrow} returned it, serialised with
 * node:v8 (Maps and RegExps survive), in a file named after a SHA-256 of everything the load
 * depends on: the Node version, the loader's own code, the working directory (file names are shown
 * relative to it), the directories and the path, size and content of every file under them. Any
 * change makes a new name, so a snapshot is never stale; a missing, unreadable or foreign one is
 * ignored and the base is loaded from the YAML.
 *
 * Only the CLI uses it; long-running processes load once anyway.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { BUILTIN_KNOWLEDGE_DIR, loadKnowledgeOrThrow } from './load.js';
import type { KnowledgeBase } from './types.js';

/** Bounds of the snapshot. */
export const SNAPSHOT_LIMITS = {
  /** Files hashed per knowledge directory, at most. @defaultValue 5000 */
  maxFiles: 5_000,
  /** Largest snapshot read back, in bytes. @defaultValue 32 MiB */
  maxBytes: 32 * 1024 * 1024,
} as const;

/** The loader's modules (built .js, or .ts when run from source): a change to how the base is validated is a change of snapshot. */
function loaderFiles(): string[] {
  return ['load', 'types', 'regex-safety'].map((name) => {
    const js = fileURLToPath(new URL(`${name}.js`, import.meta.url));
    return existsSync(js) ? js : fileURLToPath(new URL(`${name}.ts`, import.meta.url));
  });
}

/**
 * The validated knowledge base of `dirs`, from the snapshot in `cacheDir` when there is one for
 * exactly these sources, else loaded (and validated) from them and snapshotted for next time.
 * Without `cacheDir`, a plain {@link loadKnowledgeOrThrow}. Throws what it throws.
 *
 * @example const kb = loadKnowledgeSnapshot([BUILTIN_KNOWLEDGE_DIR], { cacheDir: '/home/me/.cache/gateway-triage' });
 */
export function loadKnowledgeSnapshot(dirs: readonly string[] = [BUILTIN_KNOWLEDGE_DIR], opts: { cacheDir?: string } = {}): KnowledgeBase {
  if (!opts.cacheDir) return loadKnowledgeOrThrow([...dirs]);
  const key = sourcesKey(dirs);
  const file = key ? join(opts.cacheDir, `knowledge-${key}.v8`) : undefined;
  const cached = file ? readSnapshot(file) : undefined;
  if (cached) return cached;
  const kb = loadKnowledgeOrThrow([...dirs]);
  if (file && plainData(kb)) writeSnapshot(opts.cacheDir, file, kb);
  return kb;
}

/** The hash of every source of the load, or undefined when a source cannot be read (then no snapshot). */
export function sourcesKey(dirs: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  hash.update(`node ${process.version}\0cwd ${process.cwd()}\0`);
  try {
    for (const f of loaderFiles()) hash.update(readFileSync(f));
    for (const dir of dirs) {
      hash.update(`\0dir ${resolve(dir)}\0`);
      for (const f of filesUnder(resolve(dir))) {
        const content = readFileSync(f);
        hash.update(`${f}\0${content.length}\0`).update(content);
      }
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex').slice(0, 32);
}

/** Every file under `dir`, sorted, hidden ones included (a superset of what the loader reads). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(p);
      if (out.length > SNAPSHOT_LIMITS.maxFiles) throw new Error('too many files to snapshot');
    }
  };
  walk(dir);
  return out;
}

function readSnapshot(file: string): KnowledgeBase | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > SNAPSHOT_LIMITS.maxBytes) return undefined;
    // Only the user's own snapshot: one written by someone else could change the answers.
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return undefined;
    const kb = deserialize(readFileSync(file)) as Partial<KnowledgeBase>;
    return kb && kb.entries instanceof Map && kb.signals instanceof Map && kb.entries.size > 0 ? (kb as KnowledgeBase) : undefined;
  } catch {
    return undefined;
  }
}

function writeSnapshot(dir: string, file: string, kb: KnowledgeBase): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, serialize(kb), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // A read-only home or a full disk: the next run loads from the YAML again.
  }
}

/** Whether the base is plain data that v8 round-trips exactly (no class instances, functions, symbols). */
export function plainData(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (seen.has(value)) return true;
  seen.add(value);
  if (value instanceof RegExp) return true;
  if (value instanceof Map) return [...value].every(([k, v]) => plainData(k, seen) && plainData(v, seen));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  return Object.values(value).every((v) => plainData(v, seen));
}
