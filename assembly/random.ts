// Counter-based random draws: the value for (key, index) is a fixed function of both, so a stream is
// reproducible from its seed in any order, and the SIMD and scalar paths agree.

// lowbias32 (Wellons): a bijective 32-bit mixer with good avalanche.
// @ts-ignore: decorator
@inline export function mix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x7feb352d;
  h ^= h >>> 15;
  h *= 0x846ca68b;
  return h ^ (h >>> 16);
}

// @ts-ignore: decorator
@inline export function mix4(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x7feb352d));
  h = v128.xor(h, i32x4.shr_u(h, 15));
  h = i32x4.mul(h, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** Two keys from a seed: two keyed rounds, so streams of different seeds are not permutations of each other. */
// @ts-ignore: decorator
@inline export function keys(seed: u32): u64 {
  const k1 = mix(seed ^ 0x9e3779b9);
  const k2 = mix(k1 + 0x632be5ab);
  return (<u64>k1 << 32) | <u64>k2;
}

/** The 32-bit draw for `index` under keys k (from `keys`). */
// @ts-ignore: decorator
@inline export function draw(index: u32, k: u64): u32 {
  return mix(mix(index ^ <u32>(k >> 32)) ^ <u32>k);
}

/** The 32-bit draws for the 4 indices in `index`, with the two keys of `keys` splatted by the caller (once, outside its loop). */
// @ts-ignore: decorator
@inline export function draw4(index: v128, k1: v128, k2: v128): v128 {
  return mix4(v128.xor(mix4(v128.xor(index, k1)), k2));
}

/** Uniform draws in [0, 1) with 24 bits for the 4 indices in `index`. */
// @ts-ignore: decorator
@inline export function uniform4(index: v128, k: u64): v128 {
  const h = draw4(index, i32x4.splat(<i32>(k >> 32)), i32x4.splat(<i32>k));
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h, 8)), f32x4.splat(<f32>1 / <f32>16777216));
}
