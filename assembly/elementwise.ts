// Elementwise sums over n contiguous f32 values: a residual block's join in forward, and the sum of
// the two paths' input gradients in backward.

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
