import type { components } from './schema.gen.js';

/**
 * A read-only view of a schema of openapi.yaml. The engine's results are deeply readonly; the
 * generated types are mutable (what openapi-fetch needs), so the server checks what it sends
 * against `Wire<…>`: a field missing from the spec, or of another type, does not compile.
 */
export type Wire<T> = T extends (infer E)[] ? readonly Wire<E>[] : T extends object ? { readonly [K in keyof T]: Wire<T[K]> } : T;

/** The read-only view of a named schema. @example const d: Schema<'Diagnosis'> = engine.explain(text) */
export type Schema<N extends keyof components['schemas']> = Wire<components['schemas'][N]>;
