/**
 * Hand-written SVG charts for docs/benchmarks.md: a line chart (throughput by
 * object size, RSS over time) and a horizontal bar chart (objects/s). No
 * dependency; plain shapes and text that GitHub renders inline.
 */

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#7f7f7f'];
const W = 720;
const H = 360;
const M = { left: 64, right: 180, top: 40, bottom: 48 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** 1, 2, 5 × 10^k steps: about `count` ticks from 0 to at least `max`. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  return Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(v);
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Lines with markers. `xLog2`: x on a log2 scale (object sizes), ticks at
 * the data's own x values with `xTick` labels.
 */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; xLog2?: boolean; xTick?: (x: number) => string; markers?: boolean }): string {
  const all = o.series.flatMap((s) => s.points);
  const fx = o.xLog2 ? (x: number): number => Math.log2(x) : (x: number): number => x;
  const xs = all.map(([x]) => fx(x));
  const [x0, x1] = [Math.min(...xs, o.xLog2 ? Infinity : 0), Math.max(...xs)];
  const yTicks = ticks(Math.max(...all.map(([, y]) => y), 0) * 1.05);
  const yMax = yTicks.at(-1)!;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => M.left + (x1 === x0 ? pw / 2 : ((fx(x) - x0) / (x1 - x0)) * pw);
  const py = (y: number): number => M.top + ph - (y / yMax) * ph;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`);
  }
  const xTickValues = o.xLog2 ? [...new Set(all.map(([x]) => x))].sort((a, b) => a - b) : ticks(Math.max(...all.map(([x]) => x)), 6);
  for (const t of xTickValues) {
    body.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`);
    body.push(`<text x="${px(t).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${esc(o.xTick ? o.xTick(t) : label(t))}</text>`);
  }
  body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  body.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`);
  body.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  body.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    if (o.markers ?? true) for (const [x, y] of pts) body.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = M.top + 10 + i * 20;
    body.push(`<rect x="${W - M.right + 16}" y="${ly - 9}" width="14" height="4" fill="${color}"/>`);
    body.push(`<text x="${W - M.right + 36}" y="${ly - 3}">${esc(s.name)}</text>`);
  });
  return frame(o.title, body);
}

/** Horizontal bars, one per entry, value printed at the end of each. */
export function barChart(o: { title: string; unit: string; bars: Array<{ label: string; value: number }>; digits?: number }): string {
  const left = 300;
  const pw = W - left - 80;
  const rowH = 28;
  const height = M.top + o.bars.length * rowH + 36;
  const max = Math.max(...o.bars.map((b) => b.value), 0) || 1;
  const body: string[] = [];
  o.bars.forEach((b, i) => {
    const y = M.top + i * rowH;
    const w = (b.value / max) * pw;
    body.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>`);
    body.push(`<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${COLORS[i % COLORS.length]}"/>`);
    body.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 17}">${esc(`${b.value.toFixed(o.digits ?? 0)} ${o.unit}`)}</text>`);
  });
  return frame(o.title, body).replace(`height="${H}" viewBox="0 0 ${W} ${H}"`, `height="${height}" viewBox="0 0 ${W} ${height}"`).replace(`<rect width="${W}" height="${H}"`, `<rect width="${W}" height="${height}"`);
}
