import { readFileSync } from 'node:fs';

/**
 * package.json's `version`, read once at start. Both src/log (tsx, tests) and
 * dist/log (the image, which copies package.json to /app) sit two levels below it.
 */
export const PACKAGE_VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    // A log line must never fail for want of a version.
    return 'unknown';
  }
}
