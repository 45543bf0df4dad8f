/**
 * The project's documents link only inside the repository: a newcomer's
 * checkout must be enough, and no page can go stale or change hands under us.
 * Checked: README.md, SECURITY.md, docs/*.md and terraform/**\/README.md.
 *
 * - Markdown links, images, reference definitions, autolinks and HTML
 *   href/src must be relative paths to files (or folders) that exist inside
 *   the repository; a `#fragment` must name a heading of its target.
 * - Bare addresses in prose (`scheme://…`, `www.…`, e-mail addresses, which
 *   GitHub turns into links) are refused.
 * - Code spans and fenced code blocks are literal text, not links: commands
 *   and values such as `gs://BUCKET` or the issuer `https://accounts.google.com`
 *   belong there.
 *
 * And LICENSE holds the Apache License 2.0, as package.json declares.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** One link-like thing found in a document. */
interface Finding {
  line: number;
  kind: 'link' | 'definition' | 'autolink' | 'html' | 'bare-url' | 'email';
  target: string;
}

// ---- Scanning ----

/** Replaces every character but newlines, so offsets and line numbers survive. */
function blank(text: string): string {
  return text.replace(/[^\n]/g, ' ');
}

/** Markdown with fenced code blocks and code spans blanked out. */
function withoutCode(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: { char: string; length: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === undefined) {
      if (open !== null) {
        fence = { char: open[1]![0]!, length: open[1]!.length };
        lines[i] = blank(line);
      }
      continue;
    }
    const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line);
    if (close !== null && close[1]![0] === fence.char && close[1]!.length >= fence.length) fence = undefined;
    lines[i] = blank(line);
  }
  // A code span: a run of backticks, anything, the same run again (CommonMark 6.1).
  return lines.join('\n').replace(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (span) => blank(span));
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A link destination as written: `<dest>` or dest, without a title. */
function destination(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.startsWith('<')) return trimmed.slice(1, trimmed.indexOf('>') < 0 ? undefined : trimmed.indexOf('>'));
  return trimmed.split(/\s+/)[0] ?? '';
}

/** Every link-like thing outside code, with its line. */
function findLinks(markdown: string): Finding[] {
  const text = withoutCode(markdown);
  const found: Array<Finding & { offset: number }> = [];
  /** Text already reported as markup: a bare address inside it is not reported again. */
  const covered: Array<[start: number, end: number]> = [];
  const markup = (m: RegExpMatchArray, kind: Finding['kind'], target: string): void => {
    found.push({ offset: m.index!, line: lineAt(text, m.index!), kind, target });
    covered.push([m.index!, m.index! + m[0].length]);
  };
  const bare = (m: RegExpMatchArray, kind: Finding['kind']): void => {
    if (covered.some(([start, end]) => m.index! >= start && m.index! < end)) return;
    found.push({ offset: m.index!, line: lineAt(text, m.index!), kind, target: m[0] });
  };
  // Inline links and images: [text](dest "title"), ![alt](dest). The text may nest one level of brackets.
  for (const m of text.matchAll(/!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
    markup(m, 'link', destination(m[1]!));
  }
  // Reference definitions: [label]: dest
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(\S+)/gm)) markup(m, 'definition', destination(m[1]!));
  // Autolinks: <scheme:...> and <user@host>
  for (const m of text.matchAll(/<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>/g)) markup(m, 'autolink', m[1]!);
  for (const m of text.matchAll(/<([^\s<>@:]+@[^\s<>@]+\.[a-zA-Z]{2,})>/g)) markup(m, 'autolink', `mailto:${m[1]!}`);
  // Raw HTML: href="…", src="…"
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) markup(m, 'html', m[1] ?? m[2] ?? m[3] ?? '');
  // Bare addresses in prose: GitHub links them without any markup.
  for (const m of text.matchAll(/\b(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/|www\.)[^\s<>()]+/g)) bare(m, 'bare-url');
  for (const m of text.matchAll(/(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b/g)) bare(m, 'email');
  return found.sort((a, b) => a.offset - b.offset).map(({ line, kind, target }) => ({ line, kind, target }));
}

/** A scheme (`https:`, `mailto:`, `file:`…) or a protocol-relative `//host`. */
function isExternal(target: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target) || target.startsWith('//');
}

// ---- Headings (GitHub's anchors) ----

/** GitHub's anchor for a heading text: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file's headings get, duplicates numbered as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of withoutFences(markdown).split('\n')) {
    const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (m === null) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Fenced blocks blanked, code spans kept (a heading's code span is part of its anchor). */
function withoutFences(markdown: string): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      const fence = /^\s*(`{3,}|~{3,})/.test(line);
      if (fence) inFence = !inFence;
      return fence || inFence ? '' : line;
    })
    .join('\n');
}

// ---- Checking one document ----

/** Problems with the links of `file` (a path relative to the repository). */
function linkProblems(file: string, markdown: string, repo = REPO): string[] {
  const problems: string[] = [];
  for (const f of findLinks(markdown)) {
    const where = `${file}:${f.line}`;
    if (f.kind === 'bare-url' || f.kind === 'email') {
      problems.push(`${where}: ${f.kind} ${f.target} points outside the repository`);
      continue;
    }
    if (f.target === '') {
      problems.push(`${where}: empty ${f.kind} target`);
      continue;
    }
    if (isExternal(f.target)) {
      problems.push(`${where}: ${f.kind} to ${f.target} points outside the repository`);
      continue;
    }
    const hash = f.target.indexOf('#');
    const pathPart = (hash < 0 ? f.target : f.target.slice(0, hash)).replace(/\?.*$/, '');
    const fragment = hash < 0 ? undefined : f.target.slice(hash + 1);
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathPart);
    } catch {
      problems.push(`${where}: ${f.kind} target ${f.target} is not a valid path`);
      continue;
    }
    // GitHub resolves "/x" from the repository root, anything else from the file's folder.
    const target = decoded === '' ? join(repo, file) : decoded.startsWith('/') ? join(repo, decoded) : resolve(repo, dirname(file), decoded);
    const inside = relative(repo, target);
    if (inside.startsWith('..') || inside.startsWith(sep) || resolve(repo, inside) !== target) {
      problems.push(`${where}: ${f.kind} to ${f.target} leaves the repository`);
      continue;
    }
    if (!existsSync(target)) {
      problems.push(`${where}: ${f.kind} to ${f.target}: ${inside} does not exist`);
      continue;
    }
    if (fragment !== undefined && fragment !== '' && statSync(target).isFile() && target.endsWith('.md')) {
      const anchors = anchorsOf(readFileSync(target, 'utf8'));
      if (!anchors.has(decodeURIComponent(fragment).toLowerCase())) {
        problems.push(`${where}: ${f.kind} to ${f.target}: ${inside} has no heading #${fragment}`);
      }
    }
  }
  return problems;
}

// ---- Which documents ----

function markdownFiles(dir: string, recursive: boolean, name?: string): string[] {
  if (!existsSync(join(REPO, dir))) return [];
  const out: string[] = [];
  for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive && entry.name !== 'node_modules' && !entry.name.startsWith('.')) out.push(...markdownFiles(path, true, name));
    } else if (name === undefined ? entry.name.endsWith('.md') : entry.name === name) {
      out.push(path);
    }
  }
  return out;
}

const DOCUMENTS = ['README.md', 'SECURITY.md', ...markdownFiles('docs', false), ...markdownFiles('terraform', true, 'README.md')];

describe('the link scanner', () => {
  it('finds links, definitions, autolinks, HTML and bare addresses, with their lines', () => {
    const md = [
      'See [the guide](https://example.com/guide "Guide") and ![logo](img/logo.png).',
      '[ref]: http://example.org',
      'Mail <someone@example.com> or visit <https://example.net>.',
      '<a href="https://example.com/a">a</a>',
      'Plain https://example.com/x and www.example.com and ops@example.com.',
    ].join('\n');
    expect(findLinks(md)).toEqual([
      { line: 1, kind: 'link', target: 'https://example.com/guide' },
      { line: 1, kind: 'link', target: 'img/logo.png' },
      { line: 2, kind: 'definition', target: 'http://example.org' },
      { line: 3, kind: 'autolink', target: 'mailto:someone@example.com' },
      { line: 3, kind: 'autolink', target: 'https://example.net' },
      { line: 4, kind: 'html', target: 'https://example.com/a' },
      { line: 5, kind: 'bare-url', target: 'https://example.com/x' },
      { line: 5, kind: 'bare-url', target: 'www.example.com' },
      { line: 5, kind: 'email', target: 'ops@example.com' },
    ]);
  });

  it('ignores code spans and fenced blocks', () => {
    const md = ['Issuer `https://accounts.google.com`, ``a `https://x.example` b``.', '```sh', 'curl https://example.com', '```', '~~~', '[x](https://example.com)', '~~~', 'after'].join('\n');
    expect(findLinks(md)).toEqual([]);
  });

  it('refuses external targets, paths leaving the repository, missing files and missing anchors', () => {
    const md = [
      '[a](https://example.com) [b](mailto:x@example.com) [c](//example.com/x)',
      '[d](../outside.md) [e](no-such-file.md) [f](README.md#no-such-heading)',
      '[g](README.md#troubleshooting) [h](#limitations) [i](terraform/modules) [j](/LICENSE)',
    ].join('\n');
    const problems = linkProblems('README.md', md);
    expect(problems.filter((p) => p.startsWith('README.md:1:'))).toHaveLength(3);
    expect(problems.filter((p) => p.startsWith('README.md:2:'))).toHaveLength(3);
    expect(problems.filter((p) => p.startsWith('README.md:3:'))).toEqual([]);
  });

  it("makes GitHub's anchors", () => {
    expect(slug('Deploy: Google Cloud → AWS with Terraform')).toBe('deploy-google-cloud--aws-with-terraform');
    expect(slug('Push endpoint (`gcs2s3 serve`)')).toBe('push-endpoint-gcs2s3-serve');
    expect(slug('Set up and test')).toBe('set-up-and-test');
  });
});

describe('project documents', () => {
  it('README.md and SECURITY.md exist', () => {
    for (const file of ['README.md', 'SECURITY.md']) expect(existsSync(join(REPO, file)), file).toBe(true);
  });

  it.each(DOCUMENTS)('%s links only to files inside the repository', (file) => {
    const problems = linkProblems(file, readFileSync(join(REPO, file), 'utf8'));
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('LICENSE', () => {
  /**
   * SHA-256 of the Apache License 2.0 terms ("Apache License" through "END OF
   * TERMS AND CONDITIONS") with whitespace runs collapsed to one space, as in
   * the canonical LICENSE-2.0.txt. The appendix after it is a template for a
   * copyright notice, so it may be filled in or left as it is.
   */
  const APACHE_2_TERMS_SHA256 = '59d8f0ba87ad9a2f1a431123c8d16646e5b89ba53653e818f16d136d77263c99';

  it('holds the Apache License 2.0 terms, word for word', () => {
    const text = readFileSync(join(REPO, 'LICENSE'), 'utf8');
    const start = text.indexOf('Apache License');
    const endMarker = 'END OF TERMS AND CONDITIONS';
    const end = text.indexOf(endMarker);
    expect(start, 'LICENSE starts with "Apache License"').toBeGreaterThanOrEqual(0);
    expect(text.slice(0, start).trim(), 'nothing before the license title').toBe('');
    expect(end, `LICENSE has "${endMarker}"`).toBeGreaterThan(start);
    expect(text).toMatch(/Version 2\.0, January 2004/);
    const terms = text.slice(start, end + endMarker.length).replace(/\s+/g, ' ');
    expect(createHash('sha256').update(terms).digest('hex')).toBe(APACHE_2_TERMS_SHA256);
  });

  it('is the license package.json declares', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { license?: string };
    expect(pkg.license).toBe('Apache-2.0');
  });
});
