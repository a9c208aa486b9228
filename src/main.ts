#!/usr/bin/env node
import { composeApp } from './compose.js';
import { readServerConfig, type ServerConfig } from './config.js';
import { asTriageError } from './errors.js';
import { logLine, setLogLevel } from './log.js';
import { redact } from './security/redact.js';

/**
 * Entry point of `npm start`: the Slack bot (Socket Mode or HTTP mode) and the HTTP API on one
 * port, or the API alone when Slack is not configured. The wiring is src/compose.ts.
 */
async function main(): Promise<void> {
  const config = readServerConfig();
  setLogLevel(config.logLevel);
  // A failure nobody awaited is logged, never fatal: one bad request must not take the bot down.
  process.on('unhandledRejection', (err) => logLine('error', redact(`unhandled rejection: ${String((err as Error)?.stack ?? err)}`)));
  const app = await composeApp(config);
  const { port } = await app.listen(config.port);
  logLine('info', readyLine(config, port));

  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

function readyLine(config: ServerConfig, port: number): string {
  const api =
    config.api.tokenDigests.length > 0 ? `HTTP API on port ${port}` : `health and metrics on port ${port} (API_TOKENS unset: /v1 is off)`;
  if (!config.bot) return `API ready (${api}; Slack not configured)`;
  return config.bot.mode === 'socket' ? `bot ready (Socket Mode; ${api})` : `bot ready (HTTP mode, POST /slack/events; ${api})`;
}

main().catch((err: unknown) => {
  const e = asTriageError(err);
  process.stderr.write(`triage: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  ${d}\n`);
  process.exit(2);
});
