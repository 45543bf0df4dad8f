import { ConfigError } from '../errors.js';

/** Reads one environment variable: trimmed, with empty meaning unset. */
export function readVar(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function parseInteger(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** A comma-separated list; empty entries are dropped. */
export function parseList(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function parseUrl(name: string, raw: string | undefined): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  return url;
}

/** IAM role ARNs in any partition; MinIO's `arn:minio:iam:::role/ID` has no account. */
const ROLE_ARN = /^arn:[a-z][a-z0-9-]*:iam::(\d{12})?:role\/[\w+=,.@/-]{1,512}$/;

export function parseRoleArn(name: string, raw: string): string {
  if (!ROLE_ARN.test(raw)) {
    throw new ConfigError(name, `must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME, got "${raw}"`);
  }
  return raw;
}

/** S3 bucket naming rules (general purpose buckets): 3–63 of [a-z0-9.-], starting and ending alphanumeric. */
export function parseS3Bucket(name: string, raw: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw) || raw.includes('..')) {
    throw new ConfigError(name, `must be an S3 bucket name (3-63 of a-z 0-9 . -), got "${raw}"`);
  }
  return raw;
}

/** GCS bucket names: 3–63 characters (222 with dots) of [a-z0-9_.-]. */
export function isGcsBucketName(raw: string): boolean {
  return /^[a-z0-9][a-z0-9_.-]{1,220}[a-z0-9]$/.test(raw);
}

export const AWS_REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$|^[a-z0-9-]+$/;

export function parseRegion(name: string, raw: string): string {
  if (!AWS_REGION.test(raw)) throw new ConfigError(name, `is not a region name: "${raw}"`);
  return raw;
}

/** A full subscription name, or a short one completed with the project. */
export function parseSubscription(name: string, raw: string | undefined, project: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (/^projects\/[^/]+\/subscriptions\/[^/]+$/.test(raw)) return raw;
  if (raw.includes('/')) {
    throw new ConfigError(name, `must be projects/PROJECT/subscriptions/NAME or a short name, got "${raw}"`);
  }
  if (project === undefined) {
    throw new ConfigError(name, `is a short name ("${raw}"): set GOOGLE_CLOUD_PROJECT too, or give projects/PROJECT/subscriptions/NAME`);
  }
  return `projects/${project}/subscriptions/${raw}`;
}

/** STORAGE_EMULATOR_HOST: a URL, or Go's `host:port`; the client wants the origin. */
export function parseGcsEndpoint(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  return parseUrl(name, withScheme)!.origin;
}

/** STS RoleSessionName: 2–64 characters of [\w+=,.@-]. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function parseSessionName(name: string, raw: string): string {
  if (!SESSION_NAME.test(raw)) {
    throw new ConfigError(name, `must be 2-64 characters of letters, digits and +=,.@_-, got "${raw}"`);
  }
  return raw;
}

/**
 * Derives an STS session name from an instance id: `gcs2s3-` + the id with
 * every character STS refuses replaced by `-`, cut to STS's 64-character limit.
 * The name shows in CloudTrail, so it should say which instance made the call.
 */
export function deriveSessionName(instanceId: string): string {
  const cleaned = instanceId.replace(/[^\w+=,.@-]/g, '-');
  const name = `gcs2s3-${cleaned}`.slice(0, 64);
  return name.length >= 2 ? name : 'gcs2s3';
}
