import { rootCertificates } from 'node:tls';
import { createAuthProbe } from './auth.js';
import { createConnectProbe } from './connect.js';
import { createCorsProbe } from './cors.js';
import { dnsProbe } from './dns.js';
import { createHttpProbe } from './http.js';
import type { Probe } from './probe.js';
import { createRepeatProbe } from './repeat.js';
import { tcpProbe } from './tcp.js';
import { createTlsProbe } from './tls.js';
import { upstreamProbe } from './upstream.js';

/** What the probes trust beyond Node's bundled roots. */
export interface ProbeSetOptions {
  /** Extra CA certificates in PEM (the file named by NODE_EXTRA_CA_CERTS, a private CA). @defaultValue [] */
  readonly extraCaPems?: readonly string[];
}

/**
 * The registry: every probe, in the order their results are shown. Adding a probe means one new
 * file in this folder and one line here.
 */
export function createProbes(opts: ProbeSetOptions = {}): readonly Probe[] {
  const extra = opts.extraCaPems ?? [];
  const ca = extra.length > 0 ? [...rootCertificates, ...extra] : undefined;
  return [
    dnsProbe,
    tcpProbe,
    createTlsProbe({ extraCaPems: extra }),
    createConnectProbe({ extraCaPems: extra }),
    createHttpProbe(ca ? { ca } : {}),
    upstreamProbe,
    createAuthProbe(ca ? { ca } : {}),
    createCorsProbe(ca ? { ca } : {}),
    createRepeatProbe(ca ? { ca } : {}),
  ];
}

/** The probes with Node's bundled roots only. */
export const PROBES: readonly Probe[] = createProbes();
