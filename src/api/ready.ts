import { checkRedis } from '../queue/redis.js';
import type { Schema } from './wire.js';

export type Readiness = Schema<'Readiness'>;
export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** One dependency GET /readyz asks about. `run` must not throw and must not hang (bound it). */
export interface ReadinessCheck {
  readonly name: string;
  run(): Promise<CheckResult>;
}

/** Readiness settings. */
export const READINESS_DEFAULTS = {
  /** A result is reused this long, so probes from load balancers do not hammer Redis or Slack. @defaultValue 5000 */
  cacheMs: 5_000,
  /** Each check's bound. @defaultValue 2000 */
  timeoutMs: 2_000,
} as const;

/** Redis answers PING, on a connection of its own (the app's may be stuck in a retry). */
export function redisCheck(url: string, timeoutMs: number = READINESS_DEFAULTS.timeoutMs): ReadinessCheck {
  return {
    name: 'redis',
    async run() {
      const r = await checkRedis(url, timeoutMs);
      return r.ok ? r : { ok: false, reason: `Redis does not answer PING (${r.reason})` };
    },
  };
}

/**
 * Slack: auth.test succeeded when the bot started, or succeeds now. `authTest` is the Web API call
 * (a WebClient's `auth.test`); once it has succeeded the check stays green, since a token does not
 * un-authenticate and Slack's own hiccups should not take the API out of the load balancer.
 */
export function slackCheck(authTest: () => Promise<unknown>, authedAtStart: boolean): ReadinessCheck {
  let authed = authedAtStart;
  return {
    name: 'slack',
    async run() {
      if (authed) return { ok: true };
      try {
        await withTimeout(authTest(), READINESS_DEFAULTS.timeoutMs);
        authed = true;
        return { ok: true };
      } catch (err) {
        const code = (err as { data?: { error?: unknown }; code?: unknown }).data?.error ?? (err as { code?: unknown }).code ?? 'error';
        return { ok: false, reason: `Slack auth.test failed (${String(code).slice(0, 80)}): check SLACK_BOT_TOKEN and SLACK_API_URL` };
      }
    },
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check (in parallel), caching the combined answer for `cacheMs`. */
export function createReadiness(checks: readonly ReadinessCheck[], cacheMs: number = READINESS_DEFAULTS.cacheMs): () => Promise<Readiness> {
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  const evaluate = async (): Promise<Readiness> => {
    const results = await Promise.all(
      checks.map(async (c) => {
        const r = await c.run().catch((err: unknown): CheckResult => ({ ok: false, reason: String((err as Error)?.message ?? err) }));
        return r.ok ? { name: c.name, ok: true } : { name: c.name, ok: false, reason: r.reason };
      }),
    );
    return { status: results.every((r) => r.ok) ? 'ready' : 'not_ready', checks: results };
  };
  return () => {
    // Concurrent callers share one evaluation: the promise itself is cached.
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), value: evaluate() };
    return cached.value;
  };
}
