import { ReplicationError } from '../errors.js';
import { classifyApiFailure, type ErrorCodes } from '../replicate/classify.js';

/** Node's codes for a header it will not send. */
const NODE_HEADER_CODES = ['ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_INVALID_HTTP_TOKEN'];

/** S3's error codes, by what they mean for a retry. */
const S3_ERROR_CODES: ErrorCodes = {
  // 409 ConditionalRequestConflict: another conditional write to the key is in progress.
  precondition: new Set(['PreconditionFailed', 'ConditionalRequestConflict']),
  permanent: new Set([
    'MetadataTooLarge',
    'KeyTooLongError',
    'EntityTooLarge',
    'InvalidObjectName',
    'MetadataKeyInvalid',
    // AWS: a request's headers are limited to 8 KB, user metadata included.
    'RequestHeaderSectionTooLarge',
    // MinIO keeps objects as files: a key segment over 255 bytes is refused with this (measured).
    'XMinioInvalidObjectName',
    // Node refuses to send a header value with characters HTTP cannot carry
    // (a TypeError before any byte is sent): the same value fails every time.
    ...NODE_HEADER_CODES,
  ]),
};

/** The HTTP status of an AWS SDK error, when the server answered. */
export function s3StatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Reduces an AWS SDK error to an ApiFailure and classifies it. */
export function classifyS3Error(err: unknown, operation: string): ReplicationError {
  if (err instanceof ReplicationError) return err;
  const e = err as { name?: string; Code?: string; code?: string; message?: string };
  // Node's own errors are TypeErrors whose `code` says what happened.
  const nodeCode = typeof e?.code === 'string' && NODE_HEADER_CODES.includes(e.code) ? e.code : undefined;
  return classifyApiFailure({ operation, status: s3StatusOf(err), code: e?.Code ?? nodeCode ?? e?.name ?? e?.code, message: e?.message ?? String(err), cause: err }, S3_ERROR_CODES);
}
