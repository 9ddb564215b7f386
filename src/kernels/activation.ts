import { getEngine } from '../engine/engine.js';
import { expectShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';

/** y = max(x, 0), elementwise; x and y may be the same tensor. */
export function reluForward(x: Tensor, y: Tensor): void {
  expectShape('reluForward', 'y', y.shape, x.shape);
  getEngine().kernels.reluForward(x.ptr, y.ptr, x.size);
}

/** dx = dy where x > 0, else 0; dx may alias dy. */
export function reluBackward(x: Tensor, dy: Tensor, dx: Tensor): void {
  expectShape('reluBackward', 'dy', dy.shape, x.shape);
  expectShape('reluBackward', 'dx', dx.shape, x.shape);
  getEngine().kernels.reluBackward(x.ptr, dy.ptr, dx.ptr, x.size);
}
