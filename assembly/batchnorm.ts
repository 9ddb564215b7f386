// Batch normalisation over [N, C, P] (P = L for 1d, H*W for 2d): one kernel serves both.
// Statistics per channel over N and P, as PyTorch: biased variance to normalise, unbiased variance
// into the running estimate.

function channelStats(x: usize, c: i32, N: i32, C: i32, P: i32, mean: f64): f64 {
  // Returns the sum (mean == NaN) or the sum of squared deviations from `mean`.
  const m = f32x4.splat(<f32>(isNaN(mean) ? 0 : mean));
  const squares = !isNaN(mean);
  let acc: f64 = 0;
  for (let n = 0; n < N; n++) {
    const row = x + ((<usize>(n * C + c) * <usize>P) << 2);
    let v = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= P; p += 4) {
      const d = f32x4.sub(v128.load(row + (<usize>p << 2)), m);
      v = squares ? f32x4.add(v, f32x4.mul(d, d)) : f32x4.add(v, d);
    }
    let s: f64 = <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
    for (; p < P; p++) {
      const d = <f64>load<f32>(row + (<usize>p << 2)) - (isNaN(mean) ? 0 : mean);
      s += squares ? d * d : d;
    }
    acc += s;
  }
  return acc;
}

/** y = w * (x - mean) * invStd + b. Training: batch statistics, saved for backward, running stats updated. */
export function batchNormForward(
  x: usize, w: usize, b: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  N: i32, C: i32, P: i32, training: i32, momentum: f32, eps: f32,
): void {
  assert(N > 0 && C > 0 && P > 0, 'batchNormForward: sizes must be positive');
  assert(!training || N * P > 1, 'batchNormForward: training needs more than one value per channel');
  const M = <f64>N * <f64>P;
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    let mean: f64, invStd: f64;
    if (training) {
      mean = channelStats(x, c, N, C, P, NaN) / M;
      const ss = channelStats(x, c, N, C, P, mean);
      invStd = 1 / Math.sqrt(ss / M + <f64>eps);
      store<f32>(saveMean + co, <f32>mean);
      store<f32>(saveInvStd + co, <f32>invStd);
      store<f32>(runningMean + co, <f32>((1 - <f64>momentum) * <f64>load<f32>(runningMean + co) + <f64>momentum * mean));
      store<f32>(runningVar + co, <f32>((1 - <f64>momentum) * <f64>load<f32>(runningVar + co) + <f64>momentum * (ss / (M - 1))));
    } else {
      mean = <f64>load<f32>(runningMean + co);
      invStd = 1 / Math.sqrt(<f64>load<f32>(runningVar + co) + <f64>eps);
    }
    const scale = <f32>(<f64>load<f32>(w + co) * invStd);
    const shift = <f32>(<f64>load<f32>(b + co) - mean * <f64>scale);
    const vs = f32x4.splat(scale), vb = f32x4.splat(shift);
    for (let n = 0; n < N; n++) {
      const off = (<usize>(n * C + c) * <usize>P) << 2;
      let p = 0;
      for (; p + 4 <= P; p += 4) {
        const o = off + (<usize>p << 2);
        v128.store(y + o, f32x4.add(f32x4.mul(v128.load(x + o), vs), vb));
      }
      for (; p < P; p++) {
        const o = off + (<usize>p << 2);
        store<f32>(y + o, load<f32>(x + o) * scale + shift);
      }
    }
  }
}

/**
 * Backward of training-mode batch norm with the statistics saved by the forward:
 * dx = w * invStd / M * (M*dy - sum(dy) - xhat * sum(dy * xhat)), dw = sum(dy * xhat), db = sum(dy). Overwrites.
 */
export function batchNormBackward(
  x: usize, w: usize, dy: usize, saveMean: usize, saveInvStd: usize, dx: usize, dw: usize, db: usize,
  N: i32, C: i32, P: i32,
): void {
  assert(N > 0 && C > 0 && P > 0, 'batchNormBackward: sizes must be positive');
  const M = <f64>N * <f64>P;
  for (let c = 0; c < C; c++) {
    const co = <usize>c << 2;
    const mean = load<f32>(saveMean + co), invStd = load<f32>(saveInvStd + co);
    const vm = f32x4.splat(mean);
    let sumDy: f64 = 0, sumDyXhat: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = (<usize>(n * C + c) * <usize>P) << 2;
      let a = f32x4.splat(0), bv = f32x4.splat(0);
      let p = 0;
      for (; p + 4 <= P; p += 4) {
        const o = off + (<usize>p << 2);
        const g = v128.load(dy + o);
        a = f32x4.add(a, g);
        bv = f32x4.add(bv, f32x4.mul(g, f32x4.sub(v128.load(x + o), vm)));
      }
      let s1: f64 = <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1) + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3);
      let s2: f64 = <f64>f32x4.extract_lane(bv, 0) + <f64>f32x4.extract_lane(bv, 1) + <f64>f32x4.extract_lane(bv, 2) + <f64>f32x4.extract_lane(bv, 3);
      for (; p < P; p++) {
        const o = off + (<usize>p << 2);
        const g = <f64>load<f32>(dy + o);
        s1 += g;
        s2 += g * (<f64>load<f32>(x + o) - <f64>mean);
      }
      sumDy += s1;
      sumDyXhat += s2;
    }
    sumDyXhat *= <f64>invStd;
    store<f32>(dw + co, <f32>sumDyXhat);
    store<f32>(db + co, <f32>sumDy);
    // dx = k * (dy - sumDy/M - (x - mean) * invStd * sumDyXhat/M), k = w * invStd.
    const k = <f32>(<f64>load<f32>(w + co) * <f64>invStd);
    const a0 = <f32>(sumDy / M);
    const a1 = <f32>(<f64>invStd * sumDyXhat / M);
    const vk = f32x4.splat(k), va0 = f32x4.splat(a0), va1 = f32x4.splat(a1);
    for (let n = 0; n < N; n++) {
      const off = (<usize>(n * C + c) * <usize>P) << 2;
      let p = 0;
      for (; p + 4 <= P; p += 4) {
        const o = off + (<usize>p << 2);
        const t = f32x4.sub(f32x4.sub(v128.load(dy + o), va0), f32x4.mul(f32x4.sub(v128.load(x + o), vm), va1));
        v128.store(dx + o, f32x4.mul(vk, t));
      }
      for (; p < P; p++) {
        const o = off + (<usize>p << 2);
        store<f32>(dx + o, k * (load<f32>(dy + o) - a0 - (load<f32>(x + o) - mean) * a1));
      }
    }
  }
}
