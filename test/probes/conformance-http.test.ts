import { authProbe } from '../../src/probes/auth.js';
import { corsProbe } from '../../src/probes/cors.js';
import { httpProbe } from '../../src/probes/http.js';
import { repeatProbe } from '../../src/probes/repeat.js';
import { upstreamProbe } from '../../src/probes/upstream.js';
import { runProbeConformance } from './conformance.js';

runProbeConformance(httpProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });
runProbeConformance(upstreamProbe, { target: (s) => ({ url: 'http://shop.example.com/api', upstream: { host: s.host, port: s.port } }) });
runProbeConformance(authProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });
runProbeConformance(corsProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/`, origin: 'https://app.example.com' }) });
runProbeConformance(repeatProbe, { target: (s) => ({ url: `http://127.0.0.1:${s.port}/` }) });
