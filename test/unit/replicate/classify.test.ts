import { describe, expect, it } from 'vitest';
import { PermanentError, PreconditionFailedError, TransientError, toReplicationError, AbortedError } from '../../../src/errors.js';
import { classifyApiFailure, type ErrorCodes } from '../../../src/replicate/classify.js';

const CODES: ErrorCodes = { precondition: new Set(['PreconditionFailed', 'ConditionalRequestConflict']), permanent: new Set(['MetadataTooLarge', 'KeyTooLongError', 'EntityTooLarge']) };

describe('classifyApiFailure with an adapter\'s codes', () => {
  it.each([
    [{ status: 412, code: 'PreconditionFailed' }, PreconditionFailedError],
    [{ status: 409, code: 'ConditionalRequestConflict' }, PreconditionFailedError],
    [{ status: 412 }, PreconditionFailedError],
    [{ status: 400, code: 'MetadataTooLarge' }, PermanentError],
    [{ status: 400, code: 'KeyTooLongError' }, PermanentError],
    [{ status: 400, code: 'EntityTooLarge' }, PermanentError],
    [{ status: 403, code: 'AccessDenied' }, TransientError],
    [{ status: 404, code: 'NoSuchBucket' }, TransientError],
    [{ status: 500, code: 'InternalError' }, TransientError],
    [{ status: 503, code: 'SlowDown' }, TransientError],
    [{ status: 429 }, TransientError],
    [{ code: 'ECONNREFUSED' }, TransientError],
    [{ status: 400, code: 'SomethingNew' }, TransientError],
  ] as Array<[{ status?: number; code?: string }, new (...a: never[]) => Error]>)('%o → %s', (failure, expected) => {
    const err = classifyApiFailure({ operation: 'S3 PutObject s3://b/k', message: 'boom', ...failure }, CODES);
    expect(err).toBeInstanceOf(expected);
    expect(err.message).toContain('S3 PutObject s3://b/k failed');
    if (failure.code) expect(err.message).toContain(failure.code);
  });

  it('permanent errors are not retryable; transient ones are', () => {
    expect(classifyApiFailure({ operation: 'x', code: 'MetadataTooLarge', message: '' }, CODES).retryable).toBe(false);
    expect(classifyApiFailure({ operation: 'x', code: 'AccessDenied', message: '' }, CODES).retryable).toBe(true);
  });
});

describe('toReplicationError', () => {
  it('treats unknown errors as transient and AbortError as aborted', () => {
    expect(toReplicationError(new Error('weird'))).toBeInstanceOf(TransientError);
    expect(toReplicationError('a string')).toBeInstanceOf(TransientError);
    expect(toReplicationError(Object.assign(new Error('x'), { name: 'AbortError' }))).toBeInstanceOf(AbortedError);
  });

  it('redacts JWTs and credential fields from messages', () => {
    const err = toReplicationError(new Error('bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl and SessionToken=FwoGZXIvYXdzEBc'));
    expect(err.message).not.toMatch(/eyJhbGci|FwoGZXIv/);
    expect(err.message).toContain('[redacted');
  });
});
