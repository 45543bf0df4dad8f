/**
 * The architecture, checked: dependencies point inward (DESIGN.md §2), the
 * core never sees a cloud SDK, every transport goes through the pipeline, and
 * functions stay short enough to read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const MAX_FUNCTION_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const FILES = sourceFiles(SRC).map((path) => ({
  path,
  name: relative(SRC, path),
  ast: ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true),
}));

/** Module specifiers of every import and re-export, static or dynamic. */
function importsOf(ast: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ast);
  return found;
}

/** `src/`-relative path of a relative import, or the package name of a bare one. */
function target(fromPath: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(SRC, resolve(dirname(fromPath), specifier)).replace(/\.js$/, '.ts');
}

const CLOUD_SDKS = /^@aws-sdk\/|^@smithy\/|^@google-cloud\/|^google-auth-library$/;

describe('architecture', () => {
  it('nothing below src/main imports from it (only cli.ts does)', () => {
    const offenders = FILES.filter((f) => !f.name.startsWith('main/') && f.name !== 'cli.ts').flatMap((f) =>
      importsOf(f.ast)
        .map((s) => target(f.path, s))
        .filter((t) => t.startsWith('main/'))
        .map((t) => `${f.name} → ${t}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the core (model, errors, replicate) imports no cloud SDK and no adapter', () => {
    const core = FILES.filter((f) => f.name.startsWith('replicate/') || f.name === 'model.ts' || f.name === 'errors.ts');
    const offenders = core.flatMap((f) =>
      importsOf(f.ast)
        .map((s) => target(f.path, s))
        .filter((t) => CLOUD_SDKS.test(t) || /^(sink|source|pull|server|backfill|main|pipeline|credentials)\//.test(t))
        .map((t) => `${f.name} → ${t}`),
    );
    expect(offenders).toEqual([]);
  });

  it('every transport replicates through the pipeline, never by calling replicateObject itself', () => {
    const importsReplicateObject = (f: (typeof FILES)[number]): boolean =>
      f.ast.statements.some(
        (st) =>
          ts.isImportDeclaration(st) &&
          ts.isStringLiteral(st.moduleSpecifier) &&
          target(f.path, st.moduleSpecifier.text) === 'replicate/replicate-object.ts' &&
          st.importClause?.namedBindings !== undefined &&
          ts.isNamedImports(st.importClause.namedBindings) &&
          st.importClause.namedBindings.elements.some((e) => e.name.text === 'replicateObject'),
      );
    const direct = FILES.filter((f) => /^(pull|server|main)\//.test(f.name) && importsReplicateObject(f)).map((f) => f.name);
    expect(direct).toEqual([]);
    for (const transport of ['pull/pull-worker.ts', 'server/server.ts', 'main/copy-command.ts', 'main/backfill-command.ts']) {
      const file = FILES.find((f) => f.name === transport)!;
      expect(importsOf(file.ast).map((s) => target(file.path, s)), transport).toContain('pipeline/event-pipeline.ts');
    }
  });

  it(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const f of FILES) {
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
          const start = f.ast.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = f.ast.getLineAndCharacterOfPosition(node.getEnd()).line;
          const lines = end - start + 1;
          if (lines > MAX_FUNCTION_LINES) {
            const name = (node as ts.FunctionLikeDeclaration).name?.getText() ?? '(anonymous)';
            long.push(`${f.name}:${start + 1} ${name}: ${lines} lines`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(f.ast);
    }
    expect(long).toEqual([]);
  });
});

describe('README architecture section', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('\n## ', readme.indexOf('## Architecture') + 1));

  it('names every folder under src/, and only folders that exist', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}`);
    const named = new Set([...section.matchAll(/\bsrc\/([a-z-]+)(?![\w.-])/g)].map((m) => `src/${m[1]}`).filter((n) => !n.endsWith('.ts')));
    for (const folder of folders) expect(named, `README's architecture section does not name ${folder}`).toContain(folder);
    for (const name of named) expect(folders, `README's architecture section names ${name}, which does not exist`).toContain(name);
  });

  it('names only source files that exist', () => {
    for (const m of section.matchAll(/\b(src\/[\w/-]+\.ts)\b/g)) expect(FILES.map((f) => `src/${f.name}`), m[1]).toContain(m[1]);
  });
});
