import { Compute, GoogleAuth } from 'google-auth-library';
import { CredentialsError, TimeoutError, withDeadline } from '../errors.js';

/** Returns a fresh Google-signed OIDC ID token for `audience`. */
export type FetchIdToken = (audience: string) => Promise<string>;

export interface IdTokenOptions {
  /** Base URL of the metadata server (GCE_METADATA_HOST), e.g. `http://169.254.169.254`. */
  metadataServerUrl: string;
  /** The whole fetch, connection included, must be done within this, ms (STALL_TIMEOUT_SECONDS). */
  timeoutMs: number;
  auth?: GoogleAuth;
}

/**
 * ID tokens from Application Default Credentials: on Cloud Run, GCE and GKE the
 * metadata server (`GCE_METADATA_HOST` points the same code at a local one).
 * Every call asks anew: tokens live one hour and each STS exchange must present
 * an unexpired one, so none is cached here.
 *
 * Every call has a deadline. The metadata server is asked directly, with an
 * AbortSignal: gcp-metadata sets no timeout at all when it detects Google
 * Cloud (Cloud Run included) and takes no signal, so a metadata server that
 * stopped answering would hold every credential refresh for ever. Other
 * credentials (impersonation) go through the library, raced against the deadline.
 */
export function googleIdTokenFetcher(options: IdTokenOptions): FetchIdToken {
  let auth = options.auth ?? new GoogleAuth();
  const { timeoutMs } = options;
  return async (audience) => {
    let client: Awaited<ReturnType<GoogleAuth['getClient']>>;
    try {
      client = await withDeadline(auth.getClient(), timeoutMs, `finding Google credentials (metadata server ${options.metadataServerUrl})`);
    } catch (err) {
      if (err instanceof TimeoutError) {
        // GoogleAuth keeps its first, still pending, lookup: the next call starts a new one.
        if (options.auth === undefined) auth = new GoogleAuth();
        throw new CredentialsError(err.message, { code: 'ETIMEDOUT', cause: err });
      }
      throw new CredentialsError(`no Google credentials to sign an ID token with (expected a metadata server, e.g. on Cloud Run): ${messageOf(err)}`, { code: 'GoogleCredentialsUnavailable', cause: err });
    }
    if (client instanceof Compute) return await fromMetadataServer(options.metadataServerUrl, audience, timeoutMs);
    if (!('fetchIdToken' in client) || typeof client.fetchIdToken !== 'function') {
      throw new CredentialsError('the Google credentials found cannot mint ID tokens: run on Cloud Run/GCE/GKE (metadata server) or with an impersonated service account', { code: 'IdTokenUnsupported' });
    }
    try {
      return await withDeadline(client.fetchIdToken(audience), timeoutMs, `fetching a Google ID token for audience "${audience}"`);
    } catch (err) {
      throw new CredentialsError(`fetching a Google ID token for audience "${audience}" failed: ${messageOf(err)}`, { code: 'IdTokenFetchFailed', cause: err });
    }
  };
}

/** GET …/service-accounts/default/identity, as google-auth-library's Compute client asks it, with a deadline. */
async function fromMetadataServer(base: string, audience: string, timeoutMs: number): Promise<string> {
  const url = `${base}/computeMetadata/v1/instance/service-accounts/default/identity?format=full&audience=${encodeURIComponent(audience)}`;
  const what = `metadata server GET ${base} identity token for audience "${audience}"`;
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(timeoutMs) });
    body = await response.text();
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw new CredentialsError(`${what}: no answer within ${timeoutMs / 1000} s`, { code: 'ETIMEDOUT', cause: new TimeoutError(`${what}: no answer within ${timeoutMs / 1000} s`) });
    }
    throw new CredentialsError(`${what} failed: ${messageOf(err)}`, { code: 'IdTokenFetchFailed', cause: err });
  }
  if (!response.ok || response.headers.get('metadata-flavor') !== 'Google') {
    throw new CredentialsError(`${what} failed: HTTP ${response.status}: ${body.slice(0, 200)}`, { code: `HTTP${response.status}` });
  }
  return body.trim();
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
