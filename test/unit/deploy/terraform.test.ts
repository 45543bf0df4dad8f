/**
 * Offline checks of terraform/: no Terraform binary and no provider registry
 * here, so every .tf file is parsed with HashiCorp's own HCL parser (compiled
 * to WebAssembly in @cdktn/hcl2json, the maintained fork of @cdktf/hcl2json)
 * and the deployment's invariants are read off the result: references resolve,
 * the AWS trust pins the Google service account, the AWS policy is exactly the
 * worker's S3 calls, every consumed subscription dead-letters, no key exists,
 * and the worker gets every variable src/config/config.ts requires.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHcl as parse, referencesInExpression as getReferencesInExpression } from '../../support/hcl.js';
import { isRequiredFor, variableNames, VARIABLES, type Command } from '../../../src/config/variables.js';
import { EXIT } from '../../../src/main/exit-status.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TERRAFORM = join(REPO, 'terraform');

// ---- The parsed configuration ----

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObj = (v: Json | undefined): Obj => (isObj(v) ? v : {});
const asArray = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
/** hcl2json gives every block as an array of bodies; one body expected. */
const body = (v: Json | undefined): Obj => asObj(asArray(v)[0]);
const blocks = (v: Json | undefined): Obj[] => asArray(v).filter(isObj);
const strings = (v: Json | undefined): string[] => asArray(v).filter((x): x is string => typeof x === 'string');

/** One Terraform module: a folder's .tf files merged the way Terraform merges them. */
interface Module {
  dir: string;
  name: string;
  files: Map<string, Obj>;
  variables: Map<string, Obj>;
  outputs: Map<string, Obj>;
  locals: Map<string, Json>;
  /** `type.name` -> body, for resources and (as `data.type.name`) data sources. */
  resources: Map<string, Obj>;
  data: Map<string, Obj>;
  modules: Map<string, Obj>;
  requiredProviders: Set<string>;
}

function tfDirs(dir: string): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir);
  if (entries.some((e) => e.endsWith('.tf'))) found.push(dir);
  for (const e of entries) {
    if (e.startsWith('.')) continue; // .terraform/ caches
    const p = join(dir, e);
    if (statSync(p).isDirectory()) found.push(...tfDirs(p));
  }
  return found;
}

async function loadModule(dir: string): Promise<Module> {
  const m: Module = {
    dir,
    name: relative(TERRAFORM, dir),
    files: new Map(),
    variables: new Map(),
    outputs: new Map(),
    locals: new Map(),
    resources: new Map(),
    data: new Map(),
    modules: new Map(),
    requiredProviders: new Set(),
  };
  const add = (map: Map<string, Obj>, key: string, value: Obj, file: string): void => {
    if (map.has(key)) throw new Error(`${m.name}/${file}: ${key} is declared twice`);
    map.set(key, value);
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf')).sort()) {
    const json = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Obj;
    m.files.set(file, json);
    for (const [k, v] of Object.entries(asObj(json.variable))) add(m.variables, k, body(v), file);
    for (const [k, v] of Object.entries(asObj(json.output))) add(m.outputs, k, body(v), file);
    for (const [k, v] of Object.entries(asObj(json.module))) add(m.modules, k, body(v), file);
    for (const l of blocks(json.locals)) {
      for (const [k, v] of Object.entries(l)) {
        if (m.locals.has(k)) throw new Error(`${m.name}/${file}: local.${k} is declared twice`);
        m.locals.set(k, v);
      }
    }
    for (const [type, named] of Object.entries(asObj(json.resource))) {
      for (const [name, v] of Object.entries(asObj(named))) add(m.resources, `${type}.${name}`, body(v), file);
    }
    for (const [type, named] of Object.entries(asObj(json.data))) {
      for (const [name, v] of Object.entries(asObj(named))) add(m.data, `${type}.${name}`, body(v), file);
    }
    for (const t of blocks(json.terraform)) {
      for (const rp of blocks(t.required_providers)) for (const p of Object.keys(rp)) m.requiredProviders.add(p);
    }
  }
  return m;
}

/** Every string in a value, with the dynamic-block iterators in scope where it sits. */
function* walkStrings(value: Json, path: string, iterators: readonly string[] = []): Generator<{ text: string; path: string; iterators: readonly string[] }> {
  if (typeof value === 'string') {
    yield { text: value, path, iterators };
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* walkStrings(v, `${path}[${i}]`, iterators);
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'dynamic' && isObj(v)) {
        for (const [label, defs] of Object.entries(v)) {
          for (const [i, def] of blocks(defs).entries()) {
            const iterator = typeof def.iterator === 'string' ? def.iterator.replace(/^\$\{|\}$/g, '') : label;
            yield* walkStrings(def.for_each ?? null, `${path}.dynamic.${label}[${i}].for_each`, iterators);
            yield* walkStrings(def.content ?? null, `${path}.dynamic.${label}[${i}].content`, [...iterators, iterator]);
          }
        }
      } else {
        yield* walkStrings(v, `${path}.${k}`, iterators);
      }
    }
  }
}

interface Reference {
  ref: string;
  path: string;
  iterators: readonly string[];
}

/**
 * hcl2json hands back each template with its literal quotes and newlines
 * unescaped; quote it again (outside the ${...} parts only) so the parser
 * reads it as the template it was.
 */
function quoteTemplate(text: string): string {
  let out = '"';
  // Stack of modes: 'text' (template text), a number (inside ${...}: open braces), 'string' (a string inside an expression).
  const stack: Array<'text' | 'string' | number> = ['text'];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const top = stack[stack.length - 1]!;
    if (typeof top === 'number') {
      if (c === '"') stack.push('string');
      else if (c === '{') stack[stack.length - 1] = top + 1;
      else if (c === '}') {
        if (top === 0) stack.pop();
        else stack[stack.length - 1] = top - 1;
      }
      out += c;
    } else if ((c === '$' || c === '%') && text[i + 1] === '{' && text[i - 1] !== c) {
      stack.push(0);
      out += `${c}{`;
      i += 1;
    } else if (top === 'string') {
      if (c === '"' && text[i - 1] !== '\\') stack.pop();
      out += c;
    } else {
      out += c === '"' ? '\\"' : c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c;
    }
  }
  return `${out}"`;
}

async function referencesOf(m: Module): Promise<Reference[]> {
  const refs: Reference[] = [];
  for (const [file, json] of m.files) {
    for (const s of walkStrings(json, file)) {
      if (!s.text.includes('${')) continue;
      // A variable's type is a type expression (string, map(string)), not references.
      if (/\.variable\.[\w-]+\[\d+\]\.type$/.test(s.path)) continue;
      for (const r of await getReferencesInExpression(file, quoteTemplate(s.text))) refs.push({ ref: r.value, path: s.path, iterators: s.iterators });
    }
  }
  return refs;
}

/** All statements of an aws_iam_policy_document, the dynamic ones' content included. */
function statementsOf(doc: Obj): Array<{ statement: Obj; dynamic: boolean; forEach?: string }> {
  const out: Array<{ statement: Obj; dynamic: boolean; forEach?: string }> = blocks(doc.statement).map((statement) => ({ statement, dynamic: false }));
  for (const def of blocks(asObj(doc.dynamic).statement)) {
    for (const c of blocks(def.content)) out.push({ statement: c, dynamic: true, forEach: String(def.for_each) });
  }
  return out;
}

/** Conditions of a statement, dynamic ones included. */
function conditionsOf(statement: Obj): Obj[] {
  return [...blocks(statement.condition), ...blocks(asObj(statement.dynamic).condition).flatMap((d) => blocks(d.content))];
}

/** `KEY = value` pairs written in an HCL object expression (as hcl2json leaves it, a string). */
function objectKeys(expression: string): string[] {
  return [...expression.matchAll(/\b([A-Z][A-Z0-9_]+)\s*=/g)].map((x) => x[1]!);
}

/**
 * Terraform's dependency graph, as far as references make it: one node per
 * resource, data source, local, variable and output, per module instance
 * (`gcp/` for module "gcp"), edges to what each one's expressions reference.
 * Module arguments feed the child's variables; a module's depends_on makes
 * everything in it depend on those targets. Terraform refuses a cycle at plan
 * time ("Cycle: ..."), which no parse alone would show.
 */
async function dependencyGraph(root: Module): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  const edge = (from: string, to: string): void => {
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    graph.get(from)!.add(to);
  };
  const targetOf = (prefix: string, ref: string): string | undefined => {
    const [a, b, c] = ref.split('.');
    if (a === 'var' || a === 'local') return `${prefix}${a}.${b}`;
    if (a === 'data') return `${prefix}data.${b}.${c}`;
    if (a === 'module') return c === undefined ? `${prefix}${b}/` : `${prefix}${b}/output.${c}`;
    if (a === undefined || ['path', 'terraform', 'self', 'count', 'each'].includes(a) || b === undefined) return undefined;
    return `${prefix}${a}.${b}`;
  };
  const refsIn = async (value: Json, file: string): Promise<Array<{ ref: string; iterators: readonly string[] }>> => {
    const out: Array<{ ref: string; iterators: readonly string[] }> = [];
    for (const s of walkStrings(value, file)) {
      if (!s.text.includes('${')) continue;
      for (const r of await getReferencesInExpression(file, quoteTemplate(s.text))) out.push({ ref: r.value, iterators: s.iterators });
    }
    return out;
  };
  const link = async (node: string, prefix: string, value: Json): Promise<void> => {
    if (!graph.has(node)) graph.set(node, new Set());
    for (const { ref, iterators } of await refsIn(value, node)) {
      if (iterators.includes(ref.split('.')[0]!)) continue;
      const target = targetOf(prefix, ref);
      if (target !== undefined && !target.endsWith('/')) edge(node, target);
    }
  };
  const add = async (m: Module, prefix: string, moduleDependsOn: string[]): Promise<void> => {
    for (const [key, b] of m.resources) {
      await link(`${prefix}${key}`, prefix, b);
      for (const d of moduleDependsOn) edge(`${prefix}${key}`, d);
    }
    for (const [key, b] of m.data) {
      await link(`${prefix}data.${key}`, prefix, b);
      for (const d of moduleDependsOn) edge(`${prefix}data.${key}`, d);
    }
    for (const [key, v] of m.locals) await link(`${prefix}local.${key}`, prefix, v);
    for (const [key, b] of m.outputs) await link(`${prefix}output.${key}`, prefix, b.value ?? null);
    for (const key of m.variables.keys()) if (!graph.has(`${prefix}var.${key}`)) graph.set(`${prefix}var.${key}`, new Set());
    for (const [name, call] of m.modules) {
      const child = byName(relative(TERRAFORM, resolve(m.dir, String(call.source))));
      const childPrefix = `${prefix}${name}/`;
      const dependsOn: string[] = [];
      for (const { ref } of await refsIn(call.depends_on ?? [], `${prefix}module.${name}`)) {
        const target = targetOf(prefix, ref);
        if (target !== undefined) dependsOn.push(target);
      }
      for (const [arg, value] of Object.entries(call)) {
        if (['source', 'version', 'providers', 'depends_on', 'count', 'for_each'].includes(arg)) continue;
        await link(`${childPrefix}var.${arg}`, prefix, value);
      }
      await add(child, childPrefix, [...moduleDependsOn, ...dependsOn]);
    }
  };
  await add(root, '', []);
  return graph;
}

/** A cycle in the graph, as the list of its nodes, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

// ---- Facts from the code the deployment must match ----

/** Variables parseConfig requires for every command. */
const requiredEverywhere = VARIABLES.filter((v) => v.required === 'always').map((v) => v.name);
/** Variables parseConfig requires for one command only (serve's push settings, pull's subscription). */
const requiredFor = (command: Command): string[] => VARIABLES.filter((v) => v.required !== 'always' && isRequiredFor(v, command)).map((v) => v.name);
/** Every variable name the configuration reads. */
const knownVariables = new Set(variableNames());

const logSources = ['src/pipeline/log-outcome.ts', 'src/pipeline/event-pipeline.ts', 'src/model.ts'].map((f) => readFileSync(join(REPO, f), 'utf8')).join('\n');

// ---- Tests ----

let modules: Module[] = [];
const byName = (name: string): Module => {
  const m = modules.find((x) => x.name === name);
  if (m === undefined) throw new Error(`no Terraform module terraform/${name}`);
  return m;
};
const allResources = (): Array<{ module: Module; key: string; body: Obj }> =>
  modules.flatMap((module) => [...module.resources].map(([key, b]) => ({ module, key, body: b })));

beforeAll(async () => {
  modules = await Promise.all(tfDirs(TERRAFORM).map(loadModule));
}, 60_000);

describe('terraform/ layout', () => {
  it('has a module for each side, monitoring, and an example root wiring them', () => {
    expect(modules.map((m) => m.name).sort()).toEqual(
      expect.arrayContaining(['examples/complete', 'modules/aws-destination', 'modules/gcp-replicator', 'modules/monitoring']),
    );
  });

  it('parses every .tf file', () => {
    const files = modules.flatMap((m) => [...m.files.keys()].map((f) => `${m.name}/${f}`));
    expect(files.length).toBeGreaterThanOrEqual(12);
  });
});

describe('every reference resolves', () => {
  const ALWAYS = new Set(['path', 'terraform', 'self', 'count', 'each']);

  it.each(['examples/complete', 'modules/aws-destination', 'modules/gcp-replicator', 'modules/monitoring'])('%s', async (name) => {
    const m = byName(name);
    const problems: string[] = [];
    for (const { ref, path, iterators } of await referencesOf(m)) {
      const [root, second, third, fourth] = ref.split('.');
      if (root === undefined || ALWAYS.has(root) || iterators.includes(root)) continue;
      if (root === 'var') {
        if (!m.variables.has(second!)) problems.push(`${path}: var.${second} is not declared`);
      } else if (root === 'local') {
        if (!m.locals.has(second!)) problems.push(`${path}: local.${second} is not declared`);
      } else if (root === 'data') {
        if (!m.data.has(`${second}.${third}`)) problems.push(`${path}: data.${second}.${third} is not declared`);
      } else if (root === 'module') {
        const call = m.modules.get(second!);
        if (call === undefined) {
          problems.push(`${path}: module.${second} is not declared`);
          continue;
        }
        const child = byName(relative(TERRAFORM, resolve(m.dir, String(call.source))));
        if (third !== undefined && !child.outputs.has(third)) problems.push(`${path}: module.${second} (${child.name}) has no output ${third}`);
      } else {
        const key = `${root}.${second}`;
        const resource = m.resources.get(key);
        if (resource === undefined) {
          problems.push(`${path}: ${key} is not declared${iterators.length > 0 ? ` (iterators in scope: ${iterators.join(', ')})` : ''}`);
          continue;
        }
        // A counted resource is a list: `x.y.attr` without an index fails at plan time.
        const whole = third === undefined; // depends_on, or the whole list
        if (resource.count !== undefined && !whole && !/^\d+$/.test(third) && third !== '*') {
          problems.push(`${path}: ${key} has count, so ${ref} needs an index`);
        }
        void fourth;
      }
    }
    expect(problems).toEqual([]);
  });

  it('module calls pass only declared variables, and every required one', () => {
    const problems: string[] = [];
    for (const m of modules) {
      for (const [callName, call] of m.modules) {
        const child = byName(relative(TERRAFORM, resolve(m.dir, String(call.source))));
        const passed = Object.keys(call).filter((k) => !['source', 'version', 'providers', 'depends_on', 'count', 'for_each'].includes(k));
        for (const k of passed) if (!child.variables.has(k)) problems.push(`${m.name}: module.${callName} passes ${k}, which ${child.name} does not declare`);
        for (const [k, v] of child.variables) {
          if (!('default' in v) && !passed.includes(k)) problems.push(`${m.name}: module.${callName} does not pass ${k}, required by ${child.name}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every declared variable is used (no setting that does nothing)', async () => {
    const problems: string[] = [];
    for (const m of modules) {
      const used = new Set((await referencesOf(m)).filter((r) => r.ref.startsWith('var.')).map((r) => r.ref.split('.')[1]));
      for (const v of m.variables.keys()) if (!used.has(v)) problems.push(`${m.name}: var.${v} is never used`);
    }
    expect(problems).toEqual([]);
  });

  it('every resource and data source has its provider in required_providers', () => {
    const problems: string[] = [];
    for (const m of modules) {
      for (const key of [...m.resources.keys(), ...m.data.keys()]) {
        const provider = key.split('_')[0]!;
        if (!m.requiredProviders.has(provider)) problems.push(`${m.name}: ${key} needs provider "${provider}" in required_providers`);
      }
      // A root must declare what its modules need too.
      for (const call of m.modules.values()) {
        const child = byName(relative(TERRAFORM, resolve(m.dir, String(call.source))));
        for (const p of child.requiredProviders) if (!m.requiredProviders.has(p)) problems.push(`${m.name}: module ${child.name} needs provider "${p}"`);
      }
    }
    expect(problems).toEqual([]);
  });
  it.each(['examples/complete', 'modules/aws-destination', 'modules/gcp-replicator', 'modules/monitoring'])('%s has no dependency cycle (the AWS role trusts the service account, the service needs the role)', async (name) => {
    const graph = await dependencyGraph(byName(name));
    expect(graph.size).toBeGreaterThan(10);
    expect(findCycle(graph)).toBeUndefined();
  });
});

describe('no static credentials anywhere', () => {
  const KEY_RESOURCES = ['aws_iam_access_key', 'aws_iam_user', 'aws_iam_user_policy', 'aws_iam_user_login_profile', 'google_service_account_key', 'google_storage_hmac_key', 'google_apikeys_key'];

  it('declares no access key, service account key, HMAC key or IAM user', () => {
    const found = allResources().filter((r) => KEY_RESOURCES.includes(r.key.split('.')[0]!) || /hmac|access_key|_key$/.test(r.key.split('.')[0]!));
    expect(found.map((r) => `${r.module.name}: ${r.key}`)).toEqual([]);
  });

  it('no container is given an AWS key variable', () => {
    const env = byName('modules/gcp-replicator');
    const worker = String(env.locals.get('worker_env'));
    const service = String(env.locals.get('service_env'));
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(objectKeys(worker)).not.toContain(k);
      expect(objectKeys(service)).not.toContain(k);
    }
    // ... nor through the pass-through map: its validation refuses them.
    const validation = JSON.stringify(env.variables.get('env'));
    expect(validation).toContain('AWS_SECRET_ACCESS_KEY');
  });
});

describe('AWS: the role trusts one Google service account', () => {
  const trustDoc = (): Obj => {
    const aws = byName('modules/aws-destination');
    const role = aws.resources.get('aws_iam_role.worker');
    expect(role?.assume_role_policy).toBe('${data.aws_iam_policy_document.trust.json}');
    return aws.data.get('aws_iam_policy_document.trust')!;
  };

  it('federates accounts.google.com for sts:AssumeRoleWithWebIdentity only', () => {
    const statements = statementsOf(trustDoc());
    expect(statements).toHaveLength(1);
    const s = statements[0]!.statement;
    expect(strings(s.actions)).toEqual(['sts:AssumeRoleWithWebIdentity']);
    expect(s.effect ?? 'Allow').toBe('Allow');
    const principals = blocks(s.principals);
    expect(principals.map((p) => [p.type, strings(p.identifiers)])).toEqual([['Federated', ['accounts.google.com']]]);
  });

  it('pins accounts.google.com:aud, :oaud and :sub with StringEquals', () => {
    const conditions = conditionsOf(statementsOf(trustDoc())[0]!.statement);
    const pinned = Object.fromEntries(conditions.map((c) => [c.variable, { test: c.test, values: strings(c.values) }]));
    expect(pinned).toEqual({
      'accounts.google.com:aud': { test: 'StringEquals', values: ['${var.google_service_account_unique_id}'] },
      'accounts.google.com:oaud': { test: 'StringEquals', values: ['${var.id_token_audience}'] },
      'accounts.google.com:sub': { test: 'StringEquals', values: ['${var.google_service_account_unique_id}'] },
    });
  });

  it('takes the unique id from the Google resource and the audience the worker uses, never typed by hand', () => {
    const root = byName('examples/complete');
    const call = root.modules.get('aws')!;
    expect(call.google_service_account_unique_id).toBe('${module.gcp.service_account_unique_id}');
    expect(call.id_token_audience).toBe('${module.gcp.id_token_audience}');
    const gcp = byName('modules/gcp-replicator');
    expect(gcp.outputs.get('service_account_unique_id')?.value).toBe('${google_service_account.worker.unique_id}');
    expect(gcp.outputs.get('id_token_audience')?.value).toBe('${local.id_token_audience}');
    // The same local is the worker's ID_TOKEN_AUDIENCE: the token's aud is what :oaud expects.
    expect(String(gcp.locals.get('worker_env'))).toMatch(/ID_TOKEN_AUDIENCE\s*=\s*local\.id_token_audience/);
    // And the role the worker assumes is that role.
    expect(root.modules.get('gcp')!.aws_role_arn).toBe('${module.aws.role_arn}');
    expect(byName('modules/aws-destination').outputs.get('role_arn')?.value).toBe('${aws_iam_role.worker.arn}');
  });
});

describe('AWS: least privilege on the destination', () => {
  const ALLOWED = new Set(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:DeleteObject', 'kms:GenerateDataKey', 'kms:Decrypt']);

  const policyDocs = (): Array<{ module: Module; key: string; doc: Obj }> =>
    modules.flatMap((module) => [...module.data].filter(([k]) => k.startsWith('aws_iam_policy_document.')).map(([key, doc]) => ({ module, key, doc })));

  it('has no "*" action or resource in any AWS policy, and no Deny/Not* tricks to reason about', () => {
    const problems: string[] = [];
    for (const { module, key, doc } of policyDocs()) {
      for (const { statement } of statementsOf(doc)) {
        for (const a of strings(statement.actions)) if (a.includes('*')) problems.push(`${module.name} ${key}: action ${a}`);
        for (const r of strings(statement.resources)) {
          if (r === '*' || /:::\*$|:\*$/.test(r)) problems.push(`${module.name} ${key}: resource ${r}`);
        }
        for (const k of ['not_actions', 'not_resources', 'not_principals']) if (k in statement) problems.push(`${module.name} ${key}: ${k}`);
        for (const p of blocks(statement.principals)) for (const id of strings(p.identifiers)) if (id === '*') problems.push(`${module.name} ${key}: principal *`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every AWS policy attached comes from a checked policy document; no managed policy is attached', () => {
    const problems: string[] = [];
    for (const { module, key, body: b } of allResources()) {
      const type = key.split('.')[0]!;
      if (['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_group_policy_attachment'].includes(type)) problems.push(`${module.name}: ${key}`);
      if (['aws_iam_role_policy', 'aws_iam_policy', 'aws_s3_bucket_policy'].includes(type) && !/^\$\{data\.aws_iam_policy_document\.\w+\.json\}$/.test(String(b.policy))) {
        problems.push(`${module.name}: ${key} policy is not a data.aws_iam_policy_document`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('allows only the S3 (and KMS) actions the worker calls, on the bucket and prefix', () => {
    const aws = byName('modules/aws-destination');
    const statements = statementsOf(aws.data.get('aws_iam_policy_document.worker')!);
    const actions = statements.flatMap((s) => strings(s.statement.actions));
    expect(actions.filter((a) => !ALLOWED.has(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts']));
    for (const { statement } of statements) {
      const resources = strings(statement.resources);
      const acts = strings(statement.actions);
      if (acts.includes('s3:ListBucket')) expect(resources).toEqual(['${local.bucket_arn}']);
      else if (acts.some((a) => a.startsWith('s3:'))) expect(resources.every((r) => r === '${local.objects_arn}' || r === '${statement.value}')).toBe(true);
    }
    expect(aws.locals.get('objects_arn')).toBe('${local.bucket_arn}/${var.key_prefix}*');
  });

  it('KMS: exactly kms:GenerateDataKey and kms:Decrypt, on the one key given, in one statement that exists only when a key is given', () => {
    const statements = statementsOf(byName('modules/aws-destination').data.get('aws_iam_policy_document.worker')!);
    const kms = statements.filter((s) => strings(s.statement.actions).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    const [grant] = kms;
    // Only the actions S3 calls on the role's behalf for SSE-KMS writes, multipart uploads and CopyObject.
    expect(strings(grant!.statement.actions).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    // Only that key: the statement's resource is the for_each value, which is the key ARN itself...
    expect(strings(grant!.statement.resources)).toEqual(['${statement.value}']);
    // ...and for_each yields nothing without a key, the key ARN alone with one.
    expect(grant!.dynamic).toBe(true);
    expect(grant!.forEach).toBe('${var.kms_key_arn == null ? [] : [var.kms_key_arn]}');
    expect(grant!.statement.effect).toBe('Allow');
    expect(conditionsOf(grant!.statement)).toEqual([]);
    // The variable refuses aliases and bare ids, which an IAM policy cannot name as a resource.
    expect(JSON.stringify(byName('modules/aws-destination').variables.get('kms_key_arn'))).toContain(':key/');
  });

  it('grants DeleteObject only when deletes are replicated, KMS only when a key is given', () => {
    const statements = statementsOf(byName('modules/aws-destination').data.get('aws_iam_policy_document.worker')!);
    const gate = (action: string): string | undefined => statements.find((s) => strings(s.statement.actions).includes(action))?.forEach;
    expect(gate('s3:DeleteObject')).toMatch(/var\.replicate_deletes/);
    expect(gate('kms:Decrypt')).toMatch(/var\.kms_key_arn/);
  });

  it('aborts incomplete multipart uploads with a lifecycle rule', () => {
    const lifecycle = byName('modules/aws-destination').resources.get('aws_s3_bucket_lifecycle_configuration.destination');
    const rule = blocks(lifecycle?.rule).find((r) => r.abort_incomplete_multipart_upload !== undefined);
    expect(rule?.status).toBe('Enabled');
    expect(body(rule?.abort_incomplete_multipart_upload).days_after_initiation).toBe('${var.abort_incomplete_multipart_upload_days}');
  });
});

describe('Google Cloud: notifications, subscriptions, identities', () => {
  it('notifies OBJECT_FINALIZE always, deletes only when replicated, as JSON_API_V1', () => {
    const n = byName('modules/gcp-replicator').resources.get('google_storage_notification.source')!;
    expect(n.payload_format).toBe('JSON_API_V1');
    expect(String(n.event_types)).toContain('"OBJECT_FINALIZE"');
    expect(String(n.event_types)).toMatch(/var\.replicate_deletes \? \["OBJECT_DELETE"/);
    expect(strings(n.depends_on)).toContain('${google_pubsub_topic_iam_member.gcs_publishes_notifications}');
  });

  it('every subscription the worker consumes has a dead-letter policy, retry backoff and no expiry', () => {
    const problems: string[] = [];
    let consumed = 0;
    for (const m of modules) {
      const deadLetterTopics = new Set([...m.resources].filter(([k]) => k.startsWith('google_pubsub_subscription.')).flatMap(([, s]) => blocks(s.dead_letter_policy).map((d) => String(d.dead_letter_topic))));
      for (const [key, s] of m.resources) {
        if (!key.startsWith('google_pubsub_subscription.')) continue;
        expect(body(s.expiration_policy).ttl, `${key} must never expire`).toBe('');
        // The subscription that only keeps dead letters is not consumed.
        if (deadLetterTopics.has(String(s.topic))) continue;
        consumed += 1;
        const dlp = body(s.dead_letter_policy);
        if (dlp.dead_letter_topic === undefined) problems.push(`${m.name}: ${key} has no dead_letter_policy`);
        if (dlp.max_delivery_attempts === undefined) problems.push(`${m.name}: ${key} has no max_delivery_attempts`);
        if (body(s.retry_policy).minimum_backoff === undefined) problems.push(`${m.name}: ${key} has no retry_policy`);
      }
    }
    expect(problems).toEqual([]);
    expect(consumed).toBeGreaterThanOrEqual(2); // pull and push
  });

  it('the dead-letter topic has a subscription, so dead letters are kept, and the Pub/Sub agent can forward them', () => {
    const gcp = byName('modules/gcp-replicator');
    expect(gcp.resources.get('google_pubsub_subscription.dead_letter')?.topic).toBe('${google_pubsub_topic.dead_letter.id}');
    const publisher = gcp.resources.get('google_pubsub_topic_iam_member.pubsub_agent_publishes_dead_letters');
    expect([publisher?.topic, publisher?.role, publisher?.member]).toEqual(['${google_pubsub_topic.dead_letter.name}', 'roles/pubsub.publisher', '${local.pubsub_agent}']);
    const subscriber = gcp.resources.get('google_pubsub_subscription_iam_member.pubsub_agent_forwards_dead_letters');
    expect([subscriber?.role, subscriber?.member]).toEqual(['roles/pubsub.subscriber', '${local.pubsub_agent}']);
  });

  it('push subscriptions sign with an OIDC token whose audience the service expects', () => {
    const gcp = byName('modules/gcp-replicator');
    const push = gcp.resources.get('google_pubsub_subscription.push')!;
    const oidc = body(body(push.push_config).oidc_token);
    expect(oidc).toEqual({ service_account_email: '${google_service_account.push[0].email}', audience: '${local.push_audience}' });
    expect(String(body(push.push_config).push_endpoint)).toMatch(/\/pubsub\/push$/);
    const service = gcp.resources.get('google_cloud_run_v2_service.worker')!;
    expect(String(service.custom_audiences)).toContain('local.push_audience');
    const invoker = gcp.resources.get('google_cloud_run_v2_service_iam_member.push_invokes_worker')!;
    expect([invoker.role, invoker.member]).toEqual(['roles/run.invoker', 'serviceAccount:${google_service_account.push[0].email}']);
  });

  it('grants only narrow roles, on single resources, never on the project', () => {
    const ALLOWED_ROLES = new Set(['roles/storage.objectViewer', 'roles/storage.objectCreator', 'roles/pubsub.subscriber', 'roles/pubsub.publisher', 'roles/run.invoker', 'roles/iam.serviceAccountTokenCreator']);
    const problems: string[] = [];
    for (const { module, key, body: b } of allResources()) {
      const type = key.split('.')[0]!;
      if (/^google_(project|folder|organization)_iam_/.test(type)) problems.push(`${module.name}: ${key} grants on a whole project/folder/organization`);
      if (/^google_.*_iam_(member|binding|policy)$/.test(type) && !ALLOWED_ROLES.has(String(b.role))) problems.push(`${module.name}: ${key} grants ${String(b.role)}`);
    }
    expect(problems).toEqual([]);
    const gcp = byName('modules/gcp-replicator');
    const reader = gcp.resources.get('google_storage_bucket_iam_member.worker_reads_source')!;
    expect([reader.bucket, reader.role, reader.member]).toEqual(['${var.source_bucket}', 'roles/storage.objectViewer', '${local.worker_member}']);
    const puller = gcp.resources.get('google_pubsub_subscription_iam_member.worker_pulls')!;
    expect([puller.subscription, puller.role, puller.member]).toEqual(['${google_pubsub_subscription.pull[0].name}', 'roles/pubsub.subscriber', '${local.worker_member}']);
  });

  it('keeps shared range plans in a private bucket of their own, deleted after 7 days', () => {
    const gcp = byName('modules/gcp-replicator');
    const plans = gcp.resources.get('google_storage_bucket.plans')!;
    expect(plans).toMatchObject({ name: '${local.plan_bucket_name}', uniform_bucket_level_access: true, public_access_prevention: 'enforced', force_destroy: '${!var.deletion_protection}' });
    expect(gcp.locals.get('plan_bucket_name')).toBe('${coalesce(var.plan_bucket_name, "${var.project}-${var.name}-plans")}');
    expect(blocks(plans.lifecycle_rule).map((r) => [body(r.condition), body(r.action)])).toEqual([[{ age: 7 }, { type: 'Delete' }]]);
    expect(gcp.outputs.get('plan_bucket')?.value).toBe('${google_storage_bucket.plans.name}');
  });

  it('lets the worker read and create plans (never overwrite or delete them), on the plans bucket only, and creates nowhere else', () => {
    const grants = allResources()
      .filter(({ key }) => key.startsWith('google_storage_bucket_iam_member.'))
      .map(({ key, body: b }) => `${key}: ${String(b.role)} on ${String(b.bucket)} to ${String(b.member)}`)
      .sort();
    expect(grants).toEqual([
      'google_storage_bucket_iam_member.worker_creates_plans: roles/storage.objectCreator on ${google_storage_bucket.plans.name} to ${local.worker_member}',
      'google_storage_bucket_iam_member.worker_reads_plans: roles/storage.objectViewer on ${google_storage_bucket.plans.name} to ${local.worker_member}',
      'google_storage_bucket_iam_member.worker_reads_source: roles/storage.objectViewer on ${var.source_bucket} to ${local.worker_member}',
    ]);
    const creators = allResources().filter(({ body: b }) => String(b.role) === 'roles/storage.objectCreator');
    expect(creators.map(({ key }) => key)).toEqual(['google_storage_bucket_iam_member.worker_creates_plans']);
  });
});

describe('Google Cloud: the worker containers', () => {
  const gcp = (): Module => byName('modules/gcp-replicator');
  const container = (resource: Obj, nested: boolean): Obj => {
    const template = body(resource.template);
    return body((nested ? body(template.template) : template).containers);
  };

  it('passes storage class, SSE, the Bucket Key option and the bandwidth limit to the service and the jobs, each only when set', () => {
    const worker = String(gcp().locals.get('worker_env'));
    const passed: Record<string, string> = {
      S3_STORAGE_CLASS: 'var.s3_storage_class',
      S3_SSE: 'var.s3_sse',
      S3_SSE_KMS_KEY_ID: 'var.s3_sse_kms_key_id',
      S3_SSE_BUCKET_KEY: 'var.s3_sse_bucket_key == null ? null : tostring(var.s3_sse_bucket_key)',
      MAX_BYTES_PER_SECOND: 'var.max_bytes_per_second',
    };
    for (const [name, value] of Object.entries(passed)) {
      expect(knownVariables.has(name), name).toBe(true);
      expect(worker).toMatch(new RegExp(`\\b${name}\\s*=\\s*${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
      expect(gcp().variables.get(value.split(' ')[0]!.replace(/^var\./, '')), name).toMatchObject({ default: null });
    }
    // Unset (null) values are dropped, so the worker's own defaults apply.
    expect(worker).toMatch(/^\$\{\{ for k, v in merge\(var\.env, \{[\s\S]*\}\) : k => v if v != null \}\}$/);
    // The pass-through map cannot set them behind the module's back.
    const refused = JSON.stringify(gcp().variables.get('env'));
    for (const name of Object.keys(passed)) expect(refused).toMatch(new RegExp(`\\\\"${name}\\\\"`));
  });

  it('passes every variable src/config/config.ts requires, and only variables it reads', () => {
    expect(requiredEverywhere).toEqual(expect.arrayContaining(['AWS_ROLE_ARN', 'S3_BUCKET']));
    const worker = objectKeys(String(gcp().locals.get('worker_env')));
    const service = objectKeys(String(gcp().locals.get('service_env')));
    for (const v of [...requiredEverywhere, 'ID_TOKEN_AUDIENCE', 'AWS_REGION']) expect(worker, v).toContain(v);
    for (const v of [...requiredFor('pull'), ...requiredFor('serve')]) expect(service, v).toContain(v);
    expect(requiredFor('pull')).toContain('PUBSUB_SUBSCRIPTION');
    expect(requiredFor('serve')).toEqual(expect.arrayContaining(['PUSH_AUDIENCE', 'PUSH_SERVICE_ACCOUNT']));
    expect([...worker, ...service].filter((k) => !knownVariables.has(k))).toEqual([]);
  });

  it('runs pull (or serve in push mode) on the service, healthy on /healthz, with CPU always on for pull', () => {
    const service = gcp().resources.get('google_cloud_run_v2_service.worker')!;
    const c = container(service, false);
    expect(strings(c.args)).toEqual(['${var.mode == "push" ? "serve" : "pull"}']);
    expect(body(body(c.startup_probe).http_get).path).toBe('/healthz');
    expect(body(c.resources).cpu_idle).toBe('${var.mode == "push"}');
    for (const e of blocks(asObj(c.dynamic).env)) expect(e.for_each).toBe('${local.service_env}');
    const preconditions = blocks(body(service.lifecycle).precondition).map((p) => String(p.condition));
    expect(preconditions).toContain('${var.mode != "pull" || var.min_instances >= 1}');
    expect(body(body(service.template).scaling).min_instance_count).toBe('${var.min_instances}');
    expect(body(service.template).service_account).toBe('${google_service_account.worker.email}');
  });

  it('restarts the service only once /healthz has reported it stuck for a few probes', () => {
    const c = container(gcp().resources.get('google_cloud_run_v2_service.worker')!, false);
    const probe = body(c.liveness_probe);
    expect(body(probe.http_get).path).toBe('/healthz');
    // /healthz is instant: a probe times out only on a wedged process. Restart after a minute or more of 503s, not one blip.
    expect(Number(probe.timeout_seconds)).toBeLessThan(Number(probe.period_seconds));
    expect(Number(probe.period_seconds) * Number(probe.failure_threshold)).toBeGreaterThanOrEqual(60);
  });

  it('has a backfill job over the source prefix, sharded by task count, as the worker identity', () => {
    const job = gcp().resources.get('google_cloud_run_v2_job.backfill')!;
    expect(strings(container(job, true).args)).toEqual(['backfill', '${local.source_url}']);
    expect(gcp().locals.get('source_url')).toBe('gs://${var.source_bucket}/${var.source_prefix}');
    expect(body(job.template).task_count).toBe('${var.backfill_tasks}');
    expect(body(body(job.template).template).service_account).toBe('${google_service_account.worker.email}');
    for (const e of blocks(asObj(container(job, true).dynamic).env)) expect(e.for_each).toBe('${local.job_env}');
  });

  it('gives the backfill and verify jobs, and only them, PLAN_BUCKET: the plans bucket', () => {
    expect(knownVariables.has('PLAN_BUCKET')).toBe(true);
    expect(gcp().locals.get('job_env')).toBe('${merge(local.worker_env, { PLAN_BUCKET = google_storage_bucket.plans.name })}');
    for (const key of ['google_cloud_run_v2_job.backfill', 'google_cloud_run_v2_job.verify']) {
      const envs = blocks(asObj(container(gcp().resources.get(key)!, true).dynamic).env);
      expect(envs.map((e) => e.for_each), key).toEqual(['${local.job_env}']);
    }
    expect(objectKeys(String(gcp().locals.get('worker_env')))).not.toContain('PLAN_BUCKET');
    expect(objectKeys(String(gcp().locals.get('service_env')))).not.toContain('PLAN_BUCKET');
    // The pass-through map cannot point the jobs elsewhere.
    expect(JSON.stringify(gcp().variables.get('env'))).toMatch(/\\"PLAN_BUCKET\\"/);
  });

  it('runs the image the user built, everywhere', () => {
    for (const key of ['google_cloud_run_v2_service.worker', 'google_cloud_run_v2_job.backfill', 'google_cloud_run_v2_job.verify']) {
      const r = gcp().resources.get(key)!;
      expect(container(r, key.includes('_job.')).image, key).toBe('${var.image}');
    }
  });
});

describe('operations: metrics and alerts from the worker logs', () => {
  const mon = (): Module => byName('modules/monitoring');
  const metric = (name: string): Obj => mon().resources.get(`google_logging_metric.${name}`)!;

  it('reads only fields and values the worker logs', () => {
    const filters = [...mon().resources].filter(([k]) => k.startsWith('google_logging_metric.')).map(([, m]) => `${String(m.filter)} ${JSON.stringify(m.label_extractors ?? {})} ${String(m.value_extractor ?? '')}`);
    const fields = new Set(filters.flatMap((f) => [...f.matchAll(/jsonPayload\.(\w+)/g)].map((x) => x[1]!)));
    expect([...fields].sort()).toEqual(['bytes', 'event', 'lagSeconds', 'outcome', 'retryable', 'via']);
    for (const f of fields) expect(logSources, `the worker logs no "${f}" field`).toMatch(new RegExp(`\\b${f}\\b`));
    const outcomes = String(mon().locals.get('outcomes'));
    for (const o of ['copied', 'skipped', 'updated', 'deleted', 'failed', 'ignored', 'malformed']) {
      expect(outcomes).toContain(`\\"${o}\\"`.replace(/\\/g, ''));
      expect(logSources).toContain(`'${o}'`);
    }
    expect(logSources).toContain("kind: 'finalize'");
  });

  it('counts objects by outcome, measures bytes and lag as distributions', () => {
    expect(metric('objects').label_extractors).toMatchObject({ outcome: 'EXTRACT(jsonPayload.outcome)' });
    expect(body(metric('objects').metric_descriptor)).toMatchObject({ metric_kind: 'DELTA', value_type: 'INT64' });
    expect(metric('bytes').value_extractor).toBe('EXTRACT(jsonPayload.bytes)');
    expect(body(metric('bytes').metric_descriptor).value_type).toBe('DISTRIBUTION');
    expect(metric('lag').value_extractor).toBe('EXTRACT(jsonPayload.lagSeconds)');
    expect(body(metric('lag').metric_descriptor)).toMatchObject({ value_type: 'DISTRIBUTION', unit: 's' });
    expect(String(metric('lag').filter)).toContain('jsonPayload.event=\\"finalize\\"'.replace(/\\/g, ''));
  });

  it('alerts on failures (permanent, dead-lettered) and on lag (p99 and backlog age), to the given channels', () => {
    const failures = mon().resources.get('google_monitoring_alert_policy.failures')!;
    const lag = mon().resources.get('google_monitoring_alert_policy.lag')!;
    const filtersOf = (p: Obj): string => blocks(p.conditions).map((c) => String(body(c.condition_threshold).filter)).join('\n');
    expect(filtersOf(failures)).toContain('local.permanent_failures_metric');
    expect(filtersOf(failures)).toContain('dead_letter_message_count');
    expect(filtersOf(lag)).toContain('local.lag_metric');
    expect(filtersOf(lag)).toContain('oldest_unacked_message_age');
    const lagCondition = blocks(lag.conditions).map((c) => body(c.condition_threshold)).find((t) => String(t.filter).includes('lag_metric'))!;
    expect(body(lagCondition.aggregations).per_series_aligner).toBe('ALIGN_PERCENTILE_99');
    expect(lagCondition.threshold_value).toBe('${var.lag_alert_seconds}');
    for (const p of [failures, lag]) {
      expect(p.notification_channels).toBe('${var.notification_channels}');
      // Resource-type restrictions are mandatory in alert filters.
      for (const c of blocks(p.conditions)) expect(String(body(c.condition_threshold).filter)).toMatch(/resource\.type=|local\.subscription_filter/);
      expect(strings(p.depends_on)).toContain('${time_sleep.metrics_propagate}');
    }
  });
});

describe('operations: the backfill and verify jobs', () => {
  const mon = (): Module => byName('modules/monitoring');
  const verifySource = readFileSync(join(REPO, 'src/main/verify-command.ts'), 'utf8');

  it('verify exits 1 on differences, so a failed execution of its job is the signal; its job is never retried', () => {
    expect(verifySource).toContain('return differences === 0 ? EXIT.ok : EXIT.failed;');
    expect([EXIT.ok, EXIT.failed]).toEqual([0, 1]);
    const gcp = byName('modules/gcp-replicator');
    const job = gcp.resources.get('google_cloud_run_v2_job.verify')!;
    const template = body(body(job.template).template);
    expect(template.max_retries).toBe(0);
    expect(strings(body(template.containers).args)).toEqual(['verify', '${local.source_url}']);
    for (const e of blocks(asObj(body(template.containers).dynamic).env)) expect(e.for_each).toBe('${local.job_env}');
  });

  it('alerts when an execution of the backfill or the verify job fails, from Cloud Run\'s own job metric', () => {
    const failed = String(mon().locals.get('failed_executions'));
    for (const part of ['metric.type="run.googleapis.com/job/completed_execution_count"', 'resource.type="cloud_run_job"', 'metric.labels.result="failed"']) expect(failed).toContain(part);
    for (const [policy, variable] of [
      ['backfill_failed', 'backfill_job_name'],
      ['verify_failed', 'verify_job_name'],
    ] as const) {
      const p = mon().resources.get(`google_monitoring_alert_policy.${policy}`)!;
      expect(p.count).toBe(`\${var.${variable} == null ? 0 : 1}`);
      expect(p.notification_channels).toBe('${var.notification_channels}');
      const conditions = blocks(p.conditions).map((c) => body(c.condition_threshold));
      expect(conditions.map((c) => c.filter)).toEqual([`\${local.failed_executions} AND resource.labels.job_name="\${var.${variable}}"`]);
      expect(conditions[0]).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 0 });
    }
  });

  it("the verify alert points at the log fields verify writes", () => {
    const doc = String(body(mon().resources.get('google_monitoring_alert_policy.verify_failed')!.documentation).content);
    expect(verifySource).toContain('difference: d.kind');
    const kinds = [...readFileSync(join(REPO, 'src/backfill/run-verify.ts'), 'utf8').matchAll(/kind: '(\w+)'; object/g), /kind: '(extraInS3)'/.exec(readFileSync(join(REPO, 'src/backfill/run-verify.ts'), 'utf8'))!].map((m) => m[1]!);
    expect(kinds).toEqual(['missingInS3', 'staleInS3', 'mismatched', 'extraInS3']);
    for (const k of kinds) expect(doc).toContain(`\`${k}\``);
    expect(doc).toContain('jsonPayload.difference');
  });

  it('the example watches both jobs of the gcp-replicator module, and their copies count in the metrics', () => {
    const call = byName('examples/complete').modules.get('monitoring')!;
    expect([call.backfill_job_name, call.verify_job_name]).toEqual(['${module.gcp.backfill_job_name}', '${module.gcp.verify_job_name}']);
    expect(String(mon().locals.get('worker_logs'))).toContain('local.job_logs');
    expect(String(mon().locals.get('job_names'))).toMatch(/var\.backfill_job_name, var\.verify_job_name/);
  });
});

describe('inputs are validated where they enter', () => {
  /** The regular expressions a variable's validations apply, as JavaScript sees them (RE2's \p{..} needs the u flag). */
  const patternsOf = (v: Obj): RegExp[] =>
    blocks(v.validation).flatMap((b) => [...String(b.condition).matchAll(/regex\("((?:[^"\\]|\\.)*)",/g)].map((m) => new RegExp(JSON.parse(`"${m[1]!}"`) as string, 'u')));

  it('every input but a bool has a validation, or is passed unchanged to a module input that has one', () => {
    const problems: string[] = [];
    for (const m of modules) {
      for (const [name, v] of m.variables) {
        if (v.type === '${bool}' || blocks(v.validation).length > 0) continue;
        const checkedBy = [...m.modules].flatMap(([, call]) => {
          const child = byName(relative(TERRAFORM, resolve(m.dir, String(call.source))));
          return Object.entries(call).filter(([arg, value]) => value === `\${var.${name}}` && blocks(child.variables.get(arg)?.validation).length > 0);
        });
        if (checkedBy.length === 0) problems.push(`${m.name}: var.${name} has no validation`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every string default, and every value of the example's terraform.tfvars.example, passes the regular expressions that check it", () => {
    const problems: string[] = [];
    for (const m of modules) {
      for (const [name, v] of m.variables) {
        if (typeof v.default !== 'string') continue;
        for (const re of patternsOf(v)) if (!re.test(v.default)) problems.push(`${m.name}: default of var.${name} fails ${re}`);
      }
    }
    const root = byName('examples/complete');
    const example = readFileSync(join(root.dir, 'terraform.tfvars.example'), 'utf8');
    for (const [, name, value] of example.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)) {
      for (const [, call] of root.modules) {
        const child = byName(relative(TERRAFORM, resolve(root.dir, String(call.source))));
        for (const [arg, passed] of Object.entries(call)) {
          if (passed !== `\${var.${name!}}`) continue;
          for (const re of patternsOf(child.variables.get(arg) ?? {})) if (!re.test(value!)) problems.push(`tfvars example ${name} = "${value}" fails ${child.name} var.${arg}: ${re}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // What users type, and the mistakes they make: the regular expressions decide these alone.
  const SAMPLES: Array<[string, string, string[], string[]]> = [
    ['modules/gcp-replicator', 'project', ['my-project', 'example.com:my-project', 'a23456'], ['My Project', '123456789012', 'abcde', 'my-project-']],
    ['modules/gcp-replicator', 'region', ['us-central1', 'europe-west4', 'northamerica-northeast1', 'me-central2'], ['us-central', 'US-CENTRAL1', 'us-east-1', 'global']],
    ['modules/gcp-replicator', 'image', ['us-central1-docker.pkg.dev/p/gcs2s3/gcs2s3:0.1.0', `gcr.io/p/gcs2s3@sha256:${'a'.repeat(64)}`, 'localhost:5000/gcs2s3'], ['', 'gcr.io/p/gcs2s3 latest', 'Gcr.io/p/x']],
    ['modules/gcp-replicator', 'aws_region', ['us-east-1', 'us-gov-west-1', 'cn-north-1', 'ap-southeast-2', 'eusc-de-east-1'], ['us-east', 'useast1', 'US-EAST-1', 'us-central1']],
    ['modules/gcp-replicator', 's3_bucket', ['my-bucket', 'a.b.c'], ['My_Bucket', 'ab', 's3://my-bucket']],
    ['modules/gcp-replicator', 'id_token_audience', ['gcs2s3-aws-sts', 'https://example.com/aud'], ['', 'two words']],
    ['modules/gcp-replicator', 'cpu', ['1', '2', '0.5', '1000m'], ['1 cpu', 'two', '1.']],
    ['modules/gcp-replicator', 'memory', ['512Mi', '1Gi', '2G'], ['1GB', '1024', '1 Gi']],
    ['modules/gcp-replicator', 'backfill_task_timeout', ['86400s', '3600s'], ['24h', '1.5s', '']],
    ['modules/gcp-replicator', 'retry_minimum_backoff', ['10s', '0.5s'], ['10', '1m']],
    ['modules/gcp-replicator', 'labels', ['team', 'cost-center_1', 'équipe'], ['Team', '1team']],
    ['modules/gcp-replicator', 'max_bytes_per_second', ['10M', '512k', '1048576', '1.5MiB', 'off'], ['10 MB/s', 'fast', '-1', '08:00,512k']],
    ['modules/gcp-replicator', 's3_sse_kms_key_id', ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab', 'alias/gcs2s3', '1234abcd-12ab-34cd'], ['two words', '']],
    ['modules/aws-destination', 'kms_key_arn', ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd'], ['arn:aws:kms:us-east-1:123456789012:alias/s3', '1234abcd-12ab']],
    ['modules/monitoring', 'service_name', ['gcs2s3', 'a'], ['Gcs2s3', 'gcs2s3-', '-x']],
    ['modules/monitoring', 'verify_job_name', ['gcs2s3-verify'], ['gcs2s3_verify']],
    ['modules/monitoring', 'subscription_name', ['gcs2s3', 'my.sub~1'], ['projects/p/subscriptions/s', 'ab', '1sub']],
    ['modules/monitoring', 'notification_channels', ['projects/p/notificationChannels/123'], ['123', 'projects/p/notificationChannels/abc']],
    ['modules/monitoring', 'metric_propagation_wait', ['90s', '2m', '1m30s'], ['90', 'soon']],
  ];

  it.each(SAMPLES)('%s var.%s accepts %j and refuses %j', (module, name, good, bad) => {
    const v = byName(module).variables.get(name);
    expect(v, `${module} declares var.${name}`).toBeDefined();
    // The first regular expression: the only one, but for labels (keys, then values).
    const patterns = patternsOf(v!);
    expect(patterns.length).toBeGreaterThanOrEqual(1);
    for (const g of good) expect(patterns[0]!.test(g), `"${g}"`).toBe(true);
    for (const b of bad) expect(patterns[0]!.test(b), `"${b}"`).toBe(false);
  });
});

describe('the example root', () => {
  it('asks only for what it cannot know: the tfvars example sets exactly the required variables', () => {
    const root = byName('examples/complete');
    const required = [...root.variables].filter(([, v]) => !('default' in v)).map(([k]) => k).sort();
    expect(required).toEqual(['aws_region', 'gcp_project', 'gcp_region', 'image', 's3_bucket', 'source_bucket']);
    const example = readFileSync(join(root.dir, 'terraform.tfvars.example'), 'utf8');
    const set = [...example.matchAll(/^(\w+)\s*=/gm)].map((x) => x[1]!).sort();
    expect(set).toEqual(required);
  });

  it('outputs the commands the README tells users to run', () => {
    const outputs = [...byName('examples/complete').outputs.keys()];
    expect(outputs).toEqual(expect.arrayContaining(['aws_role_arn', 'backfill_command', 'verify_command', 'logs_command', 'dashboard_url', 'dead_letter_subscription']));
  });

  it("the README's deploy section sets exactly the required variables, names only real variables and outputs", () => {
    const root = byName('examples/complete');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = /^## Deploy[^\n]*\n([\s\S]*?)^## /m.exec(readme)?.[1];
    expect(section, 'README has a "## Deploy" section').toBeDefined();
    const required = [...root.variables].filter(([, v]) => !('default' in v)).map(([k]) => k).sort();
    const hcl = [...section!.matchAll(/```hcl\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
    expect([...hcl.matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]!).sort()).toEqual(required);
    // Every `name = ...` or `name` in backticks that looks like a variable is one.
    for (const [, name] of section!.matchAll(/`(\w+)(?: = [^`]*)?`/g)) {
      if (/^[a-z]+_[a-z_0-9]+$/.test(name!)) expect(root.variables.has(name!) || root.outputs.has(name!), `${name} is a variable or output`).toBe(true);
    }
    for (const [, name] of section!.matchAll(/terraform output (?:-raw )?(\w+)/g)) expect(root.outputs.has(name!), `output ${name}`).toBe(true);
  });
});
