import { ReplicationError } from '../errors.js';
import { classifyApiFailure, type ErrorCodes } from '../replicate/classify.js';

/** S3's error codes, by what they mean for a retry. */
export const S3_ERROR_CODES: ErrorCodes = {
  // 409 ConditionalRequestConflict: another conditional write to the key is in progress.
  precondition: new Set(['PreconditionFailed', 'ConditionalRequestConflict']),
  permanent: new Set(['MetadataTooLarge', 'KeyTooLongError', 'EntityTooLarge', 'InvalidObjectName', 'MetadataKeyInvalid']),
};

/** The HTTP status of an AWS SDK error, when the server answered. */
export function s3StatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Reduces an AWS SDK error to an ApiFailure and classifies it. */
export function classifyS3Error(err: unknown, operation: string): ReplicationError {
  if (err instanceof ReplicationError) return err;
  const e = err as { name?: string; Code?: string; code?: string; message?: string };
  return classifyApiFailure({ operation, status: s3StatusOf(err), code: e?.Code ?? e?.name ?? e?.code, message: e?.message ?? String(err), cause: err }, S3_ERROR_CODES);
}
