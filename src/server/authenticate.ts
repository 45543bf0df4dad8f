/**
 * Push authentication: every POST carries `Authorization: Bearer <Google OIDC
 * ID token>` (Pub/Sub push and Eventarc both sign as a service account). This
 * is the service's security boundary, so the verdict is coarse on the wire
 * (401 / 403 / 503, generic bodies) and precise only in our own logs, which
 * never hold the token or its claims.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** The verdict on one request's credentials. `reason` is for logs only, never for the caller. */
export type AuthResult =
  | { ok: true }
  /** 401: no token, or not a token we can trust (signature, issuer, expiry, algorithm). */
  | { ok: false; status: 401; reason: string }
  /** 403: a genuine token, but for another audience or another service account. */
  | { ok: false; status: 403; reason: string }
  /** 503: the signing keys could not be fetched; the token was not judged (Pub/Sub retries). */
  | { ok: false; status: 503; reason: string };

/** Judges the `Authorization` header of one request. */
export interface PushAuthenticator {
  authenticate(authorization: string | undefined): Promise<AuthResult>;
}

export interface OidcAuthenticatorOptions {
  /** Accepted `iss` values (Google writes `https://accounts.google.com` or `accounts.google.com`). */
  issuers: string[];
  /** Accepted `aud` values (PUSH_AUDIENCE, a comma list: e.g. the push subscription's audience and the service URL Eventarc uses). */
  audiences: string[];
  /** Required `email` (PUSH_SERVICE_ACCOUNT), with `email_verified: true`. */
  serviceAccount: string;
  /** Where the issuer's signing keys are (PUSH_JWKS_URL). Ignored when `getKey` is given. */
  jwksUrl: string;
  /** Key lookup override (tests); default a remote JWKS fetched once and cached. */
  getKey?: JWTVerifyGetKey;
  /** Allowed clock difference for `exp`, `iat` and `nbf`, seconds. Default 30. */
  clockToleranceSeconds?: number;
}

/**
 * Google ID tokens live one hour (`exp` = `iat` + 3600); an `iat` further back
 * than this (plus the tolerance) is refused even if `exp` says otherwise, and an
 * `iat` in the future beyond the tolerance is refused too.
 */
const MAX_TOKEN_AGE_SECONDS = 3600;

/**
 * Headers bigger than this are not a Google ID token (they run ~1 KB); refusing
 * early keeps a hostile header from costing a base64 decode of kilobytes.
 */
const MAX_TOKEN_CHARS = 8192;

/**
 * Verifies Google-shaped OIDC tokens with `jose`: RS256 signature against the
 * JWKS (fetched once, cached for 10 minutes, re-fetched at most every 30 s when
 * a token names an unknown `kid`: jose's defaults), `iss`, `exp`/`iat` with a
 * small tolerance, then `aud`, `email` and `email_verified`.
 */
export function createOidcAuthenticator(options: OidcAuthenticatorOptions): PushAuthenticator {
  const getKey = options.getKey ?? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5000 });
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  const expectedEmail = options.serviceAccount.toLowerCase();

  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return { ok: false, status: 401, reason: 'no bearer token' };
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, getKey, {
          issuer: options.issuers,
          algorithms: ['RS256'],
          clockTolerance,
          maxTokenAge: MAX_TOKEN_AGE_SECONDS,
          requiredClaims: ['exp', 'iat'],
        }));
      } catch (err) {
        return judgeVerifyError(err);
      }
      // Checked after the signature so that only genuine tokens reach 403:
      // an unsigned or forged token is 401 whatever it claims.
      if (!audienceMatches(claims.aud, options.audiences)) return { ok: false, status: 403, reason: 'token audience is not PUSH_AUDIENCE' };
      if (typeof claims.email !== 'string' || claims.email.toLowerCase() !== expectedEmail) {
        return { ok: false, status: 403, reason: 'token email is not PUSH_SERVICE_ACCOUNT' };
      }
      if (claims.email_verified !== true) return { ok: false, status: 403, reason: 'token email is not verified' };
      return { ok: true };
    },
  };
}

/** `PUSH_AUTH=disabled`: every request passes (local use only; `serve` warns at start). */
export const noAuthentication: PushAuthenticator = {
  authenticate: () => Promise.resolve({ ok: true }),
};

/** The token of `Bearer <token>` (scheme case-insensitive, RFC 7235), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  const token = match?.[1];
  if (token === undefined || token.length > MAX_TOKEN_CHARS) return undefined;
  return token;
}

function audienceMatches(aud: JWTPayload['aud'], expected: string[]): boolean {
  return Array.isArray(aud) ? aud.some((a) => expected.includes(a)) : aud !== undefined && expected.includes(aud);
}

/**
 * A token jose refuses is 401, with jose's error code as the log reason (never
 * its message: messages can quote claims). Failing to fetch the keys says
 * nothing about the token: 503, so Pub/Sub delivers it again later.
 */
function judgeVerifyError(err: unknown): AuthResult {
  // jose throws the bare JOSEError only when fetching the JWKS fails (non-200, not JSON).
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.constructor === errors.JOSEError)) {
    return { ok: false, status: 503, reason: `signing keys unavailable (${err.code})` };
  }
  if (err instanceof errors.JOSEError) {
    const claim = err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired ? ` claim ${err.claim}` : '';
    return { ok: false, status: 401, reason: `token refused: ${err.code}${claim}` };
  }
  // Anything else did not come from judging the token: fetch() of the JWKS
  // failed (DNS, connection refused) or the like.
  return { ok: false, status: 503, reason: `signing keys unavailable (${err instanceof Error ? err.name : 'unknown error'})` };
}
