// `sweep --convert`: a CNN run of the grid, once trained, converted to SNNs by each method at each T of
// the grid and scored on the test split, as `convert --sweep-steps` does. The numbers go into the run's
// folder (conversion.json and its report), so a re-run skips what is there and --merge joins them.
import { join } from 'node:path';
import { initEngine } from '../engine/engine.js';
import { loadModel } from '../models/file-node.js';
import type { ConversionSweep } from '../train/conversion-report.js';
import { conversionPairs, conversionSweep } from '../train/conversion-sweep.js';
import type { ConversionMethod } from '../train/convert.js';
import { pct } from '../train/format.js';
import { writeConversionFiles } from './convert.js';
import { type DataOptions, loadData, scoringOptions } from './data.js';
import { type CliIo, note } from './io.js';
import { conversionPart, storedConversion } from './sweep-output.js';

export interface RunConversion {
  methods: readonly ConversionMethod[];
  steps: readonly number[];
  /** Samples per batch when scoring (fewer as T grows). */
  batchSize: number;
  data: DataOptions;
}

/** The conversion sweep of the CNN run in `dir` (its model.snn), scored now or read from before. */
export async function convertRun(io: CliIo, id: string, dir: string, opts: RunConversion): Promise<{ sweep: ConversionSweep; scored: boolean }> {
  const before = await storedConversion(dir);
  const done = conversionPart(before, opts.methods, opts.steps);
  if (done) {
    note(io, `${id}: conversion scored before, skipped`);
    return { sweep: done, scored: false };
  }
  await initEngine();
  const { model: cnn, meta } = await loadModel(join(dir, 'model.snn'));
  try {
    // Unaugmented: calibration reads the training clips as they are; the classes are the run's.
    const data = await loadData(io, scoringOptions(opts.data), meta.features);
    note(io, `${id}: converting to SNNs (${opts.methods.join(', ')}) at T=${[...opts.steps].sort((a, b) => a - b).join(', ')}`);
    const sweep = conversionSweep(cnn, data.test, {
      methods: opts.methods, steps: opts.steps, calibration: { calibration: data.train }, splitName: 'test', batchSize: opts.batchSize,
      progress: io.progress, previous: before?.points,
      onPoint: (p, cnnTop1) => note(io, `${id}: ${p.method} T=${p.steps} top-1 ${pct(p.top1)} (CNN ${pct(cnnTop1)})`),
      command: `snn-voice sweep --convert ${opts.methods.join(',')} (run ${id})`,
    });
    // Points of other methods or T scored before stay in the file: asking for fewer discards nothing.
    const asked = conversionPairs(opts.methods, opts.steps);
    const kept = (before?.points ?? []).filter((p) => !asked.some((a) => a.method === p.method && a.steps === p.steps));
    await writeConversionFiles(dir, { ...sweep, points: [...sweep.points, ...kept] });
    return { sweep, scored: true };
  } finally {
    cnn.dispose();
  }
}
