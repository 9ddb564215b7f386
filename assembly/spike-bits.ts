// Spikes as bits. A training pass keeps the spikes a synaptic layer's backward reads 32 to a word
// rather than one f32 each, a 32x smaller record, and unpacks them when that backward runs. A residual
// join's spike counts (0, 1 or 2) are kept the same way as planes of a thermometer code: plane k has
// the bit of (x >= k), and x is the sum of its planes.
// Bit j of word w is value 32w + j; four values make a nibble, so a vector's compare mask is the
// nibble itself (i32x4.bitmask) and a nibble's four bits are a vector's lanes again.

import { countWord, countWordOk } from './simd';

const ONE = f32x4.splat(1);

// The bits of a word that vector j of its 32 values holds, one per lane (bit 4j + i in lane i). The
// loops below spell out their eight vectors: V8 does not unroll, and a loop over j pays a shift, a
// splat and its own count for every four values, as much as the work.
const BITS0 = i32x4(1, 2, 4, 8);
const BITS1 = i32x4(1 << 4, 2 << 4, 4 << 4, 8 << 4);
const BITS2 = i32x4(1 << 8, 2 << 8, 4 << 8, 8 << 8);
const BITS3 = i32x4(1 << 12, 2 << 12, 4 << 12, 8 << 12);
const BITS4 = i32x4(1 << 16, 2 << 16, 4 << 16, 8 << 16);
const BITS5 = i32x4(1 << 20, 2 << 20, 4 << 20, 8 << 20);
const BITS6 = i32x4(1 << 24, 2 << 24, 4 << 24, 8 << 24);
const BITS7 = i32x4(1 << 28, 2 << 28, 4 << 28, 8 << 28);

/** Lanes all ones where the word (splat) has the lane's bit of `bits` set. */
// @ts-ignore: decorator
@inline function lanesOf(word: v128, bits: v128): v128 {
  return i32x4.eq(v128.and(word, bits), bits);
}


/**
 * Packs spike counts x[0 .. n) (f32) as planes of bits, ceil(n / 32) u32 words each, spare bits of the
 * last word 0: (x >= 1) at `ones` and, unless `twos` is 0, (x >= 2) at `twos`. Returns the largest
 * value when every value is 0 or 1, or 2 where `twos` is given (-0 counts as 0), else -1: then x is
 * no such count and the words mean nothing. One pass of three compares a vector, both planes at once.
 */
export function packSpikes(x: usize, ones: usize, twos: usize, n: i32): f32 {
  assert(n >= 0, 'packSpikes: n must be >= 0');
  // Without a second plane, 2 is no allowed value.
  const two = f32x4.splat(twos ? 2 : 1);
  let any1: u32 = 0, any2: u32 = 0;
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const w = countWord(x + (<usize>i << 2), two);
    if (!countWordOk) return -1;
    any1 |= <u32>w;
    store<u32>(ones + (<usize>i >> 3), <u32>w);
    if (twos) {
      any2 |= <u32>(w >> 32);
      store<u32>(twos + (<usize>i >> 3), <u32>(w >> 32));
    }
  }
  if (i < n) {
    let w1: u32 = 0, w2: u32 = 0;
    const top: f32 = twos ? 2 : 1;
    for (let j = 0; i + j < n; j++) {
      const v = load<f32>(x + (<usize>(i + j) << 2));
      if (!(v == 0 || v == 1 || v == top)) return -1;
      if (v >= 1) w1 |= (<u32>1) << <u32>j;
      if (v == 2) w2 |= (<u32>1) << <u32>j;
    }
    any1 |= w1;
    any2 |= w2;
    store<u32>(ones + (<usize>i >> 3), w1);
    if (twos) store<u32>(twos + (<usize>i >> 3), w2);
  }
  return any2 ? 2 : any1 ? 1 : 0;
}

/** x[0 .. n) = the bits packed at `bits` by packSpikes, as f32 0 and 1; with add, x += them. */
export function unpackSpikes(bits: usize, x: usize, n: i32, add: i32): void {
  assert(n >= 0, 'unpackSpikes: n must be >= 0');
  let i = 0;
  if (add) {
    for (; i + 32 <= n; i += 32) {
      const w = v128.load32_splat(bits + (<usize>i >> 3));
      const p = x + (<usize>i << 2);
      v128.store(p, f32x4.add(v128.load(p), v128.and(lanesOf(w, BITS0), ONE)));
      v128.store(p, f32x4.add(v128.load(p, 16), v128.and(lanesOf(w, BITS1), ONE)), 16);
      v128.store(p, f32x4.add(v128.load(p, 32), v128.and(lanesOf(w, BITS2), ONE)), 32);
      v128.store(p, f32x4.add(v128.load(p, 48), v128.and(lanesOf(w, BITS3), ONE)), 48);
      v128.store(p, f32x4.add(v128.load(p, 64), v128.and(lanesOf(w, BITS4), ONE)), 64);
      v128.store(p, f32x4.add(v128.load(p, 80), v128.and(lanesOf(w, BITS5), ONE)), 80);
      v128.store(p, f32x4.add(v128.load(p, 96), v128.and(lanesOf(w, BITS6), ONE)), 96);
      v128.store(p, f32x4.add(v128.load(p, 112), v128.and(lanesOf(w, BITS7), ONE)), 112);
    }
  } else {
    for (; i + 32 <= n; i += 32) {
      const w = v128.load32_splat(bits + (<usize>i >> 3));
      const p = x + (<usize>i << 2);
      v128.store(p, v128.and(lanesOf(w, BITS0), ONE));
      v128.store(p, v128.and(lanesOf(w, BITS1), ONE), 16);
      v128.store(p, v128.and(lanesOf(w, BITS2), ONE), 32);
      v128.store(p, v128.and(lanesOf(w, BITS3), ONE), 48);
      v128.store(p, v128.and(lanesOf(w, BITS4), ONE), 64);
      v128.store(p, v128.and(lanesOf(w, BITS5), ONE), 80);
      v128.store(p, v128.and(lanesOf(w, BITS6), ONE), 96);
      v128.store(p, v128.and(lanesOf(w, BITS7), ONE), 112);
    }
  }
  if (i < n) {
    const word = load<u32>(bits + (<usize>i >> 3));
    for (let j = 0; i + j < n; j++) {
      const at = x + (<usize>(i + j) << 2);
      const v = <f32>((word >>> <u32>j) & 1);
      store<f32>(at, add ? load<f32>(at) + v : v);
    }
  }
}

/**
 * dx[0 .. n) = dy where the bit packed at `bits` is set, else +0: a ReLU's gradient through the mask of
 * its positive outputs, kept as bits. dx may be dy itself (each value is read before it is written).
 */
export function selectByBits(bits: usize, dy: usize, dx: usize, n: i32): void {
  assert(n >= 0, 'selectByBits: n must be >= 0');
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const w = v128.load32_splat(bits + (<usize>i >> 3));
    const g = dy + (<usize>i << 2), d = dx + (<usize>i << 2);
    v128.store(d, v128.and(v128.load(g), lanesOf(w, BITS0)));
    v128.store(d, v128.and(v128.load(g, 16), lanesOf(w, BITS1)), 16);
    v128.store(d, v128.and(v128.load(g, 32), lanesOf(w, BITS2)), 32);
    v128.store(d, v128.and(v128.load(g, 48), lanesOf(w, BITS3)), 48);
    v128.store(d, v128.and(v128.load(g, 64), lanesOf(w, BITS4)), 64);
    v128.store(d, v128.and(v128.load(g, 80), lanesOf(w, BITS5)), 80);
    v128.store(d, v128.and(v128.load(g, 96), lanesOf(w, BITS6)), 96);
    v128.store(d, v128.and(v128.load(g, 112), lanesOf(w, BITS7)), 112);
  }
  if (i < n) {
    const word = load<u32>(bits + (<usize>i >> 3));
    for (let j = 0; i + j < n; j++) {
      const p = <usize>(i + j) << 2;
      store<f32>(dx + p, (word >>> <u32>j) & 1 ? load<f32>(dy + p) : 0);
    }
  }
}
