// Small, dependency-free SVG charts for reports: a line chart (curves over epochs or time steps) and a
// grouped bar chart (one value per category and series). Core file: builds strings, touches no files.

export interface LineSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** A baseline drawn dashed (e.g. the CNN's accuracy in a plot over time steps). */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Fixed y range (e.g. [0, 1] for accuracy); otherwise taken from the data. */
  yRange?: readonly [number, number];
  /** Where to label the x axis (e.g. the time steps that were run); round values by default. */
  xTicks?: readonly number[];
  /** A logarithmic x axis (time steps that double); points at x <= 0 are left out. Give xTicks. */
  xLog?: boolean;
  width?: number;
  height?: number;
}

export interface BarSeries {
  name: string;
  /** One value per category; NaN draws no bar. */
  values: readonly number[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  width?: number;
  height?: number;
}

// Colour-blind-safe palette (Okabe and Ito).
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };
const LEGEND_ROW = 16;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Coordinates with at most two decimals keep files small and exact enough. */
const n = (v: number): string => String(Math.round(v * 100) / 100);

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: range [${lo}, ${hi}] is not finite`);
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  // Integer multiples of the step, cleaned of float noise (0.6000000000000001, -0).
  for (let k = Math.ceil(lo / step - 1e-9); k <= Math.floor(hi / step + 1e-9); k++) ticks.push(Number((k * step).toPrecision(12)) + 0);
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** The [lo, hi] range of values, widened when empty or flat so a scale can be drawn. */
function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return fallback;
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

interface Frame {
  width: number;
  height: number;
  plotW: number;
  plotH: number;
  legendRows: number;
}

function frame(width: number, height: number, legendEntries: number): Frame {
  if (!(width >= 200 && height >= 150)) throw new RangeError(`chart size ${width}x${height} is too small (at least 200x150)`);
  const legendRows = Math.ceil(legendEntries / 3);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom - legendRows * LEGEND_ROW;
  return { width, height, plotW, plotH, legendRows };
}

function open(f: Frame, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${n(f.width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
}

function yAxis(f: Frame, lo: number, hi: number, label: string, y: (v: number) => number): string[] {
  const out: string[] = [];
  for (const t of niceTicks(lo, hi)) {
    if (t < lo || t > hi) continue;
    const py = n(y(t));
    out.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + f.plotW}" y2="${py}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`);
  }
  const cy = n(MARGIN.top + f.plotH / 2);
  out.push(`<text x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${esc(label)}</text>`);
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${n(f.plotW)}" height="${n(f.plotH)}" fill="none" stroke="#333333"/>`,
  );
  return out;
}

function legend(f: Frame, entries: { name: string; color: string; dashed?: boolean }[]): string[] {
  const out: string[] = [];
  const colW = f.plotW / 3;
  entries.forEach((e, i) => {
    const x = MARGIN.left + (i % 3) * colW;
    const y = f.height - f.legendRows * LEGEND_ROW + Math.floor(i / 3) * LEGEND_ROW - 4;
    const dash = e.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(`<line x1="${n(x)}" y1="${n(y)}" x2="${n(x + 18)}" y2="${n(y)}" stroke="${e.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${n(x + 22)}" y="${n(y)}" dominant-baseline="middle">${esc(e.name)}</text>`);
  });
  return out;
}

/** Curves of y against x, one per series; non-finite points are left out. */
export function lineChart(opts: LineChartOptions): string {
  const f = frame(opts.width ?? 640, opts.height ?? 400, opts.series.length);
  // Positions on the axis: log x on a log axis, so 1, 2, 4, ... stand evenly apart.
  const at = opts.xLog ? Math.log : (v: number) => v;
  const usable = ([px, py]: readonly [number, number]) => Number.isFinite(px) && Number.isFinite(py) && (!opts.xLog || px > 0);
  const points = opts.series.flatMap((s) => s.points.filter(usable));
  const [x0, x1] = extent(points.map((p) => at(p[0])), [0, 1]);
  const [y0, y1] = opts.yRange ? [opts.yRange[0], opts.yRange[1]] : extent(points.map((p) => p[1]), [0, 1]);
  if (!(Number.isFinite(y0) && Number.isFinite(y1) && y1 > y0)) throw new RangeError(`lineChart: yRange [${y0}, ${y1}] is empty`);
  const x = (v: number) => MARGIN.left + ((at(v) - x0) / (x1 - x0)) * f.plotW;
  const y = (v: number) => MARGIN.top + f.plotH - ((Math.min(y1, Math.max(y0, v)) - y0) / (y1 - y0)) * f.plotH;
  const out = open(f, opts.title);
  out.push(...yAxis(f, y0, y1, opts.yLabel, y));
  const axisY = MARGIN.top + f.plotH;
  for (const t of opts.xTicks ?? (opts.xLog ? [] : niceTicks(x0, x1))) {
    if (!Number.isFinite(t) || (opts.xLog && t <= 0) || at(t) < x0 - 1e-9 || at(t) > x1 + 1e-9) continue;
    out.push(`<text x="${n(x(t))}" y="${n(axisY + 14)}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  out.push(`<text x="${n(MARGIN.left + f.plotW / 2)}" y="${n(axisY + 32)}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  const entries = opts.series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length], dashed: s.dashed }));
  opts.series.forEach((s, i) => {
    const pts = s.points.filter(usable);
    if (pts.length === 0) return;
    const color = entries[i].color;
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([px, py]) => `${n(x(px))},${n(y(py))}`).join(' ')}"/>`,
    );
    if (!s.dashed) for (const [px, py] of pts) out.push(`<circle cx="${n(x(px))}" cy="${n(y(py))}" r="2.5" fill="${color}"/>`);
  });
  out.push(...legend(f, entries), '</svg>');
  return out.join('\n') + '\n';
}

/** Bars grouped by category, one bar per series; the y axis starts at zero (or below, for negatives). */
export function barChart(opts: BarChartOptions): string {
  for (const s of opts.series)
    if (s.values.length !== opts.categories.length)
      throw new RangeError(`barChart: series "${s.name}" has ${s.values.length} values for ${opts.categories.length} categories`);
  const f = frame(opts.width ?? 640, opts.height ?? 400, opts.series.length);
  const values = opts.series.flatMap((s) => s.values.filter(Number.isFinite));
  const [lo, hi] = extent([0, ...values], [0, 1]);
  const ticks = niceTicks(lo, hi);
  // Bars start at zero, so the axis ends on a tick at or above the tallest: its top is readable.
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 0;
  const y0 = Math.min(lo, ticks[0]);
  const y1 = step > 0 ? Math.max(hi, Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))) : Math.max(hi, ticks[ticks.length - 1]);
  const y = (v: number) => MARGIN.top + f.plotH - ((v - y0) / (y1 - y0)) * f.plotH;
  const out = open(f, opts.title);
  out.push(...yAxis(f, y0, y1, opts.yLabel, y));
  const groupW = f.plotW / Math.max(1, opts.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, opts.series.length);
  const axisY = MARGIN.top + f.plotH;
  opts.categories.forEach((c, ci) => {
    const gx = MARGIN.left + ci * groupW;
    out.push(`<text x="${n(gx + groupW / 2)}" y="${n(axisY + 14)}" text-anchor="middle">${esc(c)}</text>`);
    opts.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      const top = y(Math.max(v, 0));
      const h = Math.abs(y(v) - y(0));
      const bx = gx + groupW * 0.1 + si * barW;
      out.push(
        `<rect x="${n(bx)}" y="${n(top)}" width="${n(barW)}" height="${n(h)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} ${c}: ${formatTick(v)}`)}</title></rect>`,
      );
    });
  });
  out.push(...legend(f, opts.series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length] }))), '</svg>');
  return out.join('\n') + '\n';
}
