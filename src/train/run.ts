// What describes a training run: the trainer's options, the settings resolved from them (a checkpoint is
// only resumed by a run whose settings are the same), and the records an epoch leaves.
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../models/types.js';
import { checkAugment, type AugmentOptions } from './augment.js';
import { batchCount } from './batches.js';
import type { CheckpointStore } from './checkpoint.js';
import { checkDecay } from './average.js';
import { checkRho } from './sam.js';
import { resolveDistill, type DistillOptions, type DistillSettings } from './distill.js';
import type { OptimizerName } from './optimizer.js';
import type { Scores } from './metrics.js';
import type { ProgressFactory } from '../util/progress.js';

/** Everything that shapes a run; a checkpoint is only resumed by a run with the same settings. */
export interface RunSettings {
  model: unknown;
  parameters: string[];
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  pctStart: number;
  patience: number | null;
  seed: number;
  optimizer: OptimizerName;
  batchesPerEpoch: number;
  trainSize: number;
  validationSize: number;
  /** Present when training batches are augmented (train/augment.ts). */
  augment?: AugmentOptions;
  /** Present when the run learns from teachers' soft targets as well (train/distill.ts). */
  distill?: DistillSettings;
  /** Present when validation and the kept weights are the weights' moving average: its decay. */
  average?: number;
  /** Present when each step's gradient is taken at the nearby worst weights: the radius ρ. */
  sam?: number;
  /** Present when each training sample's softmax runs over the classes its source holds alone. */
  labelSpace?: 'folder';
  /** Present when the run ends with its last epoch's weights rather than its best. */
  keep?: 'last';
}

/**
 * Which classes a training sample's softmax runs over: every class of the task, or only those its
 * source holds (Dataset.classesHeld: the classes of its folder, when several folders are read as one
 * data set). With 'all', a folder that lacks some words teaches that its voices never say them: real
 * recordings of five of ten words beside synthesized recordings of all ten teach the model to hear a
 * real voice as one of the five (docs/accuracy.md).
 */
export const LABEL_SPACES = ['all', 'folder'] as const;
export type LabelSpace = (typeof LABEL_SPACES)[number];

/**
 * Which epoch's weights a run ends with: the best by the monitored loss, or the last. Under a one-cycle
 * schedule that anneals the rate to nearly nothing the last epoch is the converged one, where the
 * lowest loss on a few hundred validation clips can fall on an earlier epoch by noise
 * (docs/accuracy.md).
 */
export const KEEP_EPOCHS = ['best', 'last'] as const;
export type KeepEpoch = (typeof KEEP_EPOCHS)[number];

export interface TrainOptions {
  /** Default 20. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Peak learning rate of the OneCycle schedule (default 0.01; the study used 0.001 for Piczak). */
  lr?: number;
  /** L2 weight decay on the parameters that take it (default 1e-4). */
  weightDecay?: number;
  /** OneCycle warm-up fraction (default 0.2; the study used 0.4 for Piczak). */
  pctStart?: number;
  /** Stop after this many epochs without a new best monitored loss (default 5; Infinity never stops). */
  patience?: number;
  /** Seeds the shuffling (default 0). */
  seed?: number;
  /** Default 'adam'. */
  optimizer?: OptimizerName;
  /** Cap on batches per epoch (quick runs); the schedule is planned for the capped count. */
  maxBatchesPerEpoch?: number;
  /** One bar per epoch: loss, accuracy, samples/s, ETA. */
  progress?: ProgressFactory;
  /** Called after each epoch's checkpoint is saved, with the whole history so far. */
  onEpoch?: (record: EpochRecord, history: readonly EpochRecord[]) => void | Promise<void>;
  /** Receives a checkpoint at the end of every epoch. */
  checkpoint?: CheckpointStore;
  /** Continue from the store's checkpoint when there is one (its settings must match these). */
  resume?: boolean;
  /** Aborting stops the run cleanly after the current batch; the unfinished epoch is not recorded. */
  signal?: AbortSignal;
  /** Augment training batches (feature-level shift and masks, waveform-augmented copies), drawn from
   *  the seed, the epoch and the sample's index; default none. */
  augment?: AugmentOptions;
  /** Learn from trained teachers' soft targets as well as from the labels (train/distill.ts); default none. */
  distill?: DistillOptions;
  /** Validate and keep an exponential moving average of the weights with this decay (train/average.ts),
   *  e.g. 0.999; default none. */
  average?: number;
  /** Take each step's gradient at the weights a radius ρ uphill (sharpness-aware minimization,
   *  train/sam.ts), e.g. 0.05; each step then runs forward and backward twice. Default none. */
  sam?: number;
  /** The classes each training sample's softmax runs over (LABEL_SPACES); default 'all'. */
  labelSpace?: LabelSpace;
  /** Which epoch's weights the model holds at the end (KEEP_EPOCHS); default 'best'. */
  keep?: KeepEpoch;
}

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Learning rate and momentum (Adam's beta1) of the epoch's last batch. */
  lr: number;
  momentum: number;
  /** Running means over the epoch's batches, in training mode. */
  train: Scores;
  /** Evaluation-mode scores on the validation set, when there is one. */
  validation?: Scores;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** Training samples per second (validation excluded). */
  samplesPerSecond: number;
  /** The most engine memory held at once during the epoch (weights, gradients, optimiser state,
   *  activations, scratch): the run's own, unlike the WebAssembly memory's size, which only grows. */
  memoryBytes: number;
}

export interface BestEpoch {
  epoch: number;
  /** Which loss chose it: validation when there is a validation set, else training. */
  monitor: 'validation' | 'train';
  loss: number;
  top1: number;
}

/** The JSON part of a checkpoint; weights, optimizer slots and best weights go in its arrays. */
export interface TrainCheckpointMeta {
  kind: 'snn-voice-training';
  settings: RunSettings;
  epochsDone: number;
  optimizerSteps: number;
  rngState: number;
  history: EpochRecord[];
  best: BestEpoch | null;
  badEpochs: number;
  stoppedEarly: boolean;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`train: ${name} must be a positive integer, got ${v}`);
  return v;
}

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`train: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  return v;
}

export function resolveSettings(model: Model, data: { train: Dataset; validation?: Dataset }, opts: TrainOptions): RunSettings {
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 32);
  const patience = opts.patience ?? 5;
  if (patience !== Infinity) positiveInt('patience', patience);
  const max = opts.maxBatchesPerEpoch === undefined ? Infinity : positiveInt('maxBatchesPerEpoch', opts.maxBatchesPerEpoch);
  const optimizer = opts.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new RangeError(`train: optimizer must be 'adam' or 'sgd', got '${String(optimizer)}'`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`train: seed must be an integer, got ${seed}`);
  const a = opts.augment;
  const augment = a && (a.spec || a.copies) ? { spec: a.spec ?? null, copies: !!a.copies } : undefined;
  if (augment) checkAugment(augment);
  const labelSpace = opts.labelSpace ?? 'all';
  if (!LABEL_SPACES.includes(labelSpace)) throw new RangeError(`train: labelSpace must be ${LABEL_SPACES.join(' or ')}, got '${String(labelSpace)}'`);
  // A teacher's soft targets spread over every class, where the student's softmax may not reach.
  if (labelSpace === 'folder' && opts.distill) throw new RangeError("train: labelSpace 'folder' does not combine with distillation (the teachers' soft targets cover every class)");
  const keep = opts.keep ?? 'best';
  if (!KEEP_EPOCHS.includes(keep)) throw new RangeError(`train: keep must be ${KEEP_EPOCHS.join(' or ')}, got '${String(keep)}'`);
  return {
    model: model.config,
    parameters: model.parameters().map((p) => `${p.name}[${p.value.shape.join(',')}]`),
    epochs: positiveInt('epochs', opts.epochs ?? 20),
    batchSize,
    lr: positive('lr', opts.lr ?? 0.01),
    weightDecay: positive('weightDecay', opts.weightDecay ?? 1e-4, true),
    pctStart: opts.pctStart ?? 0.2,
    patience: patience === Infinity ? null : patience,
    seed,
    optimizer,
    batchesPerEpoch: batchCount(data.train.size, batchSize, max),
    trainSize: data.train.size,
    validationSize: data.validation?.size ?? 0,
    ...(augment && { augment }),
    ...(opts.distill && { distill: resolveDistill(model, opts.distill, data.train) }),
    ...(opts.average !== undefined && { average: checkDecay(opts.average) }),
    ...(opts.sam !== undefined && { sam: checkRho(opts.sam) }),
    ...(labelSpace === 'folder' && { labelSpace }),
    ...(keep === 'last' && { keep }),
  };
}
