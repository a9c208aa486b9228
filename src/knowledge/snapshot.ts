import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_KNOWLEDGE_DIR, loadKnowledgeOrThrow, PACKAGE_ROOT } from './load.js';
import type { KnowledgeBase } from './types.js';

/**
 * The knowledge base, validated once at build time and kept as JSON, so that a process start
 * reads one file instead of parsing YAML, compiling and checking every pattern again.
 *
 * `npm run build` writes it (scripts/knowledge-snapshot.js → {@link writeSnapshot}) beside the
 * compiled code, as dist/knowledge.snapshot.json. It holds the {@link KnowledgeBase} exactly as
 * {@link loadKnowledge} returned it, whatever fields it has (Maps, Sets and RegExps are encoded),
 * under a digest of the knowledge files and of the loader that validated them. A process that
 * asks for other folders (KNOWLEDGE_DIRS), or whose files or loader differ from the build's,
 * gets a different digest and the full load; so does one without a snapshot (tests run from src/).
 * `triage kb check` always runs the full load.
 *
 * A start does not read the knowledge files to know they are the build's: the snapshot also keeps
 * each file's size and modification time, and when all of them (and the list of files) are as
 * they were, the snapshot stands. Any difference (an edit, a checkout, a copy without times) sends
 * the start to the content digest, which decides.
 */

const HERE = dirname(fileURLToPath(import.meta.url));

/** Where the build writes the snapshot, and where {@link loadKnowledgeBase} looks for it: the top folder of the running code (dist/, or src/ where there is none). */
export const SNAPSHOT_FILE = join(PACKAGE_ROOT, relative(PACKAGE_ROOT, HERE).split(sep)[0] ?? '', 'knowledge.snapshot.json');

/** Bump when the encoding below changes. */
const FORMAT = 2;

/**
 * The digest of the loader, written into the CLI bundle by scripts/bundle-cli.js (the bundle has no
 * loader files of its own to hash: it was made from dist/knowledge/, whose digest this is).
 * Unreplaced, as in src/ and dist/, the loader's files beside this module are hashed.
 */
const BUNDLED_LOADER_DIGEST: string = '@@gateway-triage-loader-digest@@';

let loader: string | undefined;

/** The loader whose validation the snapshot stands for (this folder's modules): a change to it makes every snapshot stale. */
export function loaderDigest(): string {
  if (!BUNDLED_LOADER_DIGEST.startsWith('@@')) return BUNDLED_LOADER_DIGEST;
  if (loader !== undefined) return loader;
  const hash = createHash('sha256');
  hash.update(`format ${FORMAT}\0`);
  const names = readdirSync(HERE)
    .filter((name) => /\.(js|ts)$/.test(name) && !name.endsWith('.d.ts') && !name.startsWith('snapshot.'))
    .sort();
  for (const name of names) {
    hash.update(`\0loader ${name}\0`);
    hash.update(readFileSync(join(HERE, name)));
  }
  return (loader = `sha256:${hash.digest('hex')}`);
}

/**
 * The knowledge base for these folders: from the snapshot when it was made from the same files by
 * the same loader, else the full load (which throws a TriageError listing every problem).
 */
export function loadKnowledgeBase(dirs: readonly string[] = [BUILTIN_KNOWLEDGE_DIR], file: string = SNAPSHOT_FILE): KnowledgeBase {
  return readSnapshot(dirs, file) ?? loadKnowledgeOrThrow(dirs);
}

/** A file of a knowledge folder as a start sees it; `missing` for a folder that cannot be listed or a file gone since (the load reports it). */
interface Listed {
  readonly rel: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly missing?: true;
}

/** Every folder's files, listed once for both the stamp and the digest. */
const listAll = (dirs: readonly string[]): Listed[][] => dirs.map((dir) => filesUnder(dir));

/**
 * A digest of what a load of `dirs` depends on: the loader, the folders in order and every file in
 * them (relative path and bytes; names starting with "." are skipped, as the loader skips them).
 */
export function knowledgeDigest(dirs: readonly string[], listed: Listed[][] = listAll(dirs)): string {
  const hash = createHash('sha256');
  hash.update(`format ${FORMAT}\0${loaderDigest()}\0`);
  dirs.forEach((dir, i) => {
    hash.update(`\0dir ${i}\0`);
    for (const f of listed[i] ?? []) {
      if (f.missing) {
        hash.update(`\0${f.rel}\0missing\0`);
        continue;
      }
      const bytes = readFileSync(join(dir, f.rel));
      hash.update(`\0${f.rel}\0${bytes.length}\0`);
      hash.update(bytes);
    }
  });
  return `sha256:${hash.digest('hex')}`;
}

/** The folders, their files, and each file's size and modification time: what a start compares without reading the files. */
export function knowledgeStamp(dirs: readonly string[], listed: Listed[][] = listAll(dirs)): string {
  const parts: string[] = [loaderDigest()];
  dirs.forEach((dir, i) => {
    parts.push(`dir ${i} ${dir}`);
    for (const f of listed[i] ?? []) parts.push(f.missing ? `${f.rel} -` : `${f.rel} ${f.size} ${f.mtimeMs}`);
  });
  return parts.join('\n');
}

/** Files under `dir` with their sizes and times (one stat each), relative, sorted. */
function filesUnder(dir: string, prefix = ''): Listed[] {
  const missing = (rel: string): Listed => ({ rel, size: -1, mtimeMs: -1, missing: true });
  let names: string[];
  try {
    names = readdirSync(join(dir, prefix)).sort();
  } catch {
    return [missing(`(unreadable ${prefix || '.'})`)];
  }
  const out: Listed[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = statSync(join(dir, rel), { throwIfNoEntry: false });
    if (!st) out.push(missing(rel));
    else if (st.isDirectory()) out.push(...filesUnder(dir, rel));
    else out.push({ rel, size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

interface SnapshotFile {
  readonly format: number;
  readonly digest: string;
  /** {@link knowledgeStamp} of the folders at build time. */
  readonly stamp: string;
  readonly kb: unknown;
}

/** The knowledge base from the snapshot, or undefined when it is missing, unreadable or made from other files. */
export function readSnapshot(dirs: readonly string[], file: string = SNAPSHOT_FILE): KnowledgeBase | undefined {
  let snap: SnapshotFile;
  try {
    snap = JSON.parse(readFileSync(file, 'utf8')) as SnapshotFile;
  } catch {
    return undefined;
  }
  if (snap.format !== FORMAT) return undefined;
  const listed = listAll(dirs);
  if (snap.stamp !== knowledgeStamp(dirs, listed) && snap.digest !== knowledgeDigest(dirs, listed)) return undefined;
  return decode(snap.kb) as KnowledgeBase;
}

/**
 * Load `dirs` with the full validation and write the snapshot (atomically). Throws the loader's
 * TriageError, listing every problem, when the knowledge base is invalid.
 */
export function writeSnapshot(dirs: readonly string[] = [BUILTIN_KNOWLEDGE_DIR], file: string = SNAPSHOT_FILE): { digest: string; bytes: number } {
  const listed = listAll(dirs);
  const digest = knowledgeDigest(dirs, listed);
  const stamp = knowledgeStamp(dirs, listed);
  const kb = loadKnowledgeOrThrow(dirs);
  const text = JSON.stringify({ format: FORMAT, digest, stamp, kb: encode(kb, 'kb') } satisfies SnapshotFile);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return { digest, bytes: Buffer.byteLength(text) };
}

// ---- encoding: JSON plus tagged Map, Set and RegExp; anything else that JSON would lose is refused ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const TAGS = ['$map', '$set', '$regexp', '$object'] as const;

/** Encode a value for JSON; throws naming the path of a value JSON cannot keep (a function, a class instance, NaN …). */
export function encode(value: unknown, path = '(root)'): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`knowledge snapshot: ${path} is ${value}, which JSON cannot keep`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}[${i}]`));
  if (value instanceof Map) return { $map: [...value].map(([k, v], i) => [encode(k, `${path} key ${i}`), encode(v, `${path}.get(${String(k)})`)]) };
  if (value instanceof Set) return { $set: [...value].map((v, i) => encode(v, `${path} item ${i}`)) };
  if (value instanceof RegExp) return { $regexp: [value.source, value.flags] };
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`knowledge snapshot: ${path} is a ${value.constructor?.name ?? 'class'} instance; keep the knowledge base plain data`);
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = encode(v, `${path}.${k}`);
    }
    const keys = Object.keys(out);
    return keys.length === 1 && (TAGS as readonly string[]).includes(keys[0]!) ? { $object: out } : out;
  }
  throw new Error(`knowledge snapshot: ${path} is a ${typeof value}, which JSON cannot keep`);
}

/** The inverse of {@link encode}. */
export function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if (keys[0] === '$map') return new Map((o.$map as [unknown, unknown][]).map(([k, v]) => [decode(k), decode(v)]));
    if (keys[0] === '$set') return new Set((o.$set as unknown[]).map(decode));
    if (keys[0] === '$regexp') {
      const [source, flags] = o.$regexp as [string, string];
      return new RegExp(source, flags);
    }
    if (keys[0] === '$object') return decodeObject(o.$object as Record<string, unknown>);
  }
  return decodeObject(o);
}

function decodeObject(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = decode(v);
  return out;
}
