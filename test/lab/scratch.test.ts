import { it } from 'vitest';
import { startLab, scenarios, type ScenarioName } from './servers.js';
import { request, connectTunnel, tlsHandshake } from './client.js';
it('all', async () => {
  for (const name of Object.keys(scenarios) as ScenarioName[]) {
    const t = Date.now();
    try {
      const lab = await startLab(name);
      const started = Date.now() - t;
      let r: unknown;
      if (lab.proxyUrl && lab.url.startsWith('https')) { const u = new URL(lab.url); const c = await connectTunnel(lab.proxyUrl, u.host); r = c.ok ? { s: c.status, h: c.headers, b: c.body.slice(0, 80) } : c; if (c.ok) c.socket?.destroy(); }
      else r = await request(lab.url, { proxyUrl: lab.proxyUrl, headers: lab.headers, ca: lab.ca, timeoutMs: 5000 });
      const r2 = r as any;
      console.log(name, 'start', started, 'ms', JSON.stringify(r2.ok === true && r2.status ? { s: r2.status, h: r2.headers, b: r2.body.slice(0, 120), ms: r2.ms } : r2).slice(0, 700));
      const t2 = Date.now(); await lab.stop(); console.log('  stop', Date.now() - t2);
    } catch (e) { console.log(name, 'FAILED', e); }
  }
}, 120000);
