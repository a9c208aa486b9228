import { authProbe } from './auth.js';
import { connectProbe } from './connect.js';
import { corsProbe } from './cors.js';
import { dnsProbe } from './dns.js';
import { httpProbe } from './http.js';
import type { Probe } from './probe.js';
import { repeatProbe } from './repeat.js';
import { tcpProbe } from './tcp.js';
import { tlsProbe } from './tls.js';
import { upstreamProbe } from './upstream.js';

/**
 * The registry: every probe, in the order their results are shown. Adding a probe means one new
 * file in this folder and one line here.
 */
export const PROBES: readonly Probe[] = [dnsProbe, tcpProbe, tlsProbe, connectProbe, httpProbe, upstreamProbe, authProbe, corsProbe, repeatProbe];
