import type { Shard } from '../backfill/shard.js';
import { MIB } from '../units.js';
import type { DestinationSettings } from './destination-settings.js';
import { readVariables, type Command, type LogFormat, type LogLevel, type TraceExporter } from './variables.js';

export type { Command, LogFormat, LogLevel, TraceExporter } from './variables.js';

/** Everything the worker is configured with. Built once by `parseConfig`; read-only afterwards. */
export interface Config {
  aws: {
    /** AWS_ROLE_ARN: the role assumed with the Google ID token. Required. */
    roleArn: string;
    /** AWS_REGION: region of the destination bucket and STS. Default `us-east-1`. */
    region: string;
    /** AWS_ROLE_SESSION_NAME, or `gcs2s3-` + the instance id. */
    sessionName: string;
    /** AWS_SESSION_DURATION_SECONDS: STS DurationSeconds, 900–43200. Default 3600. */
    sessionDurationSeconds: number;
    /** AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL): override for STS, e.g. MinIO. */
    stsEndpoint?: string;
    /** AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL): override for S3, e.g. MinIO. */
    s3Endpoint?: string;
    /** S3_FORCE_PATH_STYLE: path-style bucket addressing (MinIO). Default false. */
    s3ForcePathStyle: boolean;
  };
  /** ID_TOKEN_AUDIENCE: `aud` of the Google ID token. Default: the role ARN. */
  idTokenAudience: string;
  s3: {
    /** S3_BUCKET: destination bucket. Required. */
    bucket: string;
    /** S3_KEY_PREFIX: prepended to the GCS object name. Default empty. */
    keyPrefix: string;
    /** S3_STORAGE_CLASS, S3_SSE, S3_SSE_KMS_KEY_ID, S3_SSE_BUCKET_KEY: applied to every write, metadata copies included. */
    settings: DestinationSettings;
  };
  /** Applied by every command: pull and serve ignore filtered events; copy, backfill and verify skip filtered objects. */
  filters: {
    /** SOURCE_BUCKETS: only events from these buckets replicate; empty means all. */
    sourceBuckets: string[];
    /** INCLUDE_PREFIXES: only object names with one of these prefixes; empty means all. */
    includePrefixes: string[];
    /** EXCLUDE_PREFIXES: object names with one of these prefixes are ignored. */
    excludePrefixes: string[];
  };
  /** REPLICATE_DELETES: an OBJECT_DELETE removes the S3 copy (generation-guarded). Default false. */
  replicateDeletes: boolean;
  transfer: {
    /** MAX_CONCURRENT_OBJECTS: objects copied at once per process. Default 8. */
    maxConcurrentObjects: number;
    /** PART_SIZE_MIB in bytes: multipart part size (grown for objects over 9,999 parts). Default 16 MiB. */
    partSizeBytes: number;
    /** PART_QUEUE_SIZE: parts in flight per object; memory is at most queue × part size per object. Default 4. */
    partQueueSize: number;
    /** MAX_BYTES_PER_SECOND: bytes per second read from GCS by the whole process; undefined: no limit. */
    maxBytesPerSecond?: number;
  };
  pubsub: {
    /** PUBSUB_SUBSCRIPTION as a full name `projects/P/subscriptions/S`. Required for `pull`. */
    subscription?: string;
  };
  push: {
    /** PUSH_AUTH=disabled turns off token checks (local use only). */
    authDisabled: boolean;
    /** PUSH_AUDIENCE: accepted `aud` values of push tokens (comma list). */
    audiences: string[];
    /** PUSH_SERVICE_ACCOUNT: expected `email` of push tokens. */
    serviceAccount?: string;
    /** PUSH_OIDC_ISSUER: expected `iss`. Default Google's. */
    issuers: string[];
    /** PUSH_JWKS_URL: where the signing keys are. Default Google's certificates. */
    jwksUrl: string;
    /** PORT: listening port for `serve`. Default 8080. */
    port: number;
    /**
     * PUSH_REQUEST_TIMEOUT_SECONDS: a request's copy is aborted after this long
     * (1–3600). Default 600, Pub/Sub's longest ack deadline: past it the push
     * has timed out on Pub/Sub's side and will be redelivered anyway.
     */
    requestTimeoutSeconds: number;
  };
  /** Deadlines: every network call and stream is aborted when it stops making progress (README "Deadlines and liveness"). */
  network: {
    /** CONNECT_TIMEOUT_SECONDS in ms: a connection not established within this is abandoned. Default 10 s. */
    connectTimeoutMs: number;
    /** STALL_TIMEOUT_SECONDS in ms: a request or stream moving no byte for this long is aborted. Default 20 s. */
    stallTimeoutMs: number;
    /** LIVENESS_TIMEOUT_SECONDS in ms: `/healthz` of pull and serve answers 503 once copies are in flight this long without progress. Default 600 s. */
    livenessTimeoutMs: number;
    /** GCE_METADATA_HOST (or GCE_METADATA_IP): the metadata server's base URL. Default http://169.254.169.254. */
    metadataServerUrl: string;
  };
  gcs: {
    /**
     * STORAGE_EMULATOR_HOST: a GCS emulator's base URL (`http://host:port`, or
     * Go's `host:port`). Passed to the client as `apiEndpoint`.
     */
    endpoint?: string;
  };
  /** GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT). */
  project?: string;
  /** LOG_LEVEL. Default `info`. */
  logLevel: LogLevel;
  /** LOG_FORMAT. Unset: text for CLI commands when stderr is a terminal, else JSON; `pull` and `serve` JSON. */
  logFormat?: LogFormat;
  /** TRACE_EXPORTER: `cloud-trace` sends spans of each copy's GCS read, STS call and S3 upload to Cloud Trace. Default `none`. */
  traceExporter: TraceExporter;
  /** CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT: this task's share of the names (backfill, verify). Default: all of them. */
  shard: Shard;
  /**
   * PLAN_BUCKET, CLOUD_RUN_JOB, CLOUD_RUN_EXECUTION: where the tasks of one
   * execution share their range plan. Set only with PLAN_BUCKET and more than one task.
   */
  sharedPlan?: { bucket: string; object: string };
}

export interface ParseOptions {
  /** The command being run: decides which variables are required. */
  command: Command;
  /** Identifies this process in the STS session name when AWS_ROLE_SESSION_NAME is unset. */
  instanceId: string;
}

/**
 * Turns the environment into a Config, or throws a ConfigError naming the first
 * variable at fault. Pure: reads only `env`, touches no network. Each variable's
 * parser, default and limits are in the table of ./variables.ts; this only
 * arranges the values.
 */
export function parseConfig(env: Record<string, string | undefined>, options: ParseOptions): Config {
  const v = readVariables(env, options);
  return {
    aws: {
      roleArn: v.AWS_ROLE_ARN,
      region: v.AWS_REGION,
      sessionName: v.AWS_ROLE_SESSION_NAME,
      sessionDurationSeconds: v.AWS_SESSION_DURATION_SECONDS,
      stsEndpoint: v.AWS_ENDPOINT_URL_STS,
      s3Endpoint: v.AWS_ENDPOINT_URL_S3,
      s3ForcePathStyle: v.S3_FORCE_PATH_STYLE,
    },
    idTokenAudience: v.ID_TOKEN_AUDIENCE ?? v.AWS_ROLE_ARN,
    s3: {
      bucket: v.S3_BUCKET,
      keyPrefix: v.S3_KEY_PREFIX,
      settings: { storageClass: v.S3_STORAGE_CLASS, sse: v.S3_SSE, kmsKeyId: v.S3_SSE_KMS_KEY_ID, bucketKey: v.S3_SSE_BUCKET_KEY },
    },
    filters: { sourceBuckets: v.SOURCE_BUCKETS, includePrefixes: v.INCLUDE_PREFIXES, excludePrefixes: v.EXCLUDE_PREFIXES },
    replicateDeletes: v.REPLICATE_DELETES,
    transfer: {
      maxConcurrentObjects: v.MAX_CONCURRENT_OBJECTS,
      partSizeBytes: v.PART_SIZE_MIB * MIB,
      partQueueSize: v.PART_QUEUE_SIZE,
      maxBytesPerSecond: v.MAX_BYTES_PER_SECOND,
    },
    pubsub: { subscription: v.PUBSUB_SUBSCRIPTION },
    push: {
      authDisabled: v.PUSH_AUTH,
      audiences: v.PUSH_AUDIENCE,
      serviceAccount: v.PUSH_SERVICE_ACCOUNT,
      issuers: v.PUSH_OIDC_ISSUER,
      jwksUrl: v.PUSH_JWKS_URL,
      port: v.PORT,
      requestTimeoutSeconds: v.PUSH_REQUEST_TIMEOUT_SECONDS,
    },
    network: {
      connectTimeoutMs: v.CONNECT_TIMEOUT_SECONDS * 1000,
      stallTimeoutMs: v.STALL_TIMEOUT_SECONDS * 1000,
      livenessTimeoutMs: v.LIVENESS_TIMEOUT_SECONDS * 1000,
      metadataServerUrl: v.GCE_METADATA_HOST,
    },
    gcs: { endpoint: v.STORAGE_EMULATOR_HOST },
    project: v.GOOGLE_CLOUD_PROJECT,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    traceExporter: v.TRACE_EXPORTER,
    shard: { index: v.CLOUD_RUN_TASK_INDEX, count: v.CLOUD_RUN_TASK_COUNT },
    ...(v.PLAN_BUCKET === undefined || v.CLOUD_RUN_TASK_COUNT === 1 || v.CLOUD_RUN_JOB === undefined || v.CLOUD_RUN_EXECUTION === undefined
      ? {}
      : { sharedPlan: { bucket: v.PLAN_BUCKET, object: `${v.CLOUD_RUN_JOB}/${v.CLOUD_RUN_EXECUTION}/plan.json` } }),
  };
}

