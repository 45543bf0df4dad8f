import { PermanentError, PreconditionFailedError, TransientError, type ReplicationError } from '../errors.js';

/** A failed call to a cloud API, reduced to what classification needs. */
export interface ApiFailure {
  /** e.g. `S3 PutObject s3://bucket/key`, `GCS read gs://bucket/name`. */
  operation: string;
  /** HTTP status, when the server answered at all. */
  status?: number;
  /** The service's error code (S3 `Code`, GCS `reason`), or a Node network code. */
  code?: string;
  message: string;
  cause?: unknown;
}

/** Conditional-write losses: the core re-reads and decides again. */
const PRECONDITION_CODES = new Set(['PreconditionFailed', 'ConditionalRequestConflict', 'conditionNotMet']);

/**
 * Codes that mean "this object can never be written this way": retrying only
 * burns the dead-letter budget. Everything else, including 403 (IAM can be
 * fixed, and the message must survive until it is) and unknown codes, is
 * transient: writes are generation-guarded, so a retry is always safe.
 */
const PERMANENT_CODES = new Set([
  'MetadataTooLarge',
  'KeyTooLongError',
  'EntityTooLarge',
  'InvalidObjectName',
  'MetadataKeyInvalid',
]);

/** The single retry predicate for every adapter (nodejs-storage RETRYABLE_ERR_FN_DEFAULT in spirit). */
export function classifyApiFailure(failure: ApiFailure): ReplicationError {
  const { operation, status, code, message, cause } = failure;
  const text = `${operation} failed: ${code ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
  if ((code !== undefined && PRECONDITION_CODES.has(code)) || status === 412) {
    return new PreconditionFailedError(text, { code: code ?? 'PreconditionFailed', cause });
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) return new PermanentError(text, { code, cause });
  return new TransientError(text, { code, cause });
}
