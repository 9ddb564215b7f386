// The training loop: seeded shuffled batches, cross-entropy on the time-summed logits (over the classes
// of each clip's own folder under labelSpace 'folder', train/batches.ts; blended with teachers' soft
// targets when distilling, train/distill.ts), Adam (or SGD) under a per-batch OneCycle
// schedule, validation after every epoch (of the weights' moving average when averaging,
// train/average.ts), early stopping on the monitored loss, and a checkpoint at the end of every epoch
// from which a killed run resumes to the same result as an uninterrupted one. It sees a model only
// through the Model interface.
import { getEngine } from '../engine/engine.js';
import { add } from '../kernels/elementwise.js';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/loss.js';
import type { Dataset } from '../data/dataset.js';
import { exportState, importState, type ModelState } from '../models/serialize.js';
import { resolveConfig } from '../models/config.js';
import type { Model, ModelConfig } from '../models/types.js';
import { Rng, shuffled } from '../util/rng.js';
import { BatchLoader } from './batches.js';
import { resolveSettings, type BestEpoch, type EpochRecord, type RunSettings, type TrainCheckpointMeta, type TrainOptions } from './run.js';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { Distiller } from './distill.js';
import { WeightAverage } from './average.js';
import { checkDataFits, evaluate } from './evaluate.js';
import { ScoreAccumulator } from './metrics.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { SharpnessAware } from './sam.js';
import { silentProgress, type ProgressBar } from '../util/progress.js';
import { OneCycle } from './schedule.js';

export interface TrainResult {
  history: EpochRecord[];
  /** Null only when no epoch finished. */
  best: BestEpoch | null;
  /** The epoch whose weights the model holds: the best, or the last under keep 'last'; null when no epoch finished. */
  kept: number | null;
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

/** One run's moving parts: what a checkpoint stores, and what the steps below share. */
interface Run {
  model: Model;
  data: { train: Dataset; validation?: Dataset };
  opts: TrainOptions;
  settings: RunSettings;
  state: TrainCheckpointMeta;
  rng: Rng;
  schedule: OneCycle;
  optimizer: Optimizer;
  loader: BatchLoader;
  /** Present when the run learns from teachers' soft targets as well. */
  distiller: Distiller | null;
  bestWeights: ModelState | null;
  /** Present when validation and the kept weights are a moving average of the weights. */
  average: WeightAverage | null;
  /** Present when each step's gradient is taken at the nearby worst weights (train/sam.ts). */
  sam: SharpnessAware | null;
}

/**
 * Trains `model` in place. On return the model holds the weights of its best epoch by the monitored
 * loss, or of its last under keep 'last' (the moving average's, when averaging); a run that failed (a
 * TrainingError) or was stopped by the signal ends with its best epoch's weights either way.
 */
export async function train(model: Model, data: { train: Dataset; validation?: Dataset }, opts: TrainOptions = {}): Promise<TrainResult> {
  checkDataFits(model, data.train, 'training data');
  if (data.validation) checkDataFits(model, data.validation, 'validation data');
  const settings = resolveSettings(model, data, opts);
  if (opts.resume && !opts.checkpoint) throw new Error('train: resume needs a checkpoint store to resume from (option checkpoint)');
  const rng = new Rng(settings.seed);
  const run: Run = {
    model,
    data,
    opts,
    settings,
    state: {
      kind: 'snn-voice-training',
      settings,
      epochsDone: 0,
      optimizerSteps: 0,
      rngState: rng.state,
      history: [],
      best: null,
      badEpochs: 0,
      stoppedEarly: false,
    },
    rng,
    schedule: new OneCycle({ maxLr: settings.lr, totalSteps: settings.epochs * settings.batchesPerEpoch, pctStart: settings.pctStart }),
    optimizer: createOptimizer(settings.optimizer, model.parameters(), { weightDecay: settings.weightDecay }),
    loader: new BatchLoader(data.train, settings.batchSize, settings.augment && { ...settings.augment, seed: settings.seed }, settings.labelSpace === 'folder'),
    distiller: settings.distill && opts.distill ? new Distiller(opts.distill.teachers, settings.distill, opts.distill.listeners, opts.progress) : null,
    bestWeights: null,
    average: settings.average ? new WeightAverage(model, settings.average) : null,
    sam: settings.sam ? new SharpnessAware(model, settings.sam) : null,
  };
  let resumedFrom = 0;
  let aborted = false;
  let finished = false;
  let keptLast = false;
  try {
    if (opts.resume && opts.checkpoint) resumedFrom = await resume(run, opts.checkpoint);
    while (run.state.epochsDone < settings.epochs && !run.state.stoppedEarly && !aborted) {
      const epoch = run.state.epochsDone + 1;
      const bar = (opts.progress ?? silentProgress)(`epoch ${epoch}/${settings.epochs}`, settings.batchesPerEpoch);
      try {
        const done = await trainEpoch(run, epoch, bar);
        if (!done) {
          aborted = true;
          break;
        }
        // Validation and the kept weights are the averaged ones; training goes on from the live ones.
        run.average?.swap();
        let record: EpochRecord;
        try {
          record = validate(run, done, bar);
          keepBest(run, record);
        } finally {
          run.average?.swap();
        }
        run.state.epochsDone = epoch;
        run.state.optimizerSteps = run.optimizer.steps;
        run.state.rngState = run.rng.state;
        if (opts.checkpoint) await opts.checkpoint.save(checkpointOf(run));
        await opts.onEpoch?.(record, run.state.history);
      } finally {
        bar.stop();
      }
    }
    finished = !aborted;
  } finally {
    run.optimizer.dispose();
    run.loader.dispose();
    run.distiller?.free();
    keptLast = finished && settings.keep === 'last' && run.state.history.length > 0;
    // The last epoch's weights are the live ones, or the average's, which validation scored.
    if (keptLast) run.average?.swap();
    else if (run.bestWeights) importState(model, run.bestWeights, 'best weights');
    run.average?.free();
  }
  const { history, best, stoppedEarly } = run.state;
  const kept = keptLast ? history[history.length - 1].epoch : (best?.epoch ?? null);
  return { history, best, kept, stoppedEarly, aborted, resumedFrom };
}

/** A model config with every setting this version has, in the schema's order. */
function fullConfig(value: unknown): unknown {
  const config = value as Partial<ModelConfig> | undefined;
  if (!config || typeof config.name !== 'string') return value;
  try {
    return resolveConfig(config.name, config);
  } catch {
    return value; // not a config this version knows: compared as it is, so the message shows it
  }
}

/** Restores weights, optimizer, best weights, counters and the generator; returns the epochs already done. */
async function resume(run: Run, store: CheckpointStore): Promise<number> {
  const saved = await store.load();
  if (!saved) return 0;
  const meta = saved.meta as TrainCheckpointMeta;
  if (meta?.kind !== 'snn-voice-training') throw new Error('train: the checkpoint store holds something that is not a training checkpoint');
  // Both runs' keys: an optional setting (augment, distill) that only one of them has is a difference too.
  for (const key of new Set([...Object.keys(run.settings), ...Object.keys(meta.settings)]) as Set<keyof RunSettings>) {
    // A model setting added since the checkpoint was written takes its default, as loading a model file does.
    const was = JSON.stringify(key === 'model' ? fullConfig(meta.settings.model) : meta.settings[key]);
    const now = JSON.stringify(key === 'model' ? fullConfig(run.settings.model) : run.settings[key]);
    if (was !== now) throw new Error(`train: cannot resume, the checkpoint was made with ${key} ${was} and this run has ${now}`);
  }
  importState(run.model, unprefixed('model/', saved.arrays), 'checkpoint');
  run.optimizer.importState({ kind: run.settings.optimizer, steps: meta.optimizerSteps, slots: unprefixed('optimizer/', saved.arrays) }, 'checkpoint');
  run.average?.importState(unprefixed('average/', saved.arrays), 'checkpoint');
  const best = unprefixed('best/', saved.arrays);
  run.bestWeights = best.size ? best : null;
  Object.assign(run.state, { ...meta, settings: run.settings });
  run.rng.state = meta.rngState;
  return meta.epochsDone;
}

/** What one pass over the training batches measured; null when the signal stopped it. */
interface EpochPass {
  epoch: number;
  started: number;
  scores: ScoreAccumulator;
  last: { lr: number; momentum: number };
}

/** One shuffled pass over the training set: forward, loss, backward and an optimizer step per batch. */
async function trainEpoch(run: Run, epoch: number, bar: ProgressBar): Promise<EpochPass | null> {
  const { model, loader, optimizer, schedule, opts, distiller } = run;
  const { batchesPerEpoch } = run.settings;
  const started = performance.now();
  const order = shuffled(run.data.train.size, run.rng);
  const scores = new ScoreAccumulator();
  getEngine().resetPeakBytes();
  let lastYield = started;
  let last = { lr: 0, momentum: 0 };
  model.train();
  for (let b = 0; b < batchesPerEpoch; b++) {
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (opts.signal?.aborted) return null;
    const { x, labels, samples, probs, dlogits, offsets } = loader.load(order, b, epoch);
    distiller?.teach(x, samples);
    // Forward, loss and backward of this batch at the weights the model holds; the scores are w's alone.
    const pass = (scored: boolean): void => {
      const logits = model.forward(x);
      // The model's backward reads dlogits alone, so the logits can take the offsets in place.
      if (offsets) add(logits, offsets, logits);
      const loss = crossEntropyForward(logits, labels, probs);
      if (!Number.isFinite(loss))
        throw new TrainingError(
          `training stopped: the loss is ${loss} at epoch ${epoch}, batch ${b + 1} of ${batchesPerEpoch} (last lr ${last.lr.toPrecision(3)}); ` +
            'try a lower learning rate or check the input data',
          epoch,
          b + 1,
        );
      crossEntropyBackward(probs, labels, dlogits);
      const blended = distiller ? distiller.blend(logits, loss, dlogits) : loss;
      if (scored) scores.add(blended, logits, labels);
      model.backward(dlogits);
    };
    pass(true);
    if (run.sam?.ascend()) {
      try {
        pass(false);
      } finally {
        run.sam.restore();
      }
    }
    last = schedule.at(optimizer.steps);
    optimizer.step(last.lr, last.momentum);
    run.average?.update(optimizer.steps);
    const seconds = (performance.now() - started) / 1000;
    bar.update(b + 1, { loss: scores.scores.loss, acc: scores.scores.top1, 'samples/s': Math.round(scores.samples / seconds) });
  }
  return { epoch, started, scores, last };
}

/** Scores the validation set (when there is one) and makes the epoch's record. */
function validate(run: Run, pass: EpochPass, bar: ProgressBar): EpochRecord {
  const { epoch, started, scores, last } = pass;
  const trainSeconds = (performance.now() - started) / 1000;
  const validation = run.data.validation
    ? evaluate(run.model, run.data.validation, {
        batchSize: run.settings.batchSize,
        label: `validation after epoch ${epoch}`,
        heldClassesOnly: run.settings.labelSpace === 'folder',
      })
    : undefined;
  const record: EpochRecord = {
    epoch,
    lr: last.lr,
    momentum: last.momentum,
    train: scores.scores,
    ...(validation && { validation: { loss: validation.loss, top1: validation.top1, top2: validation.top2, top5: validation.top5 } }),
    seconds: (performance.now() - started) / 1000,
    samplesPerSecond: scores.samples / trainSeconds,
    memoryBytes: getEngine().peakBytesInUse,
  };
  if (validation)
    bar.update(run.settings.batchesPerEpoch, {
      loss: record.train.loss,
      acc: record.train.top1,
      'val loss': validation.loss,
      'val acc': validation.top1,
      'samples/s': Math.round(record.samplesPerSecond),
    });
  return record;
}

/** Records the epoch; keeps a copy of the weights when its monitored loss is the best yet, else counts
 *  towards early stopping. */
function keepBest(run: Run, record: EpochRecord): void {
  const { state } = run;
  const watched = record.validation ?? record.train;
  state.history.push(record);
  if (state.best === null || watched.loss < state.best.loss) {
    state.best = { epoch: record.epoch, monitor: run.data.validation ? 'validation' : 'train', loss: watched.loss, top1: watched.top1 };
    run.bestWeights = exportState(run.model);
    state.badEpochs = 0;
  } else if (++state.badEpochs >= (run.settings.patience ?? Infinity)) {
    state.stoppedEarly = true;
  }
}

function checkpointOf(run: Run): Checkpoint {
  const arrays = new Map<string, Float32Array>();
  prefixed('model/', exportState(run.model), arrays);
  prefixed('optimizer/', run.optimizer.exportState().slots, arrays);
  if (run.bestWeights) prefixed('best/', run.bestWeights, arrays);
  if (run.average) prefixed('average/', run.average.exportState(), arrays);
  return { meta: structuredClone(run.state), arrays };
}
