import type { Extractor } from './extractor.js';
import { addStatus, atLineEnd, atLineStart, eachMatch, hasAny, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';
import { serverProduct } from './vocab/products.js';

/**
 * Generic HTTP evidence: status lines (`HTTP/1.1 502 Bad Gateway`, `< HTTP/2 403`), error-page titles
 * and headings (`<title>504 Gateway Time-out</title>`), the products named by footers and headers
 * (`<center>nginx</center>`, `Server:`, `Via:`, `cf-ray`, `X-Squid-Error`), `Retry-After`, status
 * codes quoted by clients and logs ("Request failed with status code 401", "HTTP Error 403",
 * `"status": 503`) and `CONNECT host:443` request lines.
 *
 * A bare three-digit number is never a status: every rule needs the words around it.
 */

/** `HTTP/1.1 502 Bad Gateway`, `< HTTP/2 403`, `HTTP/1.0\t403\tForbidden`. */
const STATUS_LINE = /\bHTTP\/\d(?:\.\d)?[ \t]{1,4}([1-5]\d\d)\b/g;

/** Reason phrases (lower case, single-spaced) per status code, to pair a number with its phrase. */
const PHRASES: Readonly<Record<string, readonly string[]>> = {
  '400': [
    'bad request',
    'the plain http request was sent to https port',
    'request header or cookie too large',
    'no required ssl certificate was sent',
    'the ssl certificate error',
  ],
  '401': ['unauthorized', 'authorization required'],
  '403': ['forbidden', 'access denied', 'tunnel or ssl forbidden', 'forbidden port'],
  '404': ['not found', 'page not found'],
  '405': ['method not allowed', 'not allowed'],
  '407': ['proxy authentication required'],
  '408': ['request time-out', 'request timeout'],
  '411': ['length required'],
  // "413 entity too large": the phrase as people shorten it.
  '413': ['request entity too large', 'entity too large', 'payload too large', 'content too large'],
  '414': ['request-uri too large', 'request-uri too long', 'uri too long'],
  '426': ['upgrade required'],
  '429': ['too many requests'],
  '431': ['request header fields too large'],
  '494': ['request header too large'],
  '495': ['ssl certificate error'],
  '496': ['ssl certificate required', 'no certificate'],
  '497': ['http request sent to https port'],
  '499': ['client closed request'],
  '500': ['internal server error'],
  '501': ['not implemented'],
  '502': ['bad gateway', 'proxy error'],
  '503': ['service unavailable', 'service temporarily unavailable'],
  '504': ['gateway time-out', 'gateway timeout', 'gateway time out'],
  '505': ['http version not supported'],
};

/** A status code followed by a reason phrase: `502 Bad Gateway`, `413: Request entity too large`, `504 - Gateway Timeout`. */
const STATUS_PHRASE =
  /\b([1-5]\d\d):?[ \t]{1,3}(?:-[ \t]{1,3})?(bad request|the plain http request was sent to https port|request header or cookie too large|no required ssl certificate was sent|the ssl certificate error|unauthorized|authorization required|forbidden port|forbidden|access denied|tunnel or ssl forbidden|error|page not found|not found|method not allowed|not allowed|proxy authentication required|request time-?out|length required|(?:request )?entity too large|payload too large|content too large|request-uri too (?:large|long)|uri too long|upgrade required|too many requests|request header fields too large|request header too large|ssl certificate error|ssl certificate required|no certificate|http request sent to https port|client closed request|internal server error|not implemented|bad gateway|proxy error|service (?:temporarily )?unavailable|gateway time-? ?out|http version not supported)\b/gi;

/** A lone reason phrase on its own line (Traefik's and Go's plain-text error bodies); the line is checked in code. */
const LONE_PHRASE = /\b(Bad Gateway|Gateway Time-?out|Service Unavailable|Too Many Requests)\b/g;
const GATEWAY_TIMEOUT_WORDS = /\bgateway time-? ?out\b/gi;
const LONE_STATUS: Readonly<Record<string, string>> = {
  'bad gateway': '502',
  'gateway timeout': '504',
  'gateway time-out': '504',
  'service unavailable': '503',
  'too many requests': '429',
};

/**
 * Exception classes named after the status they stand for, in any language's HTTP client: `Octokit::Unauthorized`,
 * `HttpClientErrorException$Forbidden`, `UnauthorizedError`, `TooManyRequestsException`, `ServiceUnavailableException`.
 * Case-sensitive, and only as a class (a suffix, or `::`/`$`/`.` before it), never the word in prose.
 */
const CLASS_STATUS =
  /(?:::|\$|\.)(Unauthorized|Forbidden|TooManyRequests|BadGateway|ServiceUnavailable|GatewayTimeout|ProxyAuthenticationRequired|PayloadTooLarge|RequestEntityTooLarge)\b(?![.(])|\b(Unauthorized|Forbidden|TooManyRequests|BadGateway|ServiceUnavailable|GatewayTimeout|ProxyAuthenticationRequired|PayloadTooLarge|RequestEntityTooLarge)(?:Error|Exception)\b/g;
const CLASS_CODE: Readonly<Record<string, string>> = {
  Unauthorized: '401',
  Forbidden: '403',
  ProxyAuthenticationRequired: '407',
  PayloadTooLarge: '413',
  RequestEntityTooLarge: '413',
  TooManyRequests: '429',
  BadGateway: '502',
  ServiceUnavailable: '503',
  GatewayTimeout: '504',
};

/** A redirect's target header (`Location: …`, `< location: …`, ` -> Location: …`). */
const LOCATION_HEADER = /^[ \t<>*-]{0,8}Location:[ \t]{0,4}(\S{1,2000})/gim;
/** How many times one Location in a paste makes a loop: a chain that keeps sending the client to the same place. */
const LOOP_REPEATS = 3;

/** A WebSocket upgrade request header: `> Upgrade: websocket`, `-H "Upgrade: websocket"`. */
const WS_REQUEST = /(?:^[ \t>]{0,4}|-H ["']?)Upgrade: ?websocket\b/gim;

/** Status codes quoted in logs, JSON and client errors. Each needs a word in front of the number. */
const QUOTED_STATUS: readonly { key: string; re: RegExp }[] = [
  // "status": 503, status=403, statusCode: 401, StatusCode: 401, Status code: 403, status code 502, status code '429'
  {
    key: 'status',
    re: /\bstatus(?:[ _-]?code)?(?:["']?[ \t]{0,2}[:=][ \t]{0,2}["']?|[ \t]{1,2}["']?)([1-5]\d\d)\b/gi,
  },
  // response_code="502", "response_code":503, Unexpected response code: 400
  {
    key: 'response',
    re: /\bresponse(?:[ _]code|[ _]status)(?:["']?[ \t]{0,2}[:=][ \t]{0,2}["']?|[ \t]{1,2})([1-5]\d\d)\b/gi,
  },
  // HTTP 503, HTTP Error 403: Forbidden, http error 400, HTTP code 403 from proxy, HTTP status 502, HTTP error code 407
  { key: 'http', re: /\bHTTP[ _]?(?:(?:error|status|response)(?:[ _]code)?|code)?[ \t]{0,2}:?[ \t]{0,2}([1-5]\d\d)\b/gi },
  // A client printing the status before the body it got: `401 {"code":4001007,…}`, `403: [{"message":…}]`
  { key: '', re: /(?:^|\n)[ \t]{0,4}([45]\d\d)[ \t]{0,2}[:-]?[ \t]{0,2}[{[]["{ \t\n]/g },
  // Cloudflare's error pages: "Error reference number: 502"
  { key: 'error reference number', re: /\bError reference number:[ \t]{0,2}([45]\d\d)\b/g },
  // npm's registry errors: "npm ERR! code E401", "npm error code E403"
  { key: 'code e', re: /\bcode E([45]\d\d)\b/g },
  // Node's util.inspect of an error object, one property a line: `  code: 403,`
  { key: 'code: ', re: /^[ \t]{0,12}(?:code|status|statusCode):[ \t]{1,2}([45]\d\d),?[ \t]*$/gm },
  // Maven/Wagon: "Return code is: 502 , ReasonPhrase:Bad Gateway."
  { key: 'return code', re: /\bReturn code is:?[ \t]{0,2}([1-5]\d\d)\b/gi },
  // requests: 403 Client Error: Forbidden for url
  { key: ' error', re: /\b([45]\d\d) (?:Client|Server) Error\b/g },
  // Python requests' repr of a response: <Response [403]>
  { key: '<response [', re: /<Response \[([1-5]\d\d)\]>/g },
  // OkHttp: Response{protocol=http/1.1, code=413, message=…}
  { key: 'response{', re: /\bResponse\{protocol=[^,\n]{1,20}, code=([1-5]\d\d)\b/g },
  // HTTP/2 pseudo-header in Envoy/nghttp debug output: ':status', '401'
  { key: ':status', re: /:status['"]?,?[ \t]{0,3}['"]?([1-5]\d\d)\b/g },
  // Error 503 backend read error, Error code 502 (CDN and PaaS error pages)
  { key: 'error', re: /\bError(?: code)?:?[ \t]{0,2}([45]\d\d)\b/g },
  // JSON keys that end in StatusCode: "httpStatusCode":"503", "StatusCode": 429
  { key: 'statuscode"', re: /[a-z]StatusCode"[ \t]{0,2}:[ \t]{0,2}"?([1-5]\d\d)\b/gi },
  // JSON error bodies: "code": 429 (Google APIs, Kubernetes Status, many REST APIs)
  { key: '"code"', re: /"code"[ \t]{0,2}:[ \t]{0,2}([45]\d\d)\b/g },
  // Traefik's JSON access log: "DownstreamStatus": 499, "OriginStatus": 502
  { key: 'status"', re: /\b(?:Downstream|Origin)Status["']?[ \t]{0,2}:[ \t]{0,2}([1-5]\d\d)\b/g },
  // Error-page titles and headings that start with the code: <title>504 GAEProxy Proxy Time out</title>
  { key: '<title>', re: /<title>[ \t]{0,4}([1-5]\d\d)\b/gi },
  { key: '<h1>', re: /<h1>[ \t]{0,4}([1-5]\d\d)\b/gi },
  // Other languages: Statuscode 502, código de estado 503, code d'état 504, код ответа 403,
  // ステータスコード 401, 상태 코드 429, HTTP-Fehler 503 (IIS), Erreur HTTP 404, Ошибка HTTP 502
  {
    key: '',
    re: /(?:\bStatus-?(?:code|kode)|\bcódigo de (?:estado|status|resposta|error)|\bcode (?:d['’]état|de statut|de réponse|d['’]erreur)|\bcodice (?:di stato|di risposta|HTTP)|\bkod (?:stanu|statusu|odpowiedzi|HTTP)|код(?:ом|а|у)? (?:состояния|ответа|ошибки)|ステータス ?コード|상태 ?코드|\bHTTP-?(?:Fehler|Fehlercode)|\bErreur HTTP|\bError HTTP|\bErro HTTP|\bErrore HTTP|\bBłąd HTTP|\bОшибка HTTP|HTTP ?エラー|HTTP ?오류|HTTP ?錯誤)[ \t]{0,2}[:：=]?[ \t]{0,2}([1-5]\d\d)\b/gi,
  },
  // Chinese: 状态码 431, 返回 502, 报 504, 431请求失败, 502 错误
  { key: '', re: /(?:状态码|返回码|响应码|返回|报错?|出现)[:：]?[ \t]{0,2}([1-5]\d\d)\b/g },
  { key: '', re: /\b([45]\d\d)[ \t]{0,2}(?:错误|请求失败|异常|报错)/g },
];

/** The reason phrases that are read without their code in front (NAMED_STATUS gives the code). */
const REASON_PHRASES = String.raw`Too Many Requests|Service (?:Temporarily )?Unavailable|Bad Gateway|Gateway Time-?out|Unauthorized|Forbidden|Request Entity Too Large|Payload Too Large|Proxy Authentication Required|Request Time-?out|Request Header Fields Too Large`;
/** A reason phrase that is a whole JSON string of an error field: `{"message":"Too Many Requests"}`. */
const JSON_PHRASE = new RegExp(
  String.raw`"(?:message|error|title|detail|reason|status|statusText|error_description|msg|errorMessage)"[ \t]{0,2}:[ \t]{0,2}"(${REASON_PHRASES})\.?"`,
  'gi',
);
/** A reason phrase followed by its own code: `Service Unavailable - 503` (pnpm), `Forbidden (403)`, `Bad Gateway: 502`. */
const PHRASE_THEN_CODE = new RegExp(String.raw`\b(${REASON_PHRASES})[ \t]{0,2}(?:[-:][ \t]{0,2}|\([ \t]{0,2})([45]\d\d)\b`, 'gi');
/** Status names as enums print them: Spring's HttpStatus, Vercel, gRPC-gateway, registries (`"code":"UNAUTHORIZED"`). */
const ENUM_STATUS =
  /\b(BAD_GATEWAY|SERVICE_UNAVAILABLE|GATEWAY_TIMEOUT|TOO_MANY_REQUESTS|UNAUTHORIZED|FORBIDDEN|PROXY_AUTHENTICATION_REQUIRED|PAYLOAD_TOO_LARGE|REQUEST_ENTITY_TOO_LARGE|REQUEST_HEADER_FIELDS_TOO_LARGE|REQUEST_TIMEOUT)\b/g;
/** Kubernetes status reasons: `Error from server (ServiceUnavailable)`, `"reason":"TooManyRequests"`. */
const K8S_REASON =
  /(?:\bError from server \(|"reason"[ \t]{0,2}:[ \t]{0,2}")(ServiceUnavailable|Timeout|Forbidden|Unauthorized|TooManyRequests|RequestEntityTooLarge|BadGateway|GatewayTimeout)\b/g;
const NAMED_STATUS: Readonly<Record<string, string>> = {
  'too many requests': '429',
  'service unavailable': '503',
  'service temporarily unavailable': '503',
  'bad gateway': '502',
  'gateway timeout': '504',
  'gateway time-out': '504',
  unauthorized: '401',
  forbidden: '403',
  'request entity too large': '413',
  'payload too large': '413',
  'proxy authentication required': '407',
  'request timeout': '408',
  'request time-out': '408',
  'request header fields too large': '431',
  bad_gateway: '502',
  service_unavailable: '503',
  gateway_timeout: '504',
  too_many_requests: '429',
  proxy_authentication_required: '407',
  payload_too_large: '413',
  request_entity_too_large: '413',
  request_header_fields_too_large: '431',
  request_timeout: '408',
  serviceunavailable: '503',
  timeout: '504',
  toomanyrequests: '429',
  requestentitytoolarge: '413',
  badgateway: '502',
  gatewaytimeout: '504',
};

/**
 * Verbs that report a status: "returned 503", "got 429", "responded with a 502", "getting 502s",
 * "throwing 504s", "seeing intermittent 503". 4xx/5xx only.
 */
const VERB_STATUS =
  /\b(?:returned|returns|returning|get|got|gets|getting|received|receiving|reports?|reported|reporting|breaks? on|broke on|responded with|responds with|respond with|responding with|repl(?:y|ies|ied|ying) with|answered|answers|fails? with|failed with|failing with|resulted in|throw(?:s|ing|n)?|threw|see(?:s|ing|n)?|saw|serv(?:es|ed|ing)|hitting|giv(?:es|ing)|gave|display(?:s|ed|ing)?|show(?:s|ed|ing)|encounter(?:s|ed|ing)?)(?: an?| the| lots of| many| a lot of| some| random| intermittent| occasional| constant| frequent| sporadic)?(?: HTTP)?(?: status| error)?(?: code)?:?[ \t]([45]\d\d)s?\b([^\n]{0,12})/gi;
/**
 * What may follow a status after such a verb: the end, punctuation, or a word of an HTTP sentence
 * ("got a 502 error", "returned 503 from the proxy", "got 429."); anything else is a count ("got 500 new followers").
 */
const AFTER_VERB_STATUS =
  /^(?:$|[ \t]?[.,;:!?)\]"'`(]|[ \t](?:errors?|status|response|responses|from|when|for|on|at|in|after|with|and|but|then|code|instead|back|again|twice|sometimes|intermittently|randomly|http|bad|forbidden|unauthorized|not|service|gateway|too|internal|proxy|request|page|timeout|gateway|entity|payload|header|method|client)\b)/i;

/**
 * A reason phrase reported without its code, in Title Case as pages and clients print it: "displayed as Bad
 * Gateway", "getting Service Unavailable", "the API gives Forbidden". Case-sensitive, so "a bad gateway config" is
 * not one.
 */
const VERB_PHRASE =
  /\b(?:[Rr]eturn(?:s|ed|ing)?|[Gg]et(?:s|ting)?|[Gg]ot|[Rr]eceiv(?:e|es|ed|ing)|respond(?:s|ed|ing)? with|repl(?:y|ies|ied|ying) with|[Gg]iv(?:es|ing)|gave|[Dd]isplay(?:s|ed|ing)?(?: as)?|[Ss]how(?:s|ed|ing)|[Ss]ee(?:s|ing|n)?|saw|throw(?:s|ing|n)?|threw|fail(?:s|ed|ing)? with|[Ee]ncounter(?:s|ed|ing)?)(?: an?| the)?(?: HTTP)?[ \t](Bad Gateway|Service (?:Temporarily )?Unavailable|Gateway Time-?out|Too Many Requests|Request Entity Too Large|Payload Too Large|Proxy Authentication Required|Forbidden|Unauthorized)\b/g;
const VERB_PHRASE_KEYS = [
  'bad gateway',
  'unavailable',
  'gateway time',
  'too many requests',
  'too large',
  'authentication required',
  'forbidden',
  'unauthorized',
];

/** The start of a reason phrase right after a reported status, and the code each belongs to. */
const PHRASE_AFTER_VERB = /^[ \t](bad gateway|service unavail|gateway time|forbidden|unauthori[sz]ed|not found|too many|internal server)/i;
const PHRASE_CODES: Readonly<Record<string, string>> = {
  'bad gateway': '502',
  'service unavail': '503',
  'gateway time': '504',
  forbidden: '403',
  unauthorized: '401',
  unauthorised: '401',
  'not found': '404',
  'too many': '429',
  'internal server': '500',
};

/**
 * Product-identifying headers and Retry-After. The header must start its line (raw, curl's `< `,
 * devtools' `* `): checked in code, since a `^` multiline anchor makes V8 try every line.
 */
const HEADER =
  /\b(server|via|x-squid-error|cf-ray|x-envoy-upstream-service-time|x-envoy-overloaded|x-envoy-ratelimited|x-kong-proxy-latency|x-kong-upstream-latency|x-kong-response-latency|x-served-by|retry-after):[ \t]{0,4}([^\n]{0,200})/gi;
const HEADER_KEYS = ['server:', 'via:', 'x-squid-error:', 'cf-ray:', 'x-envoy-', 'x-kong-', 'x-served-by:', 'retry-after:'];

/** `Via:` value (lower case) → product; a Via that names none of these is taken as a forward proxy. */
const VIA_PRODUCTS: readonly [string, string | undefined][] = [
  ['squid', 'squid'],
  ['varnish', 'varnish'],
  ['kong', 'kong'],
  ['1.1 google', 'gcp-lb'],
  ['cloudfront', undefined],
  ['vegur', undefined],
  ['akamai', 'akamai'],
  ['envoy', 'envoy'],
  ['haproxy', 'haproxy'],
  ['caddy', 'caddy'],
];

/** Error-page footers: `<center>nginx/1.18.0</center>`, a bare `nginx/1.18.0` line, Apache's `<address>`. */
const CENTER_FOOTER = /<center>[ \t]{0,4}((?:nginx|openresty|tengine|cloudflare|awselb)(?:\/[\w.-]{1,24})?)[ \t]{0,4}<\/center>/gi;
const BARE_FOOTER = /\b(nginx|openresty|tengine)(?:\/[\d.]{1,20})?(?:[ \t]{1,2}\([^)\n]{1,40}\))?/g;
/** An error page's heading just above a bare footer, as the page reads once rendered (tested on the 120 characters before the footer only). */
const RENDERED_HEADING = /(?:^|\n)[ \t]{0,4}[1-5]\d\d [A-Z][A-Za-z -]{2,40}[ \t]{0,4}\n(?:[ \t]{0,4}\n){0,3}[ \t]{0,4}$/;
const APACHE_FOOTER = /\bApache(?:\/[\d.]{1,12})?(?: \([^)\n]{1,40}\))? Server at [^\s<]{1,253} Port \d{1,5}/g;

/** Default error pages of Apache, IIS and Go, and log wording that names Traefik or Caddy, with what they say. */
const PAGES: readonly { key: string; re: RegExp; status?: string; server?: string; log?: boolean; name?: string; value?: string }[] = [
  {
    key: 'the proxy server received an invalid',
    re: /\bThe proxy server received an invalid\s{1,4}response from an upstream server\b/gi,
    status: '502',
    server: 'apache',
  },
  { key: 'proxy error', re: /<title>502 Proxy Error<\/title>/gi, status: '502', server: 'apache' },
  {
    key: 'the proxy server could not handle the request',
    re: /\bThe proxy server could not handle the request\b/gi,
    status: '502',
    server: 'apache',
  },
  { key: 'dns lookup failure for', re: /\bReason: DNS lookup failure for\b/gi, name: 'proxy.upstream_error', value: 'host_not_found' },
  {
    key: 'error during ssl handshake with remote server',
    re: /\bError during SSL Handshake with remote server\b/gi,
    name: 'proxy.upstream_error',
    value: 'tls_handshake',
  },
  {
    key: 'the gateway did not receive a timely response',
    re: /\bThe gateway did not receive a timely response\s{1,4}from the upstream server\b/gi,
    status: '504',
    server: 'apache',
  },
  {
    key: 'temporarily unable to service your',
    re: /\bThe server is temporarily unable to service your\s{1,4}request due to maintenance downtime or capacity\s{1,4}problems\b/gi,
    status: '503',
    server: 'apache',
  },
  {
    key: 'size of a request header field exceeds server limit',
    re: /\bSize of a request header field exceeds server limit\b/gi,
    server: 'apache',
    name: 'limit.header',
  },
  {
    key: 'speaking plain http to an ssl-enabled server port',
    re: /\bspeaking plain HTTP to an SSL-enabled server port\b/gi,
    status: '400',
    server: 'apache',
    name: 'tls.error',
    value: 'http_to_https_port',
  },
  {
    key: 'client sent an http request to an https server',
    re: /\bClient sent an HTTP request to an HTTPS server\b/gi,
    status: '400',
    name: 'tls.error',
    value: 'http_to_https_port',
  },
  { key: 'http error ', re: /\bHTTP Error \d{3}(?:\.\d{1,3} -|\. The)/g, server: 'iis' },
  {
    key: 'size of the request headers is too long',
    re: /\bthe size of the request headers is too long\b/gi,
    server: 'iis',
    name: 'limit.header',
  },
  // Traefik's forwarder log: msg="'502 Bad Gateway' caused by: dial tcp 10.0.0.5:80: connect: connection refused"
  { key: "' caused by: ", re: /'[1-5]\d\d [A-Z][A-Za-z -]{2,40}' caused by: /g, server: 'traefik', log: true },
  // Caddy's JSON logs: {"level":"error","logger":"http.log.error",…} / "http.handlers.reverse_proxy"
  { key: 'http.log.error', re: /"logger":[ \t]{0,2}"http\.log\.error/g, server: 'caddy', log: true },
  { key: 'http.handlers.reverse_proxy', re: /"logger":[ \t]{0,2}"http\.handlers\.reverse_proxy"/g, server: 'caddy', log: true },
  // Apache's 401 page (HTTP_UNAUTHORIZED.html.var, the English of the localized rows in src/evidence/vocab).
  {
    key: 'this server could not verify that you',
    re: /\bThis server could not verify that you\s{1,4}are authorized to access the document\s{1,4}requested\b/gi,
    status: '401',
    server: 'apache',
  },
  // Heroku's router page when the dyno crashed, did not boot or did not answer (H10, H12, H13, H20 …).
  {
    key: 'an error occurred in the application and your page could not be served',
    re: /\bAn error occurred in the application and your page could not be served\b/gi,
    status: '503',
    server: 'heroku',
  },
  // Apache's 403 page (HTTP_FORBIDDEN.html.var): the server refused by itself (a Require rule, file permissions).
  {
    key: 'have permission to access',
    re: /\bYou don['’]t have permission to access (?:this resource|[^\s]{1,300} on this server)/gi,
    status: '403',
    server: 'apache',
  },
  // IIS (http.sys) when the application pool is stopped or failing: "HTTP Error 503. The service is unavailable."
  { key: 'the service is unavailable', re: /\bThe service is unavailable\.(?=[ \t]*$|[ \t]*\n)/gi, status: '503', server: 'iis' },
  // Google Front End's 403 page.
  {
    key: 'your client does not have permission to get url',
    re: /\bYour client does not have permission to get URL\b/gi,
    status: '403',
    server: 'gcp-lb',
  },
  {
    key: 'web server received an invalid response while acting as a gateway',
    re: /\b502 - Web server received an invalid response while acting as a gateway or proxy server\b/gi,
    status: '502',
    server: 'iis',
  },
];

/**
 * IIS reports a status with its sub-status: "HTTP Error 403.6 - Forbidden" on its error page, and
 * "… 403 6 5 1669" (sc-status sc-substatus sc-win32-status time-taken) at the end of a W3C log line.
 * The sub-status names the mechanism (Microsoft's "HTTP status codes in IIS"): what each means here.
 */
const IIS_SUBSTATUS: Readonly<Record<string, readonly (readonly [string, string?])[]>> = {
  '401.1': [['auth.error', 'invalid_token']],
  '401.2': [['auth.error', 'missing_credentials']],
  '401.3': [['access.file_permission']],
  '403.6': [['access.denied_rule']],
  '403.8': [['access.denied_rule']],
  '403.503': [['access.denied_rule']],
  '403.502': [['limit.rate']],
  '403.14': [['access.file_permission']],
  '403.16': [['tls.error', 'client_cert_required']],
  '403.7': [['tls.error', 'client_cert_required']],
};
const IIS_PAGE_STATUS = /\bHTTP Error (\d{3})\.(\d{1,3}) - /g;
/** A W3C extended log line of IIS: date, time, …, status, sub-status, win32 status, time taken. */
const IIS_LOG_STATUS = / ([1-5]\d\d) (\d{1,3}) (\d{1,10}) \d{1,10}[ \t]*$/gm;
/** …on a line that starts with the W3C date and time. */
const W3C_LINE_START = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /;

/** A field name only Traefik's JSON access log uses. */
const TRAEFIK_FIELD = /"DownstreamStatus"/g;

/** A CONNECT request to an authority-form target: `CONNECT registry.example.com:443`. */
const CONNECT_LINE = /\bCONNECT[ \t]{1,4}[A-Za-z0-9._\-[\]:]{1,260}:\d{1,5}\b/g;
/** Any CONNECT / OPTIONS request line: `CONNECT host:port HTTP/1.1`, `"OPTIONS /api HTTP/1.1"`. */
const METHOD_LINE = /\b(CONNECT|OPTIONS)[ \t]{1,4}[^\s"]{1,2048}[ \t]{1,4}HTTP\/\d/g;

function productOf(value: string, table: readonly [string, string | undefined][]): { found: boolean; product?: string } {
  const v = value.toLowerCase();
  for (const [needle, product] of table) if (v.includes(needle)) return product === undefined ? { found: true } : { found: true, product };
  return { found: false };
}

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'http');
  const { text } = doc;

  const status = (code: string | undefined, start: number, end: number) => addStatus(sink, code, start, end);
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];

  if (doc.mayContain('http/')) eachMatch(STATUS_LINE, doc, (m) => status(m[1], ...at(m)));

  eachMatch(STATUS_PHRASE, doc, (m) => {
    const code = m[1] ?? '';
    const phrase = (m[2] ?? '')
      .toLowerCase()
      .replace(/[ \t]{1,4}/g, ' ')
      .replace('time out', 'time-out')
      .replace('timeout', 'time-out');
    const allowed = PHRASES[code]?.map((p) => p.replace('timeout', 'time-out'));
    // "502 error", "403 ERROR": any 4xx/5xx; otherwise the phrase must be the code's own.
    if (phrase === 'error' ? !/^[45]/.test(code) : !allowed?.includes(phrase)) return;
    status(code, ...at(m));
  });

  // "Gateway timeout" names its status wherever it stands: no other sense of the words.
  if (doc.mayContain('gateway time')) eachMatch(GATEWAY_TIMEOUT_WORDS, doc, (m) => status('504', ...at(m)));
  if (hasAny(doc, ['bad gateway', 'gateway time', 'service unavailable', 'too many requests'])) {
    eachMatch(LONE_PHRASE, doc, (m) => {
      if (atLineStart(text, m.index) && atLineEnd(text, m.index + m[0].length, ' \t.', 4))
        status(LONE_STATUS[(m[1] ?? '').toLowerCase()], ...at(m));
    });
  }

  for (const q of QUOTED_STATUS) {
    if (!doc.mayContain(q.key)) continue;
    eachMatch(q.re, doc, (m) => status(m[1], ...at(m)));
  }
  eachMatch(CLASS_STATUS, doc, (m) => status(CLASS_CODE[m[1] ?? m[2] ?? ''], ...at(m)));

  if (
    hasAny(doc, ['unavailable', 'gateway', 'too many', 'unauthorized', 'forbidden', 'too large', 'authentication required', 'request time'])
  )
    eachMatch(PHRASE_THEN_CODE, doc, (m) => {
      const code = NAMED_STATUS[(m[1] ?? '').toLowerCase()];
      if (code === m[2]) status(code, ...at(m));
    });

  for (const re of [JSON_PHRASE, ENUM_STATUS, K8S_REASON])
    eachMatch(re, doc, (m) => status(NAMED_STATUS[(m[1] ?? '').toLowerCase()], ...at(m)));

  if (hasAny(doc, VERB_PHRASE_KEYS))
    eachMatch(VERB_PHRASE, doc, (m) => {
      const code = NAMED_STATUS[(m[1] ?? '').toLowerCase()];
      if (code) status(code, m.index, m.index + m[0].length);
    });
  eachMatch(VERB_STATUS, doc, (m) => {
    if (!AFTER_VERB_STATUS.test(m[2] ?? '')) return;
    // "saw 404 Bad Gateway": a reason phrase that is another code's is no status.
    const phrase = PHRASE_AFTER_VERB.exec(m[2] ?? '');
    if (phrase && PHRASE_CODES[phrase[1]!.toLowerCase().replace(/\s+/g, ' ')] !== m[1]) return;
    status(m[1], m.index, m.index + m[0].length - (m[2] ?? '').length);
  });

  if (doc.mayContain('downstreamstatus')) eachMatch(TRAEFIK_FIELD, doc, (m) => sink.once('http.server', 'traefik', ...at(m)));
  if (hasAny(doc, HEADER_KEYS)) {
    eachMatch(HEADER, doc, (m) => {
      if (!atLineStart(text, m.index, '<>*- \t', 6)) return;
      const span = at(m);
      const name = (m[1] ?? '').toLowerCase();
      const value = m[2] ?? '';
      if (name === 'server') {
        const product = serverProduct(value);
        if (product) sink.add('http.server', product, ...span);
      } else if (name === 'via') {
        const { found, product } = productOf(value, VIA_PRODUCTS);
        if (product) sink.add('http.server', product, ...span);
        if (!found || product === 'squid') sink.add('proxy.forward', undefined, ...span);
      } else if (name === 'x-squid-error') {
        if (/^ERR_[A-Z_]{2,40}/.test(value)) sink.add('http.server', 'squid', ...span);
      } else if (name === 'cf-ray') {
        if (/^[0-9a-f]{8,20}/i.test(value)) sink.add('http.server', 'cloudflare', ...span);
      } else if (name.startsWith('x-envoy-')) {
        sink.add('http.server', doc.mayContain('istio') ? 'istio' : 'envoy', ...span);
      } else if (name.startsWith('x-kong-')) {
        sink.add('http.server', 'kong', ...span);
      } else if (name === 'x-served-by') {
        if (/^cache-[a-z]{3}/i.test(value)) sink.add('http.server', 'fastly', ...span);
      } else if (name === 'retry-after') {
        const v = /^(\d{1,10})\s*$/.exec(value)?.[1] ?? (/^[A-Za-z]{3}, /.test(value) ? 'date' : undefined);
        if (v) sink.add('http.retry_after', v, ...span);
      }
    });
  }

  const footer = (product: string | undefined, m: RegExpExecArray) => {
    if (!product) return;
    sink.add('http.server', product, ...at(m));
    sink.add('http.body.error_page', undefined, ...at(m));
  };
  const footerProduct = (name: string) => {
    const n = name.toLowerCase();
    return serverProduct(n) ?? n;
  };
  if (doc.mayContain('<center>')) eachMatch(CENTER_FOOTER, doc, (m) => footer(footerProduct(m[1] ?? ''), m));
  if (hasAny(doc, ['nginx', 'openresty', 'tengine'])) {
    eachMatch(BARE_FOOTER, doc, (m) => {
      if (!atLineStart(text, m.index) || !atLineEnd(text, m.index + m[0].length, ' \t', 4)) return;
      // The page as a browser renders it: "403 Forbidden", a blank line, "nginx/1.18.0".
      if (RENDERED_HEADING.test(text.slice(Math.max(0, m.index - 120), m.index))) footer(footerProduct(m[1] ?? ''), m);
      else sink.add('http.server', footerProduct(m[1] ?? ''), ...at(m));
    });
  }
  if (doc.mayContain(' server at ')) eachMatch(APACHE_FOOTER, doc, (m) => footer('apache', m));

  for (const p of PAGES) {
    if (!doc.mayContain(p.key)) continue;
    eachMatch(p.re, doc, (m) => {
      if (p.status) status(p.status, ...at(m));
      if (p.server && p.log) sink.add('http.server', p.server, ...at(m));
      else if (p.server) footer(p.server, m);
      if (p.name) sink.add(p.name, p.value, ...at(m));
    });
  }

  const iis = (m: RegExpExecArray, log: boolean) => {
    const [code, sub] = [m[1] ?? '', m[2] ?? ''];
    if (log) status(code, ...at(m));
    sink.add('http.server', 'iis', ...at(m));
    for (const [name, value] of IIS_SUBSTATUS[`${code}.${sub}`] ?? []) sink.add(name, value, ...at(m));
  };
  if (doc.mayContain('http error ')) eachMatch(IIS_PAGE_STATUS, doc, (m) => iis(m, false));
  eachMatch(IIS_LOG_STATUS, doc, (m) => {
    if (W3C_LINE_START.test(text.slice(text.lastIndexOf('\n', m.index) + 1, m.index))) iis(m, true);
  });
  if (doc.mayContain('connect')) eachMatch(CONNECT_LINE, doc, (m) => sink.add('http.method', 'CONNECT', ...at(m)));
  if (doc.mayContain('connect') || doc.mayContain('options')) eachMatch(METHOD_LINE, doc, (m) => sink.add('http.method', m[1], ...at(m)));
  // A redirect chain (curl -L, a HAR, devtools) that names the same Location again and again is a loop.
  if (doc.mayContain('location:') && sink.signals.some((s) => s.name === 'http.status' && /^30[1278]$/.test(s.value ?? ''))) {
    const seen = new Map<string, number>();
    eachMatch(LOCATION_HEADER, doc, (m) => {
      const target = (m[1] ?? '').replace(/[/\s]+$/, '').toLowerCase();
      const n = (seen.get(target) ?? 0) + 1;
      seen.set(target, n);
      if (n === LOOP_REPEATS) sink.add('http.redirect_loop', undefined, ...at(m));
    });
  }
  // A WebSocket handshake sent (curl -H "Upgrade: websocket", a request's headers) and answered with an error status
  // instead of 101 Switching Protocols: the upgrade did not go through.
  if (doc.mayContain('upgrade: websocket') && !doc.mayContain('101 switching protocols')) {
    const failed = sink.signals.find((s) => s.name === 'http.status' && /^(?:400|403|404|426|500|502|503)$/.test(s.value ?? ''));
    if (failed) eachMatch(WS_REQUEST, doc, (m) => sink.add('ws.upgrade_failed', undefined, ...at(m)));
  }
  return sink;
}

/** The regexes this extractor runs over the whole text (for the conformance suite). */
export const HTTP_PATTERNS: readonly RegExp[] = [
  IIS_PAGE_STATUS,
  IIS_LOG_STATUS,
  STATUS_LINE,
  STATUS_PHRASE,
  LONE_PHRASE,
  GATEWAY_TIMEOUT_WORDS,
  ...QUOTED_STATUS.map((q) => q.re),
  CLASS_STATUS,
  WS_REQUEST,
  LOCATION_HEADER,
  VERB_STATUS,
  VERB_PHRASE,
  PHRASE_THEN_CODE,
  JSON_PHRASE,
  ENUM_STATUS,
  K8S_REASON,
  HEADER,
  CENTER_FOOTER,
  BARE_FOOTER,
  APACHE_FOOTER,
  ...PAGES.map((p) => p.re),
  TRAEFIK_FIELD,
  CONNECT_LINE,
  METHOD_LINE,
];

export const httpExtractor: Extractor = {
  name: 'http',
  reads: 'HTTP status lines, error-page titles and footers, Server/Via/Retry-After headers, quoted status codes, CONNECT lines',
  get patterns() {
    return HTTP_PATTERNS;
  },
  get keys() {
    return HEADER_KEYS;
  },
  extract: (doc) => extract(doc).signals,
};
