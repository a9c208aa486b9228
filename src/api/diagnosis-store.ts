import type { Redis } from 'ioredis';
import type { Schema } from './wire.js';

/*
 * Where POST /v1/diagnoses keeps its records until GET /v1/diagnoses/{id} reads them: Redis when
 * REDIS_URL is set (every replica sees every diagnosis), else a bounded in-memory map. Records hold
 * the masked target and the (already masked) result, never the request's headers.
 */

export type DiagnosisRecord = Schema<'DiagnosisRecord'>;

/** Both implementations pass test/api/diagnosis-store.test.ts's shared suite. */
export interface DiagnosisStore {
  /** Create or replace a record. Throws {@link StoreError} when the store does not answer. */
  put(record: DiagnosisRecord): Promise<void>;
  /** The record, or undefined when unknown or expired. Throws {@link StoreError} when the store does not answer. */
  get(id: string): Promise<DiagnosisRecord | undefined>;
}

/** Store settings. */
export const DIAGNOSIS_STORE_DEFAULTS = {
  /** How long a record lives after its last write. @defaultValue 86400 (24 h) */
  ttlSec: 24 * 3600,
  /** Largest record stored; a bigger result is replaced by a RESULT_TOO_LARGE failure. @defaultValue 1048576 */
  maxRecordBytes: 1024 * 1024,
  /** In memory: most records kept (least recently used go first). @defaultValue 1000 */
  maxEntries: 1000,
  /** In memory: most characters of JSON kept in all. @defaultValue 67108864 (64 Mi) */
  maxTotalBytes: 64 * 1024 * 1024,
} as const;

/** The store did not answer (Redis down or slow). Its message names the operation, never data. */
export class StoreError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`diagnosis store: ${operation} failed (${(cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? 'error'})`);
    this.name = 'StoreError';
  }
}

/** The JSON to store: the record, or a failed record in its place when it is over the size bound. */
function serialise(record: DiagnosisRecord, maxBytes: number): string {
  const json = JSON.stringify(record);
  if (Buffer.byteLength(json) <= maxBytes) return json;
  const failed: DiagnosisRecord = {
    id: record.id,
    status: 'failed',
    createdAt: record.createdAt,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    target: record.target,
    error: {
      code: 'RESULT_TOO_LARGE',
      message: `the result is larger than ${maxBytes} bytes: run triage diagnose locally, or narrow the target`,
    },
  };
  return JSON.stringify(failed);
}

export interface MemoryStoreOptions {
  readonly ttlSec?: number;
  readonly maxRecordBytes?: number;
  readonly maxEntries?: number;
  readonly maxTotalBytes?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** In-process records, least recently used evicted first; for a single replica without Redis. */
export function memoryDiagnosisStore(options: MemoryStoreOptions = {}): DiagnosisStore {
  const cfg = { ...DIAGNOSIS_STORE_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, { json: string; expires: number }>();
  let total = 0;
  const remove = (id: string) => {
    const e = entries.get(id);
    if (e) total -= e.json.length;
    entries.delete(id);
  };
  return {
    async put(record) {
      const json = serialise(record, cfg.maxRecordBytes);
      remove(record.id);
      entries.set(record.id, { json, expires: now() + cfg.ttlSec * 1000 });
      total += json.length;
      for (const id of entries.keys()) {
        if (entries.size <= cfg.maxEntries && total <= cfg.maxTotalBytes) break;
        remove(id);
      }
    },
    async get(id) {
      const e = entries.get(id);
      if (!e) return undefined;
      remove(id);
      if (e.expires <= now()) return undefined;
      entries.set(id, e);
      total += e.json.length;
      return JSON.parse(e.json) as DiagnosisRecord;
    },
  };
}

export interface RedisStoreOptions {
  /** Key prefix (QUEUE_PREFIX): keys are `${prefix}:api:diagnosis:<id>`. @defaultValue 'triage' */
  readonly prefix?: string;
  readonly ttlSec?: number;
  readonly maxRecordBytes?: number;
}

/** Records in Redis, one key each with a TTL, so every replica answers GET for any diagnosis. */
export function redisDiagnosisStore(redis: Redis, options: RedisStoreOptions = {}): DiagnosisStore {
  const cfg = { ...DIAGNOSIS_STORE_DEFAULTS, ...options };
  const key = (id: string) => `${options.prefix ?? 'triage'}:api:diagnosis:${id}`;
  return {
    async put(record) {
      const json = serialise(record, cfg.maxRecordBytes);
      try {
        await redis.set(key(record.id), json, 'EX', cfg.ttlSec);
      } catch (err) {
        throw new StoreError('put', err);
      }
    },
    async get(id) {
      let json: string | null;
      try {
        json = await redis.get(key(id));
      } catch (err) {
        throw new StoreError('get', err);
      }
      if (json === null) return undefined;
      try {
        return JSON.parse(json) as DiagnosisRecord;
      } catch {
        // Not ours (or damaged): as good as absent.
        return undefined;
      }
    },
  };
}
