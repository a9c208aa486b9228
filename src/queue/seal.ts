import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What protects probe jobs in Redis, from QUEUE_SECRET (shared by the bot, the API and the
 * workers):
 * - `seal` / `unseal`: AES-256-GCM, so the secrets a job must carry (the target URL with its
 *   userinfo and query, headers, proxy credentials) are never in clear in Redis;
 * - `sign` / `verify`: an HMAC-SHA256 over the whole job, so a worker runs only jobs made by a
 *   holder of the secret, with the limits it set (any process that can write to Redis could
 *   otherwise enqueue a job).
 * The two keys are derived separately from the secret.
 */
export class Sealer {
  private readonly key: Buffer;
  private readonly macKey: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`gateway-triage/queue/v1\0${secret}`).digest();
    this.macKey = createHash('sha256').update(`gateway-triage/queue-mac/v1\0${secret}`).digest();
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Throws when the data was not sealed with the same secret or was altered. */
  unseal<T>(sealed: string): T {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as T;
  }

  /** The HMAC of a value, over its canonical JSON (keys sorted), base64url. */
  sign(value: unknown): string {
    return createHmac('sha256', this.macKey).update(canonical(value)).digest('base64url');
  }

  /** Whether `mac` is {@link sign} of `value`, compared in constant time. */
  verify(value: unknown, mac: unknown): boolean {
    if (typeof mac !== 'string') return false;
    const expected = Buffer.from(this.sign(value), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** JSON with object keys sorted at every depth, so the same value always signs the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
