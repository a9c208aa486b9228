import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readCliConfig, readCliQueueConfig, type CliConfig, type CliQueueConfig } from '../config.js';
import { ERROR_CODES, TriageError, asTriageError } from '../errors.js';
import { TEXT_LIMITS } from '../evidence/text.js';
import { BUILTIN_KNOWLEDGE_DIR } from '../knowledge/load.js';
import { LANGS, type Lang } from '../knowledge/types.js';
import type { ApiClient } from '../api/client.js';
import { createEngine, type Engine } from '../triage/engine.js';
import { renderProbes, renderTerminal } from '../triage/render-terminal.js';
import type { ProbeRunner } from '../queue/runner.js';
import type { SsrfPolicy } from '../security/ssrf.js';
import type { DiagnoseResult } from '../triage/diagnose.js';
import type { Diagnosis } from '../triage/result.js';
import type { ProbeTarget } from '../probes/probe.js';
import type { proxyFromEnv } from '../triage/proxy-env.js';
import { daemonCommand } from './daemon.js';
import type { CliIo } from './io.js';

export { processIo } from './io.js';
import type { parseTarget } from '../triage/target.js';

const USAGE = `Usage:
  triage explain [TEXT] [--file PATH]... [--json | --jsonl] [--lang en|zh] [--all] [--width N]
      Rank the likely causes of a proxy / gateway error. TEXT, or standard input when absent.
      --file (repeatable; - is standard input) ranks several files about one failure together, as
      one investigation: each piece of evidence names the file it came from.
      --jsonl reads {"id","text"} lines on stdin and writes {"id","causes"} lines.
  triage diagnose URL [--proxy URL] [--upstream HOST:PORT] [--header "Name: value"]...
                 [--origin ORIGIN] [--timeout MS] [--repeat] [--queue] [--from POOL,...] [--json] [--lang en|zh]
      Probe the URL (DNS, TCP, TLS, HTTP, CONNECT through --proxy, the --upstream directly, CORS, auth)
      and rank causes from what the probes saw. In-process unless --queue (REDIS_URL) or --from.
      Every HTTP probe goes through --proxy, else https_proxy / http_proxy / all_proxy unless
      NO_PROXY matches, as curl reads them; --proxy "" goes direct.
  triage kb check [--dir DIR]...
      Validate the knowledge base (built-in plus KNOWLEDGE_DIRS and --dir) and prove every pattern linear-time.
  triage daemon start|stop|status|run [--idle 30m]
      Keep one warm engine running for this user: later explain and diagnose commands are handed to
      it over a Unix socket (TRIAGE_DAEMON_SOCKET, else under XDG_RUNTIME_DIR or the temp folder) and
      start in about Node's own start-up time. The first explain or diagnose that finds none starts
      one; TRIAGE_DAEMON=manual (the default when CI is set) only uses one, TRIAGE_DAEMON=off never.
  triage --server URL explain … | triage --server URL diagnose …
      Ask a triage server's HTTP API instead (token from TRIAGE_API_TOKEN); the output is the same.
  triage --help | --version`;

class UsageError extends TriageError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Where explain and diagnose get their answer: this process, or a triage server's HTTP API. */
interface Remote {
  readonly server: string;
  readonly api: ApiClient;
}

async function main(args: string[], io: CliIo): Promise<number> {
  const { server, argv } = takeServer(args);
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    io.out('gateway-triage 0.1.0\n');
    return 0;
  }
  const config = readCliConfig(io.env);
  const remote = server === undefined ? undefined : await connect(server, config);
  switch (command) {
    case 'explain':
      return explain(rest, config, io, remote);
    case 'kb':
      if (remote) throw new UsageError('kb check reads the knowledge folders on this machine: drop --server');
      return kb(rest, config, io);
    case 'diagnose':
      return diagnoseCommand(rest, config, io, remote);
    case 'daemon': {
      if (remote) throw new UsageError('the daemon runs on this machine: drop --server');
      return daemonCommand(rest, io);
    }
    default:
      throw new UsageError(`unknown command "${command}": use "triage explain", "triage diagnose", "triage kb check" or "triage --help"`);
  }
}

/** A leading `--server URL` (or `--server=URL`): the rest of the command runs against that server. */
function takeServer(args: string[]): { server?: string; argv: string[] } {
  const [first, second, ...rest] = args;
  if (first === '--server') {
    if (second === undefined || second.startsWith('-'))
      throw new UsageError('--server takes a URL: triage --server https://triage.internal:3000 explain …');
    return { server: second, argv: rest };
  }
  if (first?.startsWith('--server=')) return { server: first.slice('--server='.length), argv: args.slice(1) };
  return { argv: args };
}

/** The API client for --server; the module loads only when a server is used. */
async function connect(server: string, config: CliConfig): Promise<Remote> {
  let url: URL;
  try {
    url = new URL(server);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash)
      throw new Error();
  } catch {
    throw new UsageError(
      '--server takes the http(s) URL of a triage server, without credentials or query: e.g. --server https://triage.internal:3000',
    );
  }
  if (!config.apiToken)
    throw new TriageError('CONFIG_INVALID', "TRIAGE_API_TOKEN is not set: export one of the server's API_TOKENS to use --server");
  const { createApiClient } = await import('../api/client.js');
  const base = url.href.replace(/\/+$/, '');
  return { server: base, api: createApiClient(base, config.apiToken) };
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}: see "triage --help"`);
  }
}

async function explain(args: string[], config: CliConfig, io: CliIo, remote?: Remote): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    jsonl: { type: 'boolean' },
    lang: { type: 'string' },
    all: { type: 'boolean' },
    width: { type: 'string' },
    file: { type: 'string', multiple: true, short: 'f' },
  });
  if (values.json && values.jsonl) throw new UsageError('--json and --jsonl exclude each other: pick one');
  const lang = pickLang(values.lang as string | undefined, config.lang);
  if (positionals.length > 1)
    throw new UsageError('explain takes one TEXT argument: quote it, pipe the text on standard input, or give files with --file');
  const width = parseWidth(values.width as string | undefined, io);
  const files = (values.file as string[] | undefined) ?? [];
  if (values.jsonl && files.length > 0) throw new UsageError('--jsonl reads standard input: do not pass --file');

  let d: Diagnosis;
  if (files.length > 0) {
    const items = await readItems(files, positionals[0], io);
    d = await (await investigator(config, io, remote))(items, lang);
  } else {
    const answer = await explainer(config, io, remote);
    if (values.jsonl) {
      if (positionals.length > 0) throw new UsageError('--jsonl reads standard input: do not pass TEXT');
      await explainJsonl(answer, lang, io);
      return 0;
    }
    let input: string | Uint8Array;
    if (positionals[0] !== undefined) input = positionals[0];
    else if (io.stdin.isTTY) throw new UsageError('no text: pass TEXT, or pipe it, e.g. tail -n 200 error.log | triage explain');
    else input = await readStdin(io);
    d = await answer(input, lang);
  }
  if (values.json) io.out(`${JSON.stringify(d)}\n`);
  else io.out(renderTerminal(d, { width, color: config.color && io.stdoutTTY, all: values.all === true }));
  return 0;
}

/** Text → diagnosis: the engine in this process, or POST /v1/explain on the server. */
type Explainer = (input: string | Uint8Array, lang: Lang) => Promise<Diagnosis>;

async function explainer(config: CliConfig, io: CliIo, remote: Remote | undefined): Promise<Explainer> {
  if (!remote) {
    const engine = cliEngine(config, io);
    return async (input, lang) => engine.explain(input, { lang });
  }
  const { explainRemote } = await import('../api/client.js');
  return (input, lang) => explainRemote(remote.api, remote.server, typeof input === 'string' ? input : decodeText(input), lang);
}

/** Most files in one investigation (the API's limit too). */
const MAX_FILES = 20;

/** --file PATH... (and TEXT, when given) as investigation items named by their path. */
async function readItems(
  files: readonly string[],
  text: string | undefined,
  io: CliIo,
): Promise<{ id: string; text: Uint8Array | string }[]> {
  if (files.length + (text === undefined ? 0 : 1) > MAX_FILES)
    throw new UsageError(`explain ranks at most ${MAX_FILES} files together: pass the ones about this failure`);
  const seen = new Set<string>();
  const items: { id: string; text: Uint8Array | string }[] = [];
  if (text !== undefined) items.push({ id: 'text', text });
  const { open } = await import('node:fs/promises');
  for (const path of files) {
    if (seen.has(path)) throw new UsageError(`--file ${path} is given twice: give each file once`);
    seen.add(path);
    if (path === '-') {
      if (io.stdin.isTTY) throw new UsageError('--file - reads standard input, but nothing is piped: pipe the text, or name a file');
      items.push({ id: 'stdin', text: await readStdin(io) });
      continue;
    }
    let fh;
    try {
      fh = await open(resolve(io.cwd, path), 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot read --file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}; check the path`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new UsageError(`--file ${path} is not a regular file: name a log or text file`);
      if (st.size > TEXT_LIMITS.maxBytes)
        throw new TriageError(
          'INPUT_TOO_LARGE',
          `--file ${path} is more than the ${TEXT_LIMITS.maxBytes / 1024 / 1024} MB limit: pass the relevant part, e.g. tail -n 20000 ${path} > part.log`,
        );
      items.push({ id: path, text: await fh.readFile() });
    } finally {
      await fh.close();
    }
  }
  return items;
}

/** Several texts → one investigation: the engine in this process, or POST /v1/explain with `texts`. */
type Investigator = (items: readonly { id: string; text: string | Uint8Array }[], lang: Lang) => Promise<Diagnosis>;

async function investigator(config: CliConfig, io: CliIo, remote: Remote | undefined): Promise<Investigator> {
  if (!remote) {
    const engine = cliEngine(config, io);
    return async (items, lang) => engine.investigate(items, { lang });
  }
  const { investigateRemote } = await import('../api/client.js');
  return (items, lang) =>
    investigateRemote(
      remote.api,
      remote.server,
      items.map((i) => ({ id: i.id, text: typeof i.text === 'string' ? i.text : decodeText(i.text) })),
      lang,
    );
}

/** Bytes as the engine reads them (UTF-16 with a BOM, else UTF-8), for sending as JSON text. */
function decodeText(bytes: Uint8Array): string {
  const [a, b] = bytes;
  const encoding = a === 0xff && b === 0xfe ? 'utf-16le' : a === 0xfe && b === 0xff ? 'utf-16be' : 'utf-8';
  return new TextDecoder(encoding).decode(bytes);
}

/** --width, or the terminal's columns (100 when not a terminal). */
function parseWidth(flag: string | undefined, io: CliIo): number {
  const width = flag === undefined ? (io.columns ?? 100) : Number(flag);
  if (!Number.isInteger(width) || width < 20) throw new UsageError('--width takes a whole number of columns, at least 20');
  return width;
}

function pickLang(flag: string | undefined, fallback: Lang): Lang {
  if (flag === undefined) return fallback;
  const l = flag.toLowerCase().startsWith('zh') ? 'zh' : flag.toLowerCase().startsWith('en') ? 'en' : undefined;
  if (!l || !LANGS.includes(l)) throw new UsageError(`--lang takes en or zh, not "${flag}"`);
  return l;
}

async function readStdin(io: CliIo): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) closes the input, as the iterator's return does.
  for await (const b of io.stdin.read()) {
    size += b.length;
    if (size > TEXT_LIMITS.maxBytes) {
      throw new TriageError(
        'INPUT_TOO_LARGE',
        `standard input is more than the ${TEXT_LIMITS.maxBytes / 1024 / 1024} MB limit: pass the relevant part, e.g. tail -n 20000 error.log | triage explain`,
      );
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * One JSON result per input line, in order; a bad line yields an error object, not a stop. With
 * --server, a failure that is not the line's fault (network, token, server) stops the run.
 */
async function explainJsonl(answer: Explainer, lang: Lang, io: CliIo): Promise<void> {
  const rl = createInterface({ input: Readable.from(io.stdin.read()), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    let id: unknown = null;
    let result: object;
    try {
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new UsageError(`line ${n} is not JSON: each line must be {"id": "...", "text": "..."}`);
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
        throw new UsageError(`line ${n} must be a JSON object {"id": "...", "text": "..."}`);
      const r = rec as Record<string, unknown>;
      id = r.id ?? null;
      if (typeof r.text !== 'string') throw new UsageError(`line ${n} has no "text" string`);
      const d = await answer(r.text, lang);
      result = { id, causes: d.causes, signals: d.signals };
    } catch (err) {
      const e = asTriageError(err);
      if (e.code === 'INTERNAL' || e.code === 'CONFIG_INVALID') throw e;
      result = { id, causes: [], error: { code: e.code, message: e.message } };
    }
    io.out(`${JSON.stringify(result)}\n`);
  }
}

async function diagnoseCommand(args: string[], config: CliConfig, io: CliIo, remote?: Remote): Promise<number> {
  const { values, positionals } = parse(args, {
    proxy: { type: 'string' },
    upstream: { type: 'string' },
    header: { type: 'string', multiple: true, short: 'H' },
    origin: { type: 'string' },
    timeout: { type: 'string' },
    repeat: { type: 'boolean' },
    queue: { type: 'boolean' },
    from: { type: 'string' },
    json: { type: 'boolean' },
    lang: { type: 'string' },
    all: { type: 'boolean' },
    width: { type: 'string' },
  });
  if (positionals.length !== 1)
    throw new UsageError('diagnose takes one URL: triage diagnose https://api.example.com/health [--proxy URL] [--upstream HOST:PORT]');
  const lang = pickLang(values.lang as string | undefined, config.lang);
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)
    throw new UsageError('--timeout takes milliseconds from 100 to 120000, e.g. --timeout 5000');
  // The probes and their helpers load only for diagnose: explain starts without them.
  const [{ parseTarget }, { createSsrfPolicy }, { diagnose }, { proxyFromEnv }, { POOL_NAME }] = await Promise.all([
    import('../triage/target.js'),
    import('../security/ssrf.js'),
    import('../triage/diagnose.js'),
    import('../triage/proxy-env.js'),
    import('../queue/jobs.js'),
  ]);
  const input = {
    url: positionals[0]!,
    ...(values.upstream !== undefined ? { upstream: values.upstream as string } : {}),
    ...(values.header !== undefined ? { headers: values.header as string[] } : {}),
    ...(values.origin !== undefined ? { origin: values.origin as string } : {}),
  };
  const parsed = parseTarget({ ...input, ...(values.proxy ? { proxy: values.proxy as string } : {}) });
  if (!parsed.target) throw new UsageError(parsed.problems.join('; '));
  // Without --proxy the route is the environment's, as curl reads it; --proxy "" goes direct, as with curl.
  const target =
    values.proxy === undefined && !remote
      ? withEnvProxy(parsed.target, proxyFromEnv(parsed.target.url, config.proxyEnv), (proxy) => parseTarget({ ...input, proxy }), io)
      : values.proxy === ''
        ? { ...parsed.target, routeNote: '--proxy "": no proxy' }
        : parsed.target;
  const pools =
    values.from === undefined
      ? []
      : String(values.from)
          .split(',')
          .map((p) => p.trim().toLowerCase())
          .filter(Boolean);
  for (const p of pools) if (!POOL_NAME.test(p)) throw new UsageError(`--from takes pool names like eu-west,dmz; "${p}" is not one`);
  const print = (result: DiagnoseResult) => {
    if (values.json) return void io.out(`${JSON.stringify(result)}\n`);
    const width = parseWidth(values.width as string | undefined, io);
    const color = config.color && io.stdoutTTY;
    io.out(renderProbes(result, { width, color }));
    io.out(renderTerminal(result, { width, color, all: values.all === true, source: 'probes' }));
  };
  if (remote) {
    if (values.queue) throw new UsageError('with --server the server decides where probes run (its REDIS_URL): drop --queue');
    const { diagnoseRemote } = await import('../api/client.js');
    const body = {
      url: positionals[0]!,
      ...(values.proxy ? { proxy: values.proxy as string } : {}),
      ...(values.upstream !== undefined ? { upstream: values.upstream as string } : {}),
      ...(values.header !== undefined ? { headers: values.header as string[] } : {}),
      ...(values.origin !== undefined ? { origin: values.origin as string } : {}),
      ...(pools.length > 0 ? { from: pools } : {}),
      ...(values.repeat ? { repeat: true } : {}),
      timeoutMs,
      lang,
    };
    // The probes' rounds (first, then repeat) plus a worker's pickup fit well inside this.
    print(await diagnoseRemote(remote.api, remote.server, body, 4 * timeoutMs + 30_000));
    return 0;
  }
  const q = readCliQueueConfig(io.env);
  const policy = q.restricted ? createSsrfPolicy({ allow: q.probeAllow }) : createSsrfPolicy({ allowAll: true });
  const engine = cliEngine(config, io);
  const runner = await pickRunner(values.queue === true || pools.length > 0, pools.length > 0, q, policy, io);
  try {
    const result = await diagnose(engine, runner, target, {
      lang,
      limits: { timeoutMs },
      ...(values.repeat ? { alwaysRepeat: true } : {}),
      ...(pools.length > 0 ? { pools } : {}),
    });
    print(result);
  } finally {
    await runner.close();
  }
  return 0;
}

/**
 * The target with the proxy the environment gives its URL (https_proxy, http_proxy, all_proxy,
 * NO_PROXY, as curl reads them), saying where it came from; or why it goes direct.
 */
function withEnvProxy(
  target: ProbeTarget,
  env: ReturnType<typeof proxyFromEnv>,
  reparse: (proxy: string) => ReturnType<typeof parseTarget>,
  io: CliIo,
): ProbeTarget {
  if (env.note) io.err(`triage: ${env.note}\n`);
  if (env.bypass) return { ...target, routeNote: env.bypass };
  if (!env.proxy || !env.from) return target;
  if (/^socks[45]?h?:\/\//i.test(env.proxy)) {
    io.err(`triage: ${env.from} names a SOCKS proxy, which the probes do not speak: probing direct\n`);
    return { ...target, routeNote: `${env.from} is a SOCKS proxy, not used` };
  }
  const routed = reparse(env.proxy);
  if (!routed.target)
    throw new UsageError(
      `${env.from} is not a proxy the probes can use (${routed.problems.join('; ').replace(/--proxy/g, env.from)}): fix it, or pass --proxy`,
    );
  return { ...routed.target, proxyFrom: env.from };
}

/** The engine over the built-in knowledge and KNOWLEDGE_DIRS (from the build's snapshot when it is current). */
function cliEngine(config: CliConfig, io: CliIo): Engine {
  const dirs = config.knowledgeDirs.map((d) => resolve(io.cwd, d));
  return io.engine ? io.engine(dirs) : createEngine(dirs);
}

/** The queue when asked for and reachable; otherwise in-process, saying why (never a hang). */
async function pickRunner(wantQueue: boolean, needQueue: boolean, q: CliQueueConfig, policy: SsrfPolicy, io: CliIo): Promise<ProbeRunner> {
  const [{ createProbes }, { InlineRunner }] = await Promise.all([import('../probes/index.js'), import('../queue/runner.js')]);
  const inline = new InlineRunner(createProbes({ extraCaPems: q.extraCaPems }), policy);
  if (!wantQueue) return inline;
  if (!q.redisUrl) {
    if (needQueue) throw new UsageError('--from needs the queue: set REDIS_URL to the Redis the workers use');
    io.err('triage: --queue needs REDIS_URL; running the probes in-process instead\n');
    return inline;
  }
  if (!q.queueSecret) {
    const why = 'the workers run only jobs sealed with their QUEUE_SECRET: set the same value';
    if (needQueue) throw new UsageError(`--from needs the queue, and ${why}`);
    io.err(`triage: --queue needs QUEUE_SECRET (${why}); running the probes in-process instead\n`);
    return inline;
  }
  // The queue's modules (BullMQ, ioredis) load only when the queue is used: they cost a start-up.
  const { checkRedis, describeRedisUrl } = await import('../queue/redis.js');
  const health = await checkRedis(q.redisUrl);
  if (!health.ok) {
    const where = describeRedisUrl(q.redisUrl);
    if (needQueue)
      throw new TriageError(
        'INTERNAL',
        `Redis at ${where} is unreachable (${health.reason}): --from needs the workers' queue; start Redis or drop --from`,
      );
    io.err(`triage: Redis at ${where} is unreachable (${health.reason}); running the probes in-process instead\n`);
    return inline;
  }
  const [{ QueueRunner }, { Sealer }] = await Promise.all([import('../queue/queue-runner.js'), import('../queue/seal.js')]);
  return new QueueRunner({ redisUrl: q.redisUrl, prefix: q.queuePrefix, sealer: new Sealer(q.queueSecret) });
}

async function kb(args: string[], config: CliConfig, io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: 'string', multiple: true } });
  if (positionals[0] !== 'check' || positionals.length > 1) throw new UsageError('kb takes one subcommand: triage kb check [--dir DIR]...');
  const dirs = [
    BUILTIN_KNOWLEDGE_DIR,
    ...[...config.knowledgeDirs, ...((values.dir as string[] | undefined) ?? [])].map((d) => resolve(io.cwd, d)),
  ];
  const { checkKnowledge } = await import('../knowledge/check.js');
  const report = await checkKnowledge(dirs);
  for (const line of report.problems) io.out(`${line}\n`);
  io.out(`${report.summary}\n`);
  return report.problems.length > 0 ? 1 : 0;
}

/**
 * Runs one `triage …` command against `io`, and returns its exit code: a failure is written to
 * `io.err` as one line (and its details) with the exit code of its kind, never thrown.
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  try {
    return await main(args, io);
  } catch (err) {
    const e = asTriageError(err);
    io.err(`triage: ${e.message}\n`);
    for (const d of e.details) io.err(`  ${d}\n`);
    return ERROR_CODES[e.code].exit;
  }
}
