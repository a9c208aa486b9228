import { tcpProbe } from '../../src/probes/tcp.js';
import { runProbeConformance } from './conformance.js';

runProbeConformance(tcpProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });
