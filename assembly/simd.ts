// Shared SIMD helpers. The relaxed build fuses multiply-add into one instruction (vfmadd); the plain
// build falls back to mul+add, so one kernel source serves both.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// Sum of the n f32 values at p, with four independent accumulators so the adds do not wait on each other.
// @ts-ignore: decorator
@inline export function spanSum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(p + (<usize>i << 2)));
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

// Row i (a constant) of the transpose of the 4x4 matrix whose rows are a, b, c, d: lane i of each.
// The four rows share their first shuffles, which the engine computes once.
// @ts-ignore: decorator
@inline export function transposeRow(a: v128, b: v128, c: v128, d: v128, i: i32): v128 {
  if (i == 0) return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 0, 4, 1, 5), 0, 1, 4, 5);
  if (i == 1) return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 0, 4, 1, 5), 2, 3, 6, 7);
  if (i == 2) return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 6, 3, 7), v128.shuffle<f32>(c, d, 2, 6, 3, 7), 0, 1, 4, 5);
  return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 6, 3, 7), v128.shuffle<f32>(c, d, 2, 6, 3, 7), 2, 3, 6, 7);
}

// A float is NaN or infinite exactly when its exponent bits are all ones: tested on the bits, since an
// optimiser may fold v - v to 0.
const EXPONENT = 0x7f800000;

/** The lanes of v that are NaN or infinite, as a mask. */
// @ts-ignore: decorator
@inline export function nonFinite(v: v128): v128 {
  return i32x4.eq(v128.and(v, i32x4.splat(EXPONENT)), i32x4.splat(EXPONENT));
}

/** Whether v is NaN or infinite. */
// @ts-ignore: decorator
@inline export function nonFiniteScalar(v: f32): bool {
  return (reinterpret<i32>(v) & EXPONENT) == EXPONENT;
}

/** The 16 bits of four vectors of lane masks (all ones or zeros), in lane order: narrowed to bytes, one bitmask. */
// @ts-ignore: decorator
@inline export function maskBits16(a: v128, b: v128, c: v128, d: v128): u32 {
  return <u32>i8x16.bitmask(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
}

// dst[i] = src[i] · scale + shift for i < n: a multiply, then an add (no fused multiply-add), in the
// vectors and the tail alike, so a value rounds the same wherever it falls (a batch norm's output,
// and the same output recomputed from its input by the LIF backward).
// @ts-ignore: decorator
@inline export function affineSpan(src: usize, dst: usize, n: i32, scale: f32, shift: f32): void {
  const a = f32x4.splat(scale);
  const b = f32x4.splat(shift);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o), a), b));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) * scale + shift);
  }
}

// dst[i] += a · src[i] for i < n.
// @ts-ignore: decorator
@inline export function axpy(dst: usize, src: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, madd(v128.load(src + o), va, v128.load(dst + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + a * load<f32>(src + o));
  }
}

/** Whether every value the last countWord() read was an allowed count (see there). */
export let countWordOk = false;

/**
 * The 32 values at p as spike counts: the low word's bit i set where value i is 1 or `two`, the high
 * word's where it is `two` (all lanes 2, or 1 for spike trains: then the high word repeats the ones),
 * and countWordOk set when every value is 0 (either zero), 1 or `two` (NaN is none). Eight vectors a
 * call, their masks narrowed to one bitmask each four (maskBits16).
 */
// @ts-ignore: decorator
@inline export function countWord(p: usize, two: v128): u64 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
  const v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
  const t0 = f32x4.eq(v0, two), t1 = f32x4.eq(v1, two), t2 = f32x4.eq(v2, two), t3 = f32x4.eq(v3, two);
  const t4 = f32x4.eq(v4, two), t5 = f32x4.eq(v5, two), t6 = f32x4.eq(v6, two), t7 = f32x4.eq(v7, two);
  const o0 = v128.or(f32x4.eq(v0, one), t0), o1 = v128.or(f32x4.eq(v1, one), t1);
  const o2 = v128.or(f32x4.eq(v2, one), t2), o3 = v128.or(f32x4.eq(v3, one), t3);
  const o4 = v128.or(f32x4.eq(v4, one), t4), o5 = v128.or(f32x4.eq(v5, one), t5);
  const o6 = v128.or(f32x4.eq(v6, one), t6), o7 = v128.or(f32x4.eq(v7, one), t7);
  const k0 = v128.and(v128.or(o0, f32x4.eq(v0, zero)), v128.or(o1, f32x4.eq(v1, zero)));
  const k1 = v128.and(v128.or(o2, f32x4.eq(v2, zero)), v128.or(o3, f32x4.eq(v3, zero)));
  const k2 = v128.and(v128.or(o4, f32x4.eq(v4, zero)), v128.or(o5, f32x4.eq(v5, zero)));
  const k3 = v128.and(v128.or(o6, f32x4.eq(v6, zero)), v128.or(o7, f32x4.eq(v7, zero)));
  countWordOk = i32x4.all_true(v128.and(v128.and(k0, k1), v128.and(k2, k3)));
  const ones = maskBits16(o0, o1, o2, o3) | (maskBits16(o4, o5, o6, o7) << 16);
  const twos = maskBits16(t0, t1, t2, t3) | (maskBits16(t4, t5, t6, t7) << 16);
  return <u64>ones | (<u64>twos << 32);
}
