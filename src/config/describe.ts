/**
 * The configuration table as people read it: the "Environment" section of a
 * command's --help, and README's configuration tables. Generated, never
 * written by hand, so neither can drift from what parseConfig accepts.
 */
import { VARIABLES, type Command, type Variable } from './variables.js';

/** "required", "required for `serve` unless `PUSH_AUTH=disabled`", or the default (Markdown). */
function describeDefault(variable: Variable): string {
  if (variable.required === 'always') return 'required';
  const need = variable.required;
  if (need !== undefined) {
    const commands = need.commands.map((c) => `\`${c}\``).join(', ');
    const unless = need.unless === undefined ? '' : ` unless \`${need.unless.variable}=${need.unless.value}\``;
    return `required for ${commands}${unless}`;
  }
  return variable.default ?? 'none';
}

/** The meaning with its limits and fallbacks, e.g. "STS DurationSeconds (900–43200)" (Markdown). */
function describeMeaning(variable: Variable): string {
  const notes = [variable.limits, ...(variable.fallbacks ?? []).map((f) => `else \`${f}\``)].filter((n) => n !== undefined);
  return notes.length === 0 ? variable.help : `${variable.help} (${notes.join('; ')})`;
}

/** Markdown to plain text for a terminal: code spans lose their backquotes. */
function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1');
}

/** The variables `command` reads, one per line, for its --help. */
export function environmentHelp(command: Command): string {
  const variables = VARIABLES.filter((v) => v.readBy.includes(command));
  if (variables.length === 0) return 'Environment: none read (see README.md, "Configuration").';
  const width = Math.max(...variables.map((v) => v.name.length)) + 2;
  const lines = variables.map((v) => `  ${v.name.padEnd(width)}${plain(describeMeaning(v))}; ${plain(describeDefault(v))}`);
  return `Environment (every variable is checked before any work; README.md, "Configuration", has them all):\n${lines.join('\n')}`;
}

/** README's table of one section of the configuration. */
export function variablesMarkdown(section: Variable['section']): string {
  const rows = VARIABLES.filter((v) => v.section === section).map((v) => {
    const readBy = v.readBy.map((c) => `\`${c}\``).join(', ');
    return `| \`${v.name}\` | ${escapeCell(describeMeaning(v))} | ${escapeCell(describeDefault(v))} | ${readBy} |`;
  });
  return ['| variable | meaning | default | read by |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
