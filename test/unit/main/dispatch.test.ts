import { describe, expect, it } from 'vitest';
import { main } from '../../../src/main/dispatch.js';

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env, stdout: (t) => out.push(t), stderr: (t) => err.push(t), signal: new AbortController().signal });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('gcs2s3 command line', () => {
  it('lists every command on --help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['copy', 'pull', 'serve', 'backfill', 'verify', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it.each(['copy', 'pull', 'serve', 'backfill', 'verify', 'demo'])('%s --help prints its usage and exits 0', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: gcs2s3 ${name}`));
  });

  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['copy'], /^gcs2s3 copy: arguments: expected 1 argument, got 0\n$/],
    [['copy', 'gs://bkt/o', '--fast'], /^gcs2s3 copy: --fast: /],
    [['copy', 's3://bkt/o'], /^gcs2s3 copy: gs:\/\/ URL: must be a gs:\/\/ URL/],
    [['copy', 'gs://bkt/o'], /^gcs2s3 copy: AWS_ROLE_ARN: is required/],
    [['pull'], /^gcs2s3 pull: AWS_ROLE_ARN: is required/],
  ])('%j: one line naming the problem, exit 2', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('checks configuration before any network call', async () => {
    const r = await run(['pull'], { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'b-ok' });
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^gcs2s3 pull: PUBSUB_SUBSCRIPTION: is required for pull/) });
  });
});
