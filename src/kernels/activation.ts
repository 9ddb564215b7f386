import { getEngine } from '../engine/engine.js';
import { expectShape } from '../engine/errors.js';
import { streamShares } from '../engine/split.js';
import type { Tensor } from '../engine/tensor.js';
import { spikeWords } from './spike-bits.js';

// Elementwise: each thread takes a slice (whole cache lines of 16 floats) and computes what one thread would.

/**
 * y = max(x, 0), elementwise; x and y may be the same tensor. With `mask` ([ceil(size / 32)] i32), also
 * the bits (x > 0) as kernels/spike-bits.ts lays them: what a ReLU's backward reads (selectByBits).
 */
export function reluForward(x: Tensor, y: Tensor, mask: Tensor | null = null): void {
  expectShape('reluForward', 'y', y.shape, x.shape);
  if (mask) {
    if (mask.dtype !== 'i32') throw new TypeError(`reluForward: mask must be an i32 tensor, got ${mask.dtype}`);
    expectShape('reluForward', 'mask', mask.shape, [spikeWords(x.size)]);
  }
  const engine = getEngine();
  // With a mask, each thread writes whole words of it.
  engine.parallel(
    streamShares(engine.threads, x.size, 8, (lo, hi) => ['reluForward', x.ptr + 4 * lo, y.ptr + 4 * lo, hi - lo, mask ? mask.ptr + lo / 8 : 0], mask ? 32 : 16),
  );
}

/** dx = dy where x > 0, else 0; dx may alias dy. */
export function reluBackward(x: Tensor, dy: Tensor, dx: Tensor): void {
  expectShape('reluBackward', 'dy', dy.shape, x.shape);
  expectShape('reluBackward', 'dx', dx.shape, x.shape);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, x.size, 12, (lo, hi) => ['reluBackward', x.ptr + 4 * lo, dy.ptr + 4 * lo, dx.ptr + 4 * lo, hi - lo], 16));
}

function checkQcfs(op: string, lambda: number, levels: number): void {
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new RangeError(`${op}: lambda must be a positive number, got ${lambda}`);
  if (!(Number.isInteger(levels) && levels >= 1)) throw new RangeError(`${op}: levels must be an integer >= 1, got ${levels}`);
}

/**
 * QCFS (Bu et al. 2022), the activation that converts to IF neurons without loss:
 * y = λ·floor(clamp(x/λ, 0, 1)·L + 1/2)/L, elementwise; x and y may be the same tensor.
 */
export function qcfsForward(x: Tensor, y: Tensor, lambda: number, levels: number): void {
  checkQcfs('qcfsForward', lambda, levels);
  expectShape('qcfsForward', 'y', y.shape, x.shape);
  getEngine().kernels.qcfsForward(x.ptr, y.ptr, x.size, lambda, levels);
}

/**
 * Its gradient with the floor passed straight through: dx = dy where 0 <= x/λ <= 1, else 0 (dx may
 * alias dy). Returns dL/dλ = Σ dy·(q − x/λ) over 0 <= x/λ <= 1 plus Σ dy over x/λ > 1, q = y/λ.
 */
export function qcfsBackward(x: Tensor, dy: Tensor, dx: Tensor, lambda: number, levels: number): number {
  checkQcfs('qcfsBackward', lambda, levels);
  expectShape('qcfsBackward', 'dy', dy.shape, x.shape);
  expectShape('qcfsBackward', 'dx', dx.shape, x.shape);
  const engine = getEngine();
  const result = engine.scratch(8);
  engine.kernels.qcfsBackward(x.ptr, dy.ptr, dx.ptr, x.size, lambda, levels, result);
  return new Float64Array(engine.memory.buffer, result, 1)[0];
}
