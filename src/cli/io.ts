import type { Engine } from '../triage/engine.js';

/**
 * Everything a `triage …` command reads from or writes to its surroundings. A command run in its
 * own process uses {@link processIo}; a command the resident daemon answers (src/cli/daemon.ts)
 * uses the caller's: its arguments, folder, environment and terminal, with the output sent back.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly stdin: {
    /** A terminal: nothing is piped. */
    readonly isTTY: boolean;
    /** The piped bytes; leaving the loop early closes the input. */
    read(): AsyncIterable<Uint8Array>;
  };
  readonly stdoutTTY: boolean;
  /** The terminal's width, when standard output is one. */
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The folder relative paths (--file, --dir, KNOWLEDGE_DIRS) are read from. */
  readonly cwd: string;
  /** The running program: its entry script (what `triage daemon start` runs) and its build. */
  readonly program: Program;
  /** The engine for these knowledge folders (absolute); the daemon keeps one warm. @defaultValue a new engine */
  engine?(dirs: readonly string[]): Engine;
}

export interface Program {
  readonly script: string;
  /** Written into the bundle by scripts/bundle-cli.js; a daemon answers only a client of its own build. */
  readonly build: string;
}

/** This process's own streams, environment and folder. */
export function processIo(program: Program): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    // Read only when asked: touching process.stdin opens it.
    stdin: {
      get isTTY() {
        return process.stdin.isTTY === true;
      },
      read: () => process.stdin,
    },
    stdoutTTY: process.stdout.isTTY === true,
    ...(process.stdout.columns !== undefined ? { columns: process.stdout.columns } : {}),
    env: process.env,
    cwd: process.cwd(),
    program,
  };
}
