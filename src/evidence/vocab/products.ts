/**
 * Which product a `Server:` header names, the one table of it (the http and curl extractors and the
 * connect probe read it). Values are the catalogue's http.server values. First match wins, so a more
 * specific name comes before the one it contains: `istio-envoy` before `envoy`, `awselb/2.0` (an
 * Application Load Balancer) before a bare `awselb` (a Classic Load Balancer).
 */
const SERVER_HEADER: readonly (readonly [RegExp, string])[] = [
  [/^istio-envoy\b/, 'istio'],
  [/^envoy\b/, 'envoy'],
  [/^openresty\b/, 'openresty'],
  [/^(?:nginx|tengine)\b/, 'nginx'],
  [/^apache-coyote\b/, 'tomcat'],
  [/^apache\b/, 'apache'],
  [/^microsoft-iis\b/, 'iis'],
  [/^cloudflare\b/, 'cloudflare'],
  [/^awselb\/2/, 'aws-alb'],
  [/^awselb\b/, 'aws-elb'],
  [/^haproxy\b/, 'haproxy'],
  [/^squid\b/, 'squid'],
  [/^tinyproxy\b/, 'tinyproxy'],
  [/^caddy\b/, 'caddy'],
  [/^traefik\b/, 'traefik'],
  [/^kong\b/, 'kong'],
  [/^varnish\b/, 'varnish'],
  [/^akamai/, 'akamai'],
  [/^gunicorn\b/, 'gunicorn'],
  [/^uwsgi\b/, 'uwsgi'],
  [/^gws\b|^gfe\b|^google frontend\b/, 'gcp-lb'],
  [/^microsoft-azure-application-gateway\b/, 'azure-appgw'],
];

/** The product a `Server:` header value names, or undefined. @example serverProduct('awselb/2.0') === 'aws-alb' */
export function serverProduct(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  return SERVER_HEADER.find(([re]) => re.test(h))?.[1];
}
