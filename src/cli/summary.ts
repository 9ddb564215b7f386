// The comparison table of finished runs, as train, sweep and demo print it.
import { keptEpoch, pct, runLabel, sci, type RunResult } from '../train/report.js';
import { formatTable } from './table.js';

export function resultTable(results: readonly RunResult[]): string {
  return formatTable(
    ['run', 'kept epoch', 'val top-1', 'test top-1', 'test top-5', 'spike rate', 'MACs/sample', 'ACs/sample', 'energy pJ', 's/epoch', 'MiB'],
    results.map((r) => [
      runLabel(r),
      `${keptEpoch(r)?.epoch ?? '-'}/${r.epochs.length}`,
      pct(keptEpoch(r)?.valTop1),
      pct(r.test.top1),
      pct(r.test.top5),
      r.spikeRate === undefined ? '-' : r.spikeRate.toFixed(3),
      sci(r.synapticOps.macs),
      sci(r.synapticOps.acs),
      sci(r.energyPicojoules),
      r.secondsPerEpoch,
      r.memoryBytes / (1 << 20),
    ]),
    { columnDigits: { 9: 1, 10: 1 } },
  );
}
