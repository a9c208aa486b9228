import { describe, expect, it } from 'vitest';
import { K8S_PATTERNS, k8sExtractor } from '../../src/evidence/k8s.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(k8sExtractor, text);

const RBAC =
  'Error from server (Forbidden): deployments.apps is forbidden: User "system:serviceaccount:ci:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "prod"';

const SAMPLES = [
  RBAC,
  'An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/ci-role/session is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::artifacts/build.zip" because no identity-based policy allows the s3:PutObject action',
  "ERROR: (gcloud.compute.instances.list) PERMISSION_DENIED: Required 'compute.instances.list' permission for 'projects/demo-project'",
];

describe('k8s extractor', () => {
  it('reads Kubernetes RBAC denials', () => {
    expect(keys(RBAC)).toEqual(['k8s.forbidden', 'auth.forbidden_role', 'http.server=kubernetes']);
    const json =
      '"message": "secrets is forbidden: User \\"dev\\" cannot list resource \\"secrets\\" in API group \\"\\" at the cluster scope", "reason": "Forbidden"';
    expect(keys(json)).toEqual(expect.arrayContaining(['k8s.forbidden', 'auth.forbidden_role']));
  });

  it('does not read quota or admission denials as RBAC', () => {
    expect(
      keys(
        'Error from server (Forbidden): pods "web-1" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=8, limited: cpu=8',
      ),
    ).toEqual([]);
    expect(keys('Error from server (Forbidden): pods "x" is forbidden: violates PodSecurity "restricted:latest"')).toEqual([]);
  });

  it('reads Kubernetes authentication failures', () => {
    expect(keys('error: You must be logged in to the server (Unauthorized)')).toEqual([
      'auth.error=invalid_token',
      'http.server=kubernetes',
    ]);
    expect(keys('error: the server has asked for the client to provide credentials')).toContain('auth.error=missing_credentials');
  });

  it('reads AWS IAM denials and credential errors', () => {
    expect(keys(SAMPLES[1] ?? '')).toEqual(['auth.forbidden_role']);
    expect(keys("{ code: 'AccessDeniedException', message: 'User is not allowed' }")).toEqual(['auth.forbidden_role']);
    expect(
      keys(
        'An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired',
      ),
    ).toEqual(['auth.error=token_expired']);
    expect(keys('{"code":"AccessDeniedException","detailedMessage":"The security token included in the request is expired"}')).toEqual([
      'auth.error=token_expired',
    ]);
    expect(
      keys(
        'An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.',
      ),
    ).toContain('auth.error=invalid_token');
    expect(keys('An error occurred (SignatureDoesNotMatch) when calling the ListBuckets operation')).toContain(
      'auth.error=invalid_signature',
    );
    expect(keys('botocore.exceptions.NoCredentialsError: Unable to locate credentials')).toContain('auth.error=missing_credentials');
  });

  it('reads GCP and Azure denials', () => {
    expect(keys(SAMPLES[2] ?? '')).toEqual(['auth.forbidden_role']);
    expect(
      keys('403 Forbidden: ci@demo.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.'),
    ).toEqual(['auth.forbidden_role']);
    expect(keys('Request had invalid authentication credentials. Expected OAuth 2 access token')).toContain('auth.error=invalid_token');
    expect(
      keys(
        "(AuthorizationFailed) The client 'a1b2' with object id 'a1b2' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourcegroups/read' over scope '/subscriptions/x'",
      ),
    ).toContain('auth.forbidden_role');
  });
});

describeConformance(k8sExtractor, K8S_PATTERNS, SAMPLES);
