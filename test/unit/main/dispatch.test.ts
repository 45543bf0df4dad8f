import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { VARIABLES } from '../../../src/config/variables.js';
import { main } from '../../../src/main/dispatch.js';
import { EXIT_STATUSES } from '../../../src/main/exit-status.js';

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

  const ok = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'b-ok' };
  it.each<[string[], Record<string, string>, RegExp]>([
    [['copy', 'gs://bkt/o'], { ...ok, S3_STORAGE_CLASS: 'COLD' }, /^gcs2s3 copy: S3_STORAGE_CLASS: must be one of STANDARD, /],
    [['backfill', 'gs://bkt'], { ...ok, S3_SSE_KMS_KEY_ID: 'alias/k' }, /^gcs2s3 backfill: S3_SSE_KMS_KEY_ID: needs S3_SSE=aws:kms/],
    [['pull'], { ...ok, S3_SSE: 'AES256', S3_SSE_KMS_KEY_ID: 'alias/k' }, /^gcs2s3 pull: S3_SSE_KMS_KEY_ID: needs S3_SSE=aws:kms \(S3_SSE is "AES256"\)/],
    [['serve'], { ...ok, MAX_BYTES_PER_SECOND: '10 MB/s' }, /^gcs2s3 serve: MAX_BYTES_PER_SECOND: must be a rate like 10M/],
    [['backfill', 'gs://bkt', '--bwlimit', 'fast'], ok, /^gcs2s3 backfill: --bwlimit: must be a rate like 10M/],
  ])('%j with a bad destination setting: one line naming it, exit 2', async (argv, env, message) => {
    const r = await run(argv, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('checks configuration before any network call', async () => {
    const r = await run(['pull'], { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'b-ok' });
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^gcs2s3 pull: PUBSUB_SUBSCRIPTION: is required for pull/) });
  });

  it.each([['--version'], ['-V']])('%s prints "gcs2s3 <version>" from package.json on stdout, exit 0', async (flag) => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await run([flag])).toEqual({ code: 0, stdout: `gcs2s3 ${version}\n`, stderr: '' });
  });

  it('no command: the usage on stderr (an error), exit 2', async () => {
    const r = await run([]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^Usage: gcs2s3 <command>/);
  });

  it.each([
    [['--verbose'], /^gcs2s3: unknown option "--verbose"/],
    [['backfill', 'gs://bkt', '--concurrency', 'lots'], /^gcs2s3 backfill: --concurrency: must be a whole number/],
    [['verify', 'gs://bkt', '--dry-run'], /^gcs2s3 verify: --dry-run: /],
    [['copy', 'gs://bkt/o', '--include'], /^gcs2s3 copy: --include: /],
  ])('%j: usage error on stderr only, exit 2', async (argv, message) => {
    const r = await run(argv, env);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
  });

  it.each(['copy', 'pull', 'serve', 'backfill', 'verify'] as const)('%s --help lists the variables it reads and the exit statuses', async (name) => {
    const r = await run([name, '--help']);
    for (const v of VARIABLES) expect(new RegExp(`^  ${v.name} `, 'm').test(r.stdout), `${name}: ${v.name}`).toBe(v.readBy.includes(name));
    expect(r.stdout).toMatch(/^Exit status:\n {2}0 {4}success/m);
    for (const code of [0, 1, 2, 130]) expect(r.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });

  it('gcs2s3 --help shows the whole exit-status table; help COMMAND is COMMAND --help', async () => {
    const top = await run(['--help']);
    for (const row of EXIT_STATUSES) expect(top.stdout).toMatch(new RegExp(`^  ${row.code} +\\S`, 'm'));
    expect((await run(['help', 'copy'])).stdout).toBe((await run(['copy', '--help'])).stdout);
  });

  it.each([
    [['copy', 'gs://src-bkt/tmp/x.txt'], { EXCLUDE_PREFIXES: 'tmp/' }, /^gcs2s3 copy: gs:\/\/src-bkt\/tmp\/x\.txt: not copied: object name "tmp\/x\.txt" matches EXCLUDE_PREFIXES "tmp\/"\n$/],
    [['copy', 'gs://other/x.txt'], { SOURCE_BUCKETS: 'src-bkt' }, /not copied: bucket "other" is not in SOURCE_BUCKETS/],
    [['copy', 'gs://src-bkt/x.txt', '--include', 'logs/'], {}, /not copied: object name "x\.txt" matches no INCLUDE_PREFIXES/],
    [['backfill', 'gs://src-bkt/tmp/2024/'], { EXCLUDE_PREFIXES: 'cache/,tmp/' }, /^gcs2s3 backfill: gs:\/\/src-bkt\/tmp\/2024\/: nothing to backfill: every name under "tmp\/2024\/" matches the excluded prefix "tmp\/"/],
    [['verify', 'gs://other'], { SOURCE_BUCKETS: 'src-bkt' }, /^gcs2s3 verify: gs:\/\/other\/: nothing to verify: bucket "other" is not in SOURCE_BUCKETS/],
    [['backfill', 'gs://src-bkt/data/', '--include', 'logs/', '--include', 'img/'], {}, /no name under "data\/" can match the included prefixes \(logs\/, img\/\)/],
  ])('%j with %o: excluded by the filters, one line on stderr, exit 3, before any network call', async (argv, filters, message) => {
    const r = await run(argv, { ...env, ...filters });
    expect(r).toMatchObject({ code: 3, stdout: '' });
    expect(r.stderr).toMatch(message);
  });
});

/** Valid configuration pointing nowhere: any network call would fail, not exit 3. */
const env = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'b-ok', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', STORAGE_EMULATOR_HOST: '127.0.0.1:9' };
