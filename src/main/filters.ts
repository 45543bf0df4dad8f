import type { Config } from '../config/config.js';
import { parseList } from '../config/validators.js';
import { filterReason } from '../events/apply-policy.js';
import { eventPolicyFromConfig, type EventPolicy } from '../events/types.js';

/**
 * `--include PREFIX` / `--exclude PREFIX` of copy, backfill and verify:
 * repeatable, each value a comma list like the variables. Given, a flag
 * replaces its variable (command line over environment, as `aws --region`
 * over AWS_REGION); `--exclude ''` lifts EXCLUDE_PREFIXES for one run.
 */
export const FILTER_FLAGS = {
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
} as const;

/** The options text of the filter flags, for --help. */
export const FILTER_FLAGS_HELP = `  --include PREFIX   take only names starting with PREFIX (repeatable, or a comma
                     list); replaces INCLUDE_PREFIXES for this run
  --exclude PREFIX   leave out names starting with PREFIX (repeatable, or a comma
                     list); replaces EXCLUDE_PREFIXES for this run; wins over
                     --include. An empty value (--exclude '') lifts the variable.`;

/** The flags as parsed: undefined when not given. */
export interface FilterFlags {
  include?: string[];
  exclude?: string[];
}

/** The filters a command applies: SOURCE_BUCKETS and the prefix lists, the flags in place of their variables. */
export function policyWithFlags(config: Config, flags: FilterFlags): EventPolicy {
  const policy = eventPolicyFromConfig(config);
  if (flags.include !== undefined) policy.includePrefixes = flags.include.flatMap((v) => parseList(v));
  if (flags.exclude !== undefined) policy.excludePrefixes = flags.exclude.flatMap((v) => parseList(v));
  return policy;
}

/** The filters leave nothing to do: `copy` of a filtered object, a prefix with no name left. Exit 3. */
export class ExcludedError extends Error {
  override readonly name = 'ExcludedError';
}

/** Why the filters refuse this one object (the events' own wording), or undefined. */
export function objectExclusion(bucket: string, name: string, policy: EventPolicy): string | undefined {
  return filterReason({ bucket, name }, policy);
}

/**
 * Why no name under `prefix` can pass the filters, or undefined when some
 * may: the bucket is not a source bucket; an excluded prefix covers the whole
 * prefix; or no included prefix overlaps it (neither starts with the other).
 */
export function prefixExclusion(bucket: string, prefix: string, policy: EventPolicy): string | undefined {
  if (policy.sourceBuckets.length > 0 && !policy.sourceBuckets.includes(bucket)) {
    return `bucket "${bucket}" is not in SOURCE_BUCKETS (${policy.sourceBuckets.join(', ')})`;
  }
  const covering = policy.excludePrefixes.find((e) => prefix.startsWith(e));
  if (covering !== undefined) return `every name under "${prefix}" matches the excluded prefix "${covering}"`;
  const { includePrefixes } = policy;
  if (includePrefixes.length > 0 && !includePrefixes.some((i) => i.startsWith(prefix) || prefix.startsWith(i))) {
    return `no name under "${prefix}" can match the included prefixes (${includePrefixes.join(', ')})`;
  }
  return undefined;
}

/** The per-name test backfill and verify walk with: the events' own filter, so the rules cannot drift apart. */
export function excludedNames(bucket: string, policy: EventPolicy): (name: string) => boolean {
  return (name) => filterReason({ bucket, name }, policy) !== undefined;
}
