/** One line of the results table: a target of DESIGN.md §4 and how this run met it. */
export interface Row {
  target: string;
  measured: string;
  /** The within-run ratio the goal is stated in. */
  ratio: string;
  goal: string;
  result: 'PASS' | 'BELOW TARGET' | 'REPORTED' | 'SKIPPED' | 'ERROR';
}

/** A plain-text table, columns padded to their widest cell. */
export function tableRows(rows: Row[]): string[] {
  const header: Row = { target: 'target', measured: 'measured', ratio: 'ratio', goal: 'goal', result: 'PASS' };
  const cells = (r: Row, isHeader = false): string[] => [r.target, r.measured, r.ratio, r.goal, isHeader ? 'result' : r.result];
  const all = [cells(header, true), ...rows.map((r) => cells(r))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)];
}
