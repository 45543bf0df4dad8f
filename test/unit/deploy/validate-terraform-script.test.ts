/**
 * scripts/validate-terraform.sh, run against a stand-in `terraform` (or
 * `tofu`) that records how it is called: there is no real binary here. What
 * the real one says about the modules is the user's run; what is checked here
 * is that every module and the example get `init -backend=false` and
 * `validate` in a copy outside the repository, `fmt -check -recursive` covers
 * terraform/, and any failure fails the script.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../../support/terraform-files.js';

const SCRIPT = join(REPO, 'scripts/validate-terraform.sh');
/** What the script may call besides terraform/tofu; PATH holds only these, so a terraform installed on this machine cannot interfere. */
const TOOLS = ['bash', 'tar', 'mktemp', 'sed', 'tr', 'dirname', 'rm', 'head', 'grep', 'cat'];

const FAKE = `#!/bin/bash
# Records "<working directory> <arguments>"; fails as FAKE_FAIL asks ("validate:aws-destination", "fmt").
echo "$PWD $*" >> "$FAKE_LOG"
here="\${PWD##*/}"
case "$1" in
  fmt) [[ "\${FAKE_FAIL:-}" == fmt ]] && { echo "terraform/modules/x/main.tf"; exit 3; }; exit 0 ;;
  init) [[ "\${FAKE_FAIL:-}" == "init:$here" ]] && { echo "Error: Failed to query available provider packages"; exit 1; }; echo "Terraform has been successfully initialized!" ;;
  validate) [[ "\${FAKE_FAIL:-}" == "validate:$here" ]] && { echo "Error: Unsupported argument"; exit 1; }; echo "Success! The configuration is valid." ;;
  version) echo "Fake v1.9.0" ;;
esac
`;

let dir: string;
let bin: string;
let log: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'validate-terraform-'));
  bin = join(dir, 'bin');
  log = join(dir, 'calls.log');
  mkdirSync(bin);
  writeFileSync(log, '');
  for (const tool of TOOLS) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found === '') throw new Error(`${tool} is needed by scripts/validate-terraform.sh`);
    symlinkSync(found, join(bin, tool));
  }
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function install(name: 'terraform' | 'tofu'): void {
  writeFileSync(join(bin, name), FAKE);
  chmodSync(join(bin, name), 0o755);
}

function run(env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; calls: string[] } {
  const r = spawnSync(join(bin, 'bash'), [SCRIPT], { cwd: REPO, encoding: 'utf8', env: { PATH: bin, FAKE_LOG: log, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
}

/** In the order validated: the modules, then the example that uses them. */
const CONFIGURATIONS = ['terraform/modules/aws-destination', 'terraform/modules/gcp-replicator', 'terraform/modules/monitoring', 'terraform/examples/complete'];

describe('scripts/validate-terraform.sh', () => {
  it('names both binaries and exits 2 when neither terraform nor tofu is on PATH', () => {
    const r = run();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/neither terraform nor tofu is on PATH/);
  });

  it.each(['terraform', 'tofu'] as const)('with %s: fmt -check over terraform/, then init -backend=false and validate of every module and the example, each in a copy', (name) => {
    install(name);
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls[0]).toBe(`${REPO.replace(/\/$/, '')} fmt -check -recursive -diff ${join(REPO, 'terraform')}`);
    const perDir = r.calls.filter((c) => / (init|validate) /.test(`${c} `));
    const validated = perDir.map((c) => {
      const [cwd, ...args] = c.split(' ');
      const at = cwd!.indexOf('/terraform/');
      // Run in a temporary copy, never in the repository itself.
      expect(cwd!.startsWith(REPO)).toBe(false);
      return `${cwd!.slice(at + 1)} ${args.join(' ')}`;
    });
    expect(validated).toEqual(CONFIGURATIONS.flatMap((c) => [`${c} init -backend=false -input=false -no-color`, `${c} validate -no-color`]));
    for (const c of CONFIGURATIONS) expect(r.stdout).toContain(`ok    ${c}`);
    expect(r.stdout).toMatch(/4 configurations valid with Fake v1\.9\.0/);
  });

  it.each([
    ['validate:aws-destination', 'terraform/modules/aws-destination: terraform validate', 'Unsupported argument'],
    ['init:complete', 'terraform/examples/complete: terraform init -backend=false', 'Failed to query available provider packages'],
    ['fmt', 'terraform fmt: run `terraform fmt -recursive terraform`', 'terraform/modules/x/main.tf'],
  ])('fails (exit 1) when %s fails, showing its output', (failure, what, output) => {
    install('terraform');
    const r = run({ FAKE_FAIL: failure });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`FAIL  ${what}`);
    expect(r.stderr).toContain(output);
    expect(r.stderr).toMatch(/1 check\(s\) failed/);
    // One failure does not stop the others from being checked.
    expect(r.calls.filter((c) => c.includes(' validate ') || c.endsWith(' validate -no-color')).length).toBeGreaterThanOrEqual(3);
  });
});
