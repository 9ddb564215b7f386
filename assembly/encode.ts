// Spike encoders: x [n] (a flattened batch) -> out f32 [steps, n], time-major.
import { loadLanes, storeLanes } from './lanes';
import { keys, uniform4 } from './random';

/** The same input at every step. */
export function encodeRepeat(x: usize, out: usize, n: i32, steps: i32): void {
  assert(n >= 0 && steps >= 1, 'encodeRepeat: n must be >= 0 and steps >= 1');
  const bytes = <usize>n << 2;
  for (let t = 0; t < steps; t++) memory.copy(out + <usize>t * bytes, x, bytes);
}

// clamp(x, 0, 1) with NaN -> 0: a NaN input never fires.
// @ts-ignore: decorator
@inline function probability4(x: v128): v128 {
  const p = f32x4.min(f32x4.max(x, f32x4.splat(0)), f32x4.splat(1));
  return v128.and(p, f32x4.eq(x, x));
}

// @ts-ignore: decorator
@inline function rateBlock(x: usize, out: usize, i: i32, n: i32, steps: i32, k: u64, lanes: i32): void {
  const p = probability4(loadLanes(x + (<usize>i << 2), lanes));
  const one = f32x4.splat(1);
  for (let t = 0; t < steps; t++) {
    const base = t * n + i;
    const index = i32x4.add(i32x4.splat(base), i32x4(0, 1, 2, 3));
    storeLanes(out + (<usize>base << 2), v128.and(f32x4.lt(uniform4(index, k), p), one), lanes);
  }
}

/**
 * Bernoulli spikes with probability clamp(x, 0, 1) at every step (snntorch's spikegen.rate); the draw
 * for out[t, j] depends only on (seed, t*n + j). u is in [0, 1) on a 2^-24 grid, so p = 0 never fires
 * and p = 1 always does.
 */
export function encodeRate(x: usize, out: usize, n: i32, steps: i32, seed: u32): void {
  assert(n >= 0 && steps >= 1, 'encodeRate: n must be >= 0 and steps >= 1');
  assert(<i64>n * <i64>steps < 0x7fffffff, 'encodeRate: steps * n must fit in i32');
  const k = keys(seed);
  let i = 0;
  for (; i + 4 <= n; i += 4) rateBlock(x, out, i, n, steps, k, 4);
  for (; i < n; i++) rateBlock(x, out, i, n, steps, k, 1);
}

/**
 * snntorch's spikegen.latency with linear=True, normalize=True, tau = steps - 1, first spike at step 0:
 * one spike per input at step round((steps - 1) * (1 - x)) (round half to even, as torch.round), with x
 * clamped to [0, 1] (NaN as 0) and the time capped at (steps - 1) * (1 - threshold); inputs below
 * `threshold` fire there too unless `clip`, when they do not fire at all.
 */
export function encodeLatency(x: usize, out: usize, n: i32, steps: i32, threshold: f32, clip: bool): void {
  assert(n >= 0 && steps >= 1, 'encodeLatency: n must be >= 0 and steps >= 1');
  assert(threshold > 0 && threshold < 1, 'encodeLatency: threshold must be in (0, 1)');
  memory.fill(out, 0, (<usize>n * <usize>steps) << 2);
  const tau = <f32>(steps - 1);
  const latest = <f32>(-<f64>tau * (<f64>threshold - 1));
  for (let i = 0; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2));
    v = v > 0 ? (v < 1 ? v : 1) : 0;
    if (clip && v < threshold) continue;
    const t = <i32>f32.nearest(min(-tau * (v - 1), latest));
    store<f32>(out + ((<usize>t * <usize>n + <usize>i) << 2), 1);
  }
}
