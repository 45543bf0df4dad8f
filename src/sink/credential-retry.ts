import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../log/logger.js';

/**
 * Codes S3 answers when it no longer accepts a session credential. AWS says
 * ExpiredToken; MinIO says InvalidAccessKeyId once an STS session has ended.
 */
const REJECTED_CREDENTIAL_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'TokenRefreshRequired']);

/**
 * On a rejected session credential: drop the cached credentials and send the
 * request once more with fresh ones. Sits at the `initialize` step so the retry
 * runs the whole chain again, identity resolution and signing included. The
 * SDK's memoizer asks for new credentials only inside its 5-minute window; that
 * is where expiry rejections happen (clock skew larger than that is not
 * recovered here, and surfaces as a transient error).
 */
export function addCredentialRetry(client: S3Client, invalidate: () => void, logger: Logger): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const name = (err as { name?: string } | undefined)?.name ?? '';
        if (!REJECTED_CREDENTIAL_CODES.has(name)) throw err;
        logger.warn('S3 rejected the session credential; refreshing and retrying once', { code: name, operation: context.commandName });
        invalidate();
        // The SDK keeps its own copy of the credentials until 5 minutes before
        // they expire; a forced refresh replaces it, so the retry is signed
        // with the new ones rather than the ones just rejected.
        await client.config.credentials({ forceRefresh: true });
        return await next(args);
      }
    },
    { step: 'initialize', name: 'gcs2s3CredentialRetry', override: true },
  );
}
