/**
 * The bundle the image ships (scripts/build.ts, docs/decisions/bundle.md), run
 * as the image runs it: package.json, node_modules (for the packages left
 * external) and dist/ side by side in a folder of its own, `node dist/cli.js`.
 * Every other test runs src/ through tsx; this one fails when bundling breaks
 * what tsx does not see (a dependency reading its own files, a lazy chunk, the
 * version lookup, the externals).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../scripts/build.js';
import { createTestSubscription, pubsubClient } from '../support/pubsub.js';
import { adminS3, deleteS3Prefix, gcsClient, headS3, readS3, ROOT, stackEnv, uniquePrefix, uploadToGcs, useStackEnv } from '../support/stack.js';

let app: string;
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let pubsub: PubSub;
let prefix: string;
const cleanups: Array<() => Promise<unknown>> = [];
const children = new Set<ReturnType<typeof spawn>>();

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'gcs2s3-bundle-'));
  copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  await buildBundle(join(app, 'dist'));
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  pubsub = pubsubClient();
  prefix = uniquePrefix('bundle');
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (s3 !== undefined) await deleteS3Prefix(s3, env.S3_BUCKET!, prefix).catch(() => undefined);
  await pubsub?.close();
  s3?.destroy();
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js ARGS` in the bundle's folder, with exactly `vars` as its environment (plus PATH). */
function startBundle(args: string[], vars: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: app, env: { PATH: process.env.PATH ?? '', ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done, output: () => stdout + stderr };
}

const runBundle = (args: string[], vars?: Record<string, string>): Promise<Run> => startBundle(args, vars).done;

async function waitForS3Generation(key: string, generation: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await headS3(s3, env.S3_BUCKET!, key))?.Metadata?.['gcs-generation'] !== generation) {
    if (Date.now() > deadline) throw new Error(`${key} generation ${generation} never reached S3; worker output:\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the bundled CLI (dist/cli.js as the image runs it)', () => {
  it('is a few files of bundled JavaScript with source maps back to src/', () => {
    const files = readdirSync(join(app, 'dist/bundle'));
    expect(files).toContain('cli.js');
    const map = JSON.parse(readFileSync(join(app, 'dist/bundle/cli.js.map'), 'utf8')) as { sources: string[] };
    // Relative to the map; the image's stack traces then name src/ files and lines.
    expect(map.sources.map((s) => resolve(app, 'dist/bundle', s))).toContain(join(ROOT, 'src/cli.ts'));
    // No copy of a dependency's files beside the bundle: they are either inside it or external.
    expect(files.filter((f) => !/\.js(\.map|\.LEGAL\.txt)?$/.test(f))).toEqual([]);
  });

  it('prints the version from package.json and the usage', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runBundle(['--version'])).toMatchObject({ code: 0, stdout: `gcs2s3 ${version}\n` });
    const help = await runBundle(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gcs2s3 <command>');
    for (const command of ['copy', 'pull', 'serve', 'backfill', 'verify', 'demo']) {
      const run = await runBundle([command, '--help']);
      expect(run.code, `${command} --help: ${run.stderr}`).toBe(0);
      expect(run.stdout).toContain(`Usage: gcs2s3 ${command}`);
    }
  });

  it('copies one object to S3: bytes, headers and provenance read back', async () => {
    const name = `${prefix}copied/report.csv`;
    const bytes = randomBytes(300_000);
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes, { contentType: 'text/csv', metadata: { owner: 'bundle-test' } });
    const run = await runBundle(['copy', `gs://${env.GCS_BUCKET}/${name}`], { ...stackEnv(), PART_SIZE_MIB: '5' });
    expect(run.code, run.stderr).toBe(0);
    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, name);
    expect(got.equals(bytes)).toBe(true);
    expect(out.ContentType).toBe('text/csv');
    expect(out.Metadata).toMatchObject({ owner: 'bundle-test', 'gcs-bucket': env.GCS_BUCKET, 'gcs-generation': generation });
    // Log lines carry package.json's version, found from the bundle's own folder.
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout + run.stderr).toContain(`"gcs2s3.version":"${version}"`);
    // src/cli.ts drops the storage library's bounded-listeners warning by the emitter's class
    // name; bundling renames colliding classes, which would bring the warning back.
    expect(run.stderr).not.toContain('MaxListenersExceededWarning');
  });

  it('runs the pull worker (Pub/Sub, left external) until SIGTERM, copying what is uploaded', async () => {
    const sub = await createTestSubscription(pubsub, env.PUBSUB_TOPIC!);
    cleanups.push(() => sub.delete());
    const worker = startBundle(['pull'], { ...stackEnv(), PUBSUB_SUBSCRIPTION: sub.name, INCLUDE_PREFIXES: `${prefix}pulled/` });
    const name = `${prefix}pulled/hello.bin`;
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, randomBytes(4096));
    await waitForS3Generation(name, generation, 60_000, worker.output);
    worker.child.kill('SIGTERM');
    const run = await worker.done;
    expect(run.code, run.stderr).toBe(0);
  });
});
