import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Storage } from '@google-cloud/storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config/config.js';
import { googleIdTokenFetcher, type FetchIdToken } from '../credentials/google-id-token.js';
import { tracedAssumeRole } from '../credentials/traced-assume-role.js';
import { webIdentityCredentials, type WebIdentityCredentialProvider } from '../credentials/web-identity-provider.js';
import type { Logger } from '../log/logger.js';
import type { ReplicateDeps } from '../replicate/replicate-object.js';
import { addCredentialRetry } from '../sink/credential-retry.js';
import { NativeCrc32c } from '../sink/crc32c-checksum.js';
import { addUnsignedChecksummedPayload } from '../sink/unsigned-payload.js';
import { S3Sink } from '../sink/s3-sink.js';
import { TracedSink } from '../sink/traced-sink.js';
import { GcsSource } from '../source/gcs-source.js';
import { TracedSource } from '../source/traced-source.js';

/** The SDK clients and adapters one process uses, built from a Config. */
export interface Runtime {
  config: Config;
  logger: Logger;
  storage: Storage;
  s3: S3Client;
  sts: STSClient;
  credentials: WebIdentityCredentialProvider;
  deps: ReplicateDeps;
  /** Closes sockets; call once when the process is done. */
  close(): void;
}

export interface RuntimeOverrides {
  /** Replaces the metadata-server ID token fetcher (tests mint their own tokens). */
  fetchIdToken?: FetchIdToken;
  /** Omit DurationSeconds (MinIO then ends the session at the ID token's `exp`). */
  omitDurationSeconds?: boolean;
  /** Wraps the STS call (e.g. to observe it). */
  wrapAssumeRole?: (assume: Parameters<typeof webIdentityCredentials>[0]['assumeRole']) => Parameters<typeof webIdentityCredentials>[0]['assumeRole'];
}

/**
 * Builds every client from `config`. The only place SDK clients are made;
 * nothing here reads process.env: endpoints come from Config (the emulator
 * variables of the Google libraries, STORAGE_EMULATOR_HOST and
 * GCE_METADATA_HOST, are read by those libraries themselves).
 */
export function buildRuntime(config: Config, logger: Logger, overrides: RuntimeOverrides = {}): Runtime {
  const { aws, transfer } = config;
  const sts = new STSClient({ region: aws.region, endpoint: aws.stsEndpoint, maxAttempts: 1 });
  // Spans only when tracing is on: off, the adapters are not even wrapped.
  const traced = config.traceExporter !== 'none';
  const sendAssume = (params: Parameters<Parameters<typeof webIdentityCredentials>[0]['assumeRole']>[0]) =>
    sts.send(new AssumeRoleWithWebIdentityCommand(params));
  const assume = traced ? tracedAssumeRole(sendAssume) : sendAssume;
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
  const s3 = new S3Client({
    region: aws.region,
    endpoint: aws.s3Endpoint,
    forcePathStyle: aws.s3ForcePathStyle,
    credentials,
    requestHandler: new NodeHttpHandler({ httpAgent, httpsAgent, connectionTimeout: 10_000 }),
    checksumAlgorithms: { CRC32C: NativeCrc32c },
  });
  addCredentialRetry(s3, credentials.invalidate, logger);
  addUnsignedChecksummedPayload(s3);

  const storage = new Storage({ projectId: config.project, ...(config.gcs.endpoint === undefined ? {} : { apiEndpoint: config.gcs.endpoint }) });
  const source = new GcsSource(storage);
  const sink = new S3Sink({
    client: s3,
    bucket: config.s3.bucket,
    partSizeBytes: transfer.partSizeBytes,
    partQueueSize: transfer.partQueueSize,
    maxConcurrentObjects: transfer.maxConcurrentObjects,
  });
  const deps: ReplicateDeps = {
    source: traced ? new TracedSource(source) : source,
    sink: traced ? new TracedSink(sink, config.s3.bucket) : sink,
    keyPrefix: config.s3.keyPrefix,
  };
  return {
    config,
    logger,
    storage,
    s3,
    sts,
    credentials,
    deps,
    close() {
      s3.destroy();
      sts.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
