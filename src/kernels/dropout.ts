import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint } from '../engine/checks.js';

function check(op: string, x: Tensor, out: Tensor, mask: Tensor, p: number): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: p must be in [0, 1), got ${p}`);
  if (x.dtype !== 'f32') throw new TypeError(`${op}: input must be an f32 tensor, got ${x.dtype}`);
  expectShape(op, 'output', out.shape, x.shape);
  if (mask.dtype !== 'u8') throw new TypeError(`${op}: mask must be a u8 tensor, got ${mask.dtype}`);
  if (mask.size !== x.size) throw new ShapeError(`${op}: mask has shape ${fmtShape(mask.shape)}, expected ${x.size} values like ${fmtShape(x.shape)}`);
}

/**
 * Inverted dropout: y = x / (1 - p) where kept, 0 where dropped (each value with probability p);
 * mask (u8, x's size) = 1 where kept. The draws depend only on `seed` and the position, so the same
 * seed gives the same mask; p = 0 keeps everything.
 */
export function dropoutForward(x: Tensor, y: Tensor, mask: Tensor, p: number, seed: number): void {
  const op = 'dropoutForward';
  check(op, x, y, mask, p);
  if (!Number.isInteger(seed)) throw new RangeError(`${op}: seed must be an integer, got ${seed}`);
  expectDisjoint(op, ['y', y], ['x', x], ['mask', mask]);
  expectDisjoint(op, ['mask', mask], ['x', x]);
  getEngine().kernels.dropoutForward(x.ptr, y.ptr, mask.ptr, x.size, Math.round(p * 2 ** 24), 1 / (1 - p), seed >>> 0);
}

/** dx = dy / (1 - p) where the mask kept the value, else 0 (overwritten); dx may alias dy. */
export function dropoutBackward(dy: Tensor, mask: Tensor, dx: Tensor, p: number): void {
  const op = 'dropoutBackward';
  check(op, dy, dx, mask, p);
  expectDisjoint(op, ['dx', dx], ['mask', mask]);
  getEngine().kernels.dropoutBackward(dy.ptr, mask.ptr, dx.ptr, dy.size, 1 / (1 - p));
}
