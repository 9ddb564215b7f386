// Power spectra of real frames, four frames at a time: each SIMD lane carries its own frame through the
// same butterflies, so the FFT needs no shuffles and every twiddle is one splat.
//
// A real frame x of N samples is packed as N/2 complex points z[n] = x[2n] + i x[2n+1] and transformed
// by an M = N/2 point radix-2 decimation-in-time FFT, Z = FFT_M(z). The spectra of the even and odd
// samples come out of Z by symmetry, and X = DFT_N(x) from them:
//   E[k] = (Z[k] + conj Z[M-k]) / 2,   O[k] = (Z[k] - conj Z[M-k]) / 2i,   X[k] = E[k] + W^k O[k],
// with W = e^{-2 pi i / N} and Z[M] = Z[0]. Only bins k < N/2 are kept, as meyda returns them.

/**
 * frames f32 [count, size] -> out f32 [count, size/2], out[f, k] = |X_f[k]|^2 with
 * X[k] = sum_n w[n] x[n] e^{-2 pi i k n / size}, w the f32 [size] `window` (or 1 when window is 0). `twiddles` (f32, 4M - 2 values, M = size/2) holds per stage
 * of half-size h = 1, 2, 4, ... the h values cos(-pi k / h) at offset h - 1 and the h values
 * sin(-pi k / h) at offset M - 1 + h - 1, then cos(-2 pi k / size) for k < M at offset 2M - 2 and
 * sin(-2 pi k / size) at offset 3M - 2. `scratch` holds 2M v128 (32 M bytes).
 */
export function powerSpectra(frames: usize, out: usize, count: i32, size: i32, window: usize, twiddles: usize, scratch: usize): void {
  assert(count >= 0 && size >= 2 && (size & (size - 1)) == 0, 'powerSpectra: size must be a power of two >= 2 and count >= 0');
  const m = size >> 1;
  const bits = <i32>ctz(m);
  const re = scratch;
  const im = scratch + (<usize>m << 4);
  const stageCos = twiddles;
  const stageSin = twiddles + (<usize>(m - 1) << 2);
  const postCos = twiddles + (<usize>(2 * m - 2) << 2);
  const postSin = twiddles + (<usize>(3 * m - 2) << 2);
  const half = f32x4.splat(0.5);
  for (let f = 0; f < count; f += 4) {
    const lanes = min(4, count - f);
    // Lanes past the last frame repeat it; their results are not stored.
    const p0 = frames + (<usize>f * <usize>size << 2);
    const p1 = frames + (<usize>(f + min(1, lanes - 1)) * <usize>size << 2);
    const p2 = frames + (<usize>(f + min(2, lanes - 1)) * <usize>size << 2);
    const p3 = frames + (<usize>(f + min(3, lanes - 1)) * <usize>size << 2);
    // z[rev(j)] = w[2j] x[2j] + i w[2j+1] x[2j+1]: the bit-reversed order a decimation-in-time FFT starts from.
    for (let j = 0; j < m; j++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r = (r << 1) | ((j >> b) & 1);
      const at = <usize>j << 3;
      let vr = f32x4.splat(load<f32>(p0 + at));
      vr = f32x4.replace_lane(vr, 1, load<f32>(p1 + at));
      vr = f32x4.replace_lane(vr, 2, load<f32>(p2 + at));
      vr = f32x4.replace_lane(vr, 3, load<f32>(p3 + at));
      let vi = f32x4.splat(load<f32>(p0 + at, 4));
      vi = f32x4.replace_lane(vi, 1, load<f32>(p1 + at, 4));
      vi = f32x4.replace_lane(vi, 2, load<f32>(p2 + at, 4));
      vi = f32x4.replace_lane(vi, 3, load<f32>(p3 + at, 4));
      if (window) {
        vr = f32x4.mul(vr, f32x4.splat(load<f32>(window + at)));
        vi = f32x4.mul(vi, f32x4.splat(load<f32>(window + at, 4)));
      }
      v128.store(re + (<usize>r << 4), vr);
      v128.store(im + (<usize>r << 4), vi);
    }
    // Butterflies: t = w z[odd]; z[odd] = z[even] - t; z[even] = z[even] + t.
    for (let h = 1; h < m; h <<= 1) {
      const hb = <usize>h << 4;
      for (let start = 0; start < m; start += h << 1) {
        for (let k = 0; k < h; k++) {
          const w = <usize>(h - 1 + k) << 2;
          const wr = f32x4.splat(load<f32>(stageCos + w));
          const wi = f32x4.splat(load<f32>(stageSin + w));
          const e = <usize>(start + k) << 4;
          const or = v128.load(re + e + hb);
          const oi = v128.load(im + e + hb);
          const tr = f32x4.sub(f32x4.mul(wr, or), f32x4.mul(wi, oi));
          const ti = f32x4.add(f32x4.mul(wr, oi), f32x4.mul(wi, or));
          const er = v128.load(re + e);
          const ei = v128.load(im + e);
          v128.store(re + e + hb, f32x4.sub(er, tr));
          v128.store(im + e + hb, f32x4.sub(ei, ti));
          v128.store(re + e, f32x4.add(er, tr));
          v128.store(im + e, f32x4.add(ei, ti));
        }
      }
    }
    // X[k] = E[k] + W^k O[k] from Z[k] = a and Z[M-k] = b; the power of each bin to its frame's row.
    for (let k = 0; k < m; k++) {
      const a = <usize>k << 4;
      const b = <usize>((m - k) & (m - 1)) << 4;
      const ar = v128.load(re + a), ai = v128.load(im + a);
      const br = v128.load(re + b), bi = v128.load(im + b);
      const er = f32x4.mul(f32x4.add(ar, br), half);
      const ei = f32x4.mul(f32x4.sub(ai, bi), half);
      const or = f32x4.mul(f32x4.add(ai, bi), half);
      const oi = f32x4.mul(f32x4.sub(br, ar), half);
      const wr = f32x4.splat(load<f32>(postCos + (<usize>k << 2)));
      const wi = f32x4.splat(load<f32>(postSin + (<usize>k << 2)));
      const xr = f32x4.add(er, f32x4.sub(f32x4.mul(wr, or), f32x4.mul(wi, oi)));
      const xi = f32x4.add(ei, f32x4.add(f32x4.mul(wr, oi), f32x4.mul(wi, or)));
      const p = f32x4.add(f32x4.mul(xr, xr), f32x4.mul(xi, xi));
      const o = out + ((<usize>f * <usize>m + <usize>k) << 2);
      const row = <usize>m << 2;
      store<f32>(o, f32x4.extract_lane(p, 0));
      if (lanes > 1) store<f32>(o + row, f32x4.extract_lane(p, 1));
      if (lanes > 2) store<f32>(o + 2 * row, f32x4.extract_lane(p, 2));
      if (lanes > 3) store<f32>(o + 3 * row, f32x4.extract_lane(p, 3));
    }
  }
}

/**
 * Mel energies of `count` power spectra (f32 [count, half]) through a bank of `bands` filters: band b
 * weighs bins firstBin[b] .. by weights[bandStart[b] .. bandStart[b+1]) (i32 and f32 tables), and
 * out f64 [count, bands] gets out[f, b] = sum_j weights[j] * power[f, firstBin[b] + j - bandStart[b]].
 * Products and sums are f64 in ascending j, as audio/logmel.ts sums without an engine: a product of two
 * f32 is exact in f64, so the energies are the TypeScript loop's to the bit. Four frames go at once, two
 * per f64x2 lane pair, each lane its own frame's chain of additions (no reassociation, no fused
 * multiply-add), which hides the latency of one chain behind the others.
 */
export function melFilter(power: usize, count: i32, half: i32, firstBin: usize, bandStart: usize, weights: usize, bands: i32, out: usize): void {
  assert(count >= 0 && half > 0 && bands > 0, 'melFilter: count must be >= 0, half and bands positive');
  const row = <usize>half << 2;
  let f = 0;
  for (; f + 4 <= count; f += 4) {
    const p = power + <usize>f * row;
    for (let b = 0; b < bands; b++) {
      let lo = f64x2.splat(0);
      let hi = f64x2.splat(0);
      const j1 = load<i32>(bandStart + (<usize>(b + 1) << 2));
      let k = p + (<usize>load<i32>(firstBin + (<usize>b << 2)) << 2);
      for (let j = load<i32>(bandStart + (<usize>b << 2)); j < j1; j++, k += 4) {
        const w = f64x2.splat(<f64>load<f32>(weights + (<usize>j << 2)));
        let v = f32x4.splat(load<f32>(k));
        v = f32x4.replace_lane(v, 1, load<f32>(k + row));
        v = f32x4.replace_lane(v, 2, load<f32>(k + 2 * row));
        v = f32x4.replace_lane(v, 3, load<f32>(k + 3 * row));
        lo = f64x2.add(lo, f64x2.mul(w, f64x2.promote_low_f32x4(v)));
        hi = f64x2.add(hi, f64x2.mul(w, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))));
      }
      const o = out + ((<usize>f * <usize>bands + <usize>b) << 3);
      const stride = <usize>bands << 3;
      store<f64>(o, f64x2.extract_lane(lo, 0));
      store<f64>(o + stride, f64x2.extract_lane(lo, 1));
      store<f64>(o + 2 * stride, f64x2.extract_lane(hi, 0));
      store<f64>(o + 3 * stride, f64x2.extract_lane(hi, 1));
    }
  }
  for (; f < count; f++) {
    const p = power + <usize>f * row;
    for (let b = 0; b < bands; b++) {
      let e: f64 = 0;
      const j1 = load<i32>(bandStart + (<usize>(b + 1) << 2));
      let k = p + (<usize>load<i32>(firstBin + (<usize>b << 2)) << 2);
      for (let j = load<i32>(bandStart + (<usize>b << 2)); j < j1; j++, k += 4) e += <f64>load<f32>(weights + (<usize>j << 2)) * <f64>load<f32>(k);
      store<f64>(out + ((<usize>f * <usize>bands + <usize>b) << 3), e);
    }
  }
}
