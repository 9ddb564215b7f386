// The runs of `snn-voice sweep`, and the part of them one machine runs (--shard k/n).
import type { ModelName } from '../models/types.js';
import { UsageError } from './options.js';
import { studySchedule } from './recipe.js';
import { RUN_MODEL_DEFAULTS, type NeuronPreset, type RunSpec } from './run.js';

/** What decides the grid: the same flags give the same runs, with the same ids, on every machine. */
export interface GridFlags {
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
}

export interface GridRun {
  id: string;
  spec: RunSpec;
}

/** The runs of the grid, in order: per model the CNN, then the SNNs by T, fixed beta before learned. */
export function sweepGrid(flags: GridFlags): GridRun[] {
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

/** Part k (1-based) of n. */
export interface Shard {
  k: number;
  n: number;
}

/** `--shard k/n`, 1 <= k <= n (a Slurm array passes SLURM_ARRAY_TASK_ID + 1, an indexed Job JOB_COMPLETION_INDEX + 1). */
export function parseShard(raw: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new UsageError(`--shard must be k/n (part k of n, e.g. 2/4), got "${raw}"`);
  const [k, n] = [Number(m[1]), Number(m[2])];
  if (n < 1) throw new UsageError(`--shard ${raw}: n must be at least 1`);
  if (k < 1 || k > n) throw new UsageError(`--shard ${raw}: k must be between 1 and ${n} (parts are counted from 1; a 0-based array index needs + 1)`);
  return { k, n };
}

/**
 * The runs of part k of n: every n-th run of the grid from the k-th. Round robin, not blocks: the
 * grid lists each model's runs by rising T, so blocks would give one machine all the long runs.
 */
export function shardRuns<T>(runs: readonly T[], shard: Shard): T[] {
  return runs.filter((_, i) => i % shard.n === shard.k - 1);
}
