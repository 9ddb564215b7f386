// `snn-voice sweep`: the study's grid. Each model as a CNN and as an SNN at every T, with beta fixed and
// learned; one folder per run holding its result, so a re-run skips what finished and resumes what was
// interrupted. Writes results.json, report.md and the SVG plots of the findings into --out. --shard k/n
// runs one part of the grid (one machine of n), --merge joins the parts' results into one report, and
// --convert adds each CNN converted to SNNs without training.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { featuresFor } from '../models/zoo.js';
import { MODEL_SETTINGS } from '../models/config.js';
import type { ModelName } from '../models/types.js';
import type { ConversionSweep } from '../train/conversion-report.js';
import { CONVERSION_METHODS, type ConversionMethod } from '../train/convert.js';
import { runLabel, type RunResult } from '../train/report.js';
import { type DataOptions, dataOptions, loadData } from './data.js';
import { type CliContext, type CliIo, emit, note } from './io.js';
import { UsageError, choice, listOf, settingParser, type WordChoice, withJson } from './options.js';
import { RUN_DEFAULTS, trainRun } from './run.js';
import { resultTable } from './summary.js';
import { convertRun } from './sweep-convert.js';
import { type GridFlags, type Shard, parseShard, shardRuns, sweepGrid } from './sweep-grid.js';
import { mergeSweeps } from './sweep-merge.js';
import { finishedRun, writeManifest, writeReport } from './sweep-output.js';
import { addTrainingOptions, neuronOption } from './train.js';

// demo writes its report as the sweep does; the grid is the sweep's public shape.
export { sweepGrid } from './sweep-grid.js';
export { writeReport } from './sweep-output.js';

interface SweepFlags extends GridFlags, DataOptions {
  words?: WordChoice;
  out: string;
  json?: boolean;
  shard?: Shard;
  merge?: string[];
  convert?: ConversionMethod[];
}

/** The methods --convert takes: the grid's CNNs use ReLU, so QCFS's does not apply. */
const SWEEP_CONVERSIONS = CONVERSION_METHODS.filter((m) => m !== 'qcfs');

const gridOf = ({ models, steps, learnBeta, cnn, neuron, epochs, batchSize, lr, pctStart, seed }: GridFlags): GridFlags =>
  ({ models, steps, learnBeta, cnn, neuron, epochs, batchSize, lr, pctStart, seed });

export interface SweepOutcome {
  results: RunResult[];
  conversions: ConversionSweep[];
  trained: string[];
  skipped: string[];
}

export async function runSweep(io: CliIo, flags: SweepFlags): Promise<SweepOutcome> {
  const grid = sweepGrid(flags);
  const runs = flags.shard ? shardRuns(grid, flags.shard) : grid;
  const methods = flags.convert ?? [];
  const settings = {
    data: flags.data === undefined ? 'built-in synthesized set' : [flags.data].flat().join(', '),
    epochs: flags.epochs,
    'batch size': flags.batchSize,
    'peak lr': flags.lr ?? "the study's (0.01; 0.001 for piczak)",
    'warm-up share': flags.pctStart ?? "the study's (0.2; 0.4 for piczak)",
    neuron: flags.neuron,
    seed: flags.seed,
    ...(flags.limitPerClass !== undefined && { 'clips per word and split (limit)': flags.limitPerClass }),
    ...(flags.words !== undefined && flags.words !== 'all' && { words: flags.words.join(', ') }),
    ...(methods.length > 0 && { 'conversion of each CNN': `${methods.join(', ')} at the grid's T, test split` }),
  };
  const { shard } = flags;
  const reportSettings = shard ? { ...settings, shard: `${shard.k}/${shard.n}: ${runs.length} of the grid's ${grid.length} runs` } : settings;
  const results: RunResult[] = [];
  const conversions: ConversionSweep[] = [];
  // sweep.json beside the report: --merge checks with it that parts belong together (written with the
  // first result, so a sweep stopped by a bad flag or data folder leaves no folder behind).
  const save = async () => {
    await writeManifest(flags.out, { settings, grid: gridOf(flags), convert: methods, ...(shard && { shard }) });
    await writeReport(flags.out, 'snn-voice sweep', reportSettings, results, conversions);
  };
  const trained: string[] = [];
  const skipped: string[] = [];
  for (const [i, { id, spec }] of runs.entries()) {
    const dir = join(flags.out, id);
    const done = await finishedRun(dir);
    if (done) {
      if (done.spec && done.spec.epochs !== spec.epochs)
        note(io, `${id}: kept its result from ${done.spec.epochs} epochs (delete ${dir} to train it again with ${spec.epochs})`);
      note(io, `[${i + 1}/${runs.length}] ${id}: finished before, skipped`);
      results.push(done.result);
      skipped.push(id);
    } else {
      note(io, `[${i + 1}/${runs.length}] ${id}: training ${runLabel(spec)}`);
      const features = featuresFor(spec.model);
      const data = await loadData(io, dataOptions(flags), features);
      // An interrupted run left its checkpoint in the folder: pick it up.
      const { result } = await trainRun(io, id, spec, data, features, dir, existsSync(join(dir, 'checkpoint.snnc')) ? 'resume' : 'fresh');
      results.push(result);
      trained.push(id);
    }
    if (!spec.spiking && methods.length > 0)
      conversions.push((await convertRun(io, id, dir, { methods, steps: flags.steps, batchSize: flags.batchSize, data: dataOptions(flags) })).sweep);
    await save();
  }
  await save();
  return { results, conversions, trained, skipped };
}

export function sweepCommand(ctx: CliContext): Command {
  const cmd = new Command('sweep')
    .description("run the study's grid (CNN and SNN per model, T and beta learning) and write results.json, report.md and plots; --shard and --merge split it over machines")
    // Lists of model settings, each item parsed by its setting.
    .option('--models <list>', 'comma-separated models', listOf('--models', settingParser('--models', MODEL_SETTINGS.name)), ['m5', 'piczak', 'hjh', 'tcy'] as ModelName[])
    .option('--steps <list>', 'comma-separated SNN time steps', listOf('--steps', settingParser('--steps', MODEL_SETTINGS.steps)), [1, 5, 15, 30])
    .option('--learn-beta <list>', 'off, on, or off,on', listOf('--learn-beta', settingParser('--learn-beta', MODEL_SETTINGS.learnBeta)), [false, true])
    .option('--no-cnn', 'leave out the CNN baselines')
    .addOption(neuronOption());
  addTrainingOptions(cmd, { epochs: RUN_DEFAULTS.epochs, batchSize: RUN_DEFAULTS.batchSize }, false)
    .option('--out <dir>', 'output folder', 'runs/sweep')
    .option('--convert <list>', `after each CNN run, convert it to SNNs by these methods (${SWEEP_CONVERSIONS.join(', ')}) at every T of --steps and score them on the test split (default: none)`,
      listOf('--convert', choice('--convert', SWEEP_CONVERSIONS)))
    .option('--shard <k/n>', 'run only part k of n of the grid (every n-th run from the k-th), e.g. on machine k of n; join the parts with --merge', parseShard)
    .option('--merge <dirs...>', "join the runs in these sweeps' --out folders into one report in --out, instead of running");
  withJson(cmd);
  return cmd.action(async (flags: SweepFlags, command: Command) => {
    const { io } = ctx;
    if (flags.merge) {
      if (flags.shard) throw new UsageError('--shard runs a part of the grid; --merge joins parts: give one of them');
      if (flags.convert) throw new UsageError('--convert applies when running; --merge joins the conversions its folders ran with');
      if (command.getOptionValueSource('out') !== 'cli') throw new UsageError('--merge needs --out <dir>: the folder the joined report goes to');
      const { results, conversions, missing } = await mergeSweeps(io, flags.merge, flags.out);
      if (missing.length) note(io, `missing from the grid: ${missing.join('; ')}`);
      emit(io, flags.json, { out: flags.out, merged: flags.merge, missing, results, conversions }, () =>
        [`${results.length} runs from ${flags.merge!.length} folders; ${missing.length ? `${missing.length} missing` : 'none missing'}; report in ${join(flags.out, 'report.md')}`, '', resultTable(results)].join('\n'),
      );
      return;
    }
    const { results, conversions, trained, skipped } = await runSweep(io, flags);
    const part = flags.shard ? `part ${flags.shard.k}/${flags.shard.n}: ` : '';
    emit(io, flags.json, { out: flags.out, ...(flags.shard && { shard: flags.shard }), trained, skipped, results, conversions }, () =>
      [`${part}${trained.length} runs trained, ${skipped.length} skipped as finished; report in ${join(flags.out, 'report.md')}`, '', resultTable(results)].join('\n'),
    );
  });
}
