import { readFileSync } from 'node:fs';

/**
 * Reads a `KEY=value` file such as `.local-stack/env` (what `set -a; . FILE`
 * would export). Lines that are not assignments are skipped; values are taken
 * verbatim (the stack writes none that need shell quoting).
 */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
