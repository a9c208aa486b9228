import { runRules, type Extractor, type Rule } from './extractor.js';
import { keyGate, lineOf, tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Authorization failures of control-plane APIs: Kubernetes RBAC (`pods is forbidden: User
 * "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" in the namespace "ns"`),
 * AWS IAM (`AccessDenied`, `is not authorized to perform:`, expired security tokens), GCP IAM
 * (`PERMISSION_DENIED`, `does not have … permission`) and Azure RBAC (`AuthorizationFailed`).
 * Authenticated-but-not-allowed is auth.forbidden_role; an expired or invalid credential is auth.error.
 */
export const k8sExtractor: Extractor = {
  name: 'k8s',
  reads: 'Kubernetes RBAC "forbidden" errors and AWS / GCP / Azure IAM access-denied errors',
  get patterns() {
    return K8S_PATTERNS;
  },
  get keys() {
    return RULES.map((r) => r.key);
  },
  extract(doc: TextDoc): Signal[] {
    return tidy(runRules(doc, active(doc), 'k8s'), { oncePerText: ['http.server'] });
  },
};

/** `<resource> is forbidden: User "<name>" cannot <verb> …` (the quotes may be JSON-escaped). */
const RBAC = /\bis forbidden: User \\?"[^"\\\n]{1,253}\\?" cannot [a-z]{2,20}\b/g;
const K8S_UNAUTHORIZED = /\bYou must be logged in to the server \(Unauthorized\)|\bError from server \(Unauthorized\)/g;
const K8S_NO_CREDENTIALS = /\bthe server has asked for the client to provide credentials\b/g;

const AWS_NOT_AUTHORIZED = /\bis not authorized to perform: [a-zA-Z0-9-]{2,40}:[A-Za-z0-9*]{1,100}/g;
const AWS_ACCESS_DENIED = /\bAccessDenied(?:Exception)?\b|\(AccessDenied\)/g;
const AWS_EXPIRED = /\bExpiredToken(?:Exception)?\b|\bThe security token included in the request is expired\b|\bRequestExpired\b/g;
const AWS_INVALID = /\bInvalidClientTokenId\b|\bThe security token included in the request is invalid\b|\bUnrecognizedClientException\b/g;
const AWS_SIGNATURE = /\bSignatureDoesNotMatch\b|\bThe request signature we calculated does not match the signature you provided\b/g;
const AWS_NO_CREDENTIALS =
  /\bUnable to locate credentials\b|\bMissingAuthenticationToken\b|\bCould not load credentials from any providers\b/g;

const GCP_DENIED = /\bPERMISSION_DENIED\b|\bThe caller does not have permission\b|\bdoes not have (?:the )?(?:required )?permission\b/g;
const GCP_DENIED_NAMED =
  /\bdoes not have [a-zA-Z0-9_.-]{3,80} access to\b|\bPermission '[a-zA-Z0-9_.]{3,80}' denied\b|\bRequired '[a-zA-Z0-9_.]{3,80}' permission\b/g;
const GCP_UNAUTHENTICATED = /\bUNAUTHENTICATED\b|\bRequest had invalid authentication credentials\b/g;
const AZURE_DENIED = /\bAuthorizationFailed\b|\bdoes not have authorization to perform action\b/g;
const AZURE_EXPIRED =
  /\bExpiredAuthenticationToken\b|\bThe access token expiry UTC time '[^'\n]{1,60}' is earlier than current UTC time\b/g;

/** AWS prints AccessDenied also for expired credentials; the expiry is then the cause. */
const notExpired = (m: RegExpExecArray) => (/\bexpired?\b/i.test(lineOf(m)) ? undefined : '');

const RULES: readonly Rule[] = [
  { key: 'is forbidden: user', re: RBAC, name: 'k8s.forbidden' },
  { key: 'is forbidden: user', re: RBAC, name: 'auth.forbidden_role' },
  { key: 'is forbidden: user', re: RBAC, name: 'http.server', value: 'kubernetes' },
  { key: 'unauthorized', re: K8S_UNAUTHORIZED, name: 'auth.error', value: 'invalid_token' },
  { key: 'unauthorized', re: K8S_UNAUTHORIZED, name: 'http.server', value: 'kubernetes' },
  { key: 'provide credentials', re: K8S_NO_CREDENTIALS, name: 'auth.error', value: 'missing_credentials' },
  { key: 'provide credentials', re: K8S_NO_CREDENTIALS, name: 'http.server', value: 'kubernetes' },

  { key: 'is not authorized to perform', re: AWS_NOT_AUTHORIZED, name: 'auth.forbidden_role' },
  { key: 'accessdenied', re: AWS_ACCESS_DENIED, name: 'auth.forbidden_role', value: notExpired },
  { key: 'expired', re: AWS_EXPIRED, name: 'auth.error', value: 'token_expired' },
  { key: 'token', re: AWS_INVALID, name: 'auth.error', value: 'invalid_token' },
  { key: 'unrecognizedclientexception', re: AWS_INVALID, name: 'auth.error', value: 'invalid_token' },
  { key: 'signature', re: AWS_SIGNATURE, name: 'auth.error', value: 'invalid_signature' },
  { key: 'credentials', re: AWS_NO_CREDENTIALS, name: 'auth.error', value: 'missing_credentials' },
  { key: 'missingauthenticationtoken', re: AWS_NO_CREDENTIALS, name: 'auth.error', value: 'missing_credentials' },

  { key: 'permission', re: GCP_DENIED, name: 'auth.forbidden_role' },
  { key: 'access to', re: GCP_DENIED_NAMED, name: 'auth.forbidden_role' },
  { key: 'permission', re: GCP_DENIED_NAMED, name: 'auth.forbidden_role' },
  { key: 'unauthenticated', re: GCP_UNAUTHENTICATED, name: 'auth.error', value: 'invalid_token' },
  { key: 'invalid authentication credentials', re: GCP_UNAUTHENTICATED, name: 'auth.error', value: 'invalid_token' },
  { key: 'authorization', re: AZURE_DENIED, name: 'auth.forbidden_role' },
  { key: 'expir', re: AZURE_EXPIRED, name: 'auth.error', value: 'token_expired' },
];

const active = keyGate(RULES);

/** Regexes of this extractor, for the linear-time tests. */
export const K8S_PATTERNS: readonly RegExp[] = [...new Set(RULES.map((r) => r.re))];
