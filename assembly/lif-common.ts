// What the LIF kernels (lif.ts) and the signed IF kernels (lif-signed.ts) share: the tile size, spike
// bytes from lane masks, the surrogate gradients and a wide sum of lanes.

import { madd } from './simd';

export const SURROGATE_ATAN = 0;
export const SURROGATE_FAST_SIGMOID = 1;
export const SURROGATE_STRAIGHT_THROUGH = 2;
// Neurons per tile: a step of a tile moves 13 bytes a neuron (104 KiB), the step before it is read
// back from L2. Out of cache, runs this long beat tiles of 512 by 1.3-1.4x (the prefetchers ramp up).
export const TILE = 8192;

// dL/dmem of each neuron of a tile, carried from one step into the step before it (the signed neurons'
// backward; the LIF backward carries in its caller's work area, one per thread).
export const carries = memory.data(TILE << 2, 16);
// The signed neurons' running spike counts, one per neuron of a tile.
export const counts = memory.data(TILE << 2, 16);

/** A lane mask as 4 spike bytes (0/1). */
// @ts-ignore: decorator
@inline export function storeSpikes(p: usize, mask: v128, lanes: i32): void {
  const bytes = v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(mask, mask), mask), i8x16.splat(1));
  if (lanes == 4) {
    store<u32>(p, i32x4.extract_lane(bytes, 0));
    return;
  }
  store<u8>(p, i8x16.extract_lane_u(bytes, 0));
  if (lanes > 1) store<u8>(p, i8x16.extract_lane_u(bytes, 1), 1);
  if (lanes > 2) store<u8>(p, i8x16.extract_lane_u(bytes, 2), 2);
}

/** dspk/dmem at x = mem - thr: ATan (alpha/2)/(1+(pi/2·alpha·x)²), fast sigmoid 1/(slope·|x|+1)², or spk. */
// @ts-ignore: decorator
@inline export function surrogateGrad(kind: i32, x: v128, spk: v128, p: v128, half: v128): v128 {
  const one = f32x4.splat(1);
  if (kind == SURROGATE_ATAN) {
    const u = f32x4.mul(p, x);
    return f32x4.div(half, madd(u, u, one));
  }
  if (kind == SURROGATE_FAST_SIGMOID) {
    const d = madd(p, f32x4.abs(x), one);
    return f32x4.div(one, f32x4.mul(d, d));
  }
  return v128.and(spk, one);
}

// @ts-ignore: decorator
@inline export function lanesToF64(acc: f64, v: v128): f64 {
  return acc + <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}
