/**
 * The format of `terraform providers schema -json` (format_version 1.0), as
 * far as the offline checks read it: each resource, data source and provider
 * configuration is a block of attributes and nested block types.
 */
import type { Json } from './hcl.js';

export interface SchemaAttribute {
  /** cty type: "string", ["list", "string"], ["object", {...}], ... */
  type?: Json;
  /** Nested attribute types of protocol 6 providers; their inside is not checked. */
  nested_type?: Json;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  deprecated?: boolean;
  sensitive?: boolean;
}

export interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, SchemaBlockType>;
  deprecated?: boolean;
}

export interface SchemaBlockType {
  nesting_mode: 'single' | 'group' | 'list' | 'set' | 'map';
  block: SchemaBlock;
  min_items?: number;
  max_items?: number;
}

export interface ProviderSchema {
  provider?: { block: SchemaBlock };
  resource_schemas?: Record<string, { block: SchemaBlock }>;
  data_source_schemas?: Record<string, { block: SchemaBlock }>;
}

export interface ProvidersSchema {
  format_version: string;
  /** Keyed by provider address, e.g. registry.opentofu.org/hashicorp/google. */
  provider_schemas: Record<string, ProviderSchema>;
}
