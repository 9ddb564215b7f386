// `snn-voice sweep`: the study's grid. Each model as a CNN and as an SNN at every T, with beta fixed and
// learned; one folder per run holding its result, so a re-run skips what finished and resumes what was
// interrupted. Writes results.json, report.md and the SVG plots of the findings into --out.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { featuresFor } from '../models/zoo.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { MODEL_SETTINGS } from '../models/config.js';
import type { ModelName } from '../models/types.js';
import { buildReport, runLabel, type RunResult } from '../train/report.js';
import { dataOptions, loadData } from './data.js';
import { type CliContext, type CliIo, emit, note } from './io.js';
import { listOf, settingParser, type WordChoice, withJson } from './options.js';
import { RUN_DEFAULTS, RUN_MODEL_DEFAULTS, type NeuronPreset, type RunSpec, studySchedule, trainRun } from './run.js';
import { resultTable } from './summary.js';
import { addTrainingOptions, neuronOption } from './train.js';

interface SweepFlags {
  models: ModelName[];
  steps: number[];
  learnBeta: boolean[];
  cnn: boolean;
  neuron: NeuronPreset;
  epochs: number;
  batchSize: number;
  lr?: number;
  pctStart?: number;
  seed: number;
  data?: string;
  limitPerClass?: number;
  words?: WordChoice;
  out: string;
  json?: boolean;
}

export interface GridRun {
  id: string;
  spec: RunSpec;
}

/** The runs of the grid, in order: per model the CNN, then the SNNs by T, fixed beta before learned. */
export function sweepGrid(flags: Pick<SweepFlags, 'models' | 'steps' | 'learnBeta' | 'cnn' | 'neuron' | 'epochs' | 'batchSize' | 'lr' | 'pctStart' | 'seed'>): GridRun[] {
  const base = {
    ...RUN_MODEL_DEFAULTS,
    neuron: flags.neuron,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    seed: flags.seed,
  };
  const runs: GridRun[] = [];
  for (const model of flags.models) {
    const schedule = { lr: flags.lr ?? studySchedule(model).lr, pctStart: flags.pctStart ?? studySchedule(model).pctStart };
    if (flags.cnn) runs.push({ id: `${model}-cnn`, spec: { ...base, ...schedule, model, spiking: false, steps: 1, learnBeta: false } });
    for (const steps of [...flags.steps].sort((a, b) => a - b))
      for (const learnBeta of [...flags.learnBeta].sort((a, b) => Number(a) - Number(b)))
        runs.push({ id: `${model}-snn-t${steps}${learnBeta ? '-learned-beta' : ''}`, spec: { ...base, ...schedule, model, spiking: true, steps, learnBeta } });
  }
  return runs;
}

async function finishedResult(dir: string): Promise<(RunResult & { spec?: RunSpec }) | null> {
  const path = join(dir, 'result.json');
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunResult & { spec?: RunSpec };
  } catch {
    return null; // a damaged result: the run is done again
  }
}

/** Writes results.json, report.md and the plots for the results so far. */
export async function writeReport(out: string, title: string, settings: Record<string, string | number | boolean>, results: RunResult[]): Promise<void> {
  const { markdown, charts } = buildReport({ title, settings, results });
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  for (const c of charts) await writeFileAtomic(join(out, c.file), c.svg);
  await writeFileAtomic(join(out, 'report.md'), markdown);
}

export async function runSweep(io: CliIo, flags: SweepFlags): Promise<{ results: RunResult[]; trained: string[]; skipped: string[] }> {
  const grid = sweepGrid(flags);
  const settings = {
    data: flags.data ?? 'built-in synthesized set',
    epochs: flags.epochs,
    'batch size': flags.batchSize,
    'peak lr': flags.lr ?? "the study's (0.01; 0.001 for piczak)",
    'warm-up share': flags.pctStart ?? "the study's (0.2; 0.4 for piczak)",
    neuron: flags.neuron,
    seed: flags.seed,
    ...(flags.limitPerClass !== undefined && { 'clips per word and split (limit)': flags.limitPerClass }),
    ...(flags.words !== undefined && flags.words !== 'all' && { words: flags.words.join(', ') }),
  };
  const results: RunResult[] = [];
  const trained: string[] = [];
  const skipped: string[] = [];
  for (const [i, { id, spec }] of grid.entries()) {
    const dir = join(flags.out, id);
    const done = await finishedResult(dir);
    if (done) {
      if (done.spec && done.spec.epochs !== spec.epochs)
        note(io, `${id}: kept its result from ${done.spec.epochs} epochs (delete ${dir} to train it again with ${spec.epochs})`);
      note(io, `[${i + 1}/${grid.length}] ${id}: finished before, skipped`);
      results.push(done);
      skipped.push(id);
      continue;
    }
    note(io, `[${i + 1}/${grid.length}] ${id}: training ${runLabel(spec)}`);
    const features = featuresFor(spec.model);
    const data = await loadData(io, dataOptions(flags), features);
    // An interrupted run left its checkpoint in the folder: pick it up.
    const { result } = await trainRun(io, id, spec, data, features, dir, existsSync(join(dir, 'checkpoint.snnc')) ? 'resume' : 'fresh');
    results.push(result);
    trained.push(id);
    await writeReport(flags.out, 'snn-voice sweep', settings, results);
  }
  await writeReport(flags.out, 'snn-voice sweep', settings, results);
  return { results, trained, skipped };
}

export function sweepCommand(ctx: CliContext): Command {
  const cmd = new Command('sweep')
    .description("run the study's grid (CNN and SNN per model, T and beta learning) and write results.json, report.md and plots")
    // Lists of model settings, each item parsed by its setting.
    .option('--models <list>', 'comma-separated models', listOf('--models', settingParser('--models', MODEL_SETTINGS.name)), ['m5', 'piczak', 'hjh', 'tcy'] as ModelName[])
    .option('--steps <list>', 'comma-separated SNN time steps', listOf('--steps', settingParser('--steps', MODEL_SETTINGS.steps)), [1, 5, 15, 30])
    .option('--learn-beta <list>', 'off, on, or off,on', listOf('--learn-beta', settingParser('--learn-beta', MODEL_SETTINGS.learnBeta)), [false, true])
    .option('--no-cnn', 'leave out the CNN baselines')
    .addOption(neuronOption());
  addTrainingOptions(cmd, { epochs: RUN_DEFAULTS.epochs, batchSize: RUN_DEFAULTS.batchSize }).option('--out <dir>', 'output folder', 'runs/sweep');
  withJson(cmd);
  return cmd.action(async (flags: SweepFlags) => {
    const { io } = ctx;
    const { results, trained, skipped } = await runSweep(io, flags);
    emit(io, flags.json, { out: flags.out, trained, skipped, results }, () =>
      [`${trained.length} runs trained, ${skipped.length} skipped as finished; report in ${join(flags.out, 'report.md')}`, '', resultTable(results)].join('\n'),
    );
  });
}
