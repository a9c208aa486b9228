import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * values.yaml explains itself: a comment above every key, an `## @param <path>` above every
 * setting, and values.schema.json describes exactly the keys values.yaml has.
 */
const chartDir = resolve(import.meta.dirname, '../../helm/gateway-triage');
const valuesText = readFileSync(resolve(chartDir, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Record<string, unknown>;

interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  definitions?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
}
const schema = JSON.parse(readFileSync(resolve(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;

interface KeyDoc {
  /** Dotted path of the key. */
  path: string;
  line: number;
  /** The comment lines right above it. */
  comments: string[];
  /** Whether the key holds a value on its own line (a setting) rather than opening a group. */
  inline: boolean;
}

/** Every key of values.yaml outside free-form values (whose content Kubernetes defines), with its comments. */
function scanKeys(text: string): { keys: KeyDoc[]; params: Set<string> } {
  const keys: KeyDoc[] = [];
  const params = new Set<string>();
  const stack: { indent: number; key: string; param: boolean }[] = [];
  let comments: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '') return void (comments = []);
    if (line.trimStart().startsWith('#')) {
      comments.push(line.trim());
      const param = /^## @param ([\w.]+) \S/.exec(line.trim());
      if (param) params.add(param[1]!);
      return;
    }
    const m = /^( *)(- )?([A-Za-z][\w-]*):(.*)$/.exec(line);
    const indent = m ? m[1]!.length : line.length - line.trimStart().length;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const insideFree = stack.some((s) => s.param) || line.trimStart().startsWith('- ');
    if (m && !insideFree) {
      const path = [...stack.map((s) => s.key), m[3]!].join('.');
      const inline = m[4]!.trim() !== '';
      keys.push({ path, line: i + 1, comments, inline });
      stack.push({ indent, key: m[3]!, param: comments.some((c) => c.startsWith(`## @param ${path} `)) });
    } else if (m) {
      stack.push({ indent, key: m[3]!, param: true });
    }
    comments = [];
  });
  return { keys, params };
}

function resolveRef(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/definitions/', '');
  const target = schema.definitions?.[name];
  if (!target) throw new Error(`schema: dangling $ref ${node.$ref}`);
  return resolveRef(target);
}

function schemaAt(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of path.split('.')) {
    node = node ? resolveRef(node).properties?.[part] : undefined;
  }
  return node ? resolveRef(node) : undefined;
}

function valueAt(path: string): unknown {
  let v: unknown = values;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const { keys, params } = scanKeys(valuesText);

describe('values.yaml documentation', () => {
  it('has a comment above every key, and an @param naming the key above every setting', () => {
    expect(keys.length).toBeGreaterThan(80);
    const undocumented = keys.filter((k) => k.comments.length === 0).map((k) => `${k.path} (line ${k.line})`);
    expect(undocumented).toEqual([]);
    const settingsWithoutParam = keys
      .filter((k) => k.inline && !k.comments.some((c) => c.startsWith(`## @param ${k.path} `)))
      .map((k) => `${k.path} (line ${k.line})`);
    expect(settingsWithoutParam).toEqual([]);
  });

  it('names only keys that exist in its @param lines', () => {
    const dangling = [...params].filter((p) => valueAt(p) === undefined);
    expect(dangling).toEqual([]);
  });
});

describe('values.schema.json', () => {
  it('is draft-07 and rejects unknown keys at the top and in every group', () => {
    expect((schema as { $schema?: string }).$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    const open = keys
      .filter((k) => !k.inline && !params.has(k.path))
      .map((k) => k.path)
      .filter((p) => schemaAt(p)?.additionalProperties !== false);
    expect(open).toEqual([]);
  });

  it('describes every key of values.yaml', () => {
    const missing = keys.map((k) => k.path).filter((p) => schemaAt(p) === undefined);
    expect(missing).toEqual([]);
  });

  it('describes nothing that values.yaml lacks (besides Helm’s own global)', () => {
    const extra: string[] = [];
    const walk = (node: SchemaNode, prefix: string) => {
      const props = resolveRef(node).properties ?? {};
      for (const [k, child] of Object.entries(props)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (path === 'global') continue;
        if (valueAt(path) === undefined) extra.push(path);
        else if (!params.has(path)) walk(child, path);
      }
    };
    walk(schema, '');
    expect(extra).toEqual([]);
  });
});
