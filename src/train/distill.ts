// Knowledge distillation (Hinton et al. 2015): a student trained on the labels and on the soft targets
// of one or more trained teachers, the mean of their softmax(z_k / τ) on the same augmented batch:
//   loss = α · τ² · KL(targets ‖ softmax(z / τ)) + (1 − α) · cross-entropy(z, label)
// Several teachers of different seeds disagree where the data is ambiguous; their mean tells the student
// which mistakes are near misses, which one-hot labels cannot (an ensemble's knowledge in one model).
// Teachers that hear other features than the student (M5 on the waveform for an MFCC student) make
// errors of their own kind, which an average over architectures and inputs cancels better than one over
// seeds; they hear each training clip as recorded, once, from the same split in their own features.
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { distillBackward, distillForward, softTargetsAccumulate } from '../kernels/loss.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../models/types.js';
import { silentProgress, type ProgressFactory } from '../util/progress.js';
import { BatchLoader, batchCount } from './batches.js';
import { evalBatch } from './evaluate.js';

/** What a listening teacher's activations may take: its layers keep the last batch's for the whole run. */
const LISTEN_ACTIVATION_BYTES = 16 << 20;

/** A teacher on other features than the student's, with the training split in its own features:
 *  sample i of `train` is the student's training sample i (the same clip, label and order). */
export interface ListeningTeacher {
  model: Model;
  train: Dataset;
}

export interface DistillOptions {
  /** Trained models whose input and classes are the student's; never trained here. They hear the
   *  student's batch as it is, augmented. */
  teachers: readonly Model[];
  /** Trained models on other features: each hears every training clip as recorded (no copies, no masks),
   *  once before the first epoch; its soft targets for a clip join the others' whatever copy the student
   *  gets. Default none. */
  listeners?: readonly ListeningTeacher[];
  /** Weight of the soft targets' term (default 0.5). */
  alpha?: number;
  /** Softmax temperature τ of teachers and student in that term (default 2). */
  temperature?: number;
}

/** What a run's settings record of its distillation (a checkpoint resumes only with the same). */
export interface DistillSettings {
  teachers: string[];
  alpha: number;
  temperature: number;
}

export const DISTILL_DEFAULTS = { alpha: 0.5, temperature: 2 } as const;

/** Checks the options against the student and its training split; returns what the run's settings record. */
export function resolveDistill(student: Model, opts: DistillOptions, train: Dataset): DistillSettings {
  const alpha = opts.alpha ?? DISTILL_DEFAULTS.alpha;
  const temperature = opts.temperature ?? DISTILL_DEFAULTS.temperature;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`train: distillation alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`train: distillation temperature must be a positive number, got ${temperature}`);
  const listeners = opts.listeners ?? [];
  if (opts.teachers.length + listeners.length === 0) throw new RangeError('train: distillation needs at least one teacher');
  const all = [...opts.teachers, ...listeners.map((l) => l.model)];
  all.forEach((t, i) => {
    if (t === student) throw new RangeError(`train: teacher ${i + 1} is the student itself`);
    if (t.classes !== student.classes) throw new ShapeError(`train: teacher ${i + 1} (${t.name}) has ${t.classes} classes, the student ${student.classes}`);
  });
  opts.teachers.forEach((t, i) => {
    if (fmtShape(t.inputShape) !== fmtShape(student.inputShape))
      throw new ShapeError(`train: teacher ${i + 1} (${t.name}) takes inputs of ${fmtShape(t.inputShape)}, the student ${fmtShape(student.inputShape)}`);
  });
  listeners.forEach(({ model, train: heard }, j) => {
    const i = opts.teachers.length + j + 1;
    if (fmtShape(model.inputShape) !== fmtShape(heard.featureShape))
      throw new ShapeError(`train: teacher ${i} (${model.name}) takes inputs of ${fmtShape(model.inputShape)}, its training split holds ${fmtShape(heard.featureShape)}`);
    if (heard.size !== train.size || heard.labels.some((l, k) => l !== train.labels[k]))
      throw new RangeError(`train: teacher ${i} (${model.name})'s training split is not the student's clip for clip (${heard.size} clips against ${train.size}, or other labels)`);
  });
  const name = (t: Model) => `${t.name}${t.spiking ? ` SNN T=${t.steps}` : ' CNN'} ${fingerprint(t)}`;
  return { teachers: [...opts.teachers.map(name), ...listeners.map((l) => `${name(l.model)} on ${fmtShape(l.model.inputShape)}`)], alpha, temperature };
}

/** FNV-1a over the bits of a model's parameters: two teachers of one architecture but other weights
 *  differ here, so a checkpoint does not resume under other teachers. */
function fingerprint(model: Model): string {
  let h = 0x811c9dc5;
  for (const p of model.parameters())
    for (const word of new Uint32Array(p.value.toArray().buffer)) h = Math.imul(h ^ word, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The teachers' soft targets for a batch, and the soft term's loss and gradient for the student. */
export class Distiller {
  /** Per batch size (the full one and the short last one), so an epoch allocates nothing after its first. */
  private readonly buffers = new Map<number, { targets: Tensor; scratch: Tensor; probs: Tensor }>();
  private current: { targets: Tensor; scratch: Tensor; probs: Tensor } | null = null;
  /** [training clips, classes]: the listening teachers' share of every clip's soft targets. */
  private readonly heard: Float32Array | null;
  private readonly weight: number;
  private readonly classes: number;

  constructor(
    private readonly teachers: readonly Model[],
    readonly settings: DistillSettings,
    listeners: readonly ListeningTeacher[] = [],
    progress: ProgressFactory = silentProgress,
  ) {
    this.weight = 1 / (teachers.length + listeners.length);
    this.classes = (teachers[0] ?? listeners[0].model).classes;
    for (const t of teachers) t.eval();
    this.heard = listeners.length ? this.listen(listeners, progress) : null;
  }

  /** Each listening teacher's softmax(z / τ) over its training split, weighted and summed per clip. */
  private listen(listeners: readonly ListeningTeacher[], progress: ProgressFactory): Float32Array {
    const { size } = listeners[0].train;
    const classes = this.classes;
    const heard = new Float32Array(size * classes);
    const bar = progress(`${listeners.length} teachers on other features listen`, listeners.length * size);
    let done = 0;
    try {
      for (const listener of listeners) this.listenTo(listener, heard, (n) => bar.update((done += n)));
    } finally {
      bar.stop();
    }
    return heard;
  }

  /** Adds one listening teacher's weighted softmax(z / τ) for every clip of its split to `heard`. */
  private listenTo({ model, train }: ListeningTeacher, heard: Float32Array, onRows: (n: number) => void): void {
    const classes = this.classes;
    const loader = new BatchLoader(train, evalBatch(model, 64, LISTEN_ACTIVATION_BYTES));
    const order = Int32Array.from({ length: train.size }, (_, i) => i);
    model.eval();
    try {
      for (let b = 0, start = 0; b < batchCount(train.size, loader.batchSize); b++) {
        const { x } = loader.load(order, b);
        const n = x.shape[0];
        const sum = Tensor.zeros([n, classes]);
        const scratch = Tensor.empty([n, classes]);
        try {
          softTargetsAccumulate(model.forward(x), sum, scratch, this.settings.temperature, this.weight);
          const t = sum.f32;
          for (let k = 0; k < n * classes; k++) heard[start * classes + k] += t[k];
        } finally {
          sum.free();
          scratch.free();
        }
        start += n;
        onRows(n);
      }
    } finally {
      loader.dispose();
    }
  }

  /** Runs every teacher (in eval mode) on the batch x and keeps the mean of their softmax(z / τ), the
   *  listening teachers' for the batch's `samples` (i32 [rows], training-split indices) included. */
  teach(x: Tensor, samples: Tensor): void {
    const rows = x.shape[0];
    let b = this.buffers.get(rows);
    if (!b) {
      const shape = [rows, this.classes];
      b = { targets: Tensor.empty(shape), scratch: Tensor.empty(shape), probs: Tensor.empty(shape) };
      this.buffers.set(rows, b);
    }
    b.targets.f32.fill(0);
    for (const teacher of this.teachers) softTargetsAccumulate(teacher.forward(x), b.targets, b.scratch, this.settings.temperature, this.weight);
    if (this.heard) {
      // Read after the teachers ran: a forward may grow the memory, which detaches older views.
      const targets = b.targets.f32;
      const classes = this.classes;
      const index = samples.data as Int32Array;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < classes; c++) targets[r * classes + c] += this.heard[index[r] * classes + c];
    }
    this.current = b;
  }

  /**
   * After teach() on the same batch: blends the cross-entropy's gradient for the student's logits,
   * already in dlogits, with the soft term's, and returns the blended loss from the cross-entropy's
   * (what the run minimises, so what it reports and, without a validation set, monitors).
   */
  blend(logits: Tensor, crossEntropy: number, dlogits: Tensor): number {
    if (!this.current) throw new Error('Distiller: blend() before teach()');
    const { targets, probs } = this.current;
    const { alpha, temperature } = this.settings;
    const soft = distillForward(logits, targets, probs, temperature);
    distillBackward(probs, targets, dlogits, temperature, alpha);
    return alpha * soft + (1 - alpha) * crossEntropy;
  }

  free(): void {
    for (const b of this.buffers.values()) for (const t of [b.targets, b.scratch, b.probs]) t.free();
    this.buffers.clear();
    this.current = null;
  }
}
