import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * The Kubernetes API schemas that rendered objects are checked against, offline (kubectl's own
 * validation needs an API server):
 *
 * - **Kubernetes 1.25** — the chart's kubeVersion floor — strictly: the OpenAPI definitions of
 *   Kubernetes 1.25.2 (the npm package kubernetes-models@4.1.0, aliased kubernetes-models-1.25), plus
 *   the CRD schemas of KEDA (ScaledObject, TriggerAuthentication: @kubernetes-models/keda) and of
 *   prometheus-operator (ServiceMonitor: @kubernetes-models/prometheus-operator). Every object schema
 *   is closed (`additionalProperties: false`, as kubeconform's strict mode and the API server's
 *   strict field validation do), so a misspelt or misplaced field fails, as do wrong types, missing
 *   required fields, bad enums and formats. A field newer than 1.25 fails too.
 * - **Kubernetes 1.33** — the newest schemas that run on Node 20 (kubernetes-models@4.5.1, whose
 *   validators are compiled from the OpenAPI): types, required fields, enums and formats of the
 *   built-in kinds, so an API or a field that a later release removed or now requires fails.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const rootRequire = createRequire(join(ROOT, 'package.json'));

type Schema = Record<string, unknown>;

/** Run generated CommonJS model files with a `register()` that keeps each schema by id. */
function collectSchemas(files: readonly string[]): Map<string, Schema> {
  const defs = new Map<string, Schema>();
  const stubs: Record<string, unknown> = {
    '@kubernetes-models/validate': { register: (id: string, schema: Schema) => defs.set(id, schema) },
    // CRD models register their schema through setSchema's callback.
    '@kubernetes-models/base': {
      Model: class {},
      setSchema: (_model: unknown, _id: string, register: () => void) => register(),
      createTypeMetaGuard: () => () => false,
    },
  };
  for (const file of files) {
    const module = { exports: {} as { addSchema?: () => void } };
    // Every other import is another generated file, loaded on its own here: its addSchema does nothing.
    const require = (id: string) => stubs[id] ?? (id === 'tslib' ? rootRequire('tslib') : { addSchema: () => {} });
    runInNewContext(readFileSync(file, 'utf8'), { module, exports: module.exports, require }, { filename: file });
    module.exports.addSchema?.();
  }
  return defs;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js') && f !== 'index.js')
    .map((f) => join(dir, f));
}

/** The folder of an installed package, as Node would find it from `from` (exports maps hide package.json). */
function packageDir(name: string, from = rootRequire): string {
  for (const dir of from.resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return join(dir, name);
  }
  throw new Error(`${name} is not installed: run npm ci (it is a devDependency of the chart tests)`);
}

/** Close every object schema that lists its properties and does not say otherwise. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    out[k] = k === 'enum' || k === 'required' || k === 'default' || k === 'example' ? v : strict(v);
  }
  if (out.properties !== undefined && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

/** Where an object is, for messages: `Deployment/prod-gateway-triage-bot`. */
export function objectName(o: { kind?: unknown; metadata?: { name?: unknown } }): string {
  return `${String(o.kind)}/${String(o.metadata?.name)}`;
}

/**
 * Ajv's errors as lines, without the echoes of the generator's nullable wrappers
 * (`oneOf: [{$ref}, {type: null}]`): the "must be null" branch, and a oneOf whose cause is
 * reported deeper down.
 */
function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  const all = errors ?? [];
  const deeper = (e: ErrorObject) => all.some((d) => d !== e && d.keyword !== 'oneOf' && d.instancePath.startsWith(e.instancePath) && d.instancePath !== e.instancePath);
  const kept = all.filter((e) => !(e.keyword === 'type' && (e.params as { type?: string }).type === 'null') && !(e.keyword === 'oneOf' && deeper(e)));
  return kept.map((e) => {
    const at = e.instancePath || '(root)';
    if (e.keyword === 'additionalProperties') return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    return `${at}: ${e.message ?? e.keyword}`;
  });
}

/** Strict validation against Kubernetes 1.25 and the KEDA and prometheus-operator CRDs. */
export class FloorSchemas {
  readonly version = '1.25.2';
  private readonly ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  /** `apiVersion kind` → the schema id; compiled on first use (compiling all takes seconds). */
  private readonly byKind = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    const models = packageDir('kubernetes-models-1.25');
    const apimachinery = packageDir('@kubernetes-models/apimachinery', createRequire(join(models, 'package.json')));
    const defs = collectSchemas([
      ...jsFiles(join(apimachinery, '_schemas')),
      ...jsFiles(join(models, '_schemas')),
      ...jsFiles(join(packageDir('@kubernetes-models/keda'), 'keda.sh/v1alpha1')),
      ...jsFiles(join(packageDir('@kubernetes-models/prometheus-operator'), 'monitoring.coreos.com/v1')),
    ]);
    const ajv = this.ajv;
    // ajv-formats is CommonJS: its plugin is module.exports and, typed, its default export.
    ajvFormats.default(ajv);
    // Kubernetes' own formats: a resource quantity ("500m", "1Gi"), and int-or-string (its type says it all).
    ajv.addFormat('quantity', /^[+-]?(\d+|\d+\.\d*|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/);
    ajv.addFormat('int-or-string', true);
    for (const [id, schema] of defs) ajv.addSchema(strict(schema) as Schema, id);
    for (const [id, schema] of defs) {
      const props = schema.properties as Record<string, { enum?: string[] }> | undefined;
      const apiVersion = props?.apiVersion?.enum;
      const kind = props?.kind?.enum;
      if (apiVersion?.length === 1 && kind?.length === 1 && !kind[0]!.endsWith('List')) {
        this.byKind.set(`${apiVersion[0]} ${kind[0]}`, id);
      }
    }
  }

  /** Every problem of one object; [] when it is valid. */
  problems(o: { apiVersion?: unknown; kind?: unknown }): string[] {
    const key = `${String(o.apiVersion)} ${String(o.kind)}`;
    const id = this.byKind.get(key);
    if (!id) return [`(root): no schema for ${String(o.apiVersion)} ${String(o.kind)} in Kubernetes ${this.version} or the KEDA and prometheus-operator CRDs`];
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.getSchema(id)!;
      this.compiled.set(key, validate);
    }
    return validate(o) ? [] : describeErrors(validate.errors);
  }

  /** How many kinds it knows (a check that the schemas were found at all). */
  get size(): number {
    return this.byKind.size;
  }
}

/** Validation of built-in kinds against Kubernetes 1.33 (kubernetes-models@4.5.1). */
export class NewestSchemas {
  readonly version = '1.33';
  private readonly require = createRequire(join(packageDir('kubernetes-models'), 'package.json'));

  /** Whether the kind is built in (CRDs are checked by {@link FloorSchemas} only). */
  builtIn(o: { apiVersion?: unknown }): boolean {
    const group = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0]! : '';
    return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
  }

  /** Every problem of one built-in object; [] when it is valid. */
  problems(o: { apiVersion?: unknown; kind?: unknown }): string[] {
    type Model = new (data: unknown) => { validate(): void };
    let model: Model;
    try {
      model = (this.require(`kubernetes-models/${String(o.apiVersion)}/${String(o.kind)}`) as Record<string, Model>)[String(o.kind)]!;
    } catch {
      return [`(root): no ${String(o.apiVersion)} ${String(o.kind)} in Kubernetes ${this.version}`];
    }
    try {
      new model(o).validate();
      return [];
    } catch (err) {
      const errors = (err as { errors?: ErrorObject[] }).errors;
      return errors ? describeErrors(errors) : [(err as Error).message];
    }
  }
}
