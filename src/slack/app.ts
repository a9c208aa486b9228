import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger } from '@slack/bolt';
import { WebClient, LogLevel as WebLogLevel } from '@slack/web-api';
import { createAlertPipeline, type AlertIntake } from '../alerts/pipeline.js';
import type { BotConfig } from '../config.js';
import { logLine } from '../log.js';
import { slackCalls } from '../metrics.js';
import type { ProbeRunner } from '../queue/runner.js';
import type { Sealer } from '../queue/seal.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import { memoryAlertWindows, type AlertWindows } from '../store/alert-windows.js';
import { memoryAnswerStore, type AnswerStore } from '../store/answers.js';
import { DEDUPE_DEFAULTS, memoryDedupe, type Dedupe } from '../store/dedupe.js';
import type { FeedbackStore } from '../store/feedback.js';
import type { Engine } from '../triage/engine.js';
import { createAlertResponder } from './alert-responder.js';
import { createAnswerer } from './answers.js';
import type { BotContext, BotIdentity } from './bot-context.js';
import { registerActions } from './handlers/actions.js';
import { registerAlertChannel } from './handlers/alert-channel.js';
import { registerCommand } from './handlers/command.js';
import { registerMessages } from './handlers/messages.js';
import { createPoster, type ChatResponse, type Poster, type PosterClient, type PosterOptions } from './poster.js';
import { memoryRateLimiter, UNLIMITED, type RateLimiter } from './rate-limit.js';
import { requestStates } from './requests.js';
import { recentRequestsOnly } from './request-age.js';
import type { ProgressOptions } from './progress.js';
import { createThreads } from './investigation.js';
import { memoryInvestigationStore, type InvestigationStore } from '../store/investigations.js';

/*
 * The Slack bot, composed:
 * 1. Bolt's App (HTTP mode behind recentRequestsOnly, or Socket Mode), and one paced, retrying,
 *    redacting poster for everything the bot (and the alert pipeline) posts.
 * 2. A retried event (same event_id) is acknowledged and dropped (the dedupe store).
 * 3. One handler per surface (src/slack/handlers/): the command, messages, the buttons, alert
 *    channels; each gets the same BotContext.
 * 4. The alert pipeline (src/alerts/pipeline.ts) answers through the same answerer as pastes; the
 *    HTTP API's Alertmanager route feeds it too (src/compose.ts binds it to its channel).
 */

/** The stores the bot keeps its state in; src/compose.ts gives the Redis ones. Each defaults to process memory. */
export interface BotStores {
  readonly dedupe?: Dedupe;
  readonly answers?: AnswerStore;
  /** Absent: votes are not kept ("Feedback is not kept: this bot runs without REDIS_URL"). */
  readonly feedback?: FeedbackStore;
  readonly windows?: AlertWindows;
  /** Per-user limit of /diagnose; defaults to config.commandRateLimit in memory. */
  readonly commandLimit?: RateLimiter;
  /** Threads' evidence (investigations); defaults to bounded process memory. */
  readonly investigations?: InvestigationStore;
}

/** What the bot needs; src/compose.ts builds it (for src/main.ts and for the tests). */
export interface BotDeps {
  readonly config: BotConfig;
  readonly engine: Engine;
  readonly runner: ProbeRunner;
  readonly policy: SsrfPolicy;
  readonly stores?: BotStores;
  /** How long the same alert firing again updates the first answer instead of a new one. @defaultValue 3600 */
  readonly alertWindowSec?: number;
  readonly logger?: Logger;
  /** Seals kept probe targets (headers included) so Re-probe can run them again; QUEUE_SECRET. */
  readonly sealer?: Sealer;
  /** Pace and retries of posting; tests shorten them. @defaultValue POSTER_DEFAULTS */
  readonly posting?: Pick<PosterOptions, 'perChannelIntervalMs' | 'retryBaseMs' | 'maxRetries' | 'maxRetryDelayMs'>;
  /** When /diagnose's partial answers go out. @defaultValue PROGRESS_DEFAULTS (src/slack/progress.ts) */
  readonly progress?: Partial<ProgressOptions>;
}

/** The Slack bot: `/diagnose`, pasted errors in DMs, mentions and WATCH_CHANNELS, alert channels, and the answers' buttons. */
export interface Bot {
  readonly app: App;
  /** HTTP mode: serves POST /slack/events (mount it with startHttpServer); undefined in Socket Mode. */
  readonly requestListener?: RequestListener;
  /** Posts, updates and ephemerals, paced per channel and retried. */
  readonly poster: Poster;
  /** The alert pipeline, answering in Slack (the Alertmanager webhook feeds it too). */
  readonly alerts: AlertIntake;
  /** Who the bot is (known after start). */
  readonly self: Readonly<BotIdentity>;
  /** Learns the bot's own ids (auth.test) and, in Socket Mode, connects. */
  start(): Promise<void>;
  /** Waits for queued posts, then disconnects. */
  stop(): Promise<void>;
}

export function createBot(deps: BotDeps): Bot {
  const { config } = deps;
  const stores = deps.stores ?? {};
  const clientOptions = config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {};
  const logging = deps.logger ? { logger: deps.logger } : { logLevel: LogLevel.WARN };
  const receiver =
    config.mode === 'http' ? new HTTPReceiver({ signingSecret: config.signingSecret!, endpoints: '/slack/events', ...logging }) : undefined;
  const app = receiver
    ? new App({ token: config.botToken, receiver, clientOptions: { ...clientOptions }, ...logging })
    : // A copy: Bolt's Socket Mode client writes its own retry settings into the object it is given.
      new App({ token: config.botToken, appToken: config.appToken!, socketMode: true, clientOptions: { ...clientOptions }, ...logging });
  const poster = createPoster({
    client: countedClient(
      new WebClient(config.botToken, {
        ...clientOptions,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        logLevel: WebLogLevel.ERROR,
      }),
    ),
    log: (e) => {
      // Calls are counted where they are made (countedClient); here only jobs refused before any call.
      if (e.attempt === 0) slackCalls.inc({ method: e.method, outcome: 'refused' });
      logLine(e.level, `slack ${e.method} ${e.event}: ${e.error} (channel ${e.channel}, attempt ${e.attempt})`);
    },
    ...deps.posting,
  });
  const states = requestStates(stores.answers ?? memoryAnswerStore());
  const answerer = createAnswerer({
    engine: deps.engine,
    runner: deps.runner,
    states,
    ...(stores.feedback ? { feedback: stores.feedback } : {}),
    ...(deps.sealer ? { sealer: deps.sealer } : {}),
  });
  const self: BotIdentity = {};
  const dedupe = stores.dedupe ?? memoryDedupe();
  const threads = createThreads({
    engine: deps.engine,
    store: stores.investigations ?? memoryInvestigationStore(),
    states,
    poster,
    client: app.client,
    ...(stores.feedback ? { feedback: stores.feedback } : {}),
    self,
    maxItems: config.threadEvidenceMax,
  });
  const alerts = createAlertPipeline({
    windows: stores.windows ?? memoryAlertWindows(),
    responder: createAlertResponder({ answerer, policy: deps.policy, poster, threads }),
    ...(deps.alertWindowSec ? { windowSec: deps.alertWindowSec } : {}),
    log: (level, msg) => logLine(level, msg),
  });
  const ctx: BotContext = {
    config,
    engine: deps.engine,
    policy: deps.policy,
    poster,
    answerer,
    states,
    ...(stores.feedback ? { feedback: stores.feedback } : {}),
    dedupe,
    alerts,
    commandLimit: stores.commandLimit ?? (config.commandRateLimit ? memoryRateLimiter(config.commandRateLimit) : UNLIMITED),
    ...(deps.sealer ? { sealer: deps.sealer } : {}),
    client: app.client,
    self,
    threads,
    ...(deps.progress ? { progress: deps.progress } : {}),
  };

  // A retried event (same event_id, X-Slack-Retry-Num) is acknowledged and dropped.
  app.use(async ({ body, next }) => {
    const id = (body as { event_id?: unknown }).event_id;
    if (typeof id === 'string' && !(await dedupe.claim(`event:${id}`, DEDUPE_DEFAULTS.eventTtlSec).catch(() => true))) return;
    await next();
  });
  registerCommand(app, ctx);
  registerMessages(app, ctx);
  registerAlertChannel(app, ctx);
  registerActions(app, ctx);

  return {
    app,
    poster,
    alerts,
    self,
    ...(receiver ? { requestListener: recentRequestsOnly(receiver.requestListener) } : {}),
    async start() {
      const auth = await app.client.auth.test();
      if (typeof auth.user_id === 'string') self.userId = auth.user_id;
      if (typeof auth.bot_id === 'string') self.botId = auth.bot_id;
      if (typeof auth.team_id === 'string') self.teamId = auth.team_id;
      if (config.mode === 'socket') await app.start();
    },
    async stop() {
      await Promise.race([poster.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      if (config.mode === 'socket') await app.stop();
    },
  };
}

/** The Web API client of the poster, counting calls by method and outcome. */
function countedClient(client: WebClient): PosterClient {
  const counted =
    (method: string, call: (args: never) => Promise<ChatResponse>) =>
    async (args: unknown): Promise<ChatResponse> => {
      try {
        const r = await call(args as never);
        slackCalls.inc({ method, outcome: 'ok' });
        return r;
      } catch (err) {
        const rateLimited = (err as { code?: string }).code === 'slack_webapi_rate_limited_error';
        slackCalls.inc({ method, outcome: rateLimited ? 'rate_limited' : 'error' });
        throw err;
      }
    };
  return {
    chat: {
      postMessage: counted('chat.postMessage', (a) => client.chat.postMessage(a)),
      update: counted('chat.update', (a) => client.chat.update(a)),
      postEphemeral: counted('chat.postEphemeral', (a) => client.chat.postEphemeral(a)),
    },
  } as PosterClient;
}
