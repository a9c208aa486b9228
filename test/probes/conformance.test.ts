import { connectProbe } from '../../src/probes/connect.js';
import { createDnsProbe, dnsProbe } from '../../src/probes/dns.js';
import { tcpProbe } from '../../src/probes/tcp.js';
import { tlsProbe } from '../../src/probes/tls.js';
import { runProbeConformance } from './conformance.js';

runProbeConformance(tcpProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });

runProbeConformance(dnsProbe, {
  target: (s) => ({ url: `http://localhost:${s.port}/` }),
  // The resolver is the suite's UDP port that never answers.
  probeFor: (s) => createDnsProbe({ servers: [`127.0.0.1:${s.udpPort}`], queryTimeoutMs: 1000, systemLookup: false }),
});

runProbeConformance(tlsProbe, { target: (s) => ({ url: `https://127.0.0.1:${s.port}/` }) });

// The proxy URL carries a secret too: it must not show up in any result.
runProbeConformance(connectProbe, {
  label: 'https:// target, CONNECT',
  target: (s) => ({ url: 'https://127.0.0.1:9/', proxy: `http://user:SECRET123456@127.0.0.1:${s.port}` }),
});
