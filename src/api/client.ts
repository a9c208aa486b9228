import { setTimeout as sleep } from 'node:timers/promises';
import createClient, { type Client } from 'openapi-fetch';
import { TriageError, type ErrorCode } from '../errors.js';
import type { Lang } from '../knowledge/types.js';
import type { DiagnoseResult } from '../triage/diagnose.js';
import type { Diagnosis } from '../triage/result.js';
import { BODY_LIMITS } from './http.js';
import type { components, paths } from './schema.gen.js';

/*
 * The typed client of the HTTP API (openapi-fetch over the generated `paths`), and the two calls
 * `triage --server URL …` makes with it. Expected failures come back from openapi-fetch as
 * `{ error }`; here they become TriageErrors whose codes give the CLI's exit status: the caller's
 * mistake (bad token, bad input, refused target) exits 2, a server or network failure exits 1.
 */

export type ApiClient = Client<paths>;
type Schemas = components['schemas'];

/** Client settings. */
export const CLIENT_DEFAULTS = {
  /** Bound of each request. @defaultValue 30000 */
  requestTimeoutMs: 30_000,
  /** First pause between polls of a diagnosis; it grows to pollMaxMs. @defaultValue 250 */
  pollStartMs: 250,
  /** @defaultValue 2000 */
  pollMaxMs: 2_000,
} as const;

/**
 * A client for the triage server at `baseUrl`, sending `Authorization: Bearer <token>`.
 * @example const api = createApiClient('https://triage.internal:3000', process.env.TRIAGE_API_TOKEN)
 */
export function createApiClient(baseUrl: string, token: string | undefined, fetchImpl?: (input: Request) => Promise<Response>): ApiClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** POST /v1/explain. Text over the server's body limit is refused here, before it is sent. */
export async function explainRemote(api: ApiClient, server: string, text: string, lang: Lang): Promise<Diagnosis> {
  if (Buffer.byteLength(JSON.stringify({ text, lang })) > BODY_LIMITS.explainBytes)
    throw new TriageError(
      'INPUT_TOO_LARGE',
      `the server takes at most ${BODY_LIMITS.explainBytes / 1024 / 1024} MiB of text per request: pass the relevant part (e.g. tail -n 2000 error.log | triage --server … explain), or run without --server`,
    );
  const r = await call(server, () =>
    api.POST('/v1/explain', { body: { text, lang }, signal: AbortSignal.timeout(CLIENT_DEFAULTS.requestTimeoutMs) }),
  );
  if (r.error !== undefined) throw remoteError(server, r.response, r.error);
  return asDiagnosis(server, r.data);
}

/** POST /v1/explain with several texts, ranked as one investigation (each evidence names its text). */
export async function investigateRemote(
  api: ApiClient,
  server: string,
  texts: readonly { id: string; text: string }[],
  lang: Lang,
): Promise<Diagnosis> {
  const body = { texts: [...texts], lang };
  if (Buffer.byteLength(JSON.stringify(body)) > BODY_LIMITS.explainBytes)
    throw new TriageError(
      'INPUT_TOO_LARGE',
      `the server takes at most ${BODY_LIMITS.explainBytes / 1024 / 1024} MiB of text per request, all texts together: pass the relevant parts, or run without --server`,
    );
  const r = await call(server, () => api.POST('/v1/explain', { body, signal: AbortSignal.timeout(CLIENT_DEFAULTS.requestTimeoutMs) }));
  if (r.error !== undefined) throw remoteError(server, r.response, r.error);
  return asDiagnosis(server, r.data);
}

export type DiagnosisRequest = Schemas['DiagnosisRequest'];

/** POST /v1/diagnoses, then poll GET /v1/diagnoses/{id} until done, failed or `deadlineMs` passes. */
export async function diagnoseRemote(api: ApiClient, server: string, body: DiagnosisRequest, deadlineMs: number): Promise<DiagnoseResult> {
  const signal = () => AbortSignal.timeout(CLIENT_DEFAULTS.requestTimeoutMs);
  const created = await call(server, () => api.POST('/v1/diagnoses', { body, signal: signal() }));
  if (created.error !== undefined) throw remoteError(server, created.response, created.error);
  const id = created.data.id;
  const deadline = Date.now() + deadlineMs;
  for (let pause: number = CLIENT_DEFAULTS.pollStartMs; ; pause = Math.min(pause * 1.5, CLIENT_DEFAULTS.pollMaxMs)) {
    if (Date.now() + pause > deadline)
      throw new TriageError(
        'INTERNAL',
        `the server has not finished diagnosis ${id} after ${Math.round(deadlineMs / 1000)} s: ask for it later with GET ${server}/v1/diagnoses/${id}`,
      );
    await sleep(pause);
    const r = await call(server, () => api.GET('/v1/diagnoses/{id}', { params: { path: { id } }, signal: signal() }));
    if (r.error !== undefined) throw remoteError(server, r.response, r.error);
    if (r.data.status === 'done' && r.data.result) return asDiagnosis(server, r.data.result) as DiagnoseResult;
    if (r.data.status === 'failed')
      throw new TriageError('INTERNAL', `the server could not diagnose it: ${clean(r.data.error?.message ?? 'no reason given')}`);
  }
}

/** Run one request; a network failure (refused, reset, timeout, bad URL) becomes one clear line. */
async function call<T>(server: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new TriageError('INTERNAL', `the server at ${server} did not answer JSON: check that --server points at a triage server`);
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new TriageError(
      'INTERNAL',
      `cannot reach the triage server at ${server} (${clean(String(why))}): check --server and that the server runs`,
    );
  }
}

/** Which of the CLI's codes (and so exit statuses) a server error maps to. */
const CLI_CODE: Partial<Record<Schemas['ErrorCode'], ErrorCode>> = {
  UNAUTHORIZED: 'CONFIG_INVALID',
  INVALID_REQUEST: 'USAGE',
  INVALID_JSON: 'USAGE',
  UNSUPPORTED_MEDIA_TYPE: 'USAGE',
  TARGET_REFUSED: 'USAGE',
  INPUT_EMPTY: 'INPUT_EMPTY',
  INPUT_BINARY: 'INPUT_BINARY',
  PAYLOAD_TOO_LARGE: 'INPUT_TOO_LARGE',
};

/** The server's error as a TriageError; an answer that is not the API's error shape says so. */
function remoteError(server: string, response: Response, body: unknown): TriageError {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string')
    return new TriageError(
      'INTERNAL',
      `the server at ${server} answered HTTP ${response.status} without a triage API error: check that --server points at a triage server`,
    );
  const code = CLI_CODE[e.code as Schemas['ErrorCode']] ?? 'INTERNAL';
  // The engine's input errors read as they do locally; the rest say the server refused.
  if (code.startsWith('INPUT_')) return new TriageError(code, clean(e.message));
  const hint = e.code === 'UNAUTHORIZED' ? ' (the CLI sends TRIAGE_API_TOKEN)' : '';
  return new TriageError(code, `the server refused: ${clean(e.message)}${hint}`);
}

/**
 * The server's answer as the engine's type. The server built it with redact(); JSON does not carry
 * the Masked brand, so it is restored here after a check of the top-level shape.
 */
function asDiagnosis(server: string, d: Schemas['Diagnosis']): Diagnosis {
  if (!Array.isArray(d?.causes) || !Array.isArray(d?.signals))
    throw new TriageError('INTERNAL', `the server at ${server} answered something that is not a diagnosis: check --server`);
  return d as unknown as Diagnosis;
}

/** Server text for a terminal: one line, no control characters (no escape sequences), bounded. */
function clean(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').slice(0, 600);
}
