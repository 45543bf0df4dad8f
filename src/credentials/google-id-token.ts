import { GoogleAuth } from 'google-auth-library';
import { CredentialsError } from '../errors.js';

/** Returns a fresh Google-signed OIDC ID token for `audience`. */
export type FetchIdToken = (audience: string) => Promise<string>;

/**
 * ID tokens from Application Default Credentials: on Cloud Run, GCE and GKE the
 * metadata server (`GCE_METADATA_HOST` points the same code at a local one).
 * Every call asks anew: tokens live one hour and each STS exchange must present
 * an unexpired one, so none is cached here.
 */
export function googleIdTokenFetcher(auth: GoogleAuth = new GoogleAuth()): FetchIdToken {
  return async (audience) => {
    let client: Awaited<ReturnType<GoogleAuth['getClient']>>;
    try {
      client = await auth.getClient();
    } catch (err) {
      throw new CredentialsError(`no Google credentials to sign an ID token with (expected a metadata server, e.g. on Cloud Run): ${messageOf(err)}`, { code: 'GoogleCredentialsUnavailable', cause: err });
    }
    if (!('fetchIdToken' in client) || typeof client.fetchIdToken !== 'function') {
      throw new CredentialsError('the Google credentials found cannot mint ID tokens: run on Cloud Run/GCE/GKE (metadata server) or with an impersonated service account', { code: 'IdTokenUnsupported' });
    }
    try {
      return await client.fetchIdToken(audience);
    } catch (err) {
      throw new CredentialsError(`fetching a Google ID token for audience "${audience}" failed: ${messageOf(err)}`, { code: 'IdTokenFetchFailed', cause: err });
    }
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
