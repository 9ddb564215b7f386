// ReLU over n contiguous f32 values.

export function reluForward(x: usize, y: usize, n: i32): void {
  assert(n >= 0, 'reluForward: n must be >= 0');
  const zero = f32x4.splat(0);
  let i = 0;
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
