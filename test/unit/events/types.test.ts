import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { eventPolicyFromConfig } from '../../../src/events/types.js';

const base = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gcs2s3', S3_BUCKET: 'dest-bucket' };
const configOf = (env: Record<string, string>) => parseConfig({ ...base, ...env }, { command: 'copy', instanceId: 'host-1' });

describe('eventPolicyFromConfig', () => {
  it.each([
    [{}, { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false }],
    [
      { SOURCE_BUCKETS: 'a,b', S3_KEY_PREFIX: '{bucket}/', INCLUDE_PREFIXES: 'in/', EXCLUDE_PREFIXES: 'in/tmp/,x/', REPLICATE_DELETES: 'true' },
      { sourceBuckets: ['a', 'b'], includePrefixes: ['in/'], excludePrefixes: ['in/tmp/', 'x/'], replicateDeletes: true },
    ],
  ])('maps %o', (env, expected) => {
    expect(eventPolicyFromConfig(configOf(env))).toEqual(expected);
  });

  it('copies the lists, so the policy never aliases the config', () => {
    const config = configOf({ SOURCE_BUCKETS: 'a' });
    const p = eventPolicyFromConfig(config);
    p.sourceBuckets.push('b');
    expect(config.filters.sourceBuckets).toEqual(['a']);
  });
});
