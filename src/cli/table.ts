// Aligned text tables for the terminal: text columns left-aligned, numeric columns right-aligned.

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** Digits after the point for non-integer numbers (default 3). */
  digits?: number;
  /** Per-column digits, overriding `digits`. */
  columnDigits?: Record<number, number>;
}

/** Integers plainly, big or tiny values in exponent form, the rest with fixed digits; missing as '-'. */
export function formatCell(v: Cell, digits = 3): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(2);
  // Below the column's digits, two significant ones: 0.038 s reads better than 3.80e-2 or 0.0.
  if (a !== 0 && a < 10 ** -digits) return v.toPrecision(2);
  return v.toFixed(digits);
}

/** Cells that read as numbers (12, -3.5, 4.1e-3, 87.5%, x or s suffixes, '-' for missing) align right. */
const NUMERIC = /^(-|[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?\s?(%|x|s|ms|MiB)?)$/;

export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[], opts: TableOptions = {}): string {
  for (const [i, r] of rows.entries())
    if (r.length !== header.length) throw new RangeError(`formatTable: row ${i} has ${r.length} cells for ${header.length} columns`);
  const text = rows.map((r) => r.map((c, j) => formatCell(c, opts.columnDigits?.[j] ?? opts.digits ?? 3)));
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number' || r[j] == null || NUMERIC.test(String(r[j]))));
  const widths = header.map((h, j) => Math.max(h.length, ...text.map((r) => r[j].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}
