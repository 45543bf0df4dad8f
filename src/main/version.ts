import { readFileSync } from 'node:fs';

/**
 * The version in package.json. Read at run time, not bundled: src/main (tsx)
 * and dist/main (the image, which copies package.json beside dist/) are both
 * two levels below it.
 */
export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return typeof version === 'string' ? version : 'unknown';
}
