import { PermanentError, PreconditionFailedError, TransientError, type ReplicationError } from '../errors.js';

/** A failed call to a cloud API, reduced to what classification needs. */
export interface ApiFailure {
  /** e.g. `S3 PutObject s3://bucket/key`, `GCS read gs://bucket/name`. */
  operation: string;
  /** HTTP status, when the server answered at all. */
  status?: number;
  /** The service's error code, or a Node network code. */
  code?: string;
  message: string;
  cause?: unknown;
}

/**
 * What one service's error codes mean, declared by its adapter (the codes are
 * the service's, so they live with it: src/sink/s3-errors.ts,
 * src/source/gcs-source.ts).
 */
export interface ErrorCodes {
  /** A conditional request lost: the core re-reads and decides again. */
  precondition: ReadonlySet<string>;
  /** "This object can never be written this way": retrying only burns the dead-letter budget. */
  permanent: ReadonlySet<string>;
}

/**
 * The single retry predicate for every adapter (nodejs-storage's
 * RETRYABLE_ERR_FN_DEFAULT in spirit). HTTP 412 is a lost precondition
 * whatever the code. Everything not declared permanent, including 403 (IAM
 * can be fixed, and the message must survive until it is) and unknown codes,
 * is transient: writes are generation-guarded, so a retry is always safe.
 */
export function classifyApiFailure(failure: ApiFailure, codes: ErrorCodes): ReplicationError {
  const { operation, status, code, message, cause } = failure;
  const text = `${operation} failed: ${code ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
  if ((code !== undefined && codes.precondition.has(code)) || status === 412) {
    return new PreconditionFailedError(text, { code: code ?? 'PreconditionFailed', cause });
  }
  if (code !== undefined && codes.permanent.has(code)) return new PermanentError(text, { code, cause });
  return new TransientError(text, { code, cause });
}
