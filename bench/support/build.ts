import { copyFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildBundle } from '../../scripts/build.js';
import { ROOT } from './env.js';
import { startProcess } from './processes.js';

/**
 * Compiles src/ and bench/ with tsc into bench/.build (bench/tsconfig.build.json),
 * for the bench's own children (transfer, backfill-plan ...), and bundles the
 * CLI with scripts/build.ts into bench/.build/dist beside a copy of package.json:
 * the layout of the image (/app/package.json, /app/dist/cli.js), so every
 * whole-process measurement runs the product as shipped. Its own folder (not
 * dist/) so a concurrent `npm run build` cannot swap files mid-run.
 * tsc emits even when the types are wrong; a src/ mid-edit by someone else is
 * reported, not fatal, as long as the files came out.
 */
export async function buildBench(log: (line: string) => void): Promise<void> {
  rmSync(resolve(ROOT, 'bench/.build'), { recursive: true, force: true });
  const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await startProcess(process.execPath, [tsc, '-p', 'bench/tsconfig.build.json'], {
    env: { ...process.env } as Record<string, string>,
    timeoutMs: 180_000,
    label: 'tsc (bench build)',
  }).finished;
  if (result.code !== 0) log(`warning: tsc reported errors (files were still emitted):\n${result.stdout.trim().split('\n').slice(0, 10).join('\n')}`);
  copyFileSync(resolve(ROOT, 'package.json'), resolve(ROOT, 'bench/.build/package.json'));
  await buildBundle(resolve(ROOT, 'bench/.build/dist'));
}

/** Where a compiled file lands: `compiled('src/cli.ts')`. */
export function compiled(path: string): string {
  return resolve(ROOT, 'bench/.build', path.replace(/\.ts$/, '.js'));
}

/**
 * The `gcs2s3` every whole-process measurement starts: the bundle, as the image
 * ships it. BENCH_CLI=tsc runs tsc's per-file output instead (bench/.build/src),
 * to measure what bundling buys (docs/decisions/bundle.md).
 */
export function gcs2s3Cli(): string {
  return process.env.BENCH_CLI === 'tsc' ? compiled('src/cli.ts') : resolve(ROOT, 'bench/.build/dist/cli.js');
}
