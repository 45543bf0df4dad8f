/**
 * Errors carry their retry intent. Adapters classify once, at the edge; unknown
 * errors are transient (retrying is safe: writes are generation-guarded).
 */

export interface ErrorDetails {
  /** A short machine-readable code (an AWS/GCS error code, or our own). */
  code?: string;
  cause?: unknown;
}

/** Base class: `retryable` says whether the same work may succeed later. */
export abstract class ReplicationError extends Error {
  abstract readonly retryable: boolean;
  readonly code: string | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(redactSecrets(message), { cause: details.cause });
    this.code = details.code;
  }
}

/** May succeed if retried later: network, throttling, 5xx, credentials, races. */
export class TransientError extends ReplicationError {
  override readonly name: string = 'TransientError';
  readonly retryable = true;
}

/** Will fail the same way every time for this object: ack it and log at ERROR. */
export class PermanentError extends ReplicationError {
  override readonly name: string = 'PermanentError';
  readonly retryable = false;
}

/** The streamed bytes do not match what GCS recorded (a bad read): retry. */
export class IntegrityError extends TransientError {
  override readonly name = 'IntegrityError';
}

/** A conditional write lost a race (412 / 409): re-read and decide again. */
export class PreconditionFailedError extends TransientError {
  override readonly name = 'PreconditionFailedError';
}

/** Work was cancelled by the caller's AbortSignal (shutdown, client gone). */
export class AbortedError extends TransientError {
  override readonly name = 'AbortedError';
}

/**
 * A network call made no progress within its deadline (no connection, or no
 * byte moved for the stall timeout) and was cut off. Its message names the
 * service, operation and endpoint; `code` is ETIMEDOUT, as Node names it.
 */
export class TimeoutError extends TransientError {
  override readonly name = 'TimeoutError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'ETIMEDOUT', ...details });
  }
}

/**
 * `work`, or a TimeoutError naming `what` once `ms` have passed. For calls of
 * libraries that take neither a timeout nor a signal: the work itself may go
 * on, but the caller is no longer held by it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Obtaining AWS credentials (Google ID token or STS) failed. */
export class CredentialsError extends TransientError {
  override readonly name = 'CredentialsError';
}

/** Bad configuration or usage: reported before any work starts, exit 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The variable or flag at fault, e.g. `AWS_ROLE_ARN` or `--concurrency`. */
  readonly setting: string;
  constructor(setting: string, problem: string, options?: { cause?: unknown }) {
    super(`${setting}: ${problem}`, options);
    this.setting = setting;
  }
}

/** Wraps anything thrown into a ReplicationError; unknown errors are transient. */
export function toReplicationError(err: unknown): ReplicationError {
  if (err instanceof ReplicationError) return err;
  if (isAbortError(err)) return new AbortedError('operation aborted', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new TransientError(message, { cause: err });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err instanceof AbortedError);
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const CREDENTIAL_NAMES = 'SecretAccessKey|SessionToken|AccessKeyId|WebIdentityToken|X-Amz-Security-Token|Authorization';
/** `name: value`, `"name":"value"`, `name=value` (JSON, headers, query strings). */
const SECRET_FIELDS = new RegExp(`((?:${CREDENTIAL_NAMES})["'=:\\s]+)[^\\s"',&<]+`, 'gi');
/**
 * `<name>value</name>`: STS answers in XML, and an SDK that fails to parse one
 * quotes the body (possibly cut off, hence no closing tag required).
 */
const SECRET_ELEMENTS = new RegExp(`(<(?:${CREDENTIAL_NAMES})(?:\\s[^>]*)?>)[^<]*`, 'gi');

/**
 * Removes anything shaped like a JWT or a credential field from text that may
 * reach a log line or an HTTP response. Cheap insurance: error messages from
 * SDKs and servers are not ours to vet. The access key id is not secret on its
 * own, but it names the session: it goes too.
 */
export function redactSecrets(text: string): string {
  return text.replace(JWT_LIKE, '[redacted-jwt]').replace(SECRET_ELEMENTS, '$1[redacted]').replace(SECRET_FIELDS, '$1[redacted]');
}
