/**
 * The secrets corpus: kinds of secret as they show up in logs and error messages, each made fresh
 * at test time (fake but well-formed: right prefix, alphabet and length, random body), and the
 * carriers that put one inside an otherwise diagnosable error. test/security/secrets-corpus.test.ts
 * runs every kind in every carrier through every output and fails if any 8-character piece of a
 * secret appears anywhere.
 */
import { randomBytes } from 'node:crypto';

/** One secret as pasted: `text` goes into the carrier; `secrets` are the parts that must never leave. */
export interface SecretSample {
  readonly kind: string;
  readonly text: string;
  readonly secrets: readonly string[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;

function pick(alphabet: string, n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

const alnum = (n: number) => pick(ALNUM, n);
const upper = (n: number) => pick(UPPER, n);
const lower = (n: number) => pick(LOWER, n);
const hex = (n: number) => pick(HEX, n);
const b64 = (n: number) => pick(B64, n);
const b64url = (n: number) => pick(B64URL, n);
const digits = (n: number) => pick('0123456789', n);
/** A password as people choose them: letters, digits and a few symbols that need no quoting in URLs. */
const password = () => `${alnum(6)}.${alnum(5)}~${alnum(4)}`;
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
const jwtPart = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

function jwt(): { token: string; secrets: string[] } {
  const payload = jwtPart({ sub: `user-${alnum(12)}`, iat: 1700000000, exp: 1900000000, jti: alnum(24) });
  const sig = b64url(43);
  return { token: `${jwtPart({ alg: 'HS256', typ: 'JWT' })}.${payload}.${sig}`, secrets: [payload.slice(20), sig] };
}

/** A PEM body of 64-character lines. */
function pemBody(lines: number): string[] {
  return Array.from({ length: lines }, () => b64(64));
}

type Maker = () => { text: string; secrets: string[] };

const one =
  (format: (s: string) => string, make: () => string): Maker =>
  () => {
    const s = make();
    return { text: format(s), secrets: [s] };
  };

/** Every kind, by name. Names of variables and headers are public; the random parts are the secrets. */
const KINDS: Readonly<Record<string, Maker>> = {
  // Names the old keyword rule missed: prefixed, suffixed, glued.
  'env DB_PASSWORD': one((s) => `DB_PASSWORD=${s}`, password),
  'env PGPASSWORD': one((s) => `PGPASSWORD=${s}`, password),
  'env APP_SECRET': one(
    (s) => `APP_SECRET=${s}`,
    () => alnum(32),
  ),
  'env SENDGRID_API_KEY': () => {
    const a = b64url(22);
    const b = b64url(43);
    return { text: `SENDGRID_API_KEY=SG.${a}.${b}`, secrets: [a, b] };
  },
  'env MYSQL_PWD': one((s) => `MYSQL_PWD=${s}`, password),
  'env REDIS_PASSWORD quoted': one((s) => `REDIS_PASSWORD="${s}"`, password),
  'env TWILIO_AUTH_TOKEN': one(
    (s) => `TWILIO_AUTH_TOKEN=${s}`,
    () => hex(32),
  ),
  'env DD_API_KEY': one(
    (s) => `DD_API_KEY=${s}`,
    () => hex(32),
  ),
  'env HEROKU_API_KEY': one((s) => `HEROKU_API_KEY=${s}`, uuid),
  'env SENTRY_DSN': one(
    (s) => `SENTRY_DSN=https://${s}@o${digits(6)}.ingest.sentry.io/${digits(7)}`,
    () => hex(32),
  ),
  'env AZURE_CLIENT_CREDENTIAL': one(
    (s) => `AZURE_CLIENT_CREDENTIAL=${s}`,
    () => `${alnum(3)}8Q~${b64url(34)}`,
  ),
  'env WEBHOOK_SIGNATURE lower': one(
    (s) => `webhook_signature=${s}`,
    () => hex(40),
  ),
  'export PASSWD single-quoted': one((s) => `export PASSWD='${s}'`, password),
  // JSON and YAML.
  'json password': one((s) => `{"user":"app","password":"${s}"}`, password),
  'json client_secret': one(
    (s) => `{"client_id":"web","client_secret":"${s}"}`,
    () => b64url(40),
  ),
  'json SecretAccessKey (STS)': one(
    (s) => `{"AccessKeyId":"ASIA${upper(16)}","SecretAccessKey":"${s}"}`,
    () => b64(40),
  ),
  'json SessionToken (STS)': one(
    (s) => `{"SessionToken": "${s}"}`,
    () => `IQoJb3JpZ2luX2Vj${b64(200)}`,
  ),
  'json refreshToken camelCase': one(
    (s) => `{"refreshToken": "${s}"}`,
    () => b64url(48),
  ),
  'yaml password': one((s) => `password: ${s}`, password),
  'yaml apiKey': one(
    (s) => `  apiKey: ${s}`,
    () => alnum(40),
  ),
  'json gcp service account private_key': () => {
    const body = pemBody(4);
    const keyId = hex(40);
    return {
      text: `{"type":"service_account","private_key_id":"${keyId}","private_key":"-----BEGIN PRIVATE KEY-----\\n${body.join('\\n')}\\n-----END PRIVATE KEY-----\\n","client_email":"svc@p.iam.gserviceaccount.com"}`,
      secrets: [keyId, ...body],
    };
  },
  // Command lines.
  'mysql --password=': one((s) => `mysql -h db -u app --password=${s} app`, password),
  'psql --password flag with space': one((s) => `--db-password ${s}`, password),
  'curl -u user:pass': one((s) => `curl -u deploy:${s} https://api.example.com/v1`, password),
  'curl --user user:pass': one((s) => `curl --user "deploy:${s}" https://api.example.com/v1`, password),
  'kubectl --token=': one(
    (s) => `kubectl --token=${s} get pods`,
    () => alnum(40),
  ),
  '--api-key flag': one(
    (s) => `--api-key ${s}`,
    () => alnum(32),
  ),
  // URLs, DSNs and connection strings.
  'redis url empty user': one((s) => `redis://:${s}@redis.internal:6379/0`, password),
  'redis url user': one((s) => `rediss://default:${s}@redis.internal:6380`, password),
  'postgres url': one((s) => `postgres://app:${s}@db.internal:5432/app`, password),
  'mongodb+srv url': one((s) => `mongodb+srv://app:${s}@cluster0.ab1cd.mongodb.net/app`, password),
  'amqp url': one((s) => `amqp://app:${s}@rabbit:5672/vhost`, password),
  'https url userinfo': one((s) => `https://deploy:${s}@git.example.com/repo.git`, password),
  'go mysql dsn': one((s) => `app:${s}@tcp(db:3306)/app?parseTime=true`, password),
  'jdbc password param': one((s) => `jdbc:mysql://db:3306/app?user=app&password=${s}`, password),
  'query access_token': one(
    (s) => `https://api.example.com/v1/me?access_token=${s}`,
    () => b64url(40),
  ),
  'query api_key': one(
    (s) => `/v1/items?page=2&api_key=${s}`,
    () => hex(32),
  ),
  'aws presigned url': () => {
    const sig = hex(64);
    const cred = `AKIA${upper(16)}`;
    return {
      text: `https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${cred}%2F20240301%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${sig}`,
      secrets: [cred, sig],
    };
  },
  'gcs X-Goog-Signature': one(
    (s) => `https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=${s}`,
    () => hex(128),
  ),
  'azure sas sig': one(
    (s) => `https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&se=2030-01-01&sig=${s}`,
    () => `${b64url(43)}%3D`,
  ),
  'azure storage AccountKey': one(
    (s) => `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${s};EndpointSuffix=core.windows.net`,
    () => `${b64(86)}==`,
  ),
  'azure SharedAccessKey': one(
    (s) => `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${s}`,
    () => `${b64(43)}=`,
  ),
  'slack webhook url': one(
    (s) => `https://hooks.slack.com/services/T${upper(8)}/B${upper(10)}/${s}`,
    () => alnum(24),
  ),
  'form client_secret': one(
    (s) => `grant_type=client_credentials&client_id=web&client_secret=${s}`,
    () => b64url(32),
  ),
  'kafka jaas password': one((s) => `sasl.jaas.config=PlainLoginModule required username="app" password="${s}";`, password),
  // Headers.
  'Authorization Bearer opaque': one(
    (s) => `Authorization: Bearer ${s}`,
    () => b64url(40),
  ),
  'Authorization Basic': one(
    (s) => `Authorization: Basic ${s}`,
    () => Buffer.from(`deploy:${password()}`).toString('base64'),
  ),
  'Proxy-Authorization Basic': one(
    (s) => `Proxy-Authorization: Basic ${s}`,
    () => Buffer.from(`proxy:${password()}`).toString('base64'),
  ),
  'Authorization NTLM': one(
    (s) => `Authorization: NTLM ${s}`,
    () => b64(60),
  ),
  'Cookie session': one(
    (s) => `Cookie: theme=dark; session=${s}`,
    () => b64url(32),
  ),
  'Set-Cookie': one(
    (s) => `Set-Cookie: sid=${s}; Path=/; HttpOnly`,
    () => alnum(32),
  ),
  'X-Api-Key header': one(
    (s) => `X-Api-Key: ${s}`,
    () => alnum(32),
  ),
  'DD-API-KEY header': one(
    (s) => `DD-API-KEY: ${s}`,
    () => hex(32),
  ),
  'X-Vault-Token header': one(
    (s) => `X-Vault-Token: ${s}`,
    () => `hvs.${b64url(24)}`,
  ),
  'X-Hub-Signature-256 header': one(
    (s) => `X-Hub-Signature-256: sha256=${s}`,
    () => hex(64),
  ),
  // Bare vendor tokens (no name beside them).
  'jwt bare': () => {
    const j = jwt();
    return { text: `token ${j.token} rejected`, secrets: j.secrets };
  },
  'aws access key id': one(
    (s) => `using ${s}`,
    () => `AKIA${upper(16)}`,
  ),
  'aws secret key (named)': one(
    (s) => `aws_secret_access_key = ${s}`,
    () => b64(40),
  ),
  'vault hvs token': one(
    (s) => `vault token ${s}`,
    () => `hvs.${b64url(91)}`,
  ),
  'stripe sk_live': one(
    (s) => `key ${s}`,
    () => `sk_live_${alnum(32)}`,
  ),
  'stripe rk_live': one(
    (s) => `key ${s}`,
    () => `rk_live_${alnum(32)}`,
  ),
  'stripe whsec': one(
    (s) => `signing secret ${s}`,
    () => `whsec_${alnum(32)}`,
  ),
  'sendgrid SG key': () => {
    const a = b64url(22);
    const b = b64url(43);
    return { text: `key SG.${a}.${b}`, secrets: [a, b] };
  },
  'github ghp': one(
    (s) => `${s}`,
    () => `ghp_${alnum(36)}`,
  ),
  github_pat: one(
    (s) => `${s}`,
    () => `github_pat_${alnum(22)}_${alnum(59)}`,
  ),
  'gitlab glpat': one(
    (s) => `${s}`,
    () => `glpat-${b64url(20)}`,
  ),
  'slack xoxb': one(
    (s) => `${s}`,
    () => `xoxb-${digits(12)}-${digits(13)}-${alnum(24)}`,
  ),
  'slack xapp': one(
    (s) => `${s}`,
    () => `xapp-1-A${upper(10)}-${digits(13)}-${hex(64)}`,
  ),
  'npm token': one(
    (s) => `${s}`,
    () => `npm_${alnum(36)}`,
  ),
  'openai sk-proj': one(
    (s) => `${s}`,
    () => `sk-proj-${b64url(58)}T3BlbkFJ${b64url(58)}`,
  ),
  'anthropic sk-ant': one(
    (s) => `${s}`,
    () => `sk-ant-api03-${b64url(93)}AA`,
  ),
  'google api key AIza': one(
    (s) => `${s}`,
    () => `AIza${b64url(35)}`,
  ),
  'shopify shpat': one(
    (s) => `${s}`,
    () => `shpat_${hex(32)}`,
  ),
  'huggingface hf_': one(
    (s) => `${s}`,
    () => `hf_${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 34)}`,
  ),
  'databricks dapi': one(
    (s) => `${s}`,
    () => `dapi${hex(32)}`,
  ),
  'docker dckr_pat': one(
    (s) => `${s}`,
    () => `dckr_pat_${b64url(27)}`,
  ),
  'grafana glsa': one(
    (s) => `${s}`,
    () => `glsa_${alnum(32)}_${hex(8)}`,
  ),
  'linear lin_api': one(
    (s) => `${s}`,
    () => `lin_api_${alnum(40)}`,
  ),
  'tailscale tskey': one(
    (s) => `${s}`,
    () => `tskey-auth-${alnum(12)}-${alnum(30)}`,
  ),
  'groq gsk': one(
    (s) => `${s}`,
    () => `gsk_${alnum(52)}`,
  ),
  'mailgun key-': one(
    (s) => `api:${s}`,
    () => `key-${hex(32)}`,
  ),
  'pem private key (multi-line)': () => {
    const body = pemBody(3);
    return { text: `-----BEGIN RSA PRIVATE KEY-----\n${body.join('\n')}\n-----END RSA PRIVATE KEY-----`, secrets: body };
  },
  'openssh private key (one line)': () => {
    const body = b64(120);
    return { text: `-----BEGIN OPENSSH PRIVATE KEY----- ${body} -----END OPENSSH PRIVATE KEY-----`, secrets: [body] };
  },
};

/** A fresh sample of every kind. */
export function secretSamples(): SecretSample[] {
  return Object.entries(KINDS).map(([kind, make]) => ({ kind, ...make() }));
}

/** A carrier puts a secret inside an error the engine diagnoses; `marker` sits right before it on its line. */
export interface Carrier {
  readonly name: string;
  wrap(text: string, marker: string): string;
}

export const CARRIERS: readonly Carrier[] = [
  {
    name: 'nginx error line',
    wrap: (t, m) =>
      `2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, ${m} ${t}, server: shop, request: "GET /api HTTP/1.1", upstream: "http://10.0.3.4:8080/api", host: "shop"`,
  },
  {
    name: 'curl -v header line',
    wrap: (t, m) =>
      [
        '*   Trying 10.0.3.4:443...',
        '* Connected to api.example.com (10.0.3.4) port 443',
        '> GET /v1/items HTTP/1.1',
        '> Host: api.example.com',
        '>',
        '< HTTP/1.1 401 Unauthorized',
        `< WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="${m} ${t}"`,
        '< Content-Length: 0',
      ].join('\n'),
  },
  {
    name: 'Node error message',
    wrap: (t, m) =>
      [
        `Error: connect ECONNREFUSED 10.0.3.4:5432 (${m} ${t})`,
        '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {',
        "  errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '10.0.3.4', port: 5432",
        '}',
      ].join('\n'),
  },
];

/** One input of the corpus: a kind in a carrier, with the marker that proves its line was shown. */
export interface CorpusCase {
  readonly id: string;
  readonly kind: string;
  readonly carrier: string;
  readonly marker: string;
  readonly text: string;
  readonly secrets: readonly string[];
}

/** Every kind in every carrier, freshly generated. */
export function secretsCorpus(): CorpusCase[] {
  const out: CorpusCase[] = [];
  secretSamples().forEach((s, k) =>
    CARRIERS.forEach((c, i) => {
      const marker = `trace=${lower(4)}k${k}c${i}`;
      out.push({ id: `k${k}c${i}`, kind: s.kind, carrier: c.name, marker, text: c.wrap(s.text, marker), secrets: s.secrets });
    }),
  );
  return out;
}

/** Every 8-character piece of the secrets found in `haystack` (none: nothing leaked). */
export function leakedPieces(haystack: string, secrets: readonly string[], piece = 8): string[] {
  const found: string[] = [];
  for (const s of secrets)
    for (let i = 0; i + piece <= s.length; i++) {
      const p = s.slice(i, i + piece);
      if (haystack.includes(p)) {
        found.push(p);
        break;
      }
    }
  return found;
}

/** All strings inside a JSON value, joined, so escaped characters are compared as themselves. */
export function jsonStrings(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (out.push(k), walk(x)));
  };
  walk(value);
  return out.join('\n');
}
