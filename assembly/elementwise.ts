// Elementwise passes over n contiguous f32 values: a residual block's join in forward, the sum of the
// two paths' input gradients in backward, and the finiteness check of a model's input.
import { nonFinite, nonFiniteScalar } from './simd';

/** y = a + b; y may be a or b. */
export function addForward(a: usize, b: usize, y: usize, n: i32): void {
  assert(n >= 0, 'addForward: n must be >= 0');
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}


/**
 * The index of the first NaN or infinite value of x[0 .. n), or -1 when every value is finite. A block
 * of 16 is tested with one mask and compare per vector (simd.ts's nonFinite); the scalar scan runs only
 * over the block that failed.
 */
export function firstNonFinite(x: usize, n: i32): i32 {
  assert(n >= 0, 'firstNonFinite: n must be >= 0');
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const hits = v128.or(v128.or(nonFinite(v128.load(p)), nonFinite(v128.load(p, 16))), v128.or(nonFinite(v128.load(p, 32)), nonFinite(v128.load(p, 48))));
    if (v128.any_true(hits)) break;
  }
  for (; i < n; i++) if (nonFiniteScalar(load<f32>(x + (<usize>i << 2)))) return i;
  return -1;
}
