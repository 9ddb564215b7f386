// A plane's rows summed into one row, and one row spread down a plane: an adjoint pair. They are
// BC-ResNet's frequency average and broadcast (Kim et al. 2021): a branch works on the map averaged
// over frequency [C, 1, T] and is added back at every band.
//   sumRows:    y[p, w]    = scale · Σ_h x[p, h, w]      for P planes of H rows of W
//   spreadRows: y[p, h, w] = scale · x[p, w]
// The adjoint of each is the other at the same scale.
// @ts-ignore: decorator
@inline function scaleRow(src: usize, dst: usize, W: i32, s: v128, scale: f32): void {
  let w = 0;
  for (; w + 4 <= W; w += 4) v128.store(dst + (<usize>w << 2), f32x4.mul(v128.load(src + (<usize>w << 2)), s));
  for (; w < W; w++) store<f32>(dst + (<usize>w << 2), load<f32>(src + (<usize>w << 2)) * scale);
}

export function sumRows(x: usize, y: usize, P: i32, H: i32, W: i32, scale: f32): void {
  assert(P > 0 && H > 0 && W > 0, 'sumRows: sizes must be > 0');
  const row = <usize>W << 2;
  const s = f32x4.splat(scale);
  for (let p = 0; p < P; p++) {
    const dst = y + <usize>p * row;
    const src = x + <usize>p * H * row;
    memory.copy(dst, src, row);
    for (let h = 1; h < H; h++) {
      const r = src + <usize>h * row;
      let w = 0;
      for (; w + 4 <= W; w += 4) {
        const q = dst + (<usize>w << 2);
        v128.store(q, f32x4.add(v128.load(r + (<usize>w << 2)), v128.load(q)));
      }
      for (; w < W; w++) {
        const q = dst + (<usize>w << 2);
        store<f32>(q, load<f32>(q) + load<f32>(r + (<usize>w << 2)));
      }
    }
    if (scale != 1) scaleRow(dst, dst, W, s, scale);
  }
}

export function spreadRows(x: usize, y: usize, P: i32, H: i32, W: i32, scale: f32): void {
  assert(P > 0 && H > 0 && W > 0, 'spreadRows: sizes must be > 0');
  const row = <usize>W << 2;
  const s = f32x4.splat(scale);
  for (let p = 0; p < P; p++) {
    const src = x + <usize>p * row;
    const dst = y + <usize>p * H * row;
    if (scale == 1) for (let h = 0; h < H; h++) memory.copy(dst + <usize>h * row, src, row);
    else for (let h = 0; h < H; h++) scaleRow(src, dst + <usize>h * row, W, s, scale);
  }
}
