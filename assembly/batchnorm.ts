// Batch normalisation over [N, C, L] (L = the product of the trailing dimensions, 1 for [N, C]):
// statistics per channel over N and L. One kernel serves BatchNorm1d and BatchNorm2d.
import { affineSpan, hsum, madd, spanSum } from './simd';

// The reductions below keep four independent accumulators (16 values an iteration): one would make
// every add wait for the previous one, and the channel's second and third passes, served from cache,
// would run at the adder's latency instead of its throughput.

// Sum of (v - mean)^2 over n values at p: two passes, so no cancellation.
// @ts-ignore: decorator
@inline function rowSqDev(p: usize, n: i32, mean: f32): f64 {
  const m = f32x4.splat(mean);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    const d0 = f32x4.sub(v128.load(q), m);
    const d1 = f32x4.sub(v128.load(q, 16), m);
    const d2 = f32x4.sub(v128.load(q, 32), m);
    const d3 = f32x4.sub(v128.load(q, 48), m);
    a0 = madd(d0, d0, a0);
    a1 = madd(d1, d1, a1);
    a2 = madd(d2, d2, a2);
    a3 = madd(d3, d3, a3);
  }
  for (; i + 4 <= n; i += 4) {
    const d = f32x4.sub(v128.load(p + (<usize>i << 2)), m);
    a0 = madd(d, d, a0);
  }
  let s = <f64>hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) {
    const d = <f64>(load<f32>(p + (<usize>i << 2)) - mean);
    s += d * d;
  }
  return s;
}

// One row's two backward sums, in f64: globals because a row yields both.
let gRowDy: f64 = 0;
let gRowDyX: f64 = 0;

// The sums of dy and of dy * (x - mean) over n values, into gRowDy and gRowDyX, in one pass.
// @ts-ignore: decorator
@inline function rowGradSums(dy: usize, x: usize, n: i32, mean: f32): void {
  const vm = f32x4.splat(mean);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g0 = v128.load(dy + o);
    const g1 = v128.load(dy + o, 16);
    a0 = f32x4.add(a0, g0);
    a1 = f32x4.add(a1, g1);
    b0 = madd(g0, f32x4.sub(v128.load(x + o), vm), b0);
    b1 = madd(g1, f32x4.sub(v128.load(x + o, 16), vm), b1);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dy + o);
    a0 = f32x4.add(a0, g);
    b0 = madd(g, f32x4.sub(v128.load(x + o), vm), b0);
  }
  let ra = <f64>hsum(f32x4.add(a0, a1));
  let rb = <f64>hsum(f32x4.add(b0, b1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = <f64>load<f32>(dy + o);
    ra += g;
    rb += g * <f64>(load<f32>(x + o) - mean);
  }
  gRowDy = ra;
  gRowDyX = rb;
}

// dx = k * dy + kx * (x - mean) + k0 over n values: a channel's constants folded once.
// @ts-ignore: decorator
@inline function rowDx(dy: usize, x: usize, dx: usize, n: i32, mean: f32, k: f32, kx: f32, k0: f32): void {
  const vm = f32x4.splat(mean);
  const vk = f32x4.splat(k);
  const vkx = f32x4.splat(kx);
  const vk0 = f32x4.splat(k0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    const t = f32x4.add(f32x4.mul(v128.load(dy + p), vk), f32x4.mul(f32x4.sub(v128.load(x + p), vm), vkx));
    v128.store(dx + p, f32x4.add(t, vk0));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(dx + p, load<f32>(dy + p) * k + (load<f32>(x + p) - mean) * kx + k0);
  }
}

// In training the passes go sample by sample over a block of BLOCK neighbouring channels, whose rows lie
// side by side in a sample: x streams in runs of BLOCK·L values, where a channel at a time jumps
// sampleC·L values after every L (docs/bench.md has BC-ResNet-3's sub-spectral norms before and after),
// and the block's rows stay in cache from the first pass to the last. Each channel still adds its rows
// in sample order, so every sum is the same to the bit.
const BLOCK = 4;

// Training: normalise with the batch statistics (biased variance), save mean and 1/std for backward,
// and move the running statistics by `momentum` towards the batch mean and the UNBIASED variance
// (PyTorch's rule). Eval: normalise with the running statistics; saveMean/saveInvStd are not touched.
// A sample of x holds `sampleC` >= C channels: a thread's band of C channels starts at x + c0 * L
// (and every per-channel array at its c0), samples sampleC * L apart.
export function batchNormForward(
  x: usize, weight: usize, bias: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  N: i32, C: i32, L: i32, training: i32, momentum: f32, eps: f32, sampleC: i32,
): void {
  assert(N > 0 && C > 0 && L > 0, 'batchNormForward: N, C and L must be > 0');
  assert(sampleC >= C, 'batchNormForward: sampleC must be >= C');
  assert(!training || N * L > 1, 'batchNormForward: training needs more than one value per channel');
  const count = <f64>N * <f64>L;
  const rowStride = <usize>sampleC * <usize>L << 2;
  const R = <usize>L << 2;
  if (!training) {
    for (let c = 0; c < C; c++) {
      const cOff = <usize>c << 2;
      const mean = load<f32>(runningMean + cOff);
      const invStd = <f32>(1.0 / Math.sqrt(<f64>load<f32>(runningVar + cOff) + <f64>eps));
      const scale = load<f32>(weight + cOff) * invStd;
      const shift = load<f32>(bias + cOff) - mean * scale;
      for (let n = 0; n < N; n++) {
        const o = <usize>c * R + <usize>n * rowStride;
        affineSpan(x + o, y + o, L, scale, shift);
      }
    }
    return;
  }
  const m = <f64>momentum;
  for (let c0 = 0; c0 < C; c0 += BLOCK) {
    const cb = min(BLOCK, C - c0);
    const base = <usize>c0 * R;
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (let n = 0; n < N; n++) {
      const p = x + base + <usize>n * rowStride;
      s0 += <f64>spanSum(p, L);
      if (cb > 1) s1 += <f64>spanSum(p + R, L);
      if (cb > 2) s2 += <f64>spanSum(p + 2 * R, L);
      if (cb > 3) s3 += <f64>spanSum(p + 3 * R, L);
    }
    const m0 = <f32>(s0 / count), m1 = <f32>(s1 / count), m2 = <f32>(s2 / count), m3 = <f32>(s3 / count);
    let q0: f64 = 0, q1: f64 = 0, q2: f64 = 0, q3: f64 = 0;
    for (let n = 0; n < N; n++) {
      const p = x + base + <usize>n * rowStride;
      q0 += rowSqDev(p, L, m0);
      if (cb > 1) q1 += rowSqDev(p + R, L, m1);
      if (cb > 2) q2 += rowSqDev(p + 2 * R, L, m2);
      if (cb > 3) q3 += rowSqDev(p + 3 * R, L, m3);
    }
    for (let j = 0; j < cb; j++) {
      const cOff = <usize>(c0 + j) << 2;
      const mean = j == 0 ? m0 : j == 1 ? m1 : j == 2 ? m2 : m3;
      const q = j == 0 ? q0 : j == 1 ? q1 : j == 2 ? q2 : q3;
      store<f32>(saveMean + cOff, mean);
      store<f32>(saveInvStd + cOff, <f32>(1.0 / Math.sqrt(q / count + <f64>eps)));
      store<f32>(runningMean + cOff, <f32>((1 - m) * <f64>load<f32>(runningMean + cOff) + m * <f64>mean));
      store<f32>(runningVar + cOff, <f32>((1 - m) * <f64>load<f32>(runningVar + cOff) + m * (q / (count - 1))));
    }
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      for (let j = 0; j < cb; j++) {
        const cOff = <usize>(c0 + j) << 2;
        const scale = load<f32>(weight + cOff) * load<f32>(saveInvStd + cOff);
        const shift = load<f32>(bias + cOff) - load<f32>(saveMean + cOff) * scale;
        affineSpan(x + o + <usize>j * R, y + o + <usize>j * R, L, scale, shift);
      }
    }
  }
}

// Gradients through the batch statistics of the last training forward (saveMean, saveInvStd):
// dbias = sum dy, dweight = sum dy * xhat, dx = weight * invStd * (dy - dbias/n - xhat * dweight/n).
// Every output is overwritten; an output at offset 0 (null) is skipped. sampleC: as batchNormForward.
// Channels go in blocks of BLOCK, as in the forward.
export function batchNormBackward(
  x: usize, weight: usize, dy: usize, saveMean: usize, saveInvStd: usize,
  dx: usize, dweight: usize, dbias: usize, N: i32, C: i32, L: i32, sampleC: i32,
): void {
  assert(N > 0 && C > 0 && L > 0, 'batchNormBackward: N, C and L must be > 0');
  assert(sampleC >= C, 'batchNormBackward: sampleC must be >= C');
  const count = <f64>N * <f64>L;
  const rowStride = <usize>sampleC * <usize>L << 2;
  const R = <usize>L << 2;
  for (let c0 = 0; c0 < C; c0 += BLOCK) {
    const cb = min(BLOCK, C - c0);
    const base = <usize>c0 * R;
    const c0Off = <usize>c0 << 2;
    const m0 = load<f32>(saveMean + c0Off);
    const m1 = cb > 1 ? load<f32>(saveMean + c0Off, 4) : 0;
    const m2 = cb > 2 ? load<f32>(saveMean + c0Off, 8) : 0;
    const m3 = cb > 3 ? load<f32>(saveMean + c0Off, 12) : 0;
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0;
    let b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      rowGradSums(dy + o, x + o, L, m0);
      a0 += gRowDy;
      b0 += gRowDyX;
      if (cb > 1) {
        rowGradSums(dy + o + R, x + o + R, L, m1);
        a1 += gRowDy;
        b1 += gRowDyX;
      }
      if (cb > 2) {
        rowGradSums(dy + o + 2 * R, x + o + 2 * R, L, m2);
        a2 += gRowDy;
        b2 += gRowDyX;
      }
      if (cb > 3) {
        rowGradSums(dy + o + 3 * R, x + o + 3 * R, L, m3);
        a3 += gRowDy;
        b3 += gRowDyX;
      }
    }
    // dx = k * dy + kx * (x - mean) + k0, the per-channel constants folded once: lane j of k0, kx and kc
    // holds channel c0 + j's, so the dx pass can go sample by sample too.
    let k0 = f32x4.splat(0), kx = f32x4.splat(0), kc = f32x4.splat(0);
    for (let j = 0; j < cb; j++) {
      const cOff = <usize>(c0 + j) << 2;
      const sdy = j == 0 ? a0 : j == 1 ? a1 : j == 2 ? a2 : a3;
      const sdyx = j == 0 ? b0 : j == 1 ? b1 : j == 2 ? b2 : b3;
      const invStd = load<f32>(saveInvStd + cOff);
      const dw = sdyx * <f64>invStd;
      if (dweight) store<f32>(dweight + cOff, <f32>dw);
      if (dbias) store<f32>(dbias + cOff, <f32>sdy);
      const k = <f32>(<f64>load<f32>(weight + cOff) * <f64>invStd);
      const kxj = <f32>(-<f64>k * dw * <f64>invStd / count);
      const kcj = <f32>(-<f64>k * sdy / count);
      if (j == 0) { k0 = f32x4.replace_lane(k0, 0, k); kx = f32x4.replace_lane(kx, 0, kxj); kc = f32x4.replace_lane(kc, 0, kcj); }
      else if (j == 1) { k0 = f32x4.replace_lane(k0, 1, k); kx = f32x4.replace_lane(kx, 1, kxj); kc = f32x4.replace_lane(kc, 1, kcj); }
      else if (j == 2) { k0 = f32x4.replace_lane(k0, 2, k); kx = f32x4.replace_lane(kx, 2, kxj); kc = f32x4.replace_lane(kc, 2, kcj); }
      else { k0 = f32x4.replace_lane(k0, 3, k); kx = f32x4.replace_lane(kx, 3, kxj); kc = f32x4.replace_lane(kc, 3, kcj); }
    }
    if (!dx) continue;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      rowDx(dy + o, x + o, dx + o, L, m0, f32x4.extract_lane(k0, 0), f32x4.extract_lane(kx, 0), f32x4.extract_lane(kc, 0));
      if (cb > 1) rowDx(dy + o + R, x + o + R, dx + o + R, L, m1, f32x4.extract_lane(k0, 1), f32x4.extract_lane(kx, 1), f32x4.extract_lane(kc, 1));
      if (cb > 2) rowDx(dy + o + 2 * R, x + o + 2 * R, dx + o + 2 * R, L, m2, f32x4.extract_lane(k0, 2), f32x4.extract_lane(kx, 2), f32x4.extract_lane(kc, 2));
      if (cb > 3) rowDx(dy + o + 3 * R, x + o + 3 * R, dx + o + 3 * R, L, m3, f32x4.extract_lane(k0, 3), f32x4.extract_lane(kx, 3), f32x4.extract_lane(kc, 3));
    }
  }
}

// The same passes over a band of whole samples, for a thread that owns those samples: two threads
// splitting by samples each read the rows their own convolution wrote, where bands of channels read
// half of them from the other core. A sample holds all C channels here. The per-row sums go out as
// f64, one per (sample, channel) at out + 8 * (n * C + c) (two for the gradient's), and the calling
// thread adds them in sample order, the order batchNormForward and batchNormBackward add them in: the
// statistics, and so every output, are the same to the bit as on one thread.

// Each row's sum.
export function batchNormRowSums(x: usize, out: usize, N: i32, C: i32, L: i32): void {
  const R = <usize>L << 2;
  const rows = N * C;
  for (let r = 0; r < rows; r++) store<f64>(out + (<usize>r << 3), <f64>spanSum(x + <usize>r * R, L));
}

// Each row's sum of squared deviations from its channel's mean (f32 [C] at mean).
export function batchNormRowSqDevs(x: usize, mean: usize, out: usize, N: i32, C: i32, L: i32): void {
  const R = <usize>L << 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const r = <usize>(n * C + c);
      store<f64>(out + (r << 3), rowSqDev(x + r * R, L, load<f32>(mean + (<usize>c << 2))));
    }
}

// y = (x - mean) * invStd * weight + bias with the statistics the calling thread saved.
export function batchNormRowApply(x: usize, weight: usize, bias: usize, saveMean: usize, saveInvStd: usize, y: usize, N: i32, C: i32, L: i32): void {
  const R = <usize>L << 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const cOff = <usize>c << 2;
      const scale = load<f32>(weight + cOff) * load<f32>(saveInvStd + cOff);
      const shift = load<f32>(bias + cOff) - load<f32>(saveMean + cOff) * scale;
      const o = <usize>(n * C + c) * R;
      affineSpan(x + o, y + o, L, scale, shift);
    }
}

// Each row's sums of dy and of dy * (x - mean), at out + 16 * (n * C + c).
export function batchNormRowGradSums(x: usize, dy: usize, saveMean: usize, out: usize, N: i32, C: i32, L: i32): void {
  const R = <usize>L << 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const r = <usize>(n * C + c);
      rowGradSums(dy + r * R, x + r * R, L, load<f32>(saveMean + (<usize>c << 2)));
      store<f64>(out + (r << 4), gRowDy);
      store<f64>(out + (r << 4), gRowDyX, 8);
    }
}

// dx = k * dy + kx * (x - mean) + k0, with each channel's three constants (f32 [C][3] at consts) folded
// by the calling thread as batchNormBackward folds them. dx may be dy itself.
export function batchNormRowDx(x: usize, dy: usize, dx: usize, saveMean: usize, consts: usize, N: i32, C: i32, L: i32): void {
  const R = <usize>L << 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = consts + <usize>c * 12;
      const o = <usize>(n * C + c) * R;
      rowDx(dy + o, x + o, dx + o, L, load<f32>(saveMean + (<usize>c << 2)), load<f32>(k), load<f32>(k, 4), load<f32>(k, 8));
    }
}
