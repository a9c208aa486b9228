import { TriageError } from './errors.js';
import type { Lang } from './knowledge/types.js';

/**
 * The only reader of process.env. Every setting is validated here, and every problem is reported
 * at once with its fix.
 */
export interface CliConfig {
  /** Answer language, from LC_ALL / LC_MESSAGES / LANG (zh* → zh). @defaultValue 'en' */
  readonly lang: Lang;
  /** Extra knowledge directories (KNOWLEDGE_DIRS, comma- or colon-separated), overriding built-ins by id. */
  readonly knowledgeDirs: readonly string[];
  /** Colour in terminal output: off when NO_COLOR is set or TERM is dumb. */
  readonly color: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export function readCliConfig(env: Env = process.env): CliConfig {
  const problems: string[] = [];
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  const lang: Lang = /^zh/i.test(locale) ? 'zh' : 'en';
  const knowledgeDirs = splitList(env.KNOWLEDGE_DIRS);
  for (const d of knowledgeDirs) {
    if (d.includes('\0')) problems.push(`KNOWLEDGE_DIRS: "${d}" is not a path: list directories separated by commas`);
  }
  if (problems.length > 0) {
    throw new TriageError('CONFIG_INVALID', `configuration has ${problems.length} problem(s)`, problems);
  }
  const color = env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return { lang, knowledgeDirs, color };
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[,:]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
