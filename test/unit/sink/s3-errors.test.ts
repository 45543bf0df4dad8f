import { describe, expect, it } from 'vitest';
import { PermanentError, PreconditionFailedError, TransientError } from '../../../src/errors.js';
import { classifyS3Error } from '../../../src/sink/s3-errors.js';

/** An error shaped like the AWS SDK's service exceptions. */
function sdkError(name: string, status?: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }) });
}

describe('classifyS3Error', () => {
  it.each([
    ['PreconditionFailed', 412, PreconditionFailedError],
    ['ConditionalRequestConflict', 409, PreconditionFailedError],
    ['Unknown', 412, PreconditionFailedError],
    ['MetadataTooLarge', 400, PermanentError],
    ['KeyTooLongError', 400, PermanentError],
    ['EntityTooLarge', 400, PermanentError],
    ['InvalidObjectName', 400, PermanentError],
    ['AccessDenied', 403, TransientError],
    ['NoSuchBucket', 404, TransientError],
    ['InternalError', 500, TransientError],
    ['SlowDown', 503, TransientError],
    ['ECONNRESET', undefined, TransientError],
  ] as Array<[string, number | undefined, new (...a: never[]) => Error]>)('%s (HTTP %s) → %s', (name, status, expected) => {
    const err = classifyS3Error(sdkError(name, status), 'S3 PutObject s3://b/k');
    expect(err).toBeInstanceOf(expected);
    expect(err.message).toContain('S3 PutObject s3://b/k failed');
    expect(err.message).toContain(name);
  });
});
