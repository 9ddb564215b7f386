// A terminal progress bar with ETA. Writes to stderr so --json output on stdout stays clean.
import cliProgress from 'cli-progress';
import type { ProgressBar, ProgressFactory } from './progress.js';

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
    .join(' | ');
}

export const terminalProgress: ProgressFactory = (label: string, total: number): ProgressBar => {
  if (!process.stderr.isTTY) {
    // Not a terminal (CI, a pipe): one line at the end instead of a redrawn bar.
    let last: Record<string, string | number> = {};
    let reached = 0;
    const started = Date.now();
    return {
      update(done, fields) {
        reached = done;
        if (fields) last = fields;
      },
      stop() {
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        process.stderr.write(`${label}: ${reached}/${total} in ${secs}s${Object.keys(last).length ? ' | ' + formatFields(last) : ''}\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted} | {fields}`, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { fields: '' });
  return {
    update(done, fields) { bar.update(done, { fields: fields ? formatFields(fields) : '' }); },
    stop() { bar.stop(); },
  };
};
