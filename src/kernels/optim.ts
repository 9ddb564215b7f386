// Parameter updates with PyTorch's semantics (torch.optim.Adam and torch.optim.SGD); kernels in
// assembly/optim.ts. Parameter, gradient and state tensors are flat views of equal size.
import { getEngine } from '../engine/engine.js';
import { expectShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint } from '../engine/checks.js';
import { partsFor, ranges, streamMicros } from '../engine/split.js';

export interface AdamStepOptions {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (Adam's weight_decay, not AdamW's); default 0. */
  weightDecay?: number;
  /** The step number, from 1: bias correction divides by 1 - beta^step. */
  step: number;
}

export interface SgdStepOptions {
  lr: number;
  /** Default 0 (no velocity). */
  momentum?: number;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
}

function checkTensors(op: string, param: Tensor, others: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries({ param, ...others })) {
    if (t.dtype !== 'f32') throw new TypeError(`${op}: ${name} must be f32, got ${t.dtype}`);
    if (t !== param) expectShape(op, name, t.shape, param.shape);
  }
  const all = Object.entries({ param, ...others });
  for (let i = 0; i < all.length; i++) expectDisjoint(op, all[i], ...all.slice(i + 1));
}

function inRange(op: string, name: string, value: number, ok: boolean, want: string): void {
  if (!ok) throw new RangeError(`${op}: ${name} must be ${want}, got ${value}`);
}

/**
 * One Adam step in place (torch.optim.Adam, amsgrad off): g = grad + weightDecay·param;
 * m = beta1·m + (1-beta1)·g; v = beta2·v + (1-beta2)·g²;
 * param -= lr/(1-beta1^step) · m / (sqrt(v)/sqrt(1-beta2^step) + eps). m and v start at zero.
 */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamStepOptions): void {
  const op = 'adamStep';
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, step } = opts;
  checkTensors(op, param, { grad, m, v });
  inRange(op, 'lr', lr, lr >= 0 && Number.isFinite(lr), 'finite and >= 0');
  inRange(op, 'beta1', beta1, beta1 >= 0 && beta1 < 1, 'in [0, 1)');
  inRange(op, 'beta2', beta2, beta2 >= 0 && beta2 < 1, 'in [0, 1)');
  inRange(op, 'eps', eps, eps >= 0 && Number.isFinite(eps), 'finite and >= 0');
  inRange(op, 'weightDecay', weightDecay, weightDecay >= 0 && Number.isFinite(weightDecay), 'finite and >= 0');
  inRange(op, 'step', step, Number.isInteger(step) && step >= 1, 'an integer >= 1 (the first step is 1)');
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const engine = getEngine();
  // Elementwise: each thread takes a slice (whole cache lines), the same values as one thread.
  const parts = partsFor(engine.threads, streamMicros(28 * param.size), param.size);
  engine.parallel(
    ranges(param.size, parts, 16).map(([lo, hi]) => [
      ['adamStep', param.ptr + 4 * lo, grad.ptr + 4 * lo, m.ptr + 4 * lo, v.ptr + 4 * lo, hi - lo, beta1, beta2, eps, weightDecay, stepSize, bc2Sqrt],
    ]),
  );
}

/**
 * One SGD step in place (torch.optim.SGD, no dampening or Nesterov): g = grad + weightDecay·param;
 * with momentum, velocity = momentum·velocity + g and g = velocity; param -= lr·g. A velocity that
 * starts at zero makes the first step's velocity equal g, as PyTorch's.
 */
export function sgdStep(param: Tensor, grad: Tensor, velocity: Tensor, opts: SgdStepOptions): void {
  const op = 'sgdStep';
  const { lr, momentum = 0, weightDecay = 0 } = opts;
  checkTensors(op, param, { grad, velocity });
  inRange(op, 'lr', lr, lr >= 0 && Number.isFinite(lr), 'finite and >= 0');
  inRange(op, 'momentum', momentum, momentum >= 0 && Number.isFinite(momentum), 'finite and >= 0');
  inRange(op, 'weightDecay', weightDecay, weightDecay >= 0 && Number.isFinite(weightDecay), 'finite and >= 0');
  getEngine().kernels.sgdStep(param.ptr, grad.ptr, velocity.ptr, param.size, lr, momentum, weightDecay);
}

/**
 * One step of an exponential moving average in place: avg = decay·avg + (1 − decay)·value, computed as
 * avg += (1 − decay)·(value − avg) (torch's lerp_). Polyak averaging of weights (train/average.ts).
 */
export function averageStep(avg: Tensor, value: Tensor, decay: number): void {
  const op = 'averageStep';
  checkTensors(op, avg, { value });
  inRange(op, 'decay', decay, decay >= 0 && decay <= 1, 'in [0, 1]');
  const engine = getEngine();
  const parts = partsFor(engine.threads, streamMicros(12 * avg.size), avg.size);
  engine.parallel(ranges(avg.size, parts, 16).map(([lo, hi]) => [['averageStep', avg.ptr + 4 * lo, value.ptr + 4 * lo, hi - lo, 1 - decay]]));
}
