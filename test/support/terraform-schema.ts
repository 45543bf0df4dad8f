/**
 * Checks Terraform configuration against the providers' own schemas (the
 * output of `terraform providers schema -json`), offline: what `terraform
 * validate` refuses about a resource's shape, without a binary or a registry.
 *
 * For every resource, data source and provider block: the type exists; every
 * argument and nested block is one the schema has at that place (meta-arguments
 * and `dynamic "x" { content { ... } }`, checked as block x, included);
 * required arguments are present; blocks respect min_items/max_items; no
 * computed-only attribute is set; deprecated ones are reported as warnings.
 * Variables, outputs and lifecycle blocks are checked against Terraform's own
 * language the same way.
 *
 * Not checked (validate does, plan does): value types, expressions and
 * references (terraform.test.ts resolves those), provider-side validation of
 * values, and anything a provider decides at plan time.
 */
import { isObject, parseHcl, type Json, type JsonObject } from './hcl.js';
import { locate, writtenAsBlock, type PathStep } from './hcl-lines.js';
import type { ProviderSchema, ProvidersSchema, SchemaAttribute, SchemaBlock, SchemaBlockType } from './provider-schema.js';
import { META, OUTPUT, UNCHECKED, VARIABLE } from './terraform-language.js';

export type { ProvidersSchema } from './provider-schema.js';

// ---- Findings ----

export interface Finding {
  /** Path of the .tf file, as given to checkModule (e.g. terraform/modules/x/main.tf). */
  file: string;
  /** 1-based line of the argument or block, or of the block that lacks it. */
  line: number;
  /** google_pubsub_topic.events, data.aws_iam_policy_document.trust, provider.aws, var.name, output.x. */
  address: string;
  /** Where inside it, as the schema names it: template.containers.env.name (empty: the block itself). */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export const formatFinding = (f: Finding): string =>
  `${f.file}:${f.line}: ${f.severity}: ${f.address}${f.path === '' ? '' : `: ${f.path}`}: ${f.message}`;

// ---- The check ----

interface Context {
  file: string;
  text: string;
  header: string[];
  address: string;
  findings: Finding[];
}

const isBlockList = (v: Json | undefined): v is JsonObject[] => Array.isArray(v) && v.every(isObject);

const displayPath = (path: readonly PathStep[]): string =>
  path
    .filter((s): s is Exclude<PathStep, { kind: 'content' }> => s.kind !== 'content')
    .map((s) => s.name)
    .join('.');

/**
 * Records a finding at `at`; `missing` names what is absent there (its path
 * then ends with that name, its line is the block's that lacks it).
 */
function report(ctx: Context, at: readonly PathStep[], message: string, opts: { severity?: Finding['severity']; missing?: string } = {}): void {
  const path = [displayPath(at), opts.missing ?? ''].filter((p) => p !== '').join('.');
  ctx.findings.push({ file: ctx.file, line: locate(ctx.text, ctx.header, at), address: ctx.address, path, message, severity: opts.severity ?? 'error' });
}

/** A list or set of objects: Terraform accepts block syntax for such an attribute ("attributes as blocks"). */
const acceptsBlocks = (a: SchemaAttribute): boolean => Array.isArray(a.type) && (a.type[0] === 'list' || a.type[0] === 'set') && Array.isArray(a.type[1]) && a.type[1][0] === 'object';

/** Where a name sits elsewhere in a schema: "it belongs at X" beats "not expected". */
function placesOf(name: string, block: SchemaBlock, prefix = ''): string[] {
  const out: string[] = [];
  if (block.attributes?.[name] !== undefined || block.block_types?.[name] !== undefined) out.push(`${prefix}${name}`);
  for (const [n, bt] of Object.entries(block.block_types ?? {})) out.push(...placesOf(name, bt.block, `${prefix}${n}.`));
  return out;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // Two letters swapped count as one typo.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function unexpected(name: string, block: SchemaBlock, root: SchemaBlock, path: readonly PathStep[]): string {
  const known = [...Object.keys(block.attributes ?? {}), ...Object.keys(block.block_types ?? {})];
  const close = known.filter((k) => editDistance(k, name) <= Math.max(1, Math.floor(name.length / 4))).sort((a, b) => editDistance(a, name) - editDistance(b, name));
  const here = displayPath(path.slice(0, -1));
  const elsewhere = placesOf(name, root).filter((p) => p !== (here === '' ? name : `${here}.${name}`));
  const hint = close.length > 0 ? `; did you mean "${close[0]}"?` : elsewhere.length > 0 ? `; it belongs at ${elsewhere.join(' or ')}` : '';
  return `no argument or block "${name}" is expected here${hint}`;
}

/**
 * Checks one body against its schema block. `meta` adds the meta-arguments of
 * a resource, data source or provider (top level only); `root` is the
 * resource's whole schema, for hints.
 */
function checkBody(ctx: Context, body: JsonObject, block: SchemaBlock, path: PathStep[], root: SchemaBlock, meta?: SchemaBlock): void {
  const attributes = { ...block.attributes, ...meta?.attributes };
  const blockTypes = { ...block.block_types, ...meta?.block_types };
  const whole: SchemaBlock = { attributes, block_types: blockTypes };
  const dynamicCounts = new Map<string, number>();

  for (const [name, value] of Object.entries(body)) {
    if (name === 'dynamic' && blockTypes.dynamic === undefined && isObject(value)) {
      for (const [label, defs] of Object.entries(value)) {
        for (const [index, def] of (isBlockList(defs) ? defs : []).entries()) {
          const step: PathStep = { kind: 'dynamic', name: label, index };
          dynamicCounts.set(label, (dynamicCounts.get(label) ?? 0) + 1);
          checkDynamic(ctx, label, def, whole, [...path, step], root);
        }
      }
      continue;
    }
    const attribute = attributes[name];
    const blockType = blockTypes[name];
    if (attribute !== undefined) {
      const step: PathStep = { kind: 'argument', name };
      if (attribute.computed === true && attribute.optional !== true && attribute.required !== true) {
        report(ctx, [...path, step], `"${name}" is computed by the provider (read-only): it cannot be set`);
      } else if (attribute.deprecated === true) {
        report(ctx, [...path, step], `"${name}" is deprecated`, { severity: 'warning' });
      }
      if (isBlockList(value) && value.length > 0 && !acceptsBlocks(attribute)) {
        const line = locate(ctx.text, ctx.header, [...path, step]);
        if (writtenAsBlock(ctx.text, line, name)) report(ctx, [...path, step], `"${name}" is an argument: write ${name} = ..., not a ${name} { } block`);
      }
    } else if (blockType !== undefined) {
      checkBlocks(ctx, name, value, blockType, path, root);
    } else {
      report(ctx, [...path, { kind: 'argument', name }], unexpected(name, whole, root, [...path, { kind: 'argument', name }]));
    }
  }

  for (const [name, attribute] of Object.entries(attributes)) {
    if (attribute.required === true && !(name in body)) report(ctx, path, `required argument "${name}" is missing`, { missing: name });
  }
  for (const [name, blockType] of Object.entries(blockTypes)) {
    const given = body[name];
    // Given in a wrong form (reported above) still counts as given.
    const count = isBlockList(given) ? given.length : isObject(given) && blockType.nesting_mode === 'map' ? Object.keys(given).length : given === undefined ? 0 : 1;
    const dynamic = dynamicCounts.get(name) ?? 0;
    const min = blockType.min_items ?? 0;
    const max = blockType.nesting_mode === 'single' || blockType.nesting_mode === 'group' ? 1 : (blockType.max_items ?? 0);
    // A dynamic block's count is known only at plan time: only what is certain is reported.
    if (dynamic === 0 && count < min) report(ctx, path, `at least ${min} "${name}" block${min === 1 ? '' : 's'} required, found ${count}`, { missing: name });
    if (max > 0 && count > max) report(ctx, [...path, { kind: 'block', name, index: max }], `at most ${max} "${name}" block${max === 1 ? '' : 's'} allowed, found ${count}`);
    if (max > 0 && dynamic > 0 && count + dynamic > max) report(ctx, [...path, { kind: 'dynamic', name, index: 0 }], `at most ${max} "${name}" block${max === 1 ? '' : 's'} allowed, found ${count} and ${dynamic} dynamic`);
  }
}

function checkBlocks(ctx: Context, name: string, value: Json, blockType: SchemaBlockType, path: PathStep[], root: SchemaBlock): void {
  const first: PathStep = { kind: 'block', name, index: 0 };
  if (blockType.block.deprecated === true) report(ctx, [...path, first], `block "${name}" is deprecated`, { severity: 'warning' });
  if (UNCHECKED.has(name) && path.length === 0) return;
  if (blockType.nesting_mode === 'map') {
    if (!isObject(value)) {
      report(ctx, [...path, first], `"${name}" is a block with a label: write ${name} "KEY" { ... }`);
      return;
    }
    let index = 0;
    for (const bodies of Object.values(value)) {
      for (const b of isBlockList(bodies) ? bodies : []) checkBody(ctx, b, blockType.block, [...path, { kind: 'block', name, index: index++ }], root);
    }
    return;
  }
  if (!isBlockList(value)) {
    const line = locate(ctx.text, ctx.header, [...path, first]);
    const labelled = new RegExp(`^\\s*${name}\\s+"`).test(ctx.text.split('\n')[line - 1] ?? '');
    report(ctx, [...path, labelled ? first : { kind: 'argument', name }], labelled ? `block "${name}" takes no label` : `"${name}" is a block: write ${name} { ... } (or dynamic "${name}"), not ${name} = ...`);
    return;
  }
  for (const [index, b] of value.entries()) checkBody(ctx, b, blockType.block, [...path, { kind: 'block', name, index }], root);
}

const DYNAMIC_ARGUMENTS = new Set(['for_each', 'iterator', 'labels', 'content']);

function checkDynamic(ctx: Context, label: string, def: JsonObject, whole: SchemaBlock, path: PathStep[], root: SchemaBlock): void {
  const blockType = whole.block_types?.[label];
  if (blockType === undefined) {
    const what = whole.attributes?.[label] !== undefined ? `"${label}" is an argument: a dynamic block can only generate blocks` : unexpected(label, whole, root, path).replace('argument or block', 'block');
    report(ctx, path, what);
    return;
  }
  for (const key of Object.keys(def)) if (!DYNAMIC_ARGUMENTS.has(key)) report(ctx, [...path, { kind: 'argument', name: key }], `no argument or block "${key}" is expected in a dynamic block (for_each, iterator, labels, content)`);
  if (!('for_each' in def)) report(ctx, path, 'required argument "for_each" is missing', { missing: 'for_each' });
  const content = def.content;
  if (!isBlockList(content) || content.length === 0) {
    report(ctx, path, `dynamic "${label}" needs a content block`);
    return;
  }
  if (content.length > 1) report(ctx, [...path, { kind: 'content' }], `dynamic "${label}" has more than one content block`);
  // The content is checked as the block it generates.
  checkBody(ctx, content[0]!, blockType.block, [...path, { kind: 'content' }], root);
}

// ---- Modules ----

/** The provider schema for a required_providers source such as hashicorp/google (any registry host). */
function providerSchema(schema: ProvidersSchema, source: string): ProviderSchema | undefined {
  const want = source.toLowerCase().split('/').slice(-2).join('/');
  const key = Object.keys(schema.provider_schemas).find((k) => k.toLowerCase().split('/').slice(-2).join('/') === want);
  return key === undefined ? undefined : schema.provider_schemas[key];
}

/** A provider's local name as a block refers to it: `provider = aws.west` or the type's prefix. */
function providerOf(type: string, body: JsonObject): string {
  const explicit = typeof body.provider === 'string' ? /^(?:\$\{)?([\w-]+)/.exec(body.provider)?.[1] : undefined;
  return explicit ?? type.split('_')[0]!;
}

/** required_providers of a module: local name -> source (default hashicorp/NAME, as Terraform assumes). */
export function requiredProviders(parsed: Iterable<JsonObject>): Map<string, { source: string; version?: string }> {
  const out = new Map<string, { source: string; version?: string }>();
  for (const json of parsed) {
    for (const t of isBlockList(json.terraform) ? json.terraform : []) {
      for (const rp of isBlockList(t.required_providers) ? t.required_providers : []) {
        for (const [name, req] of Object.entries(rp)) {
          const r = isObject(req) ? req : {};
          const source = typeof r.source === 'string' ? r.source : `hashicorp/${name}`;
          out.set(name, typeof r.version === 'string' ? { source, version: r.version } : { source });
        }
      }
    }
  }
  return out;
}

/**
 * Checks one module: `files` maps each .tf file's path (as findings should
 * name it) to its text. required_providers are read from all of them.
 */
export async function checkModule(files: ReadonlyMap<string, string>, schema: ProvidersSchema): Promise<Finding[]> {
  const findings: Finding[] = [];
  const parsed = new Map<string, JsonObject>();
  for (const [file, text] of files) {
    try {
      parsed.set(file, await parseHcl(file, text));
    } catch (e) {
      const line = Number(/:(\d+),\d+/.exec(String(e))?.[1] ?? 1);
      findings.push({ file, line, address: '', path: '', message: `does not parse: ${String(e)}`, severity: 'error' });
    }
  }
  const providers = requiredProviders(parsed.values());
  const sourceOf = (local: string): string => providers.get(local)?.source ?? `hashicorp/${local}`;

  for (const [file, json] of parsed) {
    const text = files.get(file)!;
    const context = (header: string[], address: string): Context => ({ file, text, header, address, findings });

    for (const kind of ['resource', 'data'] as const) {
      const byType = isObject(json[kind]) ? json[kind] : {};
      for (const [type, named] of Object.entries(byType)) {
        for (const [name, bodies] of Object.entries(isObject(named) ? named : {})) {
          for (const body of isBlockList(bodies) ? bodies : []) {
            const ctx = context([kind, type, name], kind === 'data' ? `data.${type}.${name}` : `${type}.${name}`);
            const local = providerOf(type, body);
            const provider = providerSchema(schema, sourceOf(local));
            if (provider === undefined) {
              report(ctx, [], `provider "${local}" (${sourceOf(local)}) is not in the schema fixture`);
              continue;
            }
            const entry = (kind === 'data' ? provider.data_source_schemas : provider.resource_schemas)?.[type];
            if (entry === undefined) {
              report(ctx, [], `${sourceOf(local)} has no ${kind === 'data' ? 'data source' : 'resource type'} "${type}"`);
              continue;
            }
            if (entry.block.deprecated === true) report(ctx, [], `${kind === 'data' ? 'data source' : 'resource type'} "${type}" is deprecated`, { severity: 'warning' });
            if ('count' in body && 'for_each' in body) report(ctx, [{ kind: 'argument', name: 'for_each' }], '"count" and "for_each" cannot both be set');
            checkBody(ctx, body, entry.block, [], entry.block, META[kind]);
          }
        }
      }
    }

    for (const [local, bodies] of Object.entries(isObject(json.provider) ? json.provider : {})) {
      for (const body of isBlockList(bodies) ? bodies : []) {
        const ctx = context(['provider', local], `provider.${local}`);
        const provider = providerSchema(schema, sourceOf(local));
        if (provider?.provider === undefined) report(ctx, [], `provider "${local}" (${sourceOf(local)}) is not in the schema fixture`);
        else checkBody(ctx, body, provider.provider.block, [], provider.provider.block, META.provider);
      }
    }

    for (const [kind, prefix, block] of [
      ['variable', 'var', VARIABLE],
      ['output', 'output', OUTPUT],
    ] as const) {
      for (const [name, bodies] of Object.entries(isObject(json[kind]) ? json[kind] : {})) {
        for (const body of isBlockList(bodies) ? bodies : []) checkBody(context([kind, name], `${prefix}.${name}`), body, block, [], block);
      }
    }
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
