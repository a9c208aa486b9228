import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LabError } from './errors.js';
import { findBinary, labTempDir } from './process.js';

const run = promisify(execFile);

/** A certificate (PEM) with its private key, in memory and on disk (for nginx and HAProxy). */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * The lab's certificates, made with the openssl CLI (EC P-256) in one temp dir. Every leaf names
 * `127.0.0.1` and `localhost` unless said otherwise, so each one has exactly one thing wrong.
 */
export interface LabCerts {
  readonly dir: string;
  /** The lab root CA: what a client trusts (`ca:` in node:tls). */
  readonly ca: CertPair;
  /** An intermediate CA signed by {@link ca}; it signs {@link viaIntermediate}. */
  readonly intermediate: CertPair;
  /** Valid now, signed by the root. */
  readonly valid: CertPair;
  /** Signed by the root, notAfter 30 days ago (notBefore 60 days ago). */
  readonly expired: CertPair;
  /** Signed by the root, notBefore 30 days from now. */
  readonly notYetValid: CertPair;
  /** Signed by its own key; not by the lab CA. */
  readonly selfSigned: CertPair;
  /** Signed by the root but for `other.example` only. */
  readonly wrongHost: CertPair;
  /** Signed by the intermediate; `cert` is the leaf alone, so serving it is "missing intermediate". */
  readonly viaIntermediate: CertPair;
  /** The leaf followed by the intermediate: the chain a correctly configured server sends. */
  readonly viaIntermediateFullChain: string;
}

const LOCAL_SAN = 'IP:127.0.0.1, DNS:localhost';
const DAY = 86_400_000;

let cached: Promise<LabCerts> | undefined;

/** The lab certificates; made once per process (a few openssl runs, ~0.2 s) and then shared. */
export function labCerts(): Promise<LabCerts> {
  cached ??= makeCerts().catch((err: unknown) => {
    cached = undefined;
    throw err instanceof LabError ? err : new LabError('LAB_OPENSSL_FAILED', err instanceof Error ? err.message : String(err));
  });
  return cached;
}

async function makeCerts(): Promise<LabCerts> {
  const openssl = findBinary('openssl');
  const dir = labTempDir('certs');
  const cnf = join(dir, 'openssl.cnf');
  writeFileSync(cnf, opensslConfig(dir));
  const ssl = async (...args: string[]) => {
    try {
      await run(openssl, args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: cnf }, timeout: 15_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new LabError('LAB_OPENSSL_FAILED', `openssl ${args.join(' ')}: ${e.stderr || e.message}`);
    }
  };
  const pair = (name: string): CertPair => {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    chmodSync(keyPath, 0o644); // throwaway keys; daemons run as nobody and must read them
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  /** A self-signed root, or a CSR signed by `issuer` with `openssl ca` over the given validity window. */
  const issue = async (name: string, cn: string, issuer: string | null, extensions: string, from?: Date, to?: Date) => {
    if (issuer === null) {
      await ssl(
        'req',
        '-x509',
        ...newKey,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-subj',
        `/CN=${cn}`,
        '-days',
        '3650',
        '-extensions',
        extensions,
      );
      return;
    }
    await ssl('req', '-new', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    const start = from ?? new Date(Date.now() - DAY);
    const end = to ?? new Date(Date.now() + 365 * DAY);
    // `openssl ca` is the one openssl 3.0 command that takes explicit -startdate/-enddate.
    await ssl(
      'ca',
      '-batch',
      '-notext',
      '-config',
      cnf,
      '-name',
      'lab_ca',
      '-cert',
      `${issuer}.crt`,
      '-keyfile',
      `${issuer}.key`,
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.crt`,
      '-startdate',
      asn1Time(start),
      '-enddate',
      asn1Time(end),
      '-extensions',
      extensions,
    );
  };

  await issue('ca', 'Gateway Triage Lab Root CA', null, 'root_ca');
  await issue('intermediate', 'Gateway Triage Lab Intermediate CA', 'ca', 'sub_ca');
  // One at a time: `openssl ca` rewrites its database file and is not safe to run concurrently.
  await issue('valid', '127.0.0.1', 'ca', 'leaf_local');
  await issue('expired', '127.0.0.1', 'ca', 'leaf_local', new Date(Date.now() - 60 * DAY), new Date(Date.now() - 30 * DAY));
  await issue('not-yet-valid', '127.0.0.1', 'ca', 'leaf_local', new Date(Date.now() + 30 * DAY), new Date(Date.now() + 60 * DAY));
  await issue('self-signed', '127.0.0.1', null, 'leaf_self');
  await issue('wrong-host', 'other.example', 'ca', 'leaf_other');
  await issue('via-intermediate', '127.0.0.1', 'intermediate', 'leaf_local');

  const intermediate = pair('intermediate');
  const viaIntermediate = pair('via-intermediate');
  return {
    dir,
    ca: pair('ca'),
    intermediate,
    valid: pair('valid'),
    expired: pair('expired'),
    notYetValid: pair('not-yet-valid'),
    selfSigned: pair('self-signed'),
    wrongHost: pair('wrong-host'),
    viaIntermediate,
    viaIntermediateFullChain: viaIntermediate.cert + intermediate.cert,
  };
}

/** UTCTime as `openssl ca -startdate` wants it: YYMMDDHHMMSSZ. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** One config for `req` and `ca`: a throwaway CA database in `dir`, and one extension section per kind of certificate. */
function opensslConfig(dir: string): string {
  mkdirSync(join(dir, 'newcerts'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  return `[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ lab_ca ]
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
rand_serial = yes
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none

[ policy_any ]
commonName = supplied

[ root_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ sub_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_local ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${LOCAL_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${LOCAL_SAN}
subjectKeyIdentifier = hash
`;
}
