/**
 * terraform/ checked against the real providers' schemas
 * (test/fixtures/terraform-schema: `tofu providers schema -json` of the
 * google, aws and time providers), offline: what `terraform validate` would
 * refuse about resource types, arguments and blocks is refused here too. On a
 * machine with Terraform or OpenTofu, scripts/validate-terraform.sh runs the
 * real thing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHcl } from '../../support/hcl.js';
import { REPO, terraformModules, type ModuleFiles } from '../../support/terraform-files.js';
import { checkModule, formatFinding, requiredProviders, type Finding, type ProvidersSchema } from '../../support/terraform-schema.js';
import { admits, fixtureVersions, hasUpperBound } from '../../support/version-constraints.js';

const FIXTURE = join(REPO, 'test/fixtures/terraform-schema');
const schema = JSON.parse(readFileSync(join(FIXTURE, 'providers-schema.json'), 'utf8')) as ProvidersSchema;
const modules = terraformModules();
const byDir = (dir: string): ModuleFiles => {
  const m = modules.find((x) => x.dir === dir);
  if (m === undefined) throw new Error(`no Terraform module ${dir}`);
  return m;
};

/** The provider versions the schema fixture was made from, as its README's table says: hashicorp/aws -> 5.46.0. */
const fixture = fixtureVersions(readFileSync(join(FIXTURE, 'README.md'), 'utf8'));

describe('terraform/ against the providers\u2019 schemas', () => {
  it('finds every module and the example', () => {
    expect(modules.map((m) => m.dir)).toEqual(
      expect.arrayContaining(['terraform/examples/complete', 'terraform/modules/aws-destination', 'terraform/modules/gcp-replicator', 'terraform/modules/monitoring']),
    );
  });

  it.each(modules.map((m) => [m.dir, m] as const))('%s: every resource, data source, provider, argument and block is valid (no warnings either)', async (_dir, m) => {
    const findings = await checkModule(m.files, schema);
    expect(findings.map(formatFinding)).toEqual([]);
  });
});

describe('provider version constraints', () => {
  const constraints = async (m: ModuleFiles): Promise<Map<string, { source: string; version?: string }>> =>
    requiredProviders(await Promise.all([...m.files].map(([file, text]) => parseHcl(file, text))));

  it('the fixture names a version for each provider', () => {
    expect([...fixture.keys()].sort()).toEqual(['hashicorp/aws', 'hashicorp/google', 'hashicorp/time']);
  });

  // The schema test above is only as good as the fixture's versions: a range
  // that stops admitting them (a raised minimum, say) means the modules are
  // checked against providers no user can install. Refresh the fixture first.
  it.each(modules.map((m) => [m.dir, m] as const))('%s: every provider has a bounded range that admits the fixture\u2019s version', async (dir, m) => {
    const problems: string[] = [];
    for (const [name, { source, version }] of await constraints(m)) {
      const tested = fixture.get(source.toLowerCase().split('/').slice(-2).join('/'));
      if (version === undefined) problems.push(`${dir}: ${name} has no version constraint`);
      else if (tested === undefined) problems.push(`${dir}: ${name} (${source}) has no schema in test/fixtures/terraform-schema: add it there`);
      else {
        if (!hasUpperBound(version)) problems.push(`${dir}: ${name} "${version}" has no upper bound: a new major version would be installed untested`);
        if (!admits(version, tested)) {
          problems.push(`${dir}: ${name} "${version}" does not admit ${tested}, the version test/fixtures/terraform-schema was made from: refresh the fixture (see its README) with a version the range admits`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every module and the example ask for the same range of each provider', async () => {
    const ranges = new Map<string, Set<string>>();
    for (const m of modules) {
      for (const [name, { version }] of await constraints(m)) ranges.set(name, new Set([...(ranges.get(name) ?? []), version ?? '']));
    }
    expect(Object.fromEntries([...ranges].map(([name, set]) => [name, [...set]]))).toEqual({
      aws: ['>= 5.46, < 6.0'],
      google: ['>= 6.0, < 8.0'],
      time: ['>= 0.9, < 1.0'],
    });
  });
});

/** One file of a real module changed in memory; `from` must occur once after `anchor`, so a drifting module fails loudly. */
function broken(dir: string, file: string, anchor: string, from: string, to: string): { files: Map<string, string>; path: string; text: string } {
  const m = byDir(dir);
  const path = `${dir}/${file}`;
  const original = m.files.get(path);
  if (original === undefined) throw new Error(`no ${path}`);
  const start = original.indexOf(anchor);
  if (start < 0) throw new Error(`${path} has no "${anchor}"`);
  const at = original.indexOf(from, start);
  if (at < 0) throw new Error(`${path} has no "${from}" after "${anchor}"`);
  const text = original.slice(0, at) + to + original.slice(at + from.length);
  return { files: new Map([...m.files, [path, text]]), path, text };
}

/** 1-based line of the first occurrence of `marker` at or after `anchor`. */
function lineOf(text: string, anchor: string, marker: string): number {
  const at = text.indexOf(marker, text.indexOf(anchor));
  if (at < 0) throw new Error(`no "${marker}" after "${anchor}"`);
  return text.slice(0, at).split('\n').length;
}

interface BrokenCase {
  what: string;
  dir: string;
  file: string;
  anchor: string;
  from: string;
  to: string;
  address: string;
  path: string;
  message: RegExp;
  /** Text whose line the finding must point at (after the anchor); default: the anchor, i.e. the resource's header. */
  at?: string;
  /** Other findings the same mistake makes (a misspelled required argument is also a missing one). */
  also?: RegExp[];
}

const GCP = 'terraform/modules/gcp-replicator';
const AWS = 'terraform/modules/aws-destination';
const MONITORING = 'terraform/modules/monitoring';

const CASES: BrokenCase[] = [
  {
    what: 'a misspelled argument',
    dir: GCP,
    file: 'pubsub.tf',
    anchor: 'resource "google_pubsub_subscription" "pull"',
    from: 'ack_deadline_seconds       = var',
    to: 'ack_deadline_secs          = var',
    address: 'google_pubsub_subscription.pull',
    path: 'ack_deadline_secs',
    message: /no argument or block "ack_deadline_secs" is expected here; did you mean "ack_deadline_seconds"/,
    at: 'ack_deadline_secs',
  },
  {
    what: 'a block nested one level too deep',
    dir: AWS,
    file: 'main.tf',
    anchor: 'resource "aws_s3_bucket_lifecycle_configuration" "destination"',
    from: '      prefix = var.key_prefix\n    }\n    abort_incomplete_multipart_upload {\n      days_after_initiation = var.abort_incomplete_multipart_upload_days\n    }',
    to: '      prefix = var.key_prefix\n      abort_incomplete_multipart_upload {\n        days_after_initiation = var.abort_incomplete_multipart_upload_days\n      }\n    }',
    address: 'aws_s3_bucket_lifecycle_configuration.destination',
    path: 'rule.filter.abort_incomplete_multipart_upload',
    message: /it belongs at rule\.abort_incomplete_multipart_upload/,
    at: '      abort_incomplete_multipart_upload {',
  },
  {
    what: 'a missing required argument',
    dir: GCP,
    file: 'pubsub.tf',
    anchor: 'resource "google_storage_notification" "source"',
    from: '  topic          = google_pubsub_topic.notifications.id\n',
    to: '',
    address: 'google_storage_notification.source',
    path: 'topic',
    message: /required argument "topic" is missing/,
  },
  {
    what: 'a computed-only argument set',
    dir: GCP,
    file: 'main.tf',
    anchor: 'resource "google_service_account" "worker"',
    from: '  project      = var.project\n',
    to: '  project      = var.project\n  unique_id    = "123456789012345678901"\n',
    address: 'google_service_account.worker',
    path: 'unique_id',
    message: /"unique_id" is computed by the provider \(read-only\)/,
    at: 'unique_id',
  },
  {
    what: 'a computed-only argument set in a nested block',
    dir: MONITORING,
    file: 'main.tf',
    anchor: 'resource "google_monitoring_alert_policy" "failures"',
    from: '    display_name = "Permanent failures (service)"\n',
    to: '    display_name = "Permanent failures (service)"\n    name         = "projects/p/alertPolicies/1/conditions/2"\n',
    address: 'google_monitoring_alert_policy.failures',
    path: 'conditions.name',
    message: /"name" is computed by the provider \(read-only\)/,
    at: 'name         = "projects/p',
  },
  {
    what: 'a misspelled argument in a dynamic block\u2019s content (checked as the block it generates)',
    dir: GCP,
    file: 'run.tf',
    anchor: 'resource "google_cloud_run_v2_service" "worker"',
    from: '          name  = env.key',
    to: '          nmae  = env.key',
    address: 'google_cloud_run_v2_service.worker',
    path: 'template.containers.env.nmae',
    message: /did you mean "name"/,
    at: 'nmae',
    also: [/required argument "name" is missing/],
  },
  {
    what: 'a dynamic block of a block type that does not exist',
    dir: MONITORING,
    file: 'main.tf',
    anchor: 'resource "google_monitoring_alert_policy" "failures"',
    from: 'dynamic "conditions" {',
    to: 'dynamic "condition" {',
    address: 'google_monitoring_alert_policy.failures',
    path: 'condition',
    message: /no block "condition" is expected here; did you mean "conditions"/,
    at: 'dynamic "condition" {',
  },
  {
    what: 'a block given twice where the schema allows one',
    dir: GCP,
    file: 'pubsub.tf',
    anchor: 'resource "google_pubsub_subscription" "pull"',
    from: '  retry_policy {',
    to: '  retry_policy {\n    minimum_backoff = "1s"\n  }\n  retry_policy {',
    address: 'google_pubsub_subscription.pull',
    path: 'retry_policy',
    message: /at most 1 "retry_policy" block allowed, found 2/,
    at: '  retry_policy {\n    minimum_backoff = var.retry_minimum_backoff',
  },
  {
    what: 'a block written as an argument',
    dir: GCP,
    file: 'pubsub.tf',
    anchor: 'resource "google_pubsub_subscription" "dead_letter"',
    from: '  expiration_policy {\n    ttl = ""\n  }',
    to: '  expiration_policy = {\n    ttl = ""\n  }',
    address: 'google_pubsub_subscription.dead_letter',
    path: 'expiration_policy',
    message: /"expiration_policy" is a block: write expiration_policy \{ \.\.\. \}/,
    at: 'expiration_policy = {',
  },
  {
    what: 'a resource type the provider does not have',
    dir: GCP,
    file: 'pubsub.tf',
    anchor: 'resource "google_pubsub_topic" "dead_letter"',
    from: 'resource "google_pubsub_topic" "dead_letter"',
    to: 'resource "google_pubsub_topics" "dead_letter"',
    address: 'google_pubsub_topics.dead_letter',
    path: '',
    message: /hashicorp\/google has no resource type "google_pubsub_topics"/,
  },
  {
    what: 'a misspelled lifecycle block',
    dir: GCP,
    file: 'run.tf',
    anchor: 'resource "google_cloud_run_v2_service" "worker"',
    from: '    precondition {\n      condition     = var.mode',
    to: '    preconditon {\n      condition     = var.mode',
    address: 'google_cloud_run_v2_service.worker',
    path: 'lifecycle.preconditon',
    message: /did you mean "precondition"/,
    at: 'preconditon',
  },
];

describe('deliberately broken copies of the modules are refused, naming file, address, argument and line', () => {
  it.each(CASES.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const { files, path, text } = broken(c.dir, c.file, c.anchor, c.from, c.to);
    const findings = await checkModule(files, schema);
    const anchor = c.anchor.replace('"google_pubsub_topic" "dead_letter"', '"google_pubsub_topics" "dead_letter"');
    const expected: Partial<Finding> = { file: path, address: c.address, path: c.path, severity: 'error', line: lineOf(text, anchor, c.at ?? anchor) };
    expect(findings.filter((f) => c.message.test(f.message)), findings.map(formatFinding).join('\n')).toEqual([expect.objectContaining(expected)]);
    // Nothing else is reported: the checker names the one thing that is wrong.
    const others = findings.filter((f) => !c.message.test(f.message));
    expect(others.map(formatFinding)).toEqual((c.also ?? []).map((re) => expect.stringMatching(re)));
  });
});
