// Knowledge distillation (Hinton et al. 2015): a student trained on the labels and on the soft targets
// of one or more trained teachers, the mean of their softmax(z_k / τ) on the same augmented batch:
//   loss = α · τ² · KL(targets ‖ softmax(z / τ)) + (1 − α) · cross-entropy(z, label)
// Several teachers of different seeds disagree where the data is ambiguous; their mean tells the student
// which mistakes are near misses, which one-hot labels cannot (an ensemble's knowledge in one model).
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { distillBackward, distillForward, softTargetsAccumulate } from '../kernels/loss.js';
import type { Model } from '../models/types.js';

export interface DistillOptions {
  /** Trained models whose input and classes are the student's; never trained here. */
  teachers: readonly Model[];
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

/** Checks the options against the student; returns what the run's settings record. */
export function resolveDistill(student: Model, opts: DistillOptions): DistillSettings {
  const alpha = opts.alpha ?? DISTILL_DEFAULTS.alpha;
  const temperature = opts.temperature ?? DISTILL_DEFAULTS.temperature;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`train: distillation alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`train: distillation temperature must be a positive number, got ${temperature}`);
  if (opts.teachers.length === 0) throw new RangeError('train: distillation needs at least one teacher');
  opts.teachers.forEach((t, i) => {
    if (t === student) throw new RangeError(`train: teacher ${i + 1} is the student itself`);
    if (t.classes !== student.classes) throw new ShapeError(`train: teacher ${i + 1} (${t.name}) has ${t.classes} classes, the student ${student.classes}`);
    if (fmtShape(t.inputShape) !== fmtShape(student.inputShape))
      throw new ShapeError(`train: teacher ${i + 1} (${t.name}) takes inputs of ${fmtShape(t.inputShape)}, the student ${fmtShape(student.inputShape)}`);
  });
  return { teachers: opts.teachers.map((t) => `${t.name}${t.spiking ? ` SNN T=${t.steps}` : ' CNN'} ${fingerprint(t)}`), alpha, temperature };
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

  constructor(
    private readonly teachers: readonly Model[],
    readonly settings: DistillSettings,
  ) {
    for (const t of teachers) t.eval();
  }

  /** Runs every teacher (in eval mode) on the batch x and keeps the mean of their softmax(z / τ). */
  teach(x: Tensor): void {
    const rows = x.shape[0];
    let b = this.buffers.get(rows);
    if (!b) {
      const shape = [rows, this.teachers[0].classes];
      b = { targets: Tensor.empty(shape), scratch: Tensor.empty(shape), probs: Tensor.empty(shape) };
      this.buffers.set(rows, b);
    }
    b.targets.f32.fill(0);
    for (const teacher of this.teachers)
      softTargetsAccumulate(teacher.forward(x), b.targets, b.scratch, this.settings.temperature, 1 / this.teachers.length);
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
