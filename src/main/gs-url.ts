import { ConfigError } from '../errors.js';
import { isGcsBucketName } from '../config/validators.js';
import type { ObjectRef } from '../model.js';
import { isGeneration } from '../model.js';

/**
 * Parses `gs://BUCKET/OBJECT[#GENERATION]`. Object names may themselves
 * contain `#`: only a final `#` followed by digits is read as a generation.
 */
export function parseObjectUrl(arg: string, what = 'argument'): ObjectRef {
  const { bucket, path } = splitGsUrl(arg, what);
  if (path === '') throw new ConfigError(what, `needs an object name: gs://BUCKET/OBJECT[#GENERATION], got "${arg}"`);
  const match = /^(.*)#(\d+)$/s.exec(path);
  if (match && match[1] !== '') {
    const generation = match[2]!;
    if (!isGeneration(generation)) throw new ConfigError(what, `generation "${generation}" is not a GCS generation number`);
    return { bucket, name: match[1]!, generation };
  }
  return { bucket, name: path };
}

/** Parses `gs://BUCKET[/PREFIX]`. */
export function parsePrefixUrl(arg: string, what = 'argument'): { bucket: string; prefix: string } {
  const { bucket, path } = splitGsUrl(arg, what);
  return { bucket, prefix: path };
}

function splitGsUrl(arg: string, what: string): { bucket: string; path: string } {
  if (!arg.startsWith('gs://')) throw new ConfigError(what, `must be a gs:// URL, got "${arg}"`);
  const rest = arg.slice('gs://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  if (!isGcsBucketName(bucket)) throw new ConfigError(what, `"${bucket}" is not a GCS bucket name`);
  return { bucket, path };
}
