// Binary spikes kept as bits (assembly/spike-bits.ts): what a synaptic layer's backward reads of a
// spike-train input, 32 to an i32 word.
import { getEngine } from '../engine/engine.js';
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
 * Packs x into bits ([ceil(size / 32)] i32); true when every value of x was 0 or 1. False means x is
 * no spike train (a residual join's counts reach 2) and bits hold nothing of use.
 */
export function packSpikes(x: Tensor, bits: Tensor): boolean {
  check('packSpikes', x, bits);
  const engine = getEngine();
  // Ranges of whole words: each thread packs its own.
  const binary = engine.parallel(streamShares(engine.threads, x.size, 4, (lo, hi) => ['packSpikes', x.ptr + 4 * lo, bits.ptr + lo / 8, hi - lo], 32));
  return binary.every((b) => b === 1);
}

/** x = the spikes packed in bits by packSpikes, as f32 0 and 1. */
export function unpackSpikes(bits: Tensor, x: Tensor): void {
  check('unpackSpikes', x, bits);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, x.size, 4, (lo, hi) => ['unpackSpikes', bits.ptr + lo / 8, x.ptr + 4 * lo, hi - lo], 32));
}
