// Running sums and differences over the steps of a time-major [steps * rows, ...] tensor, for the
// spiking max pool (layers/spike-maxpool.ts): it pools running spike counts and emits their increments.
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';

/** Values per step: x.size / steps, which must divide evenly. */
function perStep(op: string, x: Tensor, y: Tensor, steps: number): number {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${op}: steps must be a positive integer, got ${steps}`);
  if (x.dtype !== 'f32' || y.dtype !== 'f32') throw new TypeError(`${op}: tensors must be f32`);
  expectShape(op, 'output', y.shape, x.shape);
  if (x.shape.length === 0 || x.shape[0] % steps !== 0) throw new ShapeError(`${op}: ${fmtShape(x.shape)} does not split into ${steps} steps`);
  return x.size / steps;
}

/** y[t] = x[0] + … + x[t] over the steps; y may be x. */
export function cumsumSteps(x: Tensor, y: Tensor, steps: number): void {
  getEngine().kernels.cumsumSteps(x.ptr, y.ptr, steps, perStep('cumsumSteps', x, y, steps));
}

/** dx[t] = dy[t] + … + dy[steps − 1]: the adjoint of cumsumSteps; dx may be dy. */
export function cumsumStepsBackward(dy: Tensor, dx: Tensor, steps: number): void {
  getEngine().kernels.cumsumStepsBackward(dy.ptr, dx.ptr, steps, perStep('cumsumStepsBackward', dy, dx, steps));
}

/** y[0] = x[0], y[t] = x[t] − x[t − 1]: the inverse of cumsumSteps; y may be x. */
export function diffSteps(x: Tensor, y: Tensor, steps: number): void {
  getEngine().kernels.diffSteps(x.ptr, y.ptr, steps, perStep('diffSteps', x, y, steps));
}

/** dx[t] = dy[t] − dy[t + 1], dx[last] = dy[last]: the adjoint of diffSteps; dx may be dy. */
export function diffStepsBackward(dy: Tensor, dx: Tensor, steps: number): void {
  getEngine().kernels.diffStepsBackward(dy.ptr, dx.ptr, steps, perStep('diffStepsBackward', dy, dx, steps));
}
