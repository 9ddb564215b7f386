// Elementwise passes over n contiguous f32 values: a residual block's join in forward, the sum of the
// two paths' input gradients in backward, and the finiteness check of a model's input.

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

const EXPONENT = 0x7f800000;

// @ts-ignore: decorator
@inline function special(v: v128): v128 {
  return i32x4.eq(v128.and(v, i32x4.splat(EXPONENT)), i32x4.splat(EXPONENT));
}

/**
 * The index of the first NaN or infinite value of x[0 .. n), or -1 when every value is finite. A float
 * is NaN or infinite exactly when its exponent bits are all ones, so a block of 16 is tested with one
 * mask and compare per vector (the optimiser may fold v - v to 0, so NaN arithmetic is not used); the
 * scalar scan runs only over the block that failed.
 */
export function firstNonFinite(x: usize, n: i32): i32 {
  assert(n >= 0, 'firstNonFinite: n must be >= 0');
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const hits = v128.or(v128.or(special(v128.load(p)), special(v128.load(p, 16))), v128.or(special(v128.load(p, 32)), special(v128.load(p, 48))));
    if (v128.any_true(hits)) break;
  }
  for (; i < n; i++) if ((load<i32>(x + (<usize>i << 2)) & EXPONENT) == EXPONENT) return i;
  return -1;
}
