// Binary spikes as bits. A training pass keeps the spikes a synaptic layer's backward reads 32 to a
// word rather than one f32 each, a 32x smaller record, and unpacks them when that backward runs.
// Bit j of word w is value 32w + j; four values make a nibble, so a vector's compare mask is the
// nibble itself (i32x4.bitmask) and a nibble's four bits are a vector's lanes again.

const ZERO = f32x4.splat(0);
const ONE = f32x4.splat(1);
const LANE_BITS = i32x4(1, 2, 4, 8);

/**
 * Packs x[0 .. n) (f32) into ceil(n / 32) u32 words at `bits`, spare bits of the last word 0. Returns 1
 * when every value was 0 or 1, else 0: x is no spike train (a residual join's count may be 2) and the
 * words mean nothing.
 */
export function packSpikes(x: usize, bits: usize, n: i32): i32 {
  assert(n >= 0, 'packSpikes: n must be >= 0');
  let binary = i32x4.splat(-1);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const p = x + (<usize>i << 2);
    let word: u32 = 0;
    for (let j = 0; j < 8; j++) {
      const v = v128.load(p + (<usize>j << 4));
      const fired = f32x4.eq(v, ONE);
      binary = v128.and(binary, v128.or(fired, f32x4.eq(v, ZERO)));
      word |= <u32>i32x4.bitmask(fired) << (<u32>j << 2);
    }
    store<u32>(bits + (<usize>i >> 3), word);
  }
  let ok = i32x4.all_true(binary);
  if (i < n) {
    let word: u32 = 0;
    for (let j = 0; i + j < n; j++) {
      const v = load<f32>(x + (<usize>(i + j) << 2));
      if (v == 1) word |= (<u32>1) << <u32>j;
      else if (v != 0) ok = false;
    }
    store<u32>(bits + (<usize>i >> 3), word);
  }
  return ok ? 1 : 0;
}

/** x[0 .. n) = the spikes packed at `bits` by packSpikes, as f32 0 and 1. */
export function unpackSpikes(bits: usize, x: usize, n: i32): void {
  assert(n >= 0, 'unpackSpikes: n must be >= 0');
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const word = load<u32>(bits + (<usize>i >> 3));
    const p = x + (<usize>i << 2);
    for (let j = 0; j < 8; j++) {
      const lanes = v128.and(i32x4.splat(<i32>(word >>> (<u32>j << 2))), LANE_BITS);
      v128.store(p + (<usize>j << 4), v128.and(i32x4.ne(lanes, i32x4.splat(0)), ONE));
    }
  }
  if (i < n) {
    const word = load<u32>(bits + (<usize>i >> 3));
    for (let j = 0; i + j < n; j++) store<f32>(x + (<usize>(i + j) << 2), <f32>((word >>> <u32>j) & 1));
  }
}
