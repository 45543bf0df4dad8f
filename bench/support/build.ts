import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './env.js';
import { startProcess } from './processes.js';

/**
 * Compiles src/ and bench/ with tsc into bench/.build (bench/tsconfig.build.json):
 * children run there under plain `node`, as the product runs from dist/.
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
}

/** Where a compiled file lands: `compiled('src/cli.ts')`. */
export function compiled(path: string): string {
  return resolve(ROOT, 'bench/.build', path.replace(/\.ts$/, '.js'));
}
