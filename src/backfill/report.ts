import { constants } from 'node:fs';
import { access, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Checks before any work that a report can be written to `file`: its
 * directory exists and is writable. A report lost at the end of a long run
 * is worse than a usage error at the start.
 */
export async function checkReportPath(file: string): Promise<void> {
  const dir = dirname(resolve(file));
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError('--report', `cannot write to directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Writes `report` as JSON to `file` atomically: to `file.tmp`, then a rename,
 * so a reader (or a rerun) never sees half a report.
 */
export async function writeReport(file: string, report: unknown): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
