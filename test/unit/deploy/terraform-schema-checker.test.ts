/**
 * The offline schema checker (test/support/terraform-schema.ts), its line
 * finder and the version-constraint reader, on small made-up schemas and
 * configurations: each rule alone, so a failure in terraform-schema.test.ts
 * can be trusted to be the configuration's and not the checker's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineDepths, locate } from '../../support/hcl-lines.js';
import { REPO } from '../../support/terraform-files.js';
import { checkModule, formatFinding, type ProvidersSchema } from '../../support/terraform-schema.js';
import { admits, fixtureVersions, hasUpperBound, parseConstraint } from '../../support/version-constraints.js';

const schema: ProvidersSchema = {
  format_version: '1.0',
  provider_schemas: {
    'registry.opentofu.org/hashicorp/demo': {
      provider: { block: { attributes: { region: { type: 'string', optional: true } } } },
      resource_schemas: {
        demo_thing: {
          block: {
            attributes: {
              name: { type: 'string', required: true },
              id: { type: 'string', computed: true },
              tags_all: { type: ['map', 'string'], optional: true, computed: true },
              labels: { type: ['map', 'string'], optional: true },
              old: { type: 'string', optional: true, deprecated: true },
              rules: { type: ['list', ['object', { a: 'string' }]], optional: true },
            },
            block_types: {
              spec: {
                nesting_mode: 'list',
                min_items: 1,
                max_items: 1,
                block: {
                  attributes: { size: { type: 'number', optional: true } },
                  block_types: { port: { nesting_mode: 'list', block: { attributes: { number: { type: 'number', required: true } } } } },
                },
              },
              extra: { nesting_mode: 'set', block: { attributes: { key: { type: 'string', required: true } } } },
              named: { nesting_mode: 'map', block: { attributes: { v: { type: 'string', optional: true } } } },
              settings: { nesting_mode: 'single', block: { attributes: { on: { type: 'bool', optional: true } } } },
            },
          },
        },
      },
      data_source_schemas: { demo_info: { block: { attributes: { id: { type: 'string', computed: true }, filter: { type: 'string', optional: true } } } } },
    },
  },
};

const check = async (text: string): Promise<string[]> => (await checkModule(new Map([['main.tf', text]]), schema)).map(formatFinding);

describe('checkModule on a made-up provider', () => {
  it('accepts meta-arguments, lifecycle, dynamic blocks, attributes written as blocks and labelled map blocks', async () => {
    const text = `
resource "demo_thing" "a" {
  count      = 2
  provider   = demo.west
  name       = "a-\${count.index}"
  tags_all   = {}
  depends_on = [demo_thing.b]
  spec {
    size = 1
    dynamic "port" {
      for_each = [80, 443]
      iterator = p
      content {
        number = p.value
      }
    }
  }
  rules {
    a = "x"
  }
  named "first" {
    v = "1"
  }
  lifecycle {
    create_before_destroy = true
    ignore_changes        = [labels]
    precondition {
      condition     = true
      error_message = "never"
    }
  }
}

resource "demo_thing" "b" {
  for_each = toset(["x"])
  name     = each.key
  dynamic "spec" {
    for_each = [1]
    content {}
  }
}

data "demo_info" "c" {
  filter = "x"
  lifecycle {
    postcondition {
      condition     = self.id != ""
      error_message = "no id"
    }
  }
}

provider "demo" {
  alias  = "west"
  region = "west"
}
`;
    expect(await check(text)).toEqual([]);
  });

  it.each([
    ['an unknown argument, with the closest name', 'resource "demo_thing" "a" {\n  name = "a"\n  nmae = "b"\n  spec {}\n}\n', ['main.tf:3: error: demo_thing.a: nmae: no argument or block "nmae" is expected here; did you mean "name"?']],
    ['a missing required argument, at the block that lacks it', 'resource "demo_thing" "a" {\n  spec {}\n}\n', ['main.tf:1: error: demo_thing.a: name: required argument "name" is missing']],
    ['a missing required block (min_items)', 'resource "demo_thing" "a" {\n  name = "a"\n}\n', ['main.tf:1: error: demo_thing.a: spec: at least 1 "spec" block required, found 0']],
    ['too many blocks (max_items)', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {}\n  spec {}\n}\n', ['main.tf:4: error: demo_thing.a: spec: at most 1 "spec" block allowed, found 2']],
    ['a second single-nested block', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {}\n  settings {}\n  settings {}\n}\n', ['main.tf:5: error: demo_thing.a: settings: at most 1 "settings" block allowed, found 2']],
    ['a computed-only attribute set', 'resource "demo_thing" "a" {\n  name = "a"\n  id   = "x"\n  spec {}\n}\n', ['main.tf:3: error: demo_thing.a: id: "id" is computed by the provider (read-only): it cannot be set']],
    ['a deprecated attribute, as a warning', 'resource "demo_thing" "a" {\n  name = "a"\n  old  = "x"\n  spec {}\n}\n', ['main.tf:3: warning: demo_thing.a: old: "old" is deprecated']],
    ['a map argument written as a block', 'resource "demo_thing" "a" {\n  name = "a"\n  labels {\n    a = "b"\n  }\n  spec {}\n}\n', ['main.tf:3: error: demo_thing.a: labels: "labels" is an argument: write labels = ..., not a labels { } block']],
    ['a block written as an argument', 'resource "demo_thing" "a" {\n  name = "a"\n  spec = {}\n}\n', ['main.tf:3: error: demo_thing.a: spec: "spec" is a block: write spec { ... } (or dynamic "spec"), not spec = ...']],
    ['a labelled block that takes no label', 'resource "demo_thing" "a" {\n  name = "a"\n  spec "x" {}\n}\n', ['main.tf:3: error: demo_thing.a: spec: block "spec" takes no label']],
    ['a map block without its label', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {}\n  named {}\n}\n', ['main.tf:4: error: demo_thing.a: named: "named" is a block with a label: write named "KEY" { ... }']],
    ['count and for_each together', 'resource "demo_thing" "a" {\n  count    = 1\n  for_each = {}\n  name     = "a"\n  spec {}\n}\n', ['main.tf:3: error: demo_thing.a: for_each: "count" and "for_each" cannot both be set']],
    ['a nested argument in the wrong block, with where it belongs', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {\n    key = "x"\n  }\n}\n', ['main.tf:4: error: demo_thing.a: spec.key: no argument or block "key" is expected here; it belongs at extra.key']],
    ['an error inside a dynamic block\u2019s content, and a dynamic block missing its content', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {\n    dynamic "port" {\n      for_each = [1]\n      content {\n        numbr = 1\n      }\n    }\n    dynamic "port" {\n      for_each = [1]\n    }\n  }\n}\n', [
      'main.tf:6: error: demo_thing.a: spec.port.number: required argument "number" is missing',
      'main.tf:7: error: demo_thing.a: spec.port.numbr: no argument or block "numbr" is expected here; did you mean "number"?',
      'main.tf:10: error: demo_thing.a: spec.port: dynamic "port" needs a content block',
    ]],
    ['a dynamic block of an argument, and an unknown key in a dynamic block', 'resource "demo_thing" "a" {\n  name = "a"\n  spec {}\n  dynamic "labels" {\n    for_each = {}\n    content {}\n  }\n  dynamic "extra" {\n    for_each = []\n    itertor  = e\n    content {\n      key = e.value\n    }\n  }\n}\n', [
      'main.tf:4: error: demo_thing.a: labels: "labels" is an argument: a dynamic block can only generate blocks',
      'main.tf:10: error: demo_thing.a: extra.itertor: no argument or block "itertor" is expected in a dynamic block (for_each, iterator, labels, content)',
    ]],
    ['an unknown data source argument and a misspelled lifecycle argument', 'data "demo_info" "c" {\n  filtr = "x"\n}\n\nresource "demo_thing" "a" {\n  name = "a"\n  spec {}\n  lifecycle {\n    ignore_change = []\n  }\n}\n', [
      'main.tf:2: error: data.demo_info.c: filtr: no argument or block "filtr" is expected here; did you mean "filter"?',
      'main.tf:9: error: demo_thing.a: lifecycle.ignore_change: no argument or block "ignore_change" is expected here; did you mean "ignore_changes"?',
    ]],
    ['unknown types and providers', 'resource "demo_thingy" "a" {}\ndata "demo_inf" "b" {}\nresource "random_id" "c" {}\n', [
      'main.tf:1: error: demo_thingy.a: hashicorp/demo has no resource type "demo_thingy"',
      'main.tf:2: error: data.demo_inf.b: hashicorp/demo has no data source "demo_inf"',
      'main.tf:3: error: random_id.c: provider "random" (hashicorp/random) is not in the schema fixture',
    ]],
    ['provider, variable and output blocks', 'provider "demo" {\n  regin = "x"\n}\n\nvariable "v" {\n  descripton = "x"\n  validation {\n    condition = true\n  }\n}\n\noutput "o" {\n  description = "x"\n}\n', [
      'main.tf:2: error: provider.demo: regin: no argument or block "regin" is expected here; did you mean "region"?',
      'main.tf:6: error: var.v: descripton: no argument or block "descripton" is expected here; did you mean "description"?',
      'main.tf:7: error: var.v: validation.error_message: required argument "error_message" is missing',
      'main.tf:12: error: output.o: value: required argument "value" is missing',
    ]],
    ['a file that does not parse, at the parser\u2019s line', 'resource "demo_thing" "a" {\n  name = "a"\n  name = "b"\n}\n', [expect.stringMatching(/^main\.tf:3: error: : does not parse: .*Attribute redefined/)]],
  ])('reports %s', async (_what, text, expected) => {
    expect(await check(text)).toEqual(expected);
  });

  it('reads the provider from required_providers, with any registry host in the schema', async () => {
    const text = 'terraform {\n  required_providers {\n    thing = {\n      source = "hashicorp/demo"\n    }\n  }\n}\n\nresource "thing_x" "a" {\n  provider = thing\n}\n';
    expect(await check(text)).toEqual(['main.tf:9: error: thing_x.a: hashicorp/demo has no resource type "thing_x"']);
  });
});

describe('locating a path in the text', () => {
  const text = [
    'locals {', //                                          1
    '  s = "{ not a brace ${jsonencode({ a = 1 })}"', //     2
    '  h = <<-EOT', //                                       3
    '    { unbalanced', //                                   4
    '  EOT', //                                              5
    '  # { comment', //                                      6
    '}', //                                                  7
    'resource "t" "n" {', //                                 8
    '  a = 1', //                                            9
    '  b {', //                                              10
    '    a = 2 // }', //                                     11
    '  }', //                                                12
    '  b {', //                                              13
    '    c {', //                                            14
    '      a = 3', //                                        15
    '    }', //                                              16
    '  }', //                                                17
    '  dynamic "d" {', //                                    18
    '    content {', //                                      19
    '      a = 4', //                                        20
    '    }', //                                              21
    '  }', //                                                22
    '}', //                                                  23
  ].join('\n');

  it('counts braces outside strings, templates, heredocs and comments', () => {
    expect(lineDepths(text)).toEqual([0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 2, 2, 1, 2, 3, 3, 2, 1, 2, 3, 3, 2, 1]);
  });

  it.each([
    [[], 8],
    [[{ kind: 'argument', name: 'a' }], 9],
    [[{ kind: 'block', name: 'b', index: 0 }, { kind: 'argument', name: 'a' }], 11],
    [[{ kind: 'block', name: 'b', index: 1 }, { kind: 'block', name: 'c', index: 0 }, { kind: 'argument', name: 'a' }], 15],
    [[{ kind: 'dynamic', name: 'd', index: 0 }, { kind: 'content' }, { kind: 'argument', name: 'a' }], 20],
    // Not found: the deepest step that was.
    [[{ kind: 'block', name: 'b', index: 1 }, { kind: 'argument', name: 'missing' }], 13],
  ] as const)('%j is on line %i', (path, line) => {
    expect(locate(text, ['resource', 't', 'n'], path)).toBe(line);
  });
});

describe('version constraints', () => {
  it.each([
    ['>= 5.46, < 7.0', '5.46.0', true],
    ['>= 5.46, < 7.0', '6.99.1', true],
    ['>= 5.46, < 7.0', '7.0.0', false],
    ['>= 5.46, < 7.0', '5.45.9', false],
    ['>= 5.60', '5.46.0', false],
    ['~> 6.0', '6.47.0', true],
    ['~> 6.0', '7.0.0', false],
    ['~> 6.0.1', '6.0.9', true],
    ['~> 6.0.1', '6.1.0', false],
    ['~> 1', '1.9.0', true],
    ['1.2.3', '1.2.3', true],
    ['= 1.2', '1.2.1', false],
    ['!= 7.1.0, >= 7', '7.1.0', false],
    ['>= 0.9, < 1.0', '0.14.0', true],
  ])('%s admits %s: %s', (constraint, version, expected) => {
    expect(admits(constraint, version)).toBe(expected);
  });

  it('knows an upper bound when it sees one', () => {
    expect(['>= 6.0', '> 1, != 2.0'].map(hasUpperBound)).toEqual([false, false]);
    expect(['>= 6.0, < 8.0', '~> 6.0', '= 1.0.0', '1.0.0', '<= 2'].map(hasUpperBound)).toEqual([true, true, true, true, true]);
  });

  it('refuses what Terraform would not read', () => {
    expect(() => parseConstraint('>= 6.x')).toThrow(/not a version constraint/);
    expect(() => parseConstraint('^1.0')).toThrow(/not a version constraint/);
  });

  it("reads the fixture README's table of provider versions (the aws pre-release as 5.46.0)", () => {
    const readme = readFileSync(join(REPO, 'test/fixtures/terraform-schema/README.md'), 'utf8');
    expect(Object.fromEntries(fixtureVersions(readme))).toEqual({ 'hashicorp/google': '7.45.0', 'hashicorp/time': '0.14.0', 'hashicorp/aws': '5.46.0' });
  });
});
