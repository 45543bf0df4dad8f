/**
 * Writes the inputs and outputs tables in the README.md of every Terraform
 * module and example under terraform/, from their .tf files (between the
 * README's BEGIN GENERATED / END GENERATED markers; the prose around them is
 * left alone). Run it after changing a variable or an output:
 *
 *   npx tsx scripts/terraform-docs.ts           rewrite the tables
 *   npx tsx scripts/terraform-docs.ts --check   exit 1 naming each README that is out of date
 *
 * test/unit/deploy/terraform-docs.test.ts fails when a README has drifted.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedPart, readInterface, renderTables, spliceTables } from '../test/support/terraform-docs.js';
import { REPO, terraformModules } from '../test/support/terraform-files.js';

const check = process.argv.includes('--check');
let stale = 0;
let missing = 0;
for (const m of terraformModules()) {
  const path = join(REPO, m.dir, 'README.md');
  if (!existsSync(path)) {
    process.stderr.write(`terraform-docs: ${m.dir}/README.md is missing (it needs the generated-section markers)\n`);
    missing += 1;
    continue;
  }
  const readme = readFileSync(path, 'utf8');
  const tables = renderTables(await readInterface(m.files));
  if (generatedPart(readme) === tables) continue;
  stale += 1;
  if (check) process.stderr.write(`terraform-docs: ${m.dir}/README.md is out of date; run npx tsx scripts/terraform-docs.ts\n`);
  else {
    writeFileSync(path, spliceTables(readme, tables));
    process.stdout.write(`terraform-docs: wrote ${m.dir}/README.md\n`);
  }
}
process.exitCode = missing > 0 || (check && stale > 0) ? 1 : 0;
