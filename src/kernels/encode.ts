// Spike encoders over `steps` steps: x [N] (a flattened batch) -> out f32 [steps, N], time-major.
// Kernels in assembly/encode.ts.
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint } from '../engine/checks.js';

export interface LatencyOptions {
  /** Inputs below it fire at the latest step, (steps-1)·(1-threshold), or never with `clip`; default 0.01 (snntorch's). */
  threshold?: number;
  /** Inputs below the threshold do not fire; default false (snntorch's). */
  clip?: boolean;
}

function check(op: string, x: Tensor, out: Tensor, steps: number): number {
  expectPositive(op, { steps });
  if (x.dtype !== 'f32' || out.dtype !== 'f32') throw new TypeError(`${op}: x and out must be f32, got ${x.dtype} and ${out.dtype}`);
  if (x.shape.length !== 1) throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)}, expected [N] (flatten the batch first)`);
  expectShape(op, 'out', out.shape, [steps, x.size]);
  expectDisjoint(op, ['out', out], ['x', x]);
  return x.size;
}

/** out[t] = x at every step. */
export function encodeRepeat(x: Tensor, out: Tensor, steps: number): void {
  const n = check('encodeRepeat', x, out, steps);
  getEngine().kernels.encodeRepeat(x.ptr, out.ptr, n, steps);
}

/**
 * Rate code (snntorch spikegen.rate): out[t, j] = 1 with probability clamp(x[j], 0, 1), independently per
 * step; NaN never fires. Deterministic for a seed (a counter-based generator: any order, either build).
 */
export function encodeRate(x: Tensor, out: Tensor, steps: number, seed: number): void {
  const n = check('encodeRate', x, out, steps);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`encodeRate: seed must be an integer in [0, 2^32), got ${seed}`);
  if (steps * n >= 2 ** 31) throw new ShapeError(`encodeRate: steps * N = ${steps * n} is too large (limit 2^31)`);
  getEngine().kernels.encodeRate(x.ptr, out.ptr, n, steps, seed);
}

/**
 * Latency code: snntorch spikegen.latency(x, num_steps=steps, linear=True, normalize=True, threshold,
 * clip) on x clamped to [0, 1]: each input fires once, at step round((steps - 1)·(1 - x)) (ties to even,
 * as torch.round), so larger inputs fire earlier and x = 1 fires at step 0. The time is capped at
 * (steps - 1)·(1 - threshold); with `clip` inputs below the threshold do not fire.
 */
export function encodeLatency(x: Tensor, out: Tensor, steps: number, opts: LatencyOptions = {}): void {
  const n = check('encodeLatency', x, out, steps);
  const { threshold = 0.01, clip = false } = opts;
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`encodeLatency: threshold must be in (0, 1), got ${threshold}`);
  getEngine().kernels.encodeLatency(x.ptr, out.ptr, n, steps, threshold, clip ? 1 : 0);
}
