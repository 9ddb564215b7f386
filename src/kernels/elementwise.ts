import { getEngine } from '../engine/engine.js';
import { expectShape } from '../engine/errors.js';
import { streamShares } from '../engine/split.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * y = a + b, elementwise over tensors of one shape; y may be a or b. Its backward needs no kernel:
 * both inputs receive dy as it is.
 */
export function add(a: Tensor, b: Tensor, y: Tensor): void {
  expectShape('add', 'b', b.shape, a.shape);
  expectShape('add', 'y', y.shape, a.shape);
  for (const [name, t] of [['a', a], ['b', b], ['y', y]] as const)
    if (t.dtype !== 'f32') throw new TypeError(`add: ${name} must be an f32 tensor, got ${t.dtype}`);
  const engine = getEngine();
  // Each thread adds a slice of whole cache lines: the same sums as one thread.
  engine.parallel(streamShares(engine.threads, a.size, 12, (lo, hi) => ['addForward', a.ptr + 4 * lo, b.ptr + 4 * lo, y.ptr + 4 * lo, hi - lo], 16));
}

/**
 * The flat index of x's first NaN or infinite value, or -1 when all are finite: the guard on a model's
 * input, in SIMD because it reads every value of every batch (in JS it cost a third of a small model's
 * training step).
 */
export function firstNonFinite(x: Tensor): number {
  if (x.dtype !== 'f32') throw new TypeError(`firstNonFinite: x must be an f32 tensor, got ${x.dtype}`);
  return getEngine().kernels.firstNonFinite(x.ptr, x.size);
}
