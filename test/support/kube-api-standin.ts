import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Kubernetes API server stand-in, for running the real `helm install` where there is no cluster.
 * It answers what Helm reads before it renders a chart — the server version, API discovery, and
 * the release history (the Secrets of Helm's storage, none) — and refuses every write with 403,
 * so an install that got past rendering would fail loudly instead of pretending. Every request is
 * recorded: a test can show that an install stopped at rendering and wrote nothing.
 */
export interface KubeApiStandin {
  /** http://127.0.0.1:PORT, for `helm --kube-apiserver`. */
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' };

export async function startKubeApiStandin(): Promise<KubeApiStandin> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(`${req.method} ${path}`);
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
    if (req.method !== 'GET') return status(403, 'Forbidden', 'the Kubernetes API stand-in takes no writes');
    if (path === '/version') return send(200, VERSION);
    if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1')
      return send(200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [{ name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get', 'list', 'create'] }],
      });
    if (/^\/api\/v1\/namespaces\/[^/]+\/secrets$/.test(path))
      return send(200, { kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [] });
    status(404, 'NotFound', `the Kubernetes API stand-in does not serve ${path}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
