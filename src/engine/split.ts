// How a kernel call is shared among threads: whether it is worth it, and the ranges each thread takes.
import type { KernelCall, Share } from './threads.js';

// Waking a parked worker costs about 80 µs (measured, see docs/threads.md), but within a training step
// the workers are still spinning from the last call (engine/threads.ts), and handing them a share then
// costs a few µs: calls estimated at this much one-thread time or more are split. Measured with the
// threads bench on the quiet 2-core machine: 400 µs left TC-ResNet8 at 1.25x / 1.50x (CNN / SNN) and
// Tcy's SNN at 1.29x, 30 µs gave 1.78x, 1.78x and 1.65x, the large models unchanged at 1.75-1.93x.
const MIN_SPLIT_MICROS = 30;
// One-thread rates for the estimates: GEMM-like kernels (relaxed SIMD reaches 30-40 GFLOP/s, less for
// small shapes) and streaming kernels (bytes read plus written).
const FLOPS_PER_MICRO = 25e3;
const BYTES_PER_MICRO = 10e3;

/** Estimated one-thread microseconds of a compute-bound call of `flops`. */
export const computeMicros = (flops: number): number => flops / FLOPS_PER_MICRO;
/** Estimated one-thread microseconds of a memory-bound call touching `bytes`. */
export const streamMicros = (bytes: number): number => bytes / BYTES_PER_MICRO;

/** Threads to share a call: 1 when it is too small to gain, else at most one per item. */
export function partsFor(threads: number, micros: number, items: number): number {
  return threads > 1 && micros >= MIN_SPLIT_MICROS ? Math.max(1, Math.min(threads, items)) : 1;
}

/**
 * [start, end) of each of `parts` near-equal ranges over [0, total), every inner boundary a multiple
 * of `align` (e.g. 16 floats keep each thread's slice of a stream on its own cache lines); empty
 * ranges are dropped.
 */
export function ranges(total: number, parts: number, align = 1): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 1; i <= parts && start < total; i++) {
    const end = i === parts ? total : Math.min(total, Math.round((total * i) / parts / align) * align);
    if (end > start) out.push([start, end]);
    start = Math.max(start, end);
  }
  return out;
}

/**
 * The shares of a memory-bound call over `items` independent items (bytesPerItem read plus written
 * each): one call per range, a range per thread when the items move enough bytes to gain, every inner
 * boundary a multiple of `align` items.
 */
export function streamShares(threads: number, items: number, bytesPerItem: number, call: (lo: number, hi: number) => KernelCall, align = 1): Share[] {
  return ranges(items, partsFor(threads, streamMicros(items * bytesPerItem), Math.ceil(items / align)), align).map(([lo, hi]) => [call(lo, hi)]);
}
