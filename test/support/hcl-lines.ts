/**
 * Where a block or argument sits in a .tf file. hcl2json returns no source
 * positions, so findings are placed by reading the text: each line's brace
 * depth (strings, `${...}` templates, heredocs and comments skipped), then the
 * block header, then each step of the path among that block's direct children.
 */

/** One step of a path into a block: an argument, a nested block (the index-th of its name), or a dynamic block and its content. */
export type PathStep =
  | { kind: 'argument'; name: string }
  | { kind: 'block'; name: string; index: number }
  | { kind: 'dynamic'; name: string; index: number }
  | { kind: 'content' };

/** The brace depth at the start of every line (0 = top level). */
export function lineDepths(text: string): number[] {
  const depths: number[] = [];
  let depth = 0;
  // Open strings and `${...}` templates inside expressions, innermost last.
  const stack: Array<{ kind: 'string' } | { kind: 'template'; braces: number }> = [];
  let heredoc: string | undefined;
  let pendingHeredoc: string | undefined;
  let blockComment = false;
  for (const line of text.split('\n')) {
    depths.push(depth);
    if (heredoc !== undefined) {
      if (line.trim() === heredoc) heredoc = undefined;
      continue;
    }
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      const next = line[i + 1];
      if (blockComment) {
        if (c === '*' && next === '/') {
          blockComment = false;
          i += 1;
        }
        continue;
      }
      const top = stack[stack.length - 1];
      if (top?.kind === 'string') {
        if (c === '\\') i += 1;
        else if ((c === '$' || c === '%') && next === c) i += 1; // $${ and %%{ are literal
        else if ((c === '$' || c === '%') && next === '{') {
          stack.push({ kind: 'template', braces: 0 });
          i += 1;
        } else if (c === '"') stack.pop();
        continue;
      }
      // Code: the top level of the file or the inside of a template.
      if (c === '#' || (c === '/' && next === '/')) break;
      if (c === '/' && next === '*') {
        blockComment = true;
        i += 1;
      } else if (c === '"') {
        stack.push({ kind: 'string' });
      } else if (c === '<' && next === '<') {
        const m = /^<<-?([A-Za-z_][\w-]*)/.exec(line.slice(i));
        if (m !== null) {
          pendingHeredoc = m[1];
          i += m[0].length - 1;
        }
      } else if (c === '{') {
        if (top === undefined) depth += 1;
        else top.braces += 1;
      } else if (c === '}') {
        if (top === undefined) depth -= 1;
        else if (top.kind === 'template' && top.braces === 0) stack.pop();
        else if (top.kind === 'template') top.braces -= 1;
      }
    }
    if (pendingHeredoc !== undefined) {
      heredoc = pendingHeredoc;
      pendingHeredoc = undefined;
    }
  }
  return depths;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The 1-based line of a top-level block (`header` such as ['resource', 'TYPE', 'NAME'])
 * and of the last step of `path` inside it that could be found: a finding
 * about something missing points at the block that lacks it.
 */
export function locate(text: string, header: readonly string[], path: readonly PathStep[] = []): number {
  const lines = text.split('\n');
  const depths = lineDepths(text);
  const [keyword, ...labels] = header;
  const headerRe = new RegExp(`^\\s*${escape(keyword ?? '')}${labels.map((l) => `\\s+"${escape(l)}"`).join('')}\\s*\\{`);
  let at = lines.findIndex((l, i) => depths[i] === 0 && headerRe.test(l));
  if (at < 0) return 1;
  for (const step of path) {
    const depth = depths[at]!;
    const re =
      step.kind === 'argument'
        ? new RegExp(`^\\s*${escape(step.name)}\\s*(=|\\{)`)
        : step.kind === 'block'
          ? new RegExp(`^\\s*${escape(step.name)}\\s*(\\{|")`)
          : step.kind === 'dynamic'
            ? new RegExp(`^\\s*dynamic\\s+"${escape(step.name)}"\\s*\\{`)
            : /^\s*content\s*\{/;
    const wanted = step.kind === 'block' || step.kind === 'dynamic' ? step.index : 0;
    let seen = 0;
    let found = -1;
    // The block's direct children: lines one level deeper, up to its closing brace.
    for (let i = at + 1; i < lines.length && depths[i]! > depth; i++) {
      if (depths[i] !== depth + 1 || !re.test(lines[i]!)) continue;
      if (seen === wanted) {
        found = i;
        break;
      }
      seen += 1;
    }
    if (found < 0) break;
    at = found;
  }
  return at + 1;
}

/** Whether the argument at `line` (1-based) is written as a block (`name {`) rather than with `=`. */
export function writtenAsBlock(text: string, line: number, name: string): boolean {
  return new RegExp(`^\\s*${escape(name)}\\s*\\{`).test(text.split('\n')[line - 1] ?? '');
}
