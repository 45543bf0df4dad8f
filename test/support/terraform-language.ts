/**
 * Terraform's own language, described as schema blocks like a provider's, so
 * one checker reads both: meta-arguments of resources, data sources and
 * provider blocks, lifecycle, variable and output blocks.
 */
import type { SchemaAttribute, SchemaBlock, SchemaBlockType } from './provider-schema.js';

const ANY: SchemaAttribute = { optional: true };
const attrs = (names: string[], required: string[] = []): Record<string, SchemaAttribute> =>
  Object.fromEntries([...names.map((n) => [n, ANY] as const), ...required.map((n) => [n, { required: true }] as const)]);
const condition: SchemaBlockType = { nesting_mode: 'list', block: { attributes: attrs([], ['condition', 'error_message']) } };

const LIFECYCLE: SchemaBlock = {
  attributes: attrs(['create_before_destroy', 'prevent_destroy', 'ignore_changes', 'replace_triggered_by']),
  block_types: { precondition: condition, postcondition: condition },
};
const DATA_LIFECYCLE: SchemaBlock = { block_types: { precondition: condition, postcondition: condition } };
export const VARIABLE: SchemaBlock = {
  attributes: attrs(['description', 'type', 'default', 'sensitive', 'nullable', 'ephemeral']),
  block_types: { validation: condition },
};
export const OUTPUT: SchemaBlock = {
  attributes: { ...attrs(['description', 'sensitive', 'depends_on', 'ephemeral']), value: { required: true } },
  block_types: { precondition: condition },
};

/** Meta-arguments Terraform itself handles, by kind of block. */
export const META: Record<'resource' | 'data' | 'provider', SchemaBlock> = {
  resource: {
    attributes: attrs(['count', 'for_each', 'depends_on', 'provider']),
    block_types: {
      lifecycle: { nesting_mode: 'single', block: LIFECYCLE },
      // Provisioners are labelled blocks whose inside belongs to the provisioner.
      provisioner: { nesting_mode: 'map', block: {} },
      connection: { nesting_mode: 'single', block: {} },
    },
  },
  data: {
    attributes: attrs(['count', 'for_each', 'depends_on', 'provider']),
    block_types: { lifecycle: { nesting_mode: 'single', block: DATA_LIFECYCLE } },
  },
  provider: { attributes: attrs(['alias', 'version']) },
};
/** Blocks whose inside is not checked (their own keys are free-form or not from a schema). */
export const UNCHECKED = new Set(['provisioner', 'connection']);
