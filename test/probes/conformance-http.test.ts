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

// Through a forward proxy (the suite's server plays the proxy), with credentials in its URL that must never show.
const viaProxy = (url: string) => (s: { port: number }) => ({ url, proxy: `http://user:SECRET123456@127.0.0.1:${s.port}` });
runProbeConformance(httpProbe, {
  label: 'http:// through a proxy, absolute-form',
  target: viaProxy('http://127.0.0.1:9/path?token=SECRET123456'),
});
runProbeConformance(httpProbe, { label: 'https:// through a proxy, CONNECT', target: viaProxy('https://127.0.0.1:9/') });
runProbeConformance(repeatProbe, { label: 'https:// through a proxy, CONNECT', target: viaProxy('https://127.0.0.1:9/') });
runProbeConformance(corsProbe, {
  label: 'http:// through a proxy',
  target: (s) => ({ ...viaProxy('http://127.0.0.1:9/')(s), origin: 'https://app.example.com' }),
});
