import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertPair } from './certs.js';
import { labTempDir, removeTempDir, startDaemon, startWithFreshPort, type RunAs } from './process.js';

/**
 * The real proxies, each in the foreground with its whole state (config, pid, logs, temp files)
 * in its own temp dir. As root they run unprivileged (Squid as `proxy`, the others as `nobody`),
 * started that way by setpriv so that the parent-death signal holds (a setuid would clear it).
 */
export interface RunningDaemon {
  readonly port: number;
  readonly dir: string;
  /** Log name → path, e.g. `{ error: '/tmp/…/error.log', output: '/tmp/…/nginx.out' }`. */
  readonly logs: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** What every daemon start needs. */
interface Common {
  readonly readyTimeoutMs: number;
  /** Extra files to write into the dir first (htpasswd …): name → content. */
  readonly files?: Readonly<Record<string, string>>;
}

/** Where a config fragment is being rendered: its dir (for file paths) and its listen port. */
export interface RenderContext {
  readonly dir: string;
  readonly port: number;
}

const NOBODY: RunAs = { user: 'nobody', group: 'nogroup' };
const PROXY: RunAs = { user: 'proxy', group: 'proxy' };

/** A daemon's config, rendered for one dir and port. */
interface Rendered {
  readonly configFile: string;
  readonly config: string;
  readonly args: readonly string[];
  /** Its own log files (the stdout/stderr file is added as `output`). */
  readonly logs: Readonly<Record<string, string>>;
}

/** Write the config into a fresh temp dir and start `name` (the binary too) on a fresh port. */
async function launch(name: string, runAs: RunAs, common: Common, render: (ctx: RenderContext) => Rendered): Promise<RunningDaemon> {
  return startWithFreshPort(async (port) => {
    const dir = labTempDir(name, runAs);
    try {
      for (const [file, content] of Object.entries(common.files ?? {})) writeFileSync(join(dir, file), content, { mode: 0o644 });
      const r = render({ dir, port });
      const configPath = join(dir, r.configFile);
      writeFileSync(configPath, r.config);
      const daemon = await startDaemon({
        name,
        command: name,
        args: r.args,
        dir,
        port,
        runAs,
        readyTimeoutMs: common.readyTimeoutMs,
        configPath,
        logPaths: Object.values(r.logs),
      });
      return {
        port,
        dir,
        logs: { ...r.logs, output: daemon.outputPath },
        async stop() {
          await daemon.stop();
          removeTempDir(dir);
        },
      };
    } catch (err) {
      removeTempDir(dir);
      throw err;
    }
  });
}

/** nginx options: the `http {}` extras and the body of the one `server {}`. */
export interface NginxOptions extends Common {
  /** Directives at `http {}` level (limit_req_zone, upstream …). */
  readonly http?: (ctx: RenderContext) => string;
  /** The body of the server block (locations …); `listen` is written for you. */
  readonly server: (ctx: RenderContext) => string;
  /** Listen with TLS, serving this certificate. */
  readonly tls?: CertPair;
}

/** nginx 1.22, `-g 'daemon off;'`, single process (`master_process off`, so no orphaned workers and no `user` switch). */
export function startNginx(opts: NginxOptions): Promise<RunningDaemon> {
  return launch('nginx', NOBODY, opts, (ctx) => {
    const { dir, port } = ctx;
    const tls = opts.tls ? `\n    ssl_certificate ${opts.tls.certPath};\n    ssl_certificate_key ${opts.tls.keyPath};` : '';
    return {
      configFile: 'nginx.conf',
      logs: { error: join(dir, 'error.log'), access: join(dir, 'access.log') },
      args: ['-e', join(dir, 'error.log'), '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
      config: `# gateway-triage lab
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type text/plain;
  ${opts.http?.(ctx) ?? ''}
  server {
    listen 127.0.0.1:${port}${opts.tls ? ' ssl' : ''};
    server_name lab;${tls}
    ${opts.server(ctx)}
  }
}
`,
    };
  });
}

/** HAProxy options: the `defaults` extras and the body of the one backend. */
export interface HaproxyOptions extends Common {
  /** `timeout server`, e.g. '1s'. @defaultValue '30s' */
  readonly timeoutServer?: string;
  /** The body of `backend app` (servers, checks). */
  readonly backend: (ctx: RenderContext) => string;
}

/** HAProxy 2.6 in the foreground (`-db`), logging HTTP lines (`option httplog`) to stdout, i.e. to `logs.output`. */
export function startHaproxy(opts: HaproxyOptions): Promise<RunningDaemon> {
  return launch('haproxy', NOBODY, opts, (ctx) => ({
    configFile: 'haproxy.cfg',
    logs: {},
    args: ['-db', '-f', join(ctx.dir, 'haproxy.cfg')],
    config: `# gateway-triage lab
global
  log stdout format raw local0 info
  maxconn 256

defaults
  mode http
  log global
  option httplog
  option dontlognull
  timeout connect 1s
  timeout client 10s
  timeout server ${opts.timeoutServer ?? '30s'}

frontend lab
  bind 127.0.0.1:${ctx.port}
  default_backend app

backend app
  ${opts.backend(ctx)}
`,
  }));
}

/** Squid options: the access rules (the `http_access` part of squid.conf, plus auth_param). */
export interface SquidOptions extends Common {
  readonly access: (ctx: RenderContext) => string;
}

/**
 * Squid 5 in the foreground (`-N`), memory only (no cache_dir, so no `-z`), pid, logs and core
 * dir in its temp dir. `cache_effective_user proxy`; as root it is started as proxy directly.
 * Its SIGTERM shutdown takes ~1.4 s even with `shutdown_lifetime 0`, but SIGKILL would leave its
 * auth helpers to init (zombies where init does not reap, as in containers), so stop() waits.
 */
export function startSquid(opts: SquidOptions): Promise<RunningDaemon> {
  return launch('squid', PROXY, opts, (ctx) => {
    const { dir, port } = ctx;
    return {
      configFile: 'squid.conf',
      logs: { cache: join(dir, 'cache.log'), access: join(dir, 'access.log') },
      args: ['-N', '-d', '1', '-f', join(dir, 'squid.conf')],
      config: `# gateway-triage lab
http_port 127.0.0.1:${port}
visible_hostname gateway-lab-squid
cache_effective_user ${PROXY.user}
cache_effective_group ${PROXY.group}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log stdio:${dir}/access.log squid
cache_store_log none
coredump_dir ${dir}
netdb_filename none
logfile_rotate 0
pinger_enable off
cache deny all
cache_mem 8 MB
shutdown_lifetime 0 seconds

# The Debian default ACLs.
acl SSL_ports port 443
acl Safe_ports port 80 443 1025-65535
acl CONNECT method CONNECT
http_access deny !Safe_ports
${opts.access(ctx)}
`,
    };
  });
}

/** tinyproxy options: extra config lines (BasicAuth, ConnectPort …). */
export interface TinyproxyOptions extends Common {
  readonly extra?: (ctx: RenderContext) => string;
}

/** tinyproxy 1.11 in the foreground (`-d`), logging to stdout, i.e. to `logs.output`. No ConnectPort: CONNECT to any port. */
export function startTinyproxy(opts: TinyproxyOptions): Promise<RunningDaemon> {
  return launch('tinyproxy', NOBODY, opts, (ctx) => ({
    configFile: 'tinyproxy.conf',
    logs: {},
    args: ['-d', '-c', join(ctx.dir, 'tinyproxy.conf')],
    config: `# gateway-triage lab
Port ${ctx.port}
Listen 127.0.0.1
Timeout 30
LogLevel Info
PidFile "${ctx.dir}/tinyproxy.pid"
MaxClients 64
Allow 127.0.0.1
DisableViaHeader Yes
${opts.extra?.(ctx) ?? ''}
`,
  }));
}
