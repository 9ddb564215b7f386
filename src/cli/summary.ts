// The comparison table of finished runs, as train, sweep and demo print it: the report's results table
// (train/report.ts), aligned for the terminal.
import { runTable, type RunResult } from '../train/report.js';
import { formatTable } from './table.js';

export function resultTable(results: readonly RunResult[]): string {
  const { header, rows } = runTable(results);
  return formatTable(header, rows);
}
