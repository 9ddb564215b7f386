// `snn-voice train`: one model, CNN or SNN, on a Speech Commands copy or the built-in set.
import { Command } from 'commander';
import { featuresFor } from '../models/zoo.js';
import { ENCODERS, MODEL_NAMES, SURROGATES } from '../models/config.js';
import type { EncoderName } from '../layers/encoder.js';
import type { ModelName } from '../models/types.js';
import type { SurrogateName } from '../kernels/lif.js';
import { runLabel } from '../train/report.js';
import { loadData } from './data.js';
import { type CliContext, emit } from './io.js';
import { UsageError, choice, existingFile, nonNegativeInt, numberIn, positiveInt, type WordChoice, withJson, wordList } from './options.js';
import { RUN_DEFAULTS, type NeuronPreset, type RunSpec, studySchedule, trainRun } from './run.js';
import { resultTable } from './summary.js';

export const NEURONS: readonly NeuronPreset[] = ['study', 'current'];

/** Options every training command shares (train, sweep, demo take subsets). */
export function addTrainingOptions(
  cmd: Command,
  defaults: { epochs: number; batchSize: number; lr?: number; pctStart?: number; limitPerClass?: number; words?: WordChoice },
): Command {
  return cmd
    .option('--epochs <n>', 'training epochs', positiveInt('--epochs'), defaults.epochs)
    .option('--batch-size <n>', 'samples per batch', positiveInt('--batch-size'), defaults.batchSize)
    .option('--lr <rate>', "peak learning rate of the one-cycle schedule (default: the study's, 0.01; 0.001 for piczak)", numberIn('--lr', 0, 10, true), defaults.lr)
    .option('--pct-start <f>', "share of the schedule spent warming up (default: the study's, 0.2; 0.4 for piczak)", numberIn('--pct-start', 0, 0.5, true), defaults.pctStart)
    .option('--seed <n>', 'seed of weights and shuffling', nonNegativeInt('--seed'), RUN_DEFAULTS.seed)
    .option('--data <dir>', 'a Speech Commands v2 folder (default: the built-in synthesized set)')
    .option('--limit-per-class <n>', 'use at most n clips per word and split (quick runs)', positiveInt('--limit-per-class'), defaults.limitPerClass)
    .option('--words <list>', 'the words to tell apart: all, commands (yes,no,up,down,left,right,on,off,stop,go) or a comma-separated list', wordList('--words'), defaults.words);
}

/** Options of the spiking neuron (train, sweep). */
export function addNeuronOptions(cmd: Command): Command {
  return cmd
    .option('--encoder <name>', `input encoding: ${ENCODERS.join(', ')}`, choice('--encoder', ENCODERS), RUN_DEFAULTS.encoder)
    .option('--beta <b>', 'membrane decay per step, 0 to 1', numberIn('--beta', 0, 1), RUN_DEFAULTS.beta)
    .option('--threshold <v>', 'firing threshold', numberIn('--threshold', 0, Infinity, true), RUN_DEFAULTS.threshold)
    .option('--learn-threshold', 'learn the threshold per layer')
    .option('--surrogate <name>', `spike gradient: ${SURROGATES.join(', ')} (default by --neuron)`, choice('--surrogate', SURROGATES))
    .option('--neuron <preset>', 'study: snntorch 0.5.3 (legacy form, straight-through); current: snntorch >= 0.8 (atan)', choice('--neuron', NEURONS), RUN_DEFAULTS.neuron);
}

interface TrainFlags {
  model: ModelName;
  spiking?: boolean;
  steps: number;
  encoder: EncoderName;
  beta: number;
  threshold: number;
  learnBeta?: boolean;
  learnThreshold?: boolean;
  surrogate?: SurrogateName;
  neuron: NeuronPreset;
  epochs: number;
  batchSize: number;
  lr?: number;
  pctStart?: number;
  seed: number;
  data?: string;
  limitPerClass?: number;
  words?: WordChoice;
  out?: string;
  resume?: boolean;
  fromCnn?: string;
  json?: boolean;
}

export function trainCommand(ctx: CliContext): Command {
  const cmd = new Command('train')
    .description('train one model (CNN, or SNN with --spiking) and write model.snn, a checkpoint, log.jsonl and result.json')
    .option('--model <name>', `architecture: ${MODEL_NAMES.join(', ')}`, choice('--model', MODEL_NAMES), 'hjh' as ModelName)
    .option('--spiking', 'train the spiking twin (SNN) instead of the CNN')
    .option('--steps <n>', 'SNN time steps T', positiveInt('--steps'), RUN_DEFAULTS.steps)
    .option('--learn-beta', 'learn beta per layer');
  addNeuronOptions(cmd);
  addTrainingOptions(cmd, { epochs: RUN_DEFAULTS.epochs, batchSize: RUN_DEFAULTS.batchSize })
    .option('--out <dir>', 'output folder (default runs/<model>-<cnn|snn-tT>)')
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--from-cnn <file>', "start the SNN from a trained CNN's model file (weights copied, thresholds balanced), then fine-tune");
  withJson(cmd);
  return cmd.action(async (flags: TrainFlags) => {
    const { io } = ctx;
    if (flags.fromCnn) existingFile('--from-cnn', flags.fromCnn);
    // A migrated CNN is an SNN: --from-cnn implies --spiking.
    const spiking = !!flags.spiking || !!flags.fromCnn;
    if (!spiking && (flags.learnBeta || flags.learnThreshold))
      throw new UsageError(`${flags.learnBeta ? '--learn-beta' : '--learn-threshold'} applies to SNNs: add --spiking`);
    const spec: RunSpec = {
      model: flags.model,
      spiking,
      steps: flags.steps,
      encoder: flags.encoder,
      beta: flags.beta,
      threshold: flags.threshold,
      learnBeta: !!flags.learnBeta,
      learnThreshold: !!flags.learnThreshold,
      surrogate: flags.surrogate,
      neuron: flags.neuron,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr ?? studySchedule(flags.model).lr,
      pctStart: flags.pctStart ?? studySchedule(flags.model).pctStart,
      seed: flags.seed,
      fromCnn: flags.fromCnn,
    };
    const id = spiking ? `${flags.model}-snn-t${flags.steps}${flags.learnBeta ? '-learned-beta' : ''}` : `${flags.model}-cnn`;
    const out = flags.out ?? `runs/${id}`;
    const features = featuresFor(flags.model);
    const data = await loadData(io, { data: flags.data, limitPerClass: flags.limitPerClass, words: flags.words }, features);
    const { result } = await trainRun(io, id, spec, data, features, out, !!flags.resume);
    emit(io, flags.json, { out, ...result }, () => `${runLabel(result)} -> ${out}\n\n${resultTable([result])}`);
  });
}
