// Batch normalisation over [N, C, L] (L = the product of the trailing dimensions, 1 for [N, C]):
// statistics per channel over N and L. One kernel serves BatchNorm1d and BatchNorm2d.
import { hsum, madd, spanSum } from './simd';

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

// The backward's two per-channel sums, in f64; globals because a row adds to both.
let gSumDy: f64 = 0;
let gSumDyX: f64 = 0;

// Adds the sums of dy and of dy * (x - mean) over n values to gSumDy and gSumDyX, in one pass.
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
  gSumDy += ra;
  gSumDyX += rb;
}

// dst = src * scale + shift over n values.
// @ts-ignore: decorator
@inline function rowAffine(src: usize, dst: usize, n: i32, scale: f32, shift: f32): void {
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
  for (let c = 0; c < C; c++) {
    const cOff = <usize>c << 2;
    const base = <usize>c * <usize>L << 2;
    let mean: f32;
    let invStd: f32;
    if (training) {
      let s: f64 = 0;
      for (let n = 0; n < N; n++) s += <f64>spanSum(x + base + <usize>n * rowStride, L);
      mean = <f32>(s / count);
      let q: f64 = 0;
      for (let n = 0; n < N; n++) q += rowSqDev(x + base + <usize>n * rowStride, L, mean);
      invStd = <f32>(1.0 / Math.sqrt(q / count + <f64>eps));
      store<f32>(saveMean + cOff, mean);
      store<f32>(saveInvStd + cOff, invStd);
      const m = <f64>momentum;
      store<f32>(runningMean + cOff, <f32>((1 - m) * <f64>load<f32>(runningMean + cOff) + m * <f64>mean));
      store<f32>(runningVar + cOff, <f32>((1 - m) * <f64>load<f32>(runningVar + cOff) + m * (q / (count - 1))));
    } else {
      mean = load<f32>(runningMean + cOff);
      invStd = <f32>(1.0 / Math.sqrt(<f64>load<f32>(runningVar + cOff) + <f64>eps));
    }
    const scale = load<f32>(weight + cOff) * invStd;
    const shift = load<f32>(bias + cOff) - mean * scale;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      rowAffine(x + o, y + o, L, scale, shift);
    }
  }
}

// Gradients through the batch statistics of the last training forward (saveMean, saveInvStd):
// dbias = sum dy, dweight = sum dy * xhat, dx = weight * invStd * (dy - dbias/n - xhat * dweight/n).
// Every output is overwritten; an output at offset 0 (null) is skipped. sampleC: as batchNormForward.
export function batchNormBackward(
  x: usize, weight: usize, dy: usize, saveMean: usize, saveInvStd: usize,
  dx: usize, dweight: usize, dbias: usize, N: i32, C: i32, L: i32, sampleC: i32,
): void {
  assert(N > 0 && C > 0 && L > 0, 'batchNormBackward: N, C and L must be > 0');
  assert(sampleC >= C, 'batchNormBackward: sampleC must be >= C');
  const count = <f64>N * <f64>L;
  const rowStride = <usize>sampleC * <usize>L << 2;
  for (let c = 0; c < C; c++) {
    const cOff = <usize>c << 2;
    const base = <usize>c * <usize>L << 2;
    const mean = load<f32>(saveMean + cOff);
    const invStd = load<f32>(saveInvStd + cOff);
    const vm = f32x4.splat(mean);
    gSumDy = 0;
    gSumDyX = 0;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      rowGradSums(dy + o, x + o, L, mean);
    }
    const sdy = gSumDy;
    const sdyx = gSumDyX;
    const dw = sdyx * <f64>invStd;
    if (dweight) store<f32>(dweight + cOff, <f32>dw);
    if (dbias) store<f32>(dbias + cOff, <f32>sdy);
    if (!dx) continue;
    // dx = k * dy + kx * (x - mean) + k0, the per-channel constants folded once.
    const k = <f32>(<f64>load<f32>(weight + cOff) * <f64>invStd);
    const kx = <f32>(-<f64>k * dw * <f64>invStd / count);
    const k0 = <f32>(-<f64>k * sdy / count);
    const vk = f32x4.splat(k);
    const vkx = f32x4.splat(kx);
    const vk0 = f32x4.splat(k0);
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowStride;
      let i = 0;
      for (; i + 4 <= L; i += 4) {
        const p = <usize>i << 2;
        const t = f32x4.add(f32x4.mul(v128.load(dy + o + p), vk), f32x4.mul(f32x4.sub(v128.load(x + o + p), vm), vkx));
        v128.store(dx + o + p, f32x4.add(t, vk0));
      }
      for (; i < L; i++) {
        const p = <usize>i << 2;
        store<f32>(dx + o + p, load<f32>(dy + o + p) * k + (load<f32>(x + o + p) - mean) * kx + k0);
      }
    }
  }
}
