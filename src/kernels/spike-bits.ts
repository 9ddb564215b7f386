// Binary spikes kept as bits (assembly/spike-bits.ts): what a synaptic layer's backward reads of a
// spike-train input, 32 to an i32 word.
import { getEngine } from '../engine/engine.js';
import { expectDisjoint } from '../engine/checks.js';
import { expectShape } from '../engine/errors.js';
import { streamShares } from '../engine/split.js';
import type { Tensor } from '../engine/tensor.js';

/** Words of a packed spike train of n values. */
export const spikeWords = (n: number): number => Math.ceil(n / 32);

function check(op: string, values: Tensor, bits: Tensor): void {
  if (values.dtype !== 'f32') throw new TypeError(`${op}: the values must be an f32 tensor, got ${values.dtype}`);
  if (bits.dtype !== 'i32') throw new TypeError(`${op}: bits must be an i32 tensor, got ${bits.dtype}`);
  expectShape(op, 'bits', bits.shape, [spikeWords(values.size)]);
}

/**
 * Packs spike counts into planes of bits ([ceil(size / 32)] i32 each): plane k holds (x >= k + 1), so
 * x is the sum of its planes. One plane takes a spike train (0 or 1), two a residual join's counts (0,
 * 1 or 2). Returns the largest value of x when every value is such a count, else -1 and the planes hold
 * nothing of use.
 */
export function packSpikes(x: Tensor, planes: readonly Tensor[]): number {
  if (planes.length !== 1 && planes.length !== 2) throw new RangeError(`packSpikes: 1 or 2 planes, got ${planes.length}`);
  for (const p of planes) check('packSpikes', x, p);
  const engine = getEngine();
  const [ones, twos] = planes;
  // Ranges of whole words: each thread packs its own.
  const tops = engine.parallel(streamShares(engine.threads, x.size, 4, (lo, hi) => ['packSpikes', x.ptr + 4 * lo, ones.ptr + lo / 8, twos ? twos.ptr + lo / 8 : 0, hi - lo], 32));
  return tops.some((t) => t < 0) ? -1 : Math.max(0, ...tops);
}

/** x = the bits packed by packSpikes, as f32 0 and 1; with `add`, x += them (the next plane of a count). */
export function unpackSpikes(bits: Tensor, x: Tensor, add = false): void {
  check('unpackSpikes', x, bits);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, x.size, 4, (lo, hi) => ['unpackSpikes', bits.ptr + lo / 8, x.ptr + 4 * lo, hi - lo, add ? 1 : 0], 32));
}

/** dx = dy where the bit in bits is set, else 0 (a ReLU's gradient through the mask of its positive
 *  inputs that reluForward writes). dx may be dy itself, or disjoint from it. */
export function selectByBits(bits: Tensor, dy: Tensor, dx: Tensor): void {
  const op = 'selectByBits';
  check(op, dy, bits);
  expectShape(op, 'dx', dx.shape, dy.shape);
  if (dx.dtype !== 'f32') throw new TypeError(`${op}: dx must be an f32 tensor, got ${dx.dtype}`);
  // Same shape: the same start is the same memory.
  expectDisjoint(op, ['dx', dx], ['dy', dx.ptr === dy.ptr ? null : dy], ['bits', bits]);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, dy.size, 8, (lo, hi) => [op, bits.ptr + lo / 8, dy.ptr + 4 * lo, dx.ptr + 4 * lo, hi - lo], 32));
}
