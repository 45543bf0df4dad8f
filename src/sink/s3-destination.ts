import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { googleIdTokenFetcher, type FetchIdToken } from '../credentials/google-id-token.js';
import { tracedAssumeRole } from '../credentials/traced-assume-role.js';
import { webIdentityCredentials, type AssumeRoleWithWebIdentity } from '../credentials/web-identity-provider.js';
import { addCredentialRetry } from './credential-retry.js';
import { NativeCrc32c } from './crc32c-checksum.js';
import type { Destination, DestinationOptions } from './destination.js';
import { deadlineHandler, nameNetworkFailures } from './request-deadlines.js';
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
  const { aws, transfer, network } = config;
  // Its own handler and sockets: a refresh never queues behind parts, and its deadline bounds every caller sharing it.
  const sts = new STSClient({ region: aws.region, endpoint: aws.stsEndpoint, maxAttempts: 1, requestHandler: deadlineHandler(network, 4) });
  nameNetworkFailures(sts.middlewareStack, { service: 'STS', endpoint: endpointLabel(aws.stsEndpoint, `https://sts.${aws.region}.amazonaws.com`) }, network);
  const sendAssume: AssumeRoleWithWebIdentity = (params) => sts.send(new AssumeRoleWithWebIdentityCommand(params));
  const assume = options.traced ? tracedAssumeRole(sendAssume) : sendAssume;
  const credentials = webIdentityCredentials({
    roleArn: aws.roleArn,
    sessionName: aws.sessionName,
    audience: config.idTokenAudience,
    durationSeconds: overrides.omitDurationSeconds ? undefined : aws.sessionDurationSeconds,
    fetchIdToken: overrides.fetchIdToken ?? googleIdTokenFetcher({ metadataServerUrl: network.metadataServerUrl, timeoutMs: network.stallTimeoutMs }),
    assumeRole: overrides.wrapAssumeRole ? overrides.wrapAssumeRole(assume) : assume,
    logger,
  });

  // Enough sockets for every part of every object in flight, plus HEADs.
  const maxSockets = transfer.maxConcurrentObjects * (transfer.partQueueSize + 1) + 4;
  const client = new S3Client({
    region: aws.region,
    endpoint: aws.s3Endpoint,
    forcePathStyle: aws.s3ForcePathStyle,
    credentials,
    requestHandler: deadlineHandler(network, maxSockets),
    checksumAlgorithms: { CRC32C: NativeCrc32c },
  });
  nameNetworkFailures(client.middlewareStack, { service: 'S3', endpoint: endpointLabel(aws.s3Endpoint, `https://s3.${aws.region}.amazonaws.com`) }, network);
  addCredentialRetry(client, credentials.invalidate, logger);
  addUnsignedChecksummedPayload(client);

  const bucket = config.s3.bucket;
  const sink = new S3Sink({
    client,
    bucket,
    partSizeBytes: transfer.partSizeBytes,
    partQueueSize: transfer.partQueueSize,
    maxConcurrentObjects: transfer.maxConcurrentObjects,
    settings: config.s3.settings,
  });
  return {
    name: `s3://${bucket}`,
    sink: options.traced ? new TracedSink(sink, bucket) : sink,
    lister: new S3Lister({ client, bucket }),
    async warmUp() {
      await credentials();
    },
    close() {
      // Each client's destroy() destroys its handler's agents too.
      client.destroy();
      sts.destroy();
    },
  };
}

/** `http://127.0.0.1:9000/` → `http://127.0.0.1:9000`: the endpoint as error messages name it. */
function endpointLabel(configured: string | undefined, awsDefault: string): string {
  return configured === undefined ? awsDefault : configured.replace(/\/$/, '');
}
