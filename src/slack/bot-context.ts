import type { WebClient } from '@slack/web-api';
import type { AlertIntake } from '../alerts/pipeline.js';
import type { BotConfig } from '../config.js';
import type { Lang } from '../knowledge/types.js';
import type { Sealer } from '../queue/seal.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import type { Dedupe } from '../store/dedupe.js';
import type { FeedbackStore } from '../store/feedback.js';
import type { Engine } from '../triage/engine.js';
import type { Answerer } from './answers.js';
import type { Poster } from './poster.js';
import type { RateLimiter } from './rate-limit.js';
import type { RequestStates } from './requests.js';
import { firstHttpUrl } from '../triage/urls.js';
import type { ProgressOptions } from './progress.js';
import type { Threads } from './investigation.js';

/** Who the bot is in its workspace (auth.test at start). */
export interface BotIdentity {
  userId?: string;
  botId?: string;
  teamId?: string;
}

/** What every handler (src/slack/handlers/) gets: the bot's parts, built once by createBot. */
export interface BotContext {
  readonly config: BotConfig;
  readonly engine: Engine;
  readonly policy: SsrfPolicy;
  readonly poster: Poster;
  readonly answerer: Answerer;
  readonly states: RequestStates;
  /** Absent without Redis: votes are then not kept. */
  readonly feedback?: FeedbackStore;
  readonly dedupe: Dedupe;
  readonly alerts: AlertIntake;
  readonly commandLimit: RateLimiter;
  readonly sealer?: Sealer;
  readonly client: WebClient;
  readonly self: BotIdentity;
  /** One investigation per answer's thread: follow-ups re-rank the first answer. */
  readonly threads: Threads;
  /** When /diagnose's partial answers go out. @defaultValue PROGRESS_DEFAULTS (src/slack/progress.ts) */
  readonly progress?: Partial<ProgressOptions>;
}

/** zh for users whose Slack locale is Chinese; en otherwise (and when the lookup fails). */
export async function userLang(client: WebClient, user: string | undefined): Promise<Lang> {
  if (!user) return 'en';
  try {
    const r = await client.users.info({ user, include_locale: true });
    return /^zh/i.test(r.user?.locale ?? '') ? 'zh' : 'en';
  } catch {
    return 'en';
  }
}

/** Whether this user may run probes from this channel (PROBE_CHANNELS, PROBE_USERS; DMs always). */
export function mayProbe(config: BotConfig, channel: string, user: string): boolean {
  const channelOk = config.probeChannels.length === 0 || config.probeChannels.includes(channel) || channel.startsWith('D');
  const userOk = config.probeUsers.length === 0 || config.probeUsers.includes(user);
  return channelOk && userOk;
}

/** The first http(s) URL in a decoded text, for "Run probes". */
export const firstUrl = firstHttpUrl;
