import type { Extractor } from './extractor.js';
import { eachMatch, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * The error codes platforms and gateways print instead of sentences, each mapped to its mechanism:
 * Microsoft Entra ID AADSTS codes, Azure Front Door / CDN access-log ErrorInfo and API Management
 * LastErrorReason values, Apigee fault codes, Netflix Zuul status categories, Fly.io proxy codes,
 * Datadog Synthetics and UptimeRobot error names, F5 BIG-IP reset causes. A code is stable across
 * versions and languages where the sentence around it is not.
 */

type Effect = readonly [name: string, value?: string];

const AADSTS: Readonly<Record<string, readonly Effect[]>> = {
  '50058': [['auth.error', 'missing_credentials']],
  '50076': [['auth.error', 'missing_credentials']],
  '50079': [['auth.error', 'missing_credentials']],
  '50126': [['auth.error', 'invalid_token']],
  '7000215': [['auth.error', 'invalid_token']],
  '700027': [['auth.error', 'invalid_signature']],
  '50013': [['auth.error', 'invalid_signature']],
  '700016': [['auth.error', 'invalid_token']],
  '500011': [['auth.error', 'invalid_audience']],
  '90002': [['auth.error', 'invalid_token']],
  '54005': [['auth.error', 'invalid_token']],
  '70000': [['auth.error', 'invalid_token']],
  '50173': [['auth.error', 'token_expired']],
  '70008': [['auth.error', 'token_expired']],
  '700082': [['auth.error', 'token_expired']],
  '50133': [['auth.error', 'token_expired']],
  '7000222': [['auth.error', 'token_expired']],
  '700024': [['auth.error', 'token_not_yet_valid']],
  '500133': [['auth.error', 'token_expired']],
  '50105': [['auth.forbidden_role']],
  '65001': [['auth.forbidden_role']],
  '50020': [['auth.forbidden_role']],
  '70011': [['auth.forbidden_role']],
  '53003': [['access.denied_rule']],
  '9002326': [['cors.error', 'blocked']],
  '50196': [['http.redirect_loop']],
};

/** Azure Front Door / CDN `errorInfo` and API Management `LastErrorReason` values (also as Log Analytics columns: `ErrorInfo_s`). */
const AZURE_ERRORS: Readonly<Record<string, readonly Effect[]>> = {
  origintimeout: [['proxy.upstream_error', 'read_timeout']],
  originconnectionerror: [['proxy.upstream_error', 'connection_refused']],
  originconnectionrefused: [['proxy.upstream_error', 'connection_refused']],
  origininvalidresponse: [['proxy.upstream_error', 'invalid_header']],
  origindnserror: [['proxy.upstream_error', 'host_not_found']],
  dnsnamenotresolved: [['proxy.upstream_error', 'host_not_found']],
  originsslerror: [['proxy.upstream_error', 'tls_handshake']],
  origincertificateerror: [['proxy.upstream_error', 'tls_verify']],
  origincertificateselfsigned: [['proxy.upstream_error', 'tls_verify']],
  origincertificatenamemismatch: [['proxy.upstream_error', 'tls_verify']],
  originconnectionaborted: [['proxy.upstream_error', 'prematurely_closed']],
  origininvalidrequest: [['proxy.upstream_error', 'invalid_header']],
  clientdisconnected: [['client.closed']],
  clientconnectionfailure: [['client.closed']],
  backendconnectionfailure: [['net.error', 'connect_failed']],
  forbiddenbypolicy: [['access.denied_rule']],
  tokennotpresent: [['auth.error', 'missing_credentials']],
  tokenexpired: [['auth.error', 'token_expired']],
  tokensignatureinvalid: [['auth.error', 'invalid_signature']],
  tokenaudiencenotallowed: [['auth.error', 'invalid_audience']],
  tokenissuernotallowed: [['auth.error', 'invalid_issuer']],
  tokeninvalidsignature: [['auth.error', 'invalid_signature']],
  tokennotyetvalid: [['auth.error', 'token_not_yet_valid']],
  dnsfailure: [['proxy.upstream_error', 'host_not_found']],
  certificatenamecheckfailed: [['proxy.upstream_error', 'tls_verify']],
  certificateerror: [['proxy.upstream_error', 'tls_verify']],
  sslhandshakeerror: [['proxy.upstream_error', 'tls_handshake']],
  sslinvalidrootca: [['proxy.upstream_error', 'tls_verify']],
  responseheadertoobig: [['proxy.upstream_error', 'too_big_header']],
  clientgeoblocked: [['access.denied_rule']],
  restrictedip: [['access.denied_rule']],
  calleripnotallowed: [['access.denied_rule']],
  outofcapacity: [['limit.overload']],
  timeout: [['proxy.upstream_error', 'read_timeout']],
};

/** Apigee fault codes (`"errorcode": "…"`). */
const APIGEE: readonly (readonly [RegExp, readonly Effect[]])[] = [
  [/^messaging\.adaptors\.http\.flow\.GatewayTimeout$/i, [['proxy.upstream_error', 'read_timeout']]],
  [/^messaging\.adaptors\.http\.flow\.ServiceUnavailable$/i, [['net.error', 'connect_failed']]],
  [/^messaging\.adaptors\.http\.flow\.(?:NoActiveTargets|ApplicationNotFound)$/i, [['proxy.upstream_error', 'no_live_upstreams']]],
  [/^messaging\.adaptors\.http\.flow\.(?:SslHandshakeFailed|ServerCertificateVerification)/i, [['proxy.upstream_error', 'tls_handshake']]],
  [
    /^messaging\.adaptors\.http\.flow\.DecompressionFailureAtResponse$|^protocol\.http\.(?:Response|ResponseHeader)/i,
    [['proxy.upstream_error', 'invalid_header']],
  ],
  [/^steps\.oauth\.v2\.(?:FailedToResolveAccessToken|access_token_not_found)$/i, [['auth.error', 'missing_credentials']]],
  [
    /^(?:steps\.oauth\.v2\.access_token_expired|keymanagement\.service\.access_token_expired|steps\.jwt\.TokenExpired)$/i,
    [['auth.error', 'token_expired']],
  ],
  [/^steps\.jwt\.TokenNotYetValid$/i, [['auth.error', 'token_not_yet_valid']]],
  [
    /^(?:steps\.oauth\.v2\.invalid_access_token|keymanagement\.service\.invalid_access_token|steps\.jwt\.(?:FailedToDecode|InvalidToken|InvalidSignature|InvalidClaim|AlgorithmMismatch))$/i,
    [['auth.error', 'invalid_token']],
  ],
  [
    /^(?:oauth\.v2\.InvalidApiKey|steps\.oauth\.v2\.FailedToResolveAPIKey|keymanagement\.service\.InvalidAPIKey)/i,
    [['auth.error', 'invalid_token']],
  ],
  [/^(?:policies\.ratelimit\.(?:QuotaViolation|SpikeArrestViolation)|policies\.quota\.QuotaViolation)$/i, [['limit.rate']]],
  [/^protocol\.http\.(?:TooBigLine|TooBigHeaders)$/i, [['limit.header']]],
  [/^protocol\.http\.TooBigBody$/i, [['limit.body']]],
  [/^accesscontrol\.IPDeniedAccess$/i, [['access.denied_rule']]],
];

/** Netflix Zuul 2 `status_category` values. */
const ZUUL: Readonly<Record<string, readonly Effect[]>> = {
  FAILURE_ORIGIN_RESET_CONNECTION: [['proxy.upstream_error', 'reset']],
  FAILURE_ORIGIN_CONNECTIVITY: [['net.error', 'connect_failed']],
  FAILURE_ORIGIN_READ_TIMEOUT: [['proxy.upstream_error', 'read_timeout']],
  FAILURE_ORIGIN_THROTTLED: [['limit.overload']],
  FAILURE_LOCAL_THROTTLED_ORIGIN_SERVER_MAXCONN: [['limit.overload']],
  FAILURE_LOCAL_THROTTLED_ORIGIN_CONCURRENCY: [['limit.overload']],
  FAILURE_ORIGIN_NO_SERVERS: [['proxy.upstream_error', 'no_live_upstreams']],
  FAILURE_CLIENT_CANCELLED: [['client.closed']],
  FAILURE_CLIENT_TIMEOUT: [['client.closed']],
  FAILURE_CLIENT_BAD_REQUEST: [['http.invalid_request']],
};

/** Fly.io's proxy codes. */
const FLY: Readonly<Record<string, readonly Effect[]>> = {
  PC01: [['proxy.upstream_error', 'connection_refused']],
  PC05: [['proxy.upstream_error', 'connect_timeout']],
  PR03: [['proxy.upstream_error', 'no_live_upstreams']],
  PR04: [['proxy.upstream_error', 'no_live_upstreams']],
  PU02: [['proxy.upstream_error', 'prematurely_closed']],
};

/** Synthetic monitors' error names: Datadog Synthetics `Error: CONNRESET`, UptimeRobot `Reason: Connection Timeout`. */
const MONITOR: Readonly<Record<string, readonly Effect[]>> = {
  connreset: [['net.error', 'connection_reset']],
  connrefused: [['net.error', 'connection_refused']],
  'connection refused': [['net.error', 'connection_refused']],
  hostunreach: [['net.error', 'host_unreachable']],
  netunreach: [['net.error', 'network_unreachable']],
  dns: [['net.error', 'dns_not_found']],
  timeout: [['net.error', 'timeout']],
  'connection timeout': [['net.error', 'connect_timeout']],
  ssl: [['tls.error', 'failed']],
  too_many_redirects: [['http.redirect_loop']],
};

/** F5 BIG-IP's reset cause, logged with `RST sent from …`. */
const F5_RESET: readonly (readonly [RegExp, readonly Effect[]])[] = [
  [/^Flow expired \(sweeper\)|^Idle timeout/i, [['net.keepalive_race']]],
  [/^TCP retransmit timeout/i, [['net.tcp_timeout']]],
  [/^No pool member available|^No server selected/i, [['proxy.upstream_error', 'no_live_upstreams']]],
  [/^Port denied|^No local listener/i, [['net.error', 'connection_refused']]],
  [/^SSL handshake timeout|^SSL/i, [['tls.error', 'handshake_failure']]],
];

const AADSTS_CODE = /\bAADSTS(\d{5,7})\b/g;
const AZURE_ERROR =
  /(?:"errorInfo"\s{0,2}:\s{0,2}"|\berrorInfo(?:_s)?\s{0,2}[:=]\s{0,2}\x60?|\bLastErrorReason(?:_s)?\s{0,2}[:=]\s{0,2}\x60?)([A-Za-z]{6,40})\b/gi;
const APIGEE_CODE =
  /"errorcode"\s{0,2}:\s{0,2}"([A-Za-z0-9_.]{6,100})"|\b(steps\.(?:oauth\.v2|jwt)\.[A-Za-z_]{4,60}|messaging\.adaptors\.http\.flow\.[A-Za-z]{4,60}|policies\.(?:ratelimit|quota)\.[A-Za-z]{4,60}|protocol\.http\.TooBig[A-Za-z]{2,20}|keymanagement\.service\.[A-Za-z_]{4,60}|oauth\.v2\.[A-Za-z]{4,60}|accesscontrol\.IPDeniedAccess)\b/g;
const ZUUL_CATEGORY = /\b(FAILURE_(?:ORIGIN|LOCAL|CLIENT)_[A-Z_]{4,60})\b/g;
const FLY_CODE = /\[(P[CRU]\d\d)\]/g;
const MONITOR_ERROR =
  /\bError: (CONNRESET|CONNREFUSED|HOSTUNREACH|NETUNREACH|DNS|TIMEOUT|SSL|TOO_MANY_REDIRECTS)\b|\bMonitor is DOWN\b[^\n]{0,200}\bReason: (Connection Timeout|Connection Refused)\b/g;
const F5_RST = /\bRST sent from [^\s,]{3,80} to [^\s,]{3,80}, \[0x[0-9a-f]{1,16}:\d{1,6}\] ([A-Za-z][^\n]{2,60})/g;

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'platform');
  const apply = (effects: readonly Effect[] | undefined, m: RegExpExecArray) => {
    for (const [name, value] of effects ?? []) sink.add(name, value, m.index, m.index + m[0].length);
  };
  if (doc.mayContain('aadsts')) eachMatch(AADSTS_CODE, doc, (m) => apply(AADSTS[m[1] ?? ''], m));
  eachMatch(AZURE_ERROR, doc, (m) => apply(AZURE_ERRORS[(m[1] ?? '').toLowerCase()], m));
  eachMatch(APIGEE_CODE, doc, (m) => {
    const code = m[1] ?? m[2] ?? '';
    apply(APIGEE.find(([re]) => re.test(code))?.[1], m);
  });
  eachMatch(ZUUL_CATEGORY, doc, (m) => apply(ZUUL[m[1] ?? ''], m));
  if (doc.mayContain('fly') || doc.mayContain('proxy[')) eachMatch(FLY_CODE, doc, (m) => apply(FLY[m[1] ?? ''], m));
  eachMatch(MONITOR_ERROR, doc, (m) => apply(MONITOR[(m[1] ?? m[2] ?? '').toLowerCase()], m));
  eachMatch(F5_RST, doc, (m) => apply(F5_RESET.find(([re]) => re.test(m[1] ?? ''))?.[1], m));
  return sink;
}

export const PLATFORM_PATTERNS: readonly RegExp[] = [AADSTS_CODE, AZURE_ERROR, APIGEE_CODE, ZUUL_CATEGORY, FLY_CODE, MONITOR_ERROR, F5_RST];

export const platformExtractor: Extractor = {
  name: 'platform',
  reads: 'platform and gateway error codes: Entra AADSTS, Azure Front Door/CDN/APIM, Apigee, Zuul, Fly.io, synthetic monitors, F5 resets',
  patterns: PLATFORM_PATTERNS,
  keys: ['aadsts', 'fly', 'proxy['],
  extract: (doc) => extract(doc).signals,
};
