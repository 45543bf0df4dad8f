import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedBlocks, README, renderReadme } from '../../../scripts/readme-tables.js';
import { VARIABLES } from '../../../src/config/variables.js';
import { EXIT_STATUSES } from '../../../src/main/exit-status.js';

const readme = readFileSync(README, 'utf8');

describe('README.md', () => {
  it('holds the current configuration and exit-status tables (run "npm run docs" when this fails)', () => {
    expect(readme).toBe(renderReadme(readme));
  });

  it('documents every variable of the table once, and every exit status', () => {
    const configSection = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### How credentials work'));
    for (const v of VARIABLES) expect(configSection.match(new RegExp(`^\\| \`${v.name}\` \\|`, 'gm')), v.name).toHaveLength(1);
    const rows = [...configSection.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(VARIABLES.map((v) => v.name).sort());
    for (const s of EXIT_STATUSES) expect(readme).toMatch(new RegExp(`^\\| ${s.code} \\| `, 'm'));
  });

  it('a block whose markers are missing is an error, not a silent skip', () => {
    const [name] = Object.keys(generatedBlocks());
    expect(() => renderReadme(readme.replace(`<!-- /generated:${name} -->`, ''))).toThrow(/no "<!-- generated:/);
  });
});
