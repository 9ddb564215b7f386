// One pass of a model over a data set in evaluation mode: loss, top-k accuracy, confusion matrix, and
// the synaptic activity with its energy estimate (spike rates per Leaky layer, dense MACs against the
// accumulates spikes trigger).
import { ShapeError, expectFinite, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add } from '../kernels/elementwise.js';
import { crossEntropyForward } from '../kernels/loss.js';
import type { Dataset } from '../data/dataset.js';
import { Network } from '../models/network.js';
import type { ActivityReport, Model } from '../models/types.js';
import { BatchLoader, batchCount } from './batches.js';
import { ScoreAccumulator, addToConfusion, emptyConfusion, energyEstimate, type EnergyEstimate, type Scores } from './metrics.js';
import { silentProgress, type ProgressFactory } from '../util/progress.js';

export interface EvalOptions {
  /** Default 64. */
  batchSize?: number;
  progress?: ProgressFactory;
  /** Label of the progress bar (default "evaluate"). */
  label?: string;
  /** Sees each batch's logits [n, classes] (valid during the call) and the index of its first sample. */
  onBatch?: (logits: Tensor, first: number) => void;
  /** Score each sample over the classes its source holds alone (Dataset.classesHeld), as a run under
   *  `labelSpace: 'folder'` trains: its validation. Default false: every class. */
  heldClassesOnly?: boolean;
}

export interface EvalResult extends Scores {
  samples: number;
  /** classes x classes counts: row = true class, column = predicted class. */
  confusion: number[][];
  /** Per sample; for a CNN the operations are all multiply-accumulates. */
  activity: ActivityReport;
  /** Per sample, from the activity. */
  energy: EnergyEstimate;
}

/** Throws unless the data's samples and classes fit the model. */
export function checkDataFits(model: Model, data: Dataset, what: string): void {
  if (fmtShape(data.featureShape) !== fmtShape(model.inputShape))
    throw new ShapeError(`${what}: samples have shape ${fmtShape(data.featureShape)}, the ${model.name} model takes ${fmtShape(model.inputShape)}`);
  if (data.classes.length !== model.classes)
    throw new ShapeError(`${what}: ${data.classes.length} classes, the ${model.name} model has ${model.classes}`);
  if (data.size === 0) throw new RangeError(`${what}: the data set is empty`);
}

/**
 * Scores `model` on every sample of `data`, in order, in evaluation mode (batch norm uses its running
 * statistics); the model's training mode is restored afterwards.
 */
export function evaluate(model: Model, data: Dataset, opts: EvalOptions = {}): EvalResult {
  const steps = evaluation(model, data, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * As evaluate, but gives the event loop a turn after each batch (so a Ctrl-C handler runs), and stops
 * after the batch during which `signal` aborts: null then, and the model's mode is restored as ever.
 */
export async function evaluateAsync(model: Model, data: Dataset, opts: EvalOptions & { signal?: AbortSignal } = {}): Promise<EvalResult | null> {
  const steps = evaluation(model, data, opts);
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (opts.signal?.aborted) return null;
    }
  } finally {
    steps.return(undefined as never); // runs the evaluation's cleanup when it stopped early
  }
}

/** What an evaluation's activations may take: the layers keep their outputs between batches. */
const EVAL_ACTIVATION_BYTES = 1 << 30;

/**
 * The batch an evaluation runs: `asked`, fewer when a sample's activations over its steps would pass
 * `bytes` (BC-ResNet keeps 14 MB a step, so a converted one at T = 64 scores one clip at a time).
 */
export function evalBatch(model: Model, asked: number, bytes = EVAL_ACTIVATION_BYTES): number {
  if (!(model instanceof Network)) return asked;
  return Math.max(1, Math.min(asked, Math.floor(bytes / (4 * model.activationFloats() * model.steps))));
}

/** The evaluation, one batch per step. */
function* evaluation(model: Model, data: Dataset, opts: EvalOptions): Generator<void, EvalResult, void> {
  const label = opts.label ?? 'evaluate';
  checkDataFits(model, data, label);
  const loader = new BatchLoader(data, evalBatch(model, opts.batchSize ?? 64), undefined, opts.heldClassesOnly);
  const order = Int32Array.from({ length: data.size }, (_, i) => i);
  const batches = batchCount(data.size, loader.batchSize);
  const scores = new ScoreAccumulator();
  const confusion = emptyConfusion(model.classes);
  const wasTraining = model.training, wasCounting = model.countActivity;
  const bar = (opts.progress ?? silentProgress)(label, batches);
  model.eval();
  model.countActivity = true;
  model.resetActivity();
  try {
    for (let b = 0; b < batches; b++) {
      const { x, labels, probs, offsets } = loader.load(order, b);
      const logits = model.forward(x);
      if (offsets) add(logits, offsets, logits);
      const loss = crossEntropyForward(logits, labels, probs);
      expectFinite(label, `loss of batch ${b + 1}`, loss);
      scores.add(loss, logits, labels);
      opts.onBatch?.(logits, b * loader.batchSize);
      addToConfusion(confusion, logits.f32, labels.data);
      bar.update(b + 1, { loss: scores.scores.loss, top1: scores.scores.top1 });
      if (b + 1 < batches) yield;
    }
  } finally {
    bar.stop();
    loader.dispose();
    model.train(wasTraining);
    model.countActivity = wasCounting;
  }
  const activity = model.activity();
  return { ...scores.scores, samples: scores.samples, confusion, activity, energy: energyEstimate(activity) };
}
