/** One JSON log line on standard output, for the long-running entry points (bot, worker). Messages must be program-made or masked. */
export function logLine(level: 'info' | 'warn' | 'error', msg: string): void {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg })}\n`);
}
