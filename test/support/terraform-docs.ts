/**
 * The inputs and outputs tables of a Terraform module's README.md, generated
 * from its .tf files (variables in declaration order: the files group them,
 * required first), between two markers so the prose around them is kept.
 * scripts/terraform-docs.ts writes them; a unit test fails when they drift.
 */
import { isObject, parseHcl, type Json, type JsonObject } from './hcl.js';

export const BEGIN = '<!-- BEGIN GENERATED: inputs and outputs, by scripts/terraform-docs.ts from the .tf files; do not edit -->';
export const END = '<!-- END GENERATED -->';

export interface Input {
  name: string;
  /** As written: string, map(string), list(string), ... */
  type: string;
  /** Absent: the input is required. */
  default?: Json;
  description: string;
}

export interface Output {
  name: string;
  description: string;
}

/** Names in the order they are declared (hcl2json returns keys sorted). */
function declared(text: string, keyword: string): string[] {
  return [...text.matchAll(new RegExp(`^${keyword}\\s+"([\\w-]+)"`, 'gm'))].map((m) => m[1]!);
}

const first = (v: Json | undefined): JsonObject => (Array.isArray(v) && isObject(v[0]) ? v[0] : {});

/** A module's inputs and outputs, from its .tf files (path -> text, in the order given). */
export async function readInterface(files: ReadonlyMap<string, string>): Promise<{ inputs: Input[]; outputs: Output[] }> {
  const inputs: Input[] = [];
  const outputs: Output[] = [];
  for (const [file, text] of files) {
    const json = await parseHcl(file, text);
    const variables = isObject(json.variable) ? json.variable : {};
    for (const name of declared(text, 'variable')) {
      const v = first(variables[name]);
      const input: Input = { name, type: String(v.type ?? 'any').replace(/^\$\{([\s\S]*)\}$/, '$1'), description: String(v.description ?? '') };
      if ('default' in v) input.default = v.default!;
      inputs.push(input);
    }
    const outs = isObject(json.output) ? json.output : {};
    for (const name of declared(text, 'output')) outputs.push({ name, description: String(first(outs[name]).description ?? '') });
  }
  return { inputs, outputs };
}

/** Table cell text: one line, pipes escaped, `<name>` kept visible (not read as an HTML tag). */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
const code = (text: string): string => `\`${text.replace(/\|/g, '\\|')}\``;

function renderDefault(input: Input): string {
  if (!('default' in input)) return '**required**';
  const v = input.default;
  return code(v === null ? 'null' : JSON.stringify(v));
}

/** The markdown between the markers: an Inputs table and an Outputs table. */
export function renderTables(iface: { inputs: Input[]; outputs: Output[] }): string {
  const lines = ['## Inputs', ''];
  if (iface.inputs.length === 0) lines.push('None.');
  else {
    lines.push('| name | type | default | description |', '| --- | --- | --- | --- |');
    for (const i of iface.inputs) lines.push(`| ${code(i.name)} | ${code(i.type)} | ${renderDefault(i)} | ${cell(i.description)} |`);
  }
  lines.push('', '## Outputs', '');
  if (iface.outputs.length === 0) lines.push('None.');
  else {
    lines.push('| name | description |', '| --- | --- |');
    for (const o of iface.outputs) lines.push(`| ${code(o.name)} | ${cell(o.description)} |`);
  }
  return lines.join('\n');
}

/** `readme` with the generated part replaced by `tables`; throws when the markers are missing. */
export function spliceTables(readme: string, tables: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`the README has no "${BEGIN}" ... "${END}" section`);
  return `${readme.slice(0, start + BEGIN.length)}\n\n${tables}\n\n${readme.slice(end)}`;
}

/** The generated part of a README as it stands (between the markers), or undefined. */
export function generatedPart(readme: string): string | undefined {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  return start < 0 || end < start ? undefined : readme.slice(start + BEGIN.length, end).trim();
}
