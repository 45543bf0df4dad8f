import { setTimeout as delay } from 'node:timers/promises';
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
  /** Attempts for throttling/IdP/network failures, ID-token fetches included. Default 4. */
  maxAttempts?: number;
  /** First backoff delay; doubles each attempt, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  now?: () => number;
  /** Waits between attempts (tests pass a fake clock's). Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops retries waiting on backoff (process shutdown). */
  signal?: AbortSignal;
}

/** A credential provider that can be told its credentials were rejected. */
export interface WebIdentityCredentialProvider extends AwsCredentialIdentityProvider {
  /** Drops cached credentials: the next call assumes the role again. */
  invalidate(): void;
}

/** The AWS SDK asks a provider for new credentials 5 minutes before their `expiration`. */
const SDK_REFRESH_WINDOW_MS = 5 * 60_000;

/**
 * After a failed refresh, credentials are served while they have at least this
 * long to live: a request signed now must still be accepted when S3 reads it,
 * and the clocks of this host and AWS may differ by some seconds.
 */
const STILL_VALID_MARGIN_MS = 60_000;

/**
 * After a refresh failed while the credentials are still valid, the next
 * attempt waits this long: every S3 call inside the SDK's window asks for
 * credentials, and none of them should wait on an STS that just failed.
 */
const RETRY_FAILED_REFRESH_AFTER_MS = 15_000;

/** Codes after which a new ID token may succeed: the token itself was refused. */
const REFETCH_TOKEN_CODES = new Set(['InvalidIdentityToken', 'ExpiredToken']);
/** Codes worth retrying as they are, with backoff. */
const RETRY_CODES = new Set(['IDPCommunicationError', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalError', 'RequestTimeout']);
/** ID-token failures that no retry can fix: there is no identity to sign one with. */
const FATAL_TOKEN_CODES = new Set(['IdTokenUnsupported', 'GoogleCredentialsUnavailable']);

/** Credentials and when to stop using them as they are. */
interface Held {
  identity: AwsCredentialIdentity;
  /** When to get new ones (see `webIdentityCredentials`). */
  refreshAt: number;
  expiresAt: number;
}

/**
 * Google ID token → STS AssumeRoleWithWebIdentity → AWS credentials with
 * `expiration`, for an SDK client's `credentials`.
 *
 * - A fresh ID token for every exchange; a static token string cannot refresh.
 * - Concurrent callers share one in-flight exchange (token fetch and STS call,
 *   each retried with backoff on failures that may pass).
 * - Credentials are cached and reused until the later of "5 minutes before
 *   expiry" (the SDK's own window) and "two thirds of their lifetime": with
 *   sessions shorter than ~8 minutes (MinIO ends a session at the ID token's
 *   `exp` when no DurationSeconds is sent) the SDK would otherwise ask for new
 *   credentials on every request. The SDK's memoizer calls this function only
 *   inside its 5-minute window, so STS is called about once per lifetime.
 * - A refresh that fails while the current credentials have more than a
 *   minute to live serves those (one WARNING per failed refresh) and is tried
 *   again 15 s later: a blip of the metadata server or of STS must not fail
 *   every S3 call of the five minutes before expiry. Credentials S3 rejected
 *   (`invalidate()`) are never served again.
 */
export function webIdentityCredentials(options: WebIdentityOptions): WebIdentityCredentialProvider {
  const now = options.now ?? Date.now;
  let held: Held | undefined;
  let retryAt = 0;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  const usable = (h: Held | undefined): h is Held => h !== undefined && now() < h.expiresAt - STILL_VALID_MARGIN_MS;

  const refresh = async (): Promise<AwsCredentialIdentity> => {
    try {
      held = await exchangeWithRetry(options, now);
      retryAt = 0;
      return held.identity;
    } catch (err) {
      const current = held;
      if (!usable(current)) throw err;
      retryAt = now() + RETRY_FAILED_REFRESH_AFTER_MS;
      options.logger.warn('refreshing AWS credentials failed; the current ones are still valid and stay in use', {
        roleArn: options.roleArn,
        error: err,
        expiration: current.identity.expiration?.toISOString(),
        retryInSeconds: RETRY_FAILED_REFRESH_AFTER_MS / 1000,
      });
      return current.identity;
    }
  };

  const provider = (async () => {
    if (held !== undefined && now() < held.refreshAt) return held.identity;
    if (now() < retryAt && usable(held)) return held.identity;
    inflight ??= refresh().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }) as WebIdentityCredentialProvider;
  provider.invalidate = () => {
    held = undefined;
  };
  return provider;
}

/**
 * One exchange, with its retry policy: a fresh ID token (its fetch retried
 * like a failed STS call: the metadata server has blips too), then STS. A
 * refused token is fetched anew once; throttling, IdP and network failures are
 * retried with exponential backoff; anything else fails at once.
 */
async function exchangeWithRetry(options: WebIdentityOptions, now: () => number): Promise<Held> {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const sleep = options.sleep ?? sleepFor;
  let refetchedForToken = false;
  for (let attempt = 1; ; attempt++) {
    const backoff = async (message: string, code: string): Promise<void> => {
      const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      options.logger.warn(message, { code, attempt, delayMs: Math.round(delay) });
      await sleep(delay, options.signal);
    };
    const started = now();
    let token: string;
    try {
      token = await options.fetchIdToken(options.audience);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const failure = err instanceof CredentialsError ? err : new CredentialsError(`fetching a Google ID token failed: ${messageOf(err)}`, { code: 'IdTokenFetchFailed', cause: err });
      if ((typeof code === 'string' && FATAL_TOKEN_CODES.has(code)) || attempt >= maxAttempts) throw failure;
      await backoff('fetching a Google ID token failed; retrying', failure.code ?? 'IdTokenFetchFailed');
      continue;
    }
    try {
      return await assumeOnce(options, token, started);
    } catch (err) {
      if (err instanceof CredentialsError) throw err;
      const code = stsCode(err);
      if (REFETCH_TOKEN_CODES.has(code) && !refetchedForToken) {
        refetchedForToken = true;
        options.logger.warn('STS refused the ID token; retrying once with a fresh one', { code, roleArn: options.roleArn });
        continue;
      }
      if ((RETRY_CODES.has(code) || isServerOrNetworkError(err)) && attempt < maxAttempts) {
        await backoff('STS call failed; retrying', code);
        continue;
      }
      throw new CredentialsError(`STS AssumeRoleWithWebIdentity for ${options.roleArn} failed: ${code}: ${messageOf(err)}`, { code, cause: err });
    }
  }
}

/** One STS call with `token`; `started` is when the exchange began (the lifetime counts from there). */
async function assumeOnce(options: WebIdentityOptions, token: string, started: number): Promise<Held> {
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
  options.logger.info('assumed AWS role with Google ID token', {
    roleArn: options.roleArn,
    sessionName: options.sessionName,
    assumedRoleArn: out.AssumedRoleUser?.Arn,
    expiration: c.Expiration.toISOString(),
    lifetimeSeconds: Math.round(lifetime / 1000),
  });
  return {
    identity: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration },
    refreshAt: expiresAt - Math.min(SDK_REFRESH_WINDOW_MS, lifetime / 3),
    expiresAt,
  };
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** STS error code without the SDK's `Exception` suffix (`InvalidIdentityTokenException` → `InvalidIdentityToken`). */
function stsCode(err: unknown): string {
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
