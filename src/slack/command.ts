import type { TargetInput } from '../triage/target.js';
import type { DecodedText } from './inbound.js';
import { POOL_NAME } from '../queue/jobs.js';

/** What `/diagnose <text>` asks for. */
export type DiagnoseCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'diagnose'; readonly input: TargetInput; readonly pools: readonly string[] }
  | { readonly kind: 'explain'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

/** Longest command text read; Slack itself caps a command at about 4,000 characters. */
const MAX_TEXT = 40_000;

/**
 * Parse the text of `/diagnose`, decoded at the edge (src/slack/inbound.ts): nothing or `help` →
 * usage; a URL followed only by flags → probes; anything else → the text is explained (a pasted
 * error). A first word that Slack linked (a typed `api.example.com` arrives as a link to
 * `http://api.example.com`) is probed at the URL Slack gave it.
 */
export function parseDiagnoseCommand(decoded: Pick<DecodedText, 'text' | 'links'>): DiagnoseCommand {
  const raw = decoded.text.slice(0, MAX_TEXT);
  const text = raw.trim();
  if (text === '' || /^(?:help|-h|--help|\?)$/i.test(text)) return { kind: 'help' };
  const words = tokenize(text);
  // Slack links what looks like a host (`proxy.corp:3128` arrives as a link to `http://proxy.corp:3128`).
  const urlOf = (w: string) => decoded.links.find((l) => l.label === w && /^https?:\/\//i.test(l.url))?.url ?? w;
  if (words?.[0] !== undefined) words[0] = urlOf(words[0]);
  const first = words?.[0];
  const isFlag = (w: string | undefined) => w !== undefined && (w.startsWith('--') || w === '-H');
  if (!words || !first || !looksLikeUrl(first) || !words.slice(1).every((w, i, all) => isFlag(w) || isFlag(all[i - 1]))) {
    return { kind: 'explain', text: raw };
  }
  const input: { url: string; proxy?: string; upstream?: string; headers: string[]; origin?: string } = { url: first, headers: [] };
  let pools: string[] = [];
  for (let i = 1; i < words.length; i += 2) {
    const flag = words[i]!;
    const value = words[i + 1];
    if (value === undefined || isFlag(value)) return { kind: 'error', message: `${flag} needs a value, e.g. ${example(flag)}` };
    switch (flag) {
      case '--proxy':
        input.proxy = urlOf(value);
        break;
      case '--upstream':
        input.upstream = value;
        break;
      case '--header':
      case '-H':
        input.headers.push(value);
        break;
      case '--origin':
        input.origin = urlOf(value);
        break;
      case '--from':
        pools = value
          .split(',')
          .map((p) => p.trim().toLowerCase())
          .filter(Boolean);
        if (pools.length === 0 || !pools.every((p) => POOL_NAME.test(p)))
          return { kind: 'error', message: `--from takes pool names like eu-west,dmz` };
        break;
      default:
        return { kind: 'error', message: `unknown option ${flag.slice(0, 40)}: use --proxy, --upstream, --header, --origin or --from` };
    }
  }
  return { kind: 'diagnose', input, pools };
}

function example(flag: string): string {
  const examples: Record<string, string> = {
    '--proxy': '--proxy http://proxy.corp:3128',
    '--upstream': '--upstream 10.0.3.4:8080',
    '--header': '--header "Authorization: Bearer <token>"',
    '--origin': '--origin https://app.example.com',
    '--from': '--from eu-west,dmz',
  };
  return examples[flag] ?? `${flag} VALUE`;
}

function looksLikeUrl(word: string): boolean {
  return /^https?:\/\/[^\s/]{1,253}/i.test(word);
}

/** Split on spaces, keeping "double" or 'single' (or “curly”) quoted parts together; undefined for an unclosed quote. */
function tokenize(text: string): string[] | undefined {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  if (/^[^"]*"[^"]*$/.test(text) && out.some((w) => w.startsWith('"'))) return undefined;
  return out;
}
