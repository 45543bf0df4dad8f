/**
 * Terraform's version constraints (`>= 5.46, < 7.0`, `~> 6.0`, `= 1.2.3`), as
 * `terraform init` reads them in required_providers: a comma-separated list of
 * conditions that must all hold. `~>` allows only the rightmost version part
 * given to grow: `~> 6.0` is >= 6.0.0 and < 7.0.0, `~> 6.0.1` is >= 6.0.1 and
 * < 6.1.0. A missing part counts as 0. Pre-release suffixes are not
 * supported: the schema fixture's aws 5.46.0 pre-release is read as 5.46.0.
 */

export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~>';

export interface Condition {
  operator: Operator;
  /** Major, minor, patch; parts not written are 0. */
  version: [number, number, number];
  /** How many parts were written (for ~>). */
  parts: number;
}

/** Parses `>= 5.46, < 7.0`; throws on anything else, naming the constraint. */
export function parseConstraint(constraint: string): Condition[] {
  const conditions = constraint.split(',').map((raw) => {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(raw);
    if (m === null) throw new Error(`"${constraint}" is not a version constraint Terraform understands ("${raw.trim()}")`);
    const parts = [m[2], m[3], m[4]].filter((p) => p !== undefined).length;
    return { operator: (m[1] ?? '=') as Operator, version: [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)] as [number, number, number], parts };
  });
  if (conditions.length === 0) throw new Error('empty version constraint');
  return conditions;
}

/** Parses `5.46.0`, `5.46.0 (pre-release)` or `v7.45.0` into [major, minor, patch]. */
export function parseVersion(text: string): [number, number, number] {
  const m = /^\s*v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (m === null) throw new Error(`"${text}" is not a version`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const compare = (a: readonly number[], b: readonly number[]): number => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

function holds(c: Condition, v: readonly number[]): boolean {
  const cmp = compare(v, c.version);
  switch (c.operator) {
    case '=':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '~>': {
      // ~> 6 and ~> 6.0 fix the major version; ~> 6.0.1 fixes the minor too.
      const fixed = Math.max(1, c.parts - 1);
      const upper: [number, number, number] = fixed === 1 ? [c.version[0] + 1, 0, 0] : [c.version[0], c.version[1] + 1, 0];
      return cmp >= 0 && compare(v, upper) < 0;
    }
  }
}

/** Whether `version` satisfies every condition of `constraint`. */
export function admits(constraint: string, version: string): boolean {
  const v = parseVersion(version);
  return parseConstraint(constraint).every((c) => holds(c, v));
}

/** Whether the constraint excludes some future version (a `<`, `<=`, `~>` or `=`), so a new major release cannot arrive unasked. */
export function hasUpperBound(constraint: string): boolean {
  return parseConstraint(constraint).some((c) => c.operator === '<' || c.operator === '<=' || c.operator === '~>' || c.operator === '=');
}

/**
 * The provider versions a schema fixture was made from, read from its README's
 * table (`| hashicorp/aws | 5.46.0 (pre-release) | ... |`): source -> version.
 */
export function fixtureVersions(readme: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/^\|\s*([\w-]+\/[\w-]+)\s*\|\s*v?(\d+\.\d+\.\d+)[^|]*\|/gm)) out.set(m[1]!, m[2]!);
  return out;
}
