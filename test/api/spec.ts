/**
 * Checks JSON values against the schemas of src/api/openapi.yaml at run time, so the tests prove
 * that what the server sends is what the contract says. It covers the JSON Schema keywords the
 * spec uses (type, enum, required, properties, additionalProperties, items, allOf, $ref, minItems,
 * maxItems, minimum, maximum, maxLength, pattern) and is strict on purpose: an object whose schema
 * lists `properties` may hold no other key unless it says `additionalProperties`, so a field the
 * server sends but the spec does not document fails the test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

interface SchemaNode {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  allOf?: SchemaNode[];
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
}

const spec = parse(readFileSync(resolve(import.meta.dirname, '../../src/api/openapi.yaml'), 'utf8')) as {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, SchemaNode> };
};

export const specPaths = Object.keys(spec.paths);

function deref(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/components/schemas/', '');
  const target = spec.components.schemas[name];
  if (!target) throw new Error(`unknown $ref ${node.$ref}`);
  return deref(target);
}

/** An allOf schema as one object schema: the union of its parts' properties and required keys. */
function merge(node: SchemaNode): SchemaNode {
  const n = deref(node);
  if (!n.allOf) return n;
  const parts = [{ ...n, allOf: undefined }, ...n.allOf.map(merge)];
  return {
    type: 'object',
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, SchemaNode>,
    required: parts.flatMap((p) => p.required ?? []),
    ...(parts.some((p) => p.additionalProperties !== undefined && p.additionalProperties !== false) ? { additionalProperties: true } : {}),
  };
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return typeof v === type;
  }
}

function check(node: SchemaNode, v: unknown, path: string, problems: string[]): void {
  const n = merge(node);
  if (n.type && !typeOk(n.type, v)) return void problems.push(`${path}: expected ${n.type}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  if (n.enum && !n.enum.includes(v)) problems.push(`${path}: ${JSON.stringify(v)} is not one of ${n.enum.join(', ')}`);
  if (typeof v === 'number') {
    if (n.minimum !== undefined && v < n.minimum) problems.push(`${path}: below ${n.minimum}`);
    if (n.maximum !== undefined && v > n.maximum) problems.push(`${path}: above ${n.maximum}`);
  }
  if (typeof v === 'string') {
    if (n.maxLength !== undefined && v.length > n.maxLength) problems.push(`${path}: longer than ${n.maxLength}`);
    if (n.pattern && !new RegExp(n.pattern).test(v)) problems.push(`${path}: does not match ${n.pattern}`);
  }
  if (Array.isArray(v)) {
    if (n.minItems !== undefined && v.length < n.minItems) problems.push(`${path}: fewer than ${n.minItems} items`);
    if (n.maxItems !== undefined && v.length > n.maxItems) problems.push(`${path}: more than ${n.maxItems} items`);
    if (n.items) v.forEach((item, i) => check(n.items!, item, `${path}[${i}]`, problems));
  }
  if (n.type === 'object' && typeOk('object', v)) checkObject(n, v as Record<string, unknown>, path, problems);
}

function checkObject(n: SchemaNode, o: Record<string, unknown>, path: string, problems: string[]): void {
  const props = n.properties ?? {};
  for (const r of n.required ?? []) if (!(r in o)) problems.push(`${path}.${r}: required, missing`);
  for (const [k, v] of Object.entries(o)) {
    const p = props[k];
    if (p) check(p, v, `${path}.${k}`, problems);
    else if (typeof n.additionalProperties === 'object') check(n.additionalProperties, v, `${path}.${k}`, problems);
    else if (n.additionalProperties !== true && Object.keys(props).length > 0) problems.push(`${path}.${k}: not in the spec`);
  }
}

/** Every way `value` departs from the named schema of openapi.yaml; empty when it conforms. */
export function conformance(schema: string, value: unknown): string[] {
  if (!spec.components.schemas[schema]) throw new Error(`no schema ${schema} in openapi.yaml`);
  const problems: string[] = [];
  check({ $ref: `#/components/schemas/${schema}` }, value, schema, problems);
  return problems;
}
