// The readout over steps and the classification loss; kernels in assembly/loss.ts.
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { firstNonFinite } from './elementwise.js';

/** y [B, C] = x summed over steps, x time-major [steps * B, C] (row t*B + b). */
export function sumOverSteps(x: Tensor, y: Tensor, steps: number): void {
  expectPositive('sumOverSteps', { steps });
  expectF32('sumOverSteps', 'y', y, 2);
  expectShape('sumOverSteps', 'x', x.shape, [steps * y.shape[0], y.shape[1]]);
  if (x.dtype !== 'f32') throw new TypeError(`sumOverSteps: x must be f32, got ${x.dtype}`);
  expectDisjoint('sumOverSteps', ['y', y], ['x', x]);
  getEngine().kernels.sumOverSteps(x.ptr, y.ptr, y.size, steps);
}

/** dx [steps * B, C] = dy [B, C] at every step. */
export function sumOverStepsBackward(dy: Tensor, dx: Tensor, steps: number): void {
  expectPositive('sumOverStepsBackward', { steps });
  expectF32('sumOverStepsBackward', 'dy', dy, 2);
  expectShape('sumOverStepsBackward', 'dx', dx.shape, [steps * dy.shape[0], dy.shape[1]]);
  if (dx.dtype !== 'f32') throw new TypeError(`sumOverStepsBackward: dx must be f32, got ${dx.dtype}`);
  expectDisjoint('sumOverStepsBackward', ['dx', dx], ['dy', dy]);
  getEngine().kernels.sumOverStepsBackward(dy.ptr, dx.ptr, dy.size, steps);
}

/** Checks logits [B, C] and i32 labels [B] with every label in [0, C); returns [B, C]. */
function checkLabels(op: string, logits: Tensor, labels: Tensor): [number, number] {
  expectF32(op, 'logits', logits, 2);
  const [b, c] = logits.shape;
  if (labels.dtype !== 'i32') throw new TypeError(`${op}: labels must be an i32 tensor, got ${labels.dtype}`);
  expectShape(op, 'labels', labels.shape, [b]);
  const values = labels.data;
  for (let i = 0; i < b; i++)
    if (!(values[i] >= 0 && values[i] < c)) throw new RangeError(`${op}: label ${values[i]} of sample ${i} is outside [0, ${c - 1}] (${c} classes)`);
  return [b, c];
}

/** Where the first NaN or infinite logit is, for error messages. */
function describeNonFinite(t: Tensor): string {
  const i = firstNonFinite(t);
  const c = t.shape[1];
  return `logits[${Math.floor(i / c)}, ${i % c}] is ${t.f32[i]}`;
}

/**
 * Softmax cross-entropy of logits [B, C] against i32 labels [B], mean over the batch (PyTorch's
 * F.cross_entropy): writes probs [B, C] (softmax) and returns the loss. Labels out of range throw.
 * Returns NaN when any logit is NaN or infinite, never a finite number for a bad batch: the trainer
 * and evaluate stop on it with the epoch and batch in the message.
 */
export function crossEntropyForward(logits: Tensor, labels: Tensor, probs: Tensor): number {
  const [b, c] = checkLabels('crossEntropyForward', logits, labels);
  expectShape('crossEntropyForward', 'probs', probs.shape, [b, c]);
  if (probs.dtype !== 'f32') throw new TypeError(`crossEntropyForward: probs must be f32, got ${probs.dtype}`);
  expectDisjoint('crossEntropyForward', ['probs', probs], ['logits', logits], ['labels', labels]);
  return getEngine().kernels.crossEntropyForward(logits.ptr, labels.ptr, probs.ptr, b, c);
}

/** dlogits = (probs - onehot(labels)) / B: the gradient of the mean loss, from the probs of the forward. */
export function crossEntropyBackward(probs: Tensor, labels: Tensor, dlogits: Tensor): void {
  const [b, c] = checkLabels('crossEntropyBackward', probs, labels);
  expectShape('crossEntropyBackward', 'dlogits', dlogits.shape, [b, c]);
  if (dlogits.dtype !== 'f32') throw new TypeError(`crossEntropyBackward: dlogits must be f32, got ${dlogits.dtype}`);
  expectDisjoint('crossEntropyBackward', ['dlogits', dlogits], ['labels', labels]);
  getEngine().kernels.crossEntropyBackward(probs.ptr, labels.ptr, dlogits.ptr, b, c);
}

/**
 * How many rows have their label among the k largest logits. Ties go to the label: a row counts when
 * fewer than k logits are strictly greater than the label's (torch.topk leaves the order of ties
 * unspecified). Throws on NaN or infinite logits.
 */
export function topKCorrect(logits: Tensor, labels: Tensor, k: number): number {
  const [b, c] = checkLabels('topKCorrect', logits, labels);
  expectPositive('topKCorrect', { k });
  if (k > c) throw new ShapeError(`topKCorrect: k = ${k} exceeds the ${c} classes of logits ${fmtShape(logits.shape)}`);
  const correct = getEngine().kernels.topKCorrect(logits.ptr, labels.ptr, b, c, k);
  if (correct < 0) throw new RangeError(`topKCorrect: ${describeNonFinite(logits)}; the model diverged or the input holds non-finite values`);
  return correct;
}

/** Checks a kernel's input rows [B, C], the soft targets and its output (both [B, C], f32), and the
 *  temperature; returns [B, C]. */
function checkSoft(op: string, input: [string, Tensor], targets: Tensor, out: [string, Tensor], temperature: number): [number, number] {
  const [name, x] = input;
  expectF32(op, name, x, 2);
  for (const [other, t] of [['targets', targets], out] as const) {
    expectF32(op, other, t, 2);
    expectShape(op, other, t.shape, x.shape);
  }
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`${op}: temperature must be a positive number, got ${temperature}`);
  expectDisjoint(op, out, input, ['targets', targets]);
  return [x.shape[0], x.shape[1]];
}

/**
 * targets [B, C] += weight · softmax(logits / temperature): a teacher's soft targets added to the
 * running mean of several (weight 1 / teachers). scratch [B, C] is overwritten. Throws, naming the
 * entry, on a non-finite logit.
 */
export function softTargetsAccumulate(logits: Tensor, targets: Tensor, scratch: Tensor, temperature: number, weight: number): void {
  const [b, c] = checkSoft('softTargetsAccumulate', ['logits', logits], targets, ['scratch', scratch], temperature);
  expectDisjoint('softTargetsAccumulate', ['targets', targets], ['logits', logits]);
  if (getEngine().kernels.softTargetsAccumulate(logits.ptr, targets.ptr, scratch.ptr, b, c, temperature, weight) < 0)
    throw new RangeError(`softTargetsAccumulate: a teacher's ${describeNonFinite(logits)}`);
}

/**
 * The soft half of knowledge distillation: writes probs = softmax(logits / temperature) [B, C] and
 * returns τ² · the mean over rows of KL(targets ‖ probs). NaN when a logit is NaN or infinite.
 */
export function distillForward(logits: Tensor, targets: Tensor, probs: Tensor, temperature: number): number {
  const [b, c] = checkSoft('distillForward', ['logits', logits], targets, ['probs', probs], temperature);
  return getEngine().kernels.distillForward(logits.ptr, targets.ptr, probs.ptr, b, c, temperature);
}

/**
 * dlogits = (1 − alpha) · dlogits + alpha · temperature · (probs − targets) / B, where dlogits holds the
 * cross-entropy's gradient (crossEntropyBackward) and probs distillForward's: the gradient of
 * alpha · distillForward + (1 − alpha) · crossEntropyForward.
 */
export function distillBackward(probs: Tensor, targets: Tensor, dlogits: Tensor, temperature: number, alpha: number): void {
  const [b, c] = checkSoft('distillBackward', ['probs', probs], targets, ['dlogits', dlogits], temperature);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillBackward: alpha must be in [0, 1], got ${alpha}`);
  getEngine().kernels.distillBackward(probs.ptr, targets.ptr, dlogits.ptr, b, c, temperature, alpha);
}
