/**
 * The bundle's build settings against what the image holds (docs/decisions/bundle.md):
 * every package left external must be in the production node_modules the
 * runtime stage copies, and the tools that bundle must stay out of it. The
 * bundle itself is built and run by test/integration/bundle.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleOptions, EXTERNAL } from '../../../scripts/build.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string>; bin: Record<string, string> };

describe('scripts/build.ts', () => {
  it.each(EXTERNAL)('leaves %s to node_modules, where `npm ci --omit=dev` installs it', (name) => {
    const entry = lock.packages[`node_modules/${name}`];
    expect(entry, `${name} is not in package-lock.json`).toBeDefined();
    expect(entry!.dev ?? false, `${name} is dev-only: the image would lack it`).toBe(false);
  });

  it('bundles with esbuild pinned to the version the lock file holds, as a dev dependency', () => {
    expect(pkg.devDependencies.esbuild).toBe(lock.packages['node_modules/esbuild']?.version);
    expect(lock.packages['node_modules/esbuild']?.dev).toBe(true);
  });

  it('emits lazy ES module chunks for the oldest Node package.json admits, with source maps', () => {
    const options = bundleOptions('/tmp/out');
    expect(options).toMatchObject({ format: 'esm', platform: 'node', splitting: true, bundle: true, sourcemap: 'linked' });
    expect(options.target).toBe(`node${/^>=(\d+)$/.exec(pkg.engines.node)?.[1]}`);
    expect(options.outdir).toBe('/tmp/out/bundle');
    expect(pkg.bin.gcs2s3).toBe('dist/cli.js');
  });
});
