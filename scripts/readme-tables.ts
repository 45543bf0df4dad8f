/**
 * README's generated tables: the configuration (src/config/variables.ts) and
 * the exit statuses (src/main/exit-status.ts). Each sits between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; `npm run docs`
 * rewrites them, and test/unit/config/readme.test.ts fails when README.md
 * is not current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { variablesMarkdown } from '../src/config/describe.js';
import { exitStatusMarkdown } from '../src/main/exit-status.js';

export const README = resolve(import.meta.dirname, '../README.md');

/** The generated blocks, by name. */
export function generatedBlocks(): Record<string, string> {
  return {
    'config-main': variablesMarkdown('main'),
    'config-endpoints': variablesMarkdown('endpoints'),
    'exit-status': exitStatusMarkdown(),
  };
}

/** README with every generated block replaced by its current text; throws when a marker is missing. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(generatedBlocks())) {
    const open = `<!-- generated:${name} (npm run docs) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start === -1 || end < start) throw new Error(`README.md has no "${open}" … "${close}" block`);
    out = `${out.slice(0, start + open.length)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const before = readFileSync(README, 'utf8');
  const after = renderReadme(before);
  if (after !== before) writeFileSync(README, after);
  process.stdout.write(after === before ? 'README.md is current\n' : 'README.md updated\n');
}
