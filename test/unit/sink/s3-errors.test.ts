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

  it.each([
    // Measured on the local stack (MinIO), see test/integration/odd-objects.test.ts.
    ['XMinioInvalidObjectName', 400, 'a key segment over 255 bytes: MinIO stores objects as files'],
    ['RequestHeaderSectionTooLarge', 400, "AWS: the request's headers over 8 KB"],
  ])('%s (HTTP %s) is permanent: %s', (name, status) => {
    expect(classifyS3Error(sdkError(name, status), 'S3 PutObject s3://b/k')).toBeInstanceOf(PermanentError);
  });

  it.each([
    ['ERR_INVALID_CHAR', 'Invalid character in header content ["content-type"]'],
    ['ERR_HTTP_INVALID_HEADER_VALUE', 'Invalid value "undefined" for header "x-amz-meta-a"'],
  ])("a header Node refuses to send (%s) is permanent: the same header is refused on every attempt", (code, message) => {
    const nodeError = Object.assign(new TypeError(message), { code });
    const err = classifyS3Error(nodeError, 'S3 PutObject s3://b/k');
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe(code);
  });

  it('a Node network error stays transient', () => {
    const err = classifyS3Error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'S3 HeadObject s3://b/k');
    expect(err).toBeInstanceOf(TransientError);
    expect(err).not.toBeInstanceOf(PermanentError);
  });
});

