/** Inputs many tests share. */

/** The nginx error.log line of an upstream that refuses connections: `upstream-refused` ranks first. */
export const NGINX_REFUSED =
  '2024/03/01 10:00:00 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9, server: shop, request: "GET /api HTTP/1.1", upstream: "http://10.0.3.4:8080/api", host: "shop"';

/** The Slack signing secret the stand-in and the bot share in tests (32 hex characters, as Slack's). */
export const SIGNING_SECRET = '0123456789abcdef0123456789abcdef';
