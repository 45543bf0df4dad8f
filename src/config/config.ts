import { ConfigError } from '../errors.js';
import {
  AWS_REGION,
  deriveSessionName,
  parseBoolean,
  parseInteger,
  parseList,
  parseRoleArn,
  parseS3Bucket,
  parseSessionName,
  parseUrl,
  readVar,
  requireVar,
} from './validators.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Command = 'copy' | 'pull' | 'serve' | 'backfill' | 'verify' | 'demo';

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
  };
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
    /** PART_SIZE_MIB in bytes: multipart part size (grown for objects over 10,000 parts). Default 16 MiB. */
    partSizeBytes: number;
    /** PART_QUEUE_SIZE: parts in flight per object; memory is at most queue × part size per object. Default 4. */
    partQueueSize: number;
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
    /** CONNECT_TIMEOUT_SECONDS in ms: a connection not established within this is abandoned (1–300). Default 10 s. */
    connectTimeoutMs: number;
    /** STALL_TIMEOUT_SECONDS in ms: a request or stream moving no byte for this long is aborted (1–3600). Default 20 s. */
    stallTimeoutMs: number;
    /** LIVENESS_TIMEOUT_SECONDS in ms: `/healthz` of pull and serve answers 503 once copies are in flight this long without progress (1–86400). Default 600 s. */
    livenessTimeoutMs: number;
    /** GCE_METADATA_IP or GCE_METADATA_HOST (read as google-auth-library reads them): the metadata server. Default http://169.254.169.254. */
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
}

export interface ParseOptions {
  /** The command being run: decides which variables are required. */
  command: Command;
  /** Identifies this process in the STS session name when AWS_ROLE_SESSION_NAME is unset. */
  instanceId: string;
}

const MIB = 1024 * 1024;
const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Turns the environment into a Config, or throws a ConfigError naming the first
 * variable at fault. Pure: reads only `env`, touches no network.
 */
export function parseConfig(env: Record<string, string | undefined>, options: ParseOptions): Config {
  const { command } = options;
  const roleArn = parseRoleArn('AWS_ROLE_ARN', requireVar(env, 'AWS_ROLE_ARN', 'to obtain AWS credentials (no access keys are used)'));
  const region = readVar(env, 'AWS_REGION') ?? readVar(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1';
  if (!AWS_REGION.test(region)) throw new ConfigError('AWS_REGION', `is not a region name: "${region}"`);

  const sessionNameRaw = readVar(env, 'AWS_ROLE_SESSION_NAME');
  const sessionName = sessionNameRaw === undefined
    ? deriveSessionName(options.instanceId)
    : parseSessionName('AWS_ROLE_SESSION_NAME', sessionNameRaw);

  const genericEndpoint = parseUrl('AWS_ENDPOINT_URL', readVar(env, 'AWS_ENDPOINT_URL'));
  const stsEndpoint = parseUrl('AWS_ENDPOINT_URL_STS', readVar(env, 'AWS_ENDPOINT_URL_STS')) ?? genericEndpoint;
  const s3Endpoint = parseUrl('AWS_ENDPOINT_URL_S3', readVar(env, 'AWS_ENDPOINT_URL_S3')) ?? genericEndpoint;

  const bucket = parseS3Bucket('S3_BUCKET', requireVar(env, 'S3_BUCKET', 'as the destination bucket'));
  const keyPrefix = readVar(env, 'S3_KEY_PREFIX') ?? '';
  if (keyPrefix.startsWith('/')) throw new ConfigError('S3_KEY_PREFIX', `must not start with "/" (S3 keys would begin with an empty segment), got "${keyPrefix}"`);

  const logLevel = (readVar(env, 'LOG_LEVEL') ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);

  const project = readVar(env, 'GOOGLE_CLOUD_PROJECT') ?? readVar(env, 'GCLOUD_PROJECT');
  const subscription = parseSubscription(readVar(env, 'PUBSUB_SUBSCRIPTION'), project);
  if (command === 'pull' && subscription === undefined) {
    throw new ConfigError('PUBSUB_SUBSCRIPTION', 'is required for pull (projects/PROJECT/subscriptions/NAME, or a short name with GOOGLE_CLOUD_PROJECT)');
  }

  const pushAuth = readVar(env, 'PUSH_AUTH')?.toLowerCase() ?? 'enabled';
  if (pushAuth !== 'enabled' && pushAuth !== 'disabled') {
    throw new ConfigError('PUSH_AUTH', `must be "enabled" or "disabled", got "${env.PUSH_AUTH}"`);
  }
  const push: Config['push'] = {
    authDisabled: pushAuth === 'disabled',
    audiences: parseList(readVar(env, 'PUSH_AUDIENCE')),
    serviceAccount: readVar(env, 'PUSH_SERVICE_ACCOUNT'),
    issuers: parseList(readVar(env, 'PUSH_OIDC_ISSUER')),
    jwksUrl: parseUrl('PUSH_JWKS_URL', readVar(env, 'PUSH_JWKS_URL'))?.toString() ?? GOOGLE_JWKS,
    port: parseInteger('PORT', readVar(env, 'PORT'), 8080, 1, 65535),
    requestTimeoutSeconds: parseInteger('PUSH_REQUEST_TIMEOUT_SECONDS', readVar(env, 'PUSH_REQUEST_TIMEOUT_SECONDS'), 600, 1, 3600),
  };
  if (push.issuers.length === 0) push.issuers = GOOGLE_ISSUERS;
  if (command === 'serve' && !push.authDisabled) {
    if (push.audiences.length === 0) throw new ConfigError('PUSH_AUDIENCE', 'is required for serve (the audience of the push subscription\'s OIDC token), or set PUSH_AUTH=disabled for local use');
    if (push.serviceAccount === undefined) throw new ConfigError('PUSH_SERVICE_ACCOUNT', 'is required for serve (the service account the push subscription signs as), or set PUSH_AUTH=disabled for local use');
  }

  return {
    aws: {
      roleArn,
      region,
      sessionName,
      sessionDurationSeconds: parseInteger('AWS_SESSION_DURATION_SECONDS', readVar(env, 'AWS_SESSION_DURATION_SECONDS'), 3600, 900, 43200),
      stsEndpoint: stsEndpoint?.toString(),
      s3Endpoint: s3Endpoint?.toString(),
      s3ForcePathStyle: parseBoolean('S3_FORCE_PATH_STYLE', readVar(env, 'S3_FORCE_PATH_STYLE'), false),
    },
    idTokenAudience: readVar(env, 'ID_TOKEN_AUDIENCE') ?? roleArn,
    s3: { bucket, keyPrefix },
    filters: {
      sourceBuckets: parseList(readVar(env, 'SOURCE_BUCKETS')),
      includePrefixes: parseList(readVar(env, 'INCLUDE_PREFIXES')),
      excludePrefixes: parseList(readVar(env, 'EXCLUDE_PREFIXES')),
    },
    replicateDeletes: parseBoolean('REPLICATE_DELETES', readVar(env, 'REPLICATE_DELETES'), false),
    transfer: {
      maxConcurrentObjects: parseInteger('MAX_CONCURRENT_OBJECTS', readVar(env, 'MAX_CONCURRENT_OBJECTS'), 8, 1, 1000),
      // S3 parts are 5 MiB to 5 GiB.
      partSizeBytes: parseInteger('PART_SIZE_MIB', readVar(env, 'PART_SIZE_MIB'), 16, 5, 5120) * MIB,
      partQueueSize: parseInteger('PART_QUEUE_SIZE', readVar(env, 'PART_QUEUE_SIZE'), 4, 1, 64),
    },
    pubsub: { subscription },
    push,
    network: parseNetwork(env),
    gcs: { endpoint: parseGcsEndpoint(readVar(env, 'STORAGE_EMULATOR_HOST')) },
    project,
    logLevel,
  };
}

function parseNetwork(env: Record<string, string | undefined>): Config['network'] {
  return {
    connectTimeoutMs: parseInteger('CONNECT_TIMEOUT_SECONDS', readVar(env, 'CONNECT_TIMEOUT_SECONDS'), 10, 1, 300) * 1000,
    stallTimeoutMs: parseInteger('STALL_TIMEOUT_SECONDS', readVar(env, 'STALL_TIMEOUT_SECONDS'), 20, 1, 3600) * 1000,
    livenessTimeoutMs: parseInteger('LIVENESS_TIMEOUT_SECONDS', readVar(env, 'LIVENESS_TIMEOUT_SECONDS'), 600, 1, 86400) * 1000,
    metadataServerUrl: parseGcsEndpoint(readVar(env, 'GCE_METADATA_IP') ?? readVar(env, 'GCE_METADATA_HOST'), 'GCE_METADATA_HOST') ?? 'http://169.254.169.254',
  };
}

function parseSubscription(raw: string | undefined, project: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (/^projects\/[^/]+\/subscriptions\/[^/]+$/.test(raw)) return raw;
  if (raw.includes('/')) {
    throw new ConfigError('PUBSUB_SUBSCRIPTION', `must be projects/PROJECT/subscriptions/NAME or a short name, got "${raw}"`);
  }
  if (project === undefined) {
    throw new ConfigError('PUBSUB_SUBSCRIPTION', `is a short name ("${raw}"): set GOOGLE_CLOUD_PROJECT too, or give projects/PROJECT/subscriptions/NAME`);
  }
  return `projects/${project}/subscriptions/${raw}`;
}

/** `http://host:port` or Go's `host:port` → an origin (STORAGE_EMULATOR_HOST, GCE_METADATA_HOST). */
function parseGcsEndpoint(raw: string | undefined, name = 'STORAGE_EMULATOR_HOST'): string | undefined {
  if (raw === undefined) return undefined;
  const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  const url = parseUrl(name, withScheme)!;
  return url.origin;
}
