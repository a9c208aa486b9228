// Loaded with `node --import ./test/support/module-trace.mjs …` by tests that check what a process
// loads and reads at start. MODULE_TRACE_FILE: every module URL resolved ("module <url>") and every
// file read with fs.readFileSync ("read text <path>", or "read bytes <path>" without an encoding)
// is appended there, one a line.
// MODULE_TRACE_HIDE: comma-separated package names that fail to resolve, as if not installed.
import fs, { appendFileSync } from 'node:fs';
import { register, syncBuiltinESMExports } from 'node:module';

const file = process.env.MODULE_TRACE_FILE;

const hooks = `
import { appendFileSync } from 'node:fs';
const file = process.env.MODULE_TRACE_FILE;
const hidden = (process.env.MODULE_TRACE_HIDE ?? '').split(',').filter(Boolean);
export async function resolve(specifier, context, next) {
  if (hidden.some((h) => specifier === h || specifier.startsWith(h + '/'))) {
    const err = new Error("Cannot find package '" + specifier + "' (hidden by module-trace)");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  const r = await next(specifier, context);
  if (file) appendFileSync(file, 'module ' + r.url + '\\n');
  return r;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

if (file) {
  const readFileSync = fs.readFileSync;
  fs.readFileSync = function traced(path, ...rest) {
    const encoding = typeof rest[0] === 'string' ? rest[0] : rest[0]?.encoding;
    if (typeof path === 'string' || path instanceof URL) appendFileSync(file, `read ${encoding ? 'text' : 'bytes'} ${String(path)}\n`);
    return readFileSync.call(this, path, ...rest);
  };
  syncBuiltinESMExports();
}
