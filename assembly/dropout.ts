// Inverted dropout with a counter-based generator: the draw for element i depends only on (seed, i),
// so a mask is reproducible from its seed and the SIMD and scalar paths draw the same values.
import { draw, draw4, keys } from './random';

// Element i is kept when the top 24 bits of its draw are >= dropBelow (= round(p * 2^24)); kept values
// are scaled by `scale` (1 / (1 - p)). mask[i] is 1 where kept, else 0.
export function dropoutForward(x: usize, y: usize, mask: usize, n: i32, dropBelow: i32, scale: f32, seed: u32): void {
  assert(n >= 0 && dropBelow >= 0 && dropBelow <= (1 << 24), 'dropoutForward: bad size or probability');
  const k = keys(seed);
  const vk1 = i32x4.splat(<i32>(k >> 32));
  const vk2 = i32x4.splat(<i32>k);
  const vthr = i32x4.splat(dropBelow);
  const vscale = f32x4.splat(scale);
  const one = i32x4.splat(1);
  let idx = i32x4(0, 1, 2, 3);
  const step = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = draw4(idx, vk1, vk2);
    const keep = i32x4.ge_s(i32x4.shr_u(h, 8), vthr);
    const o = <usize>i << 2;
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), vscale), keep));
    const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(v128.and(keep, one), one), one);
    store<u32>(mask + <usize>i, i32x4.extract_lane(bytes, 0));
    idx = i32x4.add(idx, step);
  }
  for (; i < n; i++) {
    const h = draw(<u32>i, k);
    const keep = <i32>(h >>> 8) >= dropBelow;
    const o = <usize>i << 2;
    store<f32>(y + o, keep ? load<f32>(x + o) * scale : 0);
    store<u8>(mask + <usize>i, keep ? 1 : 0);
  }
}

// dx = dy * scale where the mask kept the value, else exactly 0 (also where dy is not finite).
export function dropoutBackward(dy: usize, mask: usize, dx: usize, n: i32, scale: f32): void {
  assert(n >= 0, 'dropoutBackward: n must be >= 0');
  const vscale = f32x4.splat(scale);
  const zero = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const m = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + <usize>i)));
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(f32x4.mul(v128.load(dy + o), vscale), i32x4.ne(m, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<u8>(mask + <usize>i) ? load<f32>(dy + o) * scale : 0);
  }
}
