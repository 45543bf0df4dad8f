import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** One Terraform module as files: its folder and each .tf file's text, keyed by path from the repository root. */
export interface ModuleFiles {
  /** e.g. terraform/modules/gcp-replicator */
  dir: string;
  /** terraform/modules/gcp-replicator/main.tf -> text */
  files: Map<string, string>;
}

/** Every folder under `root` (a path from the repository root) holding .tf files, skipping dot folders (.terraform caches). */
export function terraformModules(root = 'terraform'): ModuleFiles[] {
  const found: ModuleFiles[] = [];
  const walk = (abs: string): void => {
    const entries = readdirSync(abs).sort();
    const tf = entries.filter((e) => e.endsWith('.tf'));
    if (tf.length > 0) {
      const dir = relative(REPO, abs);
      found.push({ dir, files: new Map(tf.map((f) => [`${dir}/${f}`, readFileSync(join(abs, f), 'utf8')])) });
    }
    for (const e of entries) {
      if (e.startsWith('.')) continue;
      if (statSync(join(abs, e)).isDirectory()) walk(join(abs, e));
    }
  };
  walk(join(REPO, root));
  return found;
}
