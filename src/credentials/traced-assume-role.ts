import { inClientSpan } from '../trace/spans.js';
import type { AssumeRoleWithWebIdentity } from './web-identity-provider.js';

/**
 * The STS call as an `sts.AssumeRoleWithWebIdentity` span. Its parent is
 * whichever copy needed credentials first (concurrent copies share one call).
 * The ID token is never an attribute.
 */
export function tracedAssumeRole(assume: AssumeRoleWithWebIdentity): AssumeRoleWithWebIdentity {
  return (params) => {
    const attributes = { 'rpc.system': 'aws-api', 'rpc.service': 'STS', 'rpc.method': 'AssumeRoleWithWebIdentity', 'aws.iam.role_arn': params.RoleArn, 'aws.sts.session_name': params.RoleSessionName };
    return inClientSpan('sts.AssumeRoleWithWebIdentity', attributes, () => assume(params));
  };
}
