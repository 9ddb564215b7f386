// The training loop: seeded shuffled batches, cross-entropy on the time-summed logits, Adam (or SGD)
// under a per-batch OneCycle schedule, validation after every epoch, early stopping on the monitored
// loss, and a checkpoint at the end of every epoch from which a killed run resumes to the same result
// as an uninterrupted one. It sees a model only through the Model interface.
import { getEngine } from '../engine/engine.js';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/loss.js';
import type { Dataset } from '../data/dataset.js';
import { exportState, importState, type ModelState } from '../models/serialize.js';
import type { Model } from '../models/types.js';
import { Rng, shuffled } from '../util/rng.js';
import { BatchLoader, batchCount } from './batches.js';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { checkDataFits, evaluate } from './evaluate.js';
import { ScoreAccumulator, type Scores } from './metrics.js';
import { createOptimizer, type OptimizerName } from './optimizer.js';
import { silentProgress, type ProgressFactory } from '../util/progress.js';
import { OneCycle } from './schedule.js';

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

export interface TrainResult {
  history: EpochRecord[];
  /** Null only when no epoch finished. */
  best: BestEpoch | null;
  stoppedEarly: boolean;
  /** The signal stopped the run. */
  aborted: boolean;
  /** Epochs already done in the checkpoint this run resumed from (0 for a fresh run). */
  resumedFrom: number;
}

/** A non-finite loss: the run stops, the model gets its best weights back, the last checkpoint stays. */
export class TrainingError extends Error {
  constructor(
    message: string,
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

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

function resolveSettings(model: Model, data: { train: Dataset; validation?: Dataset }, opts: TrainOptions): RunSettings {
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 32);
  const patience = opts.patience ?? 5;
  if (patience !== Infinity) positiveInt('patience', patience);
  const max = opts.maxBatchesPerEpoch === undefined ? Infinity : positiveInt('maxBatchesPerEpoch', opts.maxBatchesPerEpoch);
  const optimizer = opts.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new RangeError(`train: optimizer must be 'adam' or 'sgd', got '${String(optimizer)}'`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`train: seed must be an integer, got ${seed}`);
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
  };
}

function prefixed(prefix: string, state: ModelState | Map<string, Float32Array>, into: Map<string, Float32Array>): void {
  for (const [name, values] of state) into.set(prefix + name, values);
}

function unprefixed(prefix: string, arrays: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, values] of arrays) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), values);
  return out;
}

/** Lets timers, progress redraws and abort events run during a long synchronous-kernel loop. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Trains `model` in place. On return (and when a TrainingError is thrown) the model holds the weights
 * of its best epoch by the monitored loss, not those of the last epoch.
 */
export async function train(model: Model, data: { train: Dataset; validation?: Dataset }, opts: TrainOptions = {}): Promise<TrainResult> {
  checkDataFits(model, data.train, 'training data');
  if (data.validation) checkDataFits(model, data.validation, 'validation data');
  const settings = resolveSettings(model, data, opts);
  if (opts.resume && !opts.checkpoint) throw new Error('train: resume needs a checkpoint store to resume from (option checkpoint)');
  const { epochs, batchSize, batchesPerEpoch } = settings;
  const patience = settings.patience ?? Infinity;
  const schedule = new OneCycle({ maxLr: settings.lr, totalSteps: epochs * batchesPerEpoch, pctStart: settings.pctStart });
  const rng = new Rng(settings.seed);
  const progress = opts.progress ?? silentProgress;
  const monitor = data.validation ? 'validation' : 'train';

  const state: TrainCheckpointMeta = {
    kind: 'snn-voice-training',
    settings,
    epochsDone: 0,
    optimizerSteps: 0,
    rngState: rng.state,
    history: [],
    best: null,
    badEpochs: 0,
    stoppedEarly: false,
  };
  let bestWeights: ModelState | null = null;
  let resumedFrom = 0;
  let aborted = false;

  const optimizer = createOptimizer(settings.optimizer, model.parameters(), { weightDecay: settings.weightDecay });
  const loader = new BatchLoader(data.train, batchSize);
  try {
    if (opts.resume && opts.checkpoint) {
      const saved = await opts.checkpoint.load();
      if (saved) {
        const meta = saved.meta as TrainCheckpointMeta;
        if (meta?.kind !== 'snn-voice-training') throw new Error('train: the checkpoint store holds something that is not a training checkpoint');
        for (const key of Object.keys(settings) as Array<keyof RunSettings>) {
          const was = JSON.stringify(meta.settings[key]);
          const now = JSON.stringify(settings[key]);
          if (was !== now) throw new Error(`train: cannot resume, the checkpoint was made with ${key} ${was} and this run has ${now}`);
        }
        importState(model, unprefixed('model/', saved.arrays), 'checkpoint');
        optimizer.importState({ kind: settings.optimizer, steps: meta.optimizerSteps, slots: unprefixed('optimizer/', saved.arrays) }, 'checkpoint');
        const best = unprefixed('best/', saved.arrays);
        bestWeights = best.size ? best : null;
        Object.assign(state, { ...meta, settings });
        rng.state = meta.rngState;
        resumedFrom = meta.epochsDone;
      }
    }

    while (state.epochsDone < epochs && !state.stoppedEarly && !aborted) {
      const epoch = state.epochsDone + 1;
      const started = performance.now();
      const order = shuffled(data.train.size, rng);
      const scores = new ScoreAccumulator();
      const bar = progress(`epoch ${epoch}/${epochs}`, batchesPerEpoch);
      getEngine().resetPeakBytes();
      let lastYield = started;
      let now = { lr: 0, momentum: 0 };
      model.train();
      try {
        for (let b = 0; b < batchesPerEpoch; b++) {
          if (performance.now() - lastYield > 50) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
          if (opts.signal?.aborted) {
            aborted = true;
            break;
          }
          const { x, labels, probs, dlogits } = loader.load(order, b);
          const logits = model.forward(x);
          const loss = crossEntropyForward(logits, labels, probs);
          if (!Number.isFinite(loss))
            throw new TrainingError(
              `training stopped: the loss is ${loss} at epoch ${epoch}, batch ${b + 1} of ${batchesPerEpoch} (last lr ${now.lr.toPrecision(3)}); ` +
                'try a lower learning rate or check the input data',
              epoch,
              b + 1,
            );
          scores.add(loss, logits, labels);
          crossEntropyBackward(probs, labels, dlogits);
          model.backward(dlogits);
          now = schedule.at(optimizer.steps);
          optimizer.step(now.lr, now.momentum);
          const seconds = (performance.now() - started) / 1000;
          bar.update(b + 1, { loss: scores.scores.loss, acc: scores.scores.top1, 'samples/s': Math.round(scores.samples / seconds) });
        }
        if (aborted) break;
        const trainSeconds = (performance.now() - started) / 1000;
        const validation = data.validation ? evaluate(model, data.validation, { batchSize, label: `validation after epoch ${epoch}` }) : undefined;
        const record: EpochRecord = {
          epoch,
          lr: now.lr,
          momentum: now.momentum,
          train: scores.scores,
          ...(validation && { validation: { loss: validation.loss, top1: validation.top1, top2: validation.top2, top5: validation.top5 } }),
          seconds: (performance.now() - started) / 1000,
          samplesPerSecond: scores.samples / trainSeconds,
          memoryBytes: getEngine().peakBytesInUse,
        };
        if (validation) bar.update(batchesPerEpoch, { loss: record.train.loss, acc: record.train.top1, 'val loss': validation.loss, 'val acc': validation.top1, 'samples/s': Math.round(record.samplesPerSecond) });
        const watched = record.validation ?? record.train;
        state.history.push(record);
        if (state.best === null || watched.loss < state.best.loss) {
          state.best = { epoch, monitor, loss: watched.loss, top1: watched.top1 };
          bestWeights = exportState(model);
          state.badEpochs = 0;
        } else if (++state.badEpochs >= patience) {
          state.stoppedEarly = true;
        }
        state.epochsDone = epoch;
        state.optimizerSteps = optimizer.steps;
        state.rngState = rng.state;
        if (opts.checkpoint) await opts.checkpoint.save(checkpointOf(state, model, optimizer.exportState().slots, bestWeights));
        await opts.onEpoch?.(record, state.history);
      } finally {
        bar.stop();
      }
    }
  } finally {
    optimizer.dispose();
    loader.dispose();
    if (bestWeights) importState(model, bestWeights, 'best weights');
  }
  return { history: state.history, best: state.best, stoppedEarly: state.stoppedEarly, aborted, resumedFrom };
}

function checkpointOf(state: TrainCheckpointMeta, model: Model, slots: Map<string, Float32Array>, best: ModelState | null): Checkpoint {
  const arrays = new Map<string, Float32Array>();
  prefixed('model/', exportState(model), arrays);
  prefixed('optimizer/', slots, arrays);
  if (best) prefixed('best/', best, arrays);
  return { meta: structuredClone(state), arrays };
}
