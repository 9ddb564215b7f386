// How the reports write numbers and tables: one format for the sweep report, the conversion report and
// the CLI's tables, so the same value reads the same everywhere.

/** A fraction as a percentage with one decimal; '-' when missing. */
export const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`);
/** Scientific notation with three significant digits (0 stays 0); '-' when missing. */
export const sci = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v === 0 ? '0' : v.toExponential(2));

/** A Markdown table, one line per element. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}
