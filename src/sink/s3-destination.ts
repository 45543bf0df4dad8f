import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { googleIdTokenFetcher, type FetchIdToken } from '../credentials/google-id-token.js';
import { tracedAssumeRole } from '../credentials/traced-assume-role.js';
import { webIdentityCredentials, type AssumeRoleWithWebIdentity } from '../credentials/web-identity-provider.js';
import { addCredentialRetry } from './credential-retry.js';
import { NativeCrc32c } from './crc32c-checksum.js';
import type { Destination, DestinationOptions } from './destination.js';
import { S3Lister } from './s3-lister.js';
import { S3Sink } from './s3-sink.js';
import { TracedSink } from './traced-sink.js';
import { addUnsignedChecksummedPayload } from './unsigned-payload.js';

/** What tests and the bench may replace in the S3 destination. */
export interface S3DestinationOverrides {
  /** Replaces the metadata-server ID token fetcher (tests mint their own tokens). */
  fetchIdToken?: FetchIdToken;
  /** Omit DurationSeconds (MinIO then ends the session at the ID token's `exp`). */
  omitDurationSeconds?: boolean;
  /** Wraps the STS call (e.g. to observe it). */
  wrapAssumeRole?: (assume: AssumeRoleWithWebIdentity) => AssumeRoleWithWebIdentity;
}

/**
 * S3 behind keyless credentials: a Google ID token exchanged at STS
 * (AssumeRoleWithWebIdentity), refreshed by the SDK before `expiration`.
 */
export function createS3Destination(options: DestinationOptions, overrides: S3DestinationOverrides = {}): Destination {
  const { config, logger } = options;
  const { aws, transfer } = config;
  const sts = new STSClient({ region: aws.region, endpoint: aws.stsEndpoint, maxAttempts: 1 });
  const sendAssume: AssumeRoleWithWebIdentity = (params) => sts.send(new AssumeRoleWithWebIdentityCommand(params));
  const assume = options.traced ? tracedAssumeRole(sendAssume) : sendAssume;
  const credentials = webIdentityCredentials({
    roleArn: aws.roleArn,
    sessionName: aws.sessionName,
    audience: config.idTokenAudience,
    durationSeconds: overrides.omitDurationSeconds ? undefined : aws.sessionDurationSeconds,
    fetchIdToken: overrides.fetchIdToken ?? googleIdTokenFetcher(),
    assumeRole: overrides.wrapAssumeRole ? overrides.wrapAssumeRole(assume) : assume,
    logger,
  });

  // Enough sockets for every part of every object in flight, plus HEADs.
  const maxSockets = transfer.maxConcurrentObjects * (transfer.partQueueSize + 1) + 4;
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
  const client = new S3Client({
    region: aws.region,
    endpoint: aws.s3Endpoint,
    forcePathStyle: aws.s3ForcePathStyle,
    credentials,
    requestHandler: new NodeHttpHandler({ httpAgent, httpsAgent, connectionTimeout: 10_000 }),
    checksumAlgorithms: { CRC32C: NativeCrc32c },
  });
  addCredentialRetry(client, credentials.invalidate, logger);
  addUnsignedChecksummedPayload(client);

  const bucket = config.s3.bucket;
  const sink = new S3Sink({
    client,
    bucket,
    partSizeBytes: transfer.partSizeBytes,
    partQueueSize: transfer.partQueueSize,
    maxConcurrentObjects: transfer.maxConcurrentObjects,
  });
  return {
    name: `s3://${bucket}`,
    sink: options.traced ? new TracedSink(sink, bucket) : sink,
    lister: new S3Lister({ client, bucket }),
    async warmUp() {
      await credentials();
    },
    close() {
      client.destroy();
      sts.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
