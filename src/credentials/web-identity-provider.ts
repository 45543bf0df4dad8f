import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CredentialsError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { FetchIdToken } from './google-id-token.js';

/** The STS call, injectable (as in the SDK's fromWebToken `roleAssumerWithWebIdentity`). */
export type AssumeRoleWithWebIdentity = (params: {
  RoleArn: string;
  RoleSessionName: string;
  WebIdentityToken: string;
  DurationSeconds?: number;
}) => Promise<{
  Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date };
  AssumedRoleUser?: { Arn?: string };
}>;

export interface WebIdentityOptions {
  roleArn: string;
  sessionName: string;
  /** `aud` of the Google ID token; the role's trust policy pins it as `accounts.google.com:oaud`. */
  audience: string;
  /** STS DurationSeconds; undefined sends none (the IdP/role default applies). */
  durationSeconds?: number;
  fetchIdToken: FetchIdToken;
  assumeRole: AssumeRoleWithWebIdentity;
  logger: Logger;
  /** Attempts for throttling/IdP/network failures. Default 4. */
  maxAttempts?: number;
  /** First backoff delay; doubles each attempt, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  now?: () => number;
}

/** A credential provider that can be told its credentials were rejected. */
export interface WebIdentityCredentialProvider extends AwsCredentialIdentityProvider {
  /** Drops cached credentials: the next call assumes the role again. */
  invalidate(): void;
}

/** The SDK refreshes 5 minutes before `expiration` (smithy memoizeIdentityProvider). */
const SDK_REFRESH_WINDOW_MS = 5 * 60_000;

/** Codes after which a new ID token may succeed: the token itself was refused. */
const REFETCH_TOKEN_CODES = new Set(['InvalidIdentityToken', 'ExpiredToken']);
/** Codes worth retrying as they are, with backoff. */
const RETRY_CODES = new Set(['IDPCommunicationError', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalError', 'RequestTimeout']);

/**
 * Google ID token → STS AssumeRoleWithWebIdentity → AWS credentials with
 * `expiration`, for an SDK client's `credentials`.
 *
 * - A fresh ID token for every exchange; a static token string cannot refresh.
 * - Concurrent callers share one in-flight STS call.
 * - Credentials are cached and reused until the later of "5 minutes before
 *   expiry" (the SDK's own window) and "two thirds of their lifetime": with
 *   sessions shorter than ~8 minutes (MinIO ends a session at the ID token's
 *   `exp` when no DurationSeconds is sent) the SDK would otherwise ask for new
 *   credentials on every request. The SDK's memoizer calls this function only
 *   inside its 5-minute window, so STS is called about once per lifetime.
 */
export function webIdentityCredentials(options: WebIdentityOptions): WebIdentityCredentialProvider {
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 250;
  let cached: { identity: AwsCredentialIdentity; refreshAt: number } | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;

  const assumeOnce = async (): Promise<AwsCredentialIdentity> => {
    let refetchedForToken = false;
    for (let attempt = 1; ; attempt++) {
      const started = now();
      const token = await options.fetchIdToken(options.audience);
      try {
        const out = await options.assumeRole({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName,
          WebIdentityToken: token,
          ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
        });
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.Expiration) {
          throw new CredentialsError(`STS AssumeRoleWithWebIdentity for ${options.roleArn} returned no credentials`, { code: 'NoCredentials' });
        }
        const expiresAt = c.Expiration.getTime();
        const lifetime = Math.max(0, expiresAt - started);
        cached = {
          identity: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration },
          refreshAt: expiresAt - Math.min(SDK_REFRESH_WINDOW_MS, lifetime / 3),
        };
        options.logger.info('assumed AWS role with Google ID token', {
          roleArn: options.roleArn,
          sessionName: options.sessionName,
          assumedRoleArn: out.AssumedRoleUser?.Arn,
          expiration: c.Expiration.toISOString(),
          lifetimeSeconds: Math.round(lifetime / 1000),
        });
        return cached.identity;
      } catch (err) {
        if (err instanceof CredentialsError) throw err;
        const code = stsCode(err);
        const message = err instanceof Error ? err.message : String(err);
        if (REFETCH_TOKEN_CODES.has(code) && !refetchedForToken) {
          refetchedForToken = true;
          options.logger.warn('STS refused the ID token; retrying once with a fresh one', { code, roleArn: options.roleArn });
          continue;
        }
        const retryable = RETRY_CODES.has(code) || isServerOrNetworkError(err);
        if (retryable && attempt < maxAttempts) {
          const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
          options.logger.warn('STS call failed; retrying', { code, attempt, delayMs: Math.round(delay) });
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        throw new CredentialsError(`STS AssumeRoleWithWebIdentity for ${options.roleArn} failed: ${code}: ${message}`, { code, cause: err });
      }
    }
  };

  const provider = (async () => {
    if (cached !== undefined && now() < cached.refreshAt) return cached.identity;
    inflight ??= assumeOnce().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }) as WebIdentityCredentialProvider;
  provider.invalidate = () => {
    cached = undefined;
  };
  return provider;
}

/** STS error code without the SDK's `Exception` suffix (`InvalidIdentityTokenException` → `InvalidIdentityToken`). */
export function stsCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string } | undefined;
  const raw = e?.Code ?? e?.name ?? e?.code ?? 'UnknownError';
  return raw === 'ExpiredTokenException' ? 'ExpiredToken' : raw.replace(/Exception$/, '');
}

function isServerOrNetworkError(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  // No HTTP answer at all: connection refused/reset, DNS, timeouts.
  return typeof e?.code === 'string' && /^E[A-Z]+/.test(e.code);
}
