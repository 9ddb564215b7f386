// ReLU over n contiguous f32 values.
import { maskBits16 } from './simd';

/**
 * y = max(x, 0); with mask != 0 also the bits (x > 0), 32 to a word as assembly/spike-bits.ts lays
 * them: where a ReLU's gradient passes, kept for backward at 1/32 of y. y may be x.
 */
export function reluForward(x: usize, y: usize, n: i32, mask: usize): void {
  assert(n >= 0, 'reluForward: n must be >= 0');
  const zero = f32x4.splat(0);
  let i = 0;
  if (mask != 0) {
    for (; i + 32 <= n; i += 32) {
      // All eight vectors are read before any is written: y may be x.
      const p = x + (<usize>i << 2), q = y + (<usize>i << 2);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      const v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
      v128.store(q, f32x4.max(v0, zero));
      v128.store(q, f32x4.max(v1, zero), 16);
      v128.store(q, f32x4.max(v2, zero), 32);
      v128.store(q, f32x4.max(v3, zero), 48);
      v128.store(q, f32x4.max(v4, zero), 64);
      v128.store(q, f32x4.max(v5, zero), 80);
      v128.store(q, f32x4.max(v6, zero), 96);
      v128.store(q, f32x4.max(v7, zero), 112);
      const lo = maskBits16(f32x4.gt(v0, zero), f32x4.gt(v1, zero), f32x4.gt(v2, zero), f32x4.gt(v3, zero));
      const hi = maskBits16(f32x4.gt(v4, zero), f32x4.gt(v5, zero), f32x4.gt(v6, zero), f32x4.gt(v7, zero));
      store<u32>(mask + (<usize>i >> 3), lo | (hi << 16));
    }
    if (i < n) {
      let word: u32 = 0;
      for (let j = 0; i + j < n; j++) {
        const o = <usize>(i + j) << 2;
        const v = load<f32>(x + o);
        store<f32>(y + o, v > 0 ? v : 0);
        if (v > 0) word |= (<u32>1) << <u32>j;
      }
      store<u32>(mask + (<usize>i >> 3), word);
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), zero));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
}

// The gradient passes where the forward output was positive (x > 0), as PyTorch: zero at x == 0.
export function reluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  assert(n >= 0, 'reluBackward: n must be >= 0');
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// QCFS, the quantisation clip-floor-shift activation (Bu et al. 2022) that stands for ReLU in a CNN
// trained for lossless conversion:
//   y = λ·floor(clamp(x/λ, 0, 1)·L + 1/2)/L
// L levels of λ/L: an IF neuron with threshold λ and initial membrane λ/2 fires this many times in L
// steps for a constant input x. Written as u = x·(1/λ), k = floor(clamp(u)·L + 1/2), y = k·(λ/L) so a
// reference can repeat it operation for operation in f32.
export function qcfsForward(x: usize, y: usize, n: i32, lambda: f32, levels: f32): void {
  assert(n >= 0, 'qcfsForward: n must be >= 0');
  assert(lambda > 0 && levels >= 1, 'qcfsForward: lambda must be positive and levels >= 1');
  const inv = f32x4.splat(<f32>1 / lambda);
  const step = f32x4.splat(lambda / levels);
  const L = f32x4.splat(levels);
  const half = f32x4.splat(0.5);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const c = f32x4.min(f32x4.max(f32x4.mul(v128.load(x + o), inv), zero), one);
    v128.store(y + o, f32x4.mul(f32x4.floor(f32x4.add(f32x4.mul(c, L), half)), step));
  }
  const s1 = <f32>1 / lambda;
  const st = lambda / levels;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const c = min(max(load<f32>(x + o) * s1, <f32>0), <f32>1);
    store<f32>(y + o, Mathf.floor(c * levels + <f32>0.5) * st);
  }
}

// Straight-through floor (its gradient taken as 1), the clamp's gradient where 0 <= u <= 1 (PyTorch's
// clamp passes it at the bounds), with u = x/λ and q = floor(clamp(u)·L + 1/2)/L:
//   dy/dx = [0 <= u <= 1]        dy/dλ = q − u for 0 <= u <= 1, 1 above, 0 below
// Writes dx (may alias dy) and, at `result`, the f64 sum of dy·dy/dλ.
export function qcfsBackward(x: usize, dy: usize, dx: usize, n: i32, lambda: f32, levels: f32, result: usize): void {
  assert(n >= 0, 'qcfsBackward: n must be >= 0');
  assert(lambda > 0 && levels >= 1, 'qcfsBackward: lambda must be positive and levels >= 1');
  const inv = <f32>1 / lambda;
  let dl: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const u = load<f32>(x + o) * inv;
    const g = load<f32>(dy + o);
    if (u < 0) store<f32>(dx + o, 0);
    else if (u > 1) {
      store<f32>(dx + o, 0);
      dl += <f64>g;
    } else {
      store<f32>(dx + o, g);
      dl += <f64>g * (<f64>(Mathf.floor(u * levels + <f32>0.5) / levels) - <f64>u);
    }
  }
  store<f64>(result, dl);
}
