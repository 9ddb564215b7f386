// Sparse inputs, in the direct kernels' geometry (stride 1, few output channels).
// A spiking layer feeds its convolution inputs that are mostly zeros. The forward pass and the weight
// gradient are then cheaper visiting only the non-zero inputs: x[c, ih, iw] meets each tap (kh, kw)
// once, at output (ih+PH-kh, iw+PW-kw), where it adds x * w[:, c, kh, kw] to y[:, oh, ow] (forward) or
// x * dy[:, oh, ow] to dw[:, c, kh, kw] (weight gradient): updates of vectors over output channels, so
// both run channels-last. The forward pass scatters (each non-zero input adds to the outputs it
// reaches); the weight gradient gathers (the sums stay in registers while the inputs stream past).
import { align64, roundUp } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { madd } from './simd';

// Costs in units of one multiply-add of the dense kernels (relaxed build), fitted to the break-even
// densities measured here on [80, 8, 30, 67] 5x5 'same'. Scatter: per non-zero input, and per vector of
// 4 channels it adds at one tap (a load, a multiply-add and a store); break-even at 0.35 non-zero
// inputs for 16 output channels, 0.25 for 8, 0.15 for 3. Gather: per non-zero input, and per 64-byte
// segment of taps it reads; break-even at 0.57, 0.43 and 0.22. Without fused multiply-add the dense
// kernels are 1.4 times slower and the scatter hardly, so there it wins up to 1.4 times the density
// (measured 0.5, 0.35, 0.2).
const SCATTER_INPUT_COST: f64 = 460;
const SCATTER_UPDATE_COST: f64 = 7;
const GATHER_INPUT_COST: f64 = 110;
const GATHER_SEGMENT_COST: f64 = 24;
const DENSE_COST: f64 = ASC_FEATURE_RELAXED_SIMD ? 1 : 1.4;

// The forward scatter's channels-last weights, one sample's channels-last y, and the column list of
// one input row.
export function sparseForwardBytes(geom: ConvGeometry): usize {
  const C = geom.C, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const OHW = outHeight(geom) * outWidth(geom);
  const COp = <usize>roundUp(CO, 4);
  return align64(<usize>C * KH * KW * COp * 4) + align64(<usize>OHW * COp * 4) + align64(<usize>W * 4);
}

/** The count of non-zero floats in x[0..n) (NaN counts as non-zero: it must reach the outputs). */
export function nonZeros(x: usize, n: i32): i64 {
  let counts = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) counts = i32x4.sub(counts, f32x4.ne(v128.load(x + (<usize>i << 2)), f32x4.splat(0)));
  let count: i64 = <i64>i32x4.extract_lane(counts, 0) + i32x4.extract_lane(counts, 1) + i32x4.extract_lane(counts, 2) + i32x4.extract_lane(counts, 3);
  for (; i < n; i++) if (load<f32>(x + (<usize>i << 2)) != 0) count++;
  return count;
}

/** The predicted cost of directForward, in its multiply-adds. */
export function directForwardCost(geom: ConvGeometry): f64 {
  return DENSE_COST * <f64>geom.N * geom.C * geom.H * geom.W * geom.CO * geom.KH * geom.KW;
}

/** The predicted cost of sparseForward over `count` non-zero inputs, in multiply-adds of directForward. */
export function sparseForwardCost(geom: ConvGeometry, count: i64): f64 {
  return <f64>count * (SCATTER_INPUT_COST + SCATTER_UPDATE_COST * <f64>(roundUp(geom.CO, 4) >> 2) * geom.KH * geom.KW);
}

/** The predicted cost of sparseWeightGrad over `count` non-zero inputs, in multiply-adds of directWeightGrad. */
export function sparseWeightGradCost(geom: ConvGeometry, count: i64): f64 {
  const G = 4 / gatherVectors(geom.CO);
  return <f64>count * (GATHER_INPUT_COST + GATHER_SEGMENT_COST * <f64>(geom.KH * ((geom.KW + G - 1) / G)));
}

/** dst[j * dstStride + i] = src[i * srcStride + j] for i < rows, j < cols (strides in floats). */
export function transpose(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, cols: i32): void {
  const ss = <usize>srcStride << 2, ds = <usize>dstStride << 2;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const s0 = src + <usize>i * ss;
    const d0 = dst + (<usize>i << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const s = s0 + (<usize>j << 2);
      const x0 = v128.load(s), x1 = v128.load(s + ss), x2 = v128.load(s + 2 * ss), x3 = v128.load(s + 3 * ss);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const d = d0 + <usize>j * ds;
      v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(d + ds, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(d + 2 * ds, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(d + 3 * ds, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; j < cols; j++)
      for (let r = 0; r < 4; r++) store<f32>(d0 + <usize>j * ds + (<usize>r << 2), load<f32>(s0 + <usize>r * ss + (<usize>j << 2)));
  }
  for (; i < rows; i++)
    for (let j = 0; j < cols; j++) store<f32>(dst + <usize>j * ds + (<usize>i << 2), load<f32>(src + <usize>i * ss + (<usize>j << 2)));
}

// For every non-zero x[c, ih, iw] of one sample [C, H, W] and every tap (kh, kw) it meets:
// out[oh, ow, :] += x * taps[c, kh, kw, :].
// out is channels-last [OH, OW, COp]; taps are [C, KH, KW, COp] with kh and kw reversed, so that the
// taps one input meets in a kernel row lie in the same order as the outputs they reach: one run of
// contiguous vectors on each side.
function scatterNonZeros(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
  out: usize, taps: usize, vectors: i32, columns: usize,
): void {
  const vb = <usize>vectors << 4;
  const outRow = <usize>OW * vb, tapRow = <usize>KW * vb;
  for (let c = 0; c < C; c++) {
    for (let ih = 0; ih < H; ih++) {
      const row = x + ((<usize>((c * H + ih) * W)) << 2);
      // Taps kh0 <= kh < kh1 reach output rows ih+PH-kh inside [0, OH).
      const kh0 = max(0, ih + PH - OH + 1), kh1 = min(KH, ih + PH + 1);
      if (kh1 <= kh0) continue;
      // The columns of the non-zero inputs, listed without a branch per input (they are unpredictable).
      let count: usize = 0;
      for (let iw = 0; iw < W; iw++) {
        store<i32>(columns + (count << 2), iw);
        count += <usize>(load<f32>(row + (<usize>iw << 2)) != 0);
      }
      for (let k: usize = 0; k < count; k++) {
        const iw = load<i32>(columns + (k << 2));
        const kw0 = max(0, iw + PW - OW + 1), kw1 = min(KW, iw + PW + 1);
        if (kw1 <= kw0) continue;
        // The first output row and column reached, by the last tap (kh1-1, kw1-1).
        const o = out + <usize>((ih + PH - kh1 + 1) * OW + iw + PW - kw1 + 1) * vb;
        const t = taps + <usize>((c * KH + KH - kh1) * KW + KW - kw1) * vb;
        const v = f32x4.splat(load<f32>(row + (<usize>iw << 2)));
        const bytes = <usize>(kw1 - kw0) * vb;
        // Two call sites (all kernel rows, or clipped at the top or bottom) keep scatterRows out of
        // line (see directCorrelate in conv-direct.ts); inlined, it ran a third slower.
        if (kh1 - kh0 == KH) scatterRows(v, o, outRow, t, tapRow, KH, bytes);
        else scatterRows(v, o, outRow, t, tapRow, kh1 - kh0, bytes);
      }
    }
  }
}

// a[i*aRow + k] += v * b[i*bRow + k] for i < rows, k < bytes (a multiple of 16), by vectors.
function scatterRows(v: v128, a: usize, aRow: usize, b: usize, bRow: usize, rows: i32, bytes: usize): void {
  for (let i = 0; i < rows; i++, a += aRow, b += bRow) {
    let k: usize = 0;
    for (; k + 64 <= bytes; k += 64) {
      const pa = a + k, pb = b + k;
      const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
      v128.store(pa, madd(v, b0, v128.load(pa)));
      v128.store(pa, madd(v, b1, v128.load(pa, 16)), 16);
      v128.store(pa, madd(v, b2, v128.load(pa, 32)), 32);
      v128.store(pa, madd(v, b3, v128.load(pa, 48)), 48);
    }
    for (; k < bytes; k += 16) v128.store(a + k, madd(v, v128.load(b + k), v128.load(a + k)));
  }
}

/** y = conv(x, w) + b at stride 1, visiting only the non-zero x. */
export function sparseForward(geom: ConvGeometry, x: usize, w: usize, bias: usize, y: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom);
  const COp = roundUp(CO, 4), OHW = OH * OW;
  const wt = scratch;
  const yc = wt + align64(<usize>C * KH * KW * COp * 4);
  const columns = yc + align64(<usize>OHW * COp * 4);
  // Weights channels-last with the taps reversed (see scatterNonZeros), zeros past CO.
  const KK = KH * KW;
  for (let c = 0; c < C; c++)
    for (let k = 0; k < KK; k++)
      for (let o = 0; o < COp; o++)
        store<f32>(wt + ((<usize>((c * KK + KK - 1 - k) * COp + o)) << 2), o < CO ? load<f32>(w + ((<usize>((o * C + c) * KK + k)) << 2)) : 0);
  for (let n = 0; n < N; n++) {
    // Every position starts at the bias: the first by lanes, then copies doubling what is done.
    for (let o = 0; o < COp; o++) store<f32>(yc + (<usize>o << 2), bias != 0 && o < CO ? load<f32>(bias + (<usize>o << 2)) : 0);
    const total = (<usize>OHW * COp) << 2;
    for (let done = <usize>COp << 2; done < total; done <<= 1) memory.copy(yc + done, yc, min(done, total - done));
    scatterNonZeros(x + ((<usize>n * C * H * W) << 2), C, H, W, KH, KW, PH, PW, OH, OW, yc, wt, COp >> 2, columns);
    transpose(yc, COp, y + ((<usize>n * CO * OHW) << 2), OHW, OHW, CO);
  }
}

// The weight gradient gathers instead: for each non-zero input, the dy vectors its taps meet are read
// into accumulators that stay in registers across inputs, so an update costs a load and a multiply-add
// and no store. dy is copied channels-last [Hq, Wq, COg] into a zero frame wide enough that every tap of
// every input lands inside it (Hq = H + KH - 1, Wq = W + KW - 1), with COg channels padded to 4, 8 or 16
// so that one 64-byte segment holds 4 / (COg / 4) adjacent taps of a kernel row.

// Floats of one sample's framed dy plus a 64-byte guard before it (a row's last segment may start up to
// 3 taps before its first), the accumulators [C, KH, segments, 16], and one channel's input list.
export function sparseWeightGradBytes(geom: ConvGeometry): usize {
  const C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const Vg = gatherVectors(CO), G = 4 / Vg;
  return 64 + align64(<usize>(H + KH - 1) * (W + KW - 1) * Vg * 16) + align64(<usize>C * KH * ((KW + G - 1) / G) * 64) + align64(<usize>H * W * 8);
}

// @ts-ignore: decorator
@inline function gatherVectors(CO: i32): i32 {
  return CO <= 4 ? 1 : CO <= 8 ? 2 : 4;
}

/** dw = the weight gradient at stride 1 (overwritten), visiting only the non-zero x; the caller sums db. */
export function sparseWeightGrad(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom);
  const Vg = gatherVectors(CO), G = 4 / Vg, COg = Vg * 4, vb = <usize>Vg << 4;
  const Hq = H + KH - 1, Wq = W + KW - 1;
  const segs = (KW + G - 1) / G;
  const frame = scratch + 64;
  const acc = frame + align64(<usize>Hq * Wq * vb);
  const list = acc + align64(<usize>C * KH * segs * 64);
  memory.fill(scratch, 0, 64 + <usize>Hq * Wq * vb);
  memory.fill(acc, 0, <usize>C * KH * segs * 64);
  const pairs = (KH * segs + 1) >> 1;
  for (let n = 0; n < N; n++) {
    // dy[n, :, oh, :] into frame row oh + KH-1-PH, columns from KW-1-PW.
    for (let oh = 0; oh < OH; oh++)
      transpose(dy + ((<usize>(n * CO * OH + oh) * OW) << 2), OH * OW, frame + (<usize>((oh + KH - 1 - PH) * Wq + KW - 1 - PW)) * vb, COg, CO, OW);
    for (let c = 0; c < C; c++) {
      // (frame offset, value) of each non-zero x[n, c, ih, iw], listed without a branch per input.
      const plane = x + ((<usize>(n * C + c) * H * W) << 2);
      let count: usize = 0;
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = load<f32>(plane + ((<usize>(ih * W + iw)) << 2));
          store<u32>(list + (count << 3), <u32>(<usize>(ih * Wq + iw) * vb));
          store<f32>(list + (count << 3), v, 4);
          count += <usize>(v != 0);
        }
      if (count == 0) continue;
      // Segment (kh, j) holds taps kw = jG .. jG+G-1, the last one first in memory.
      for (let q = 0; q < pairs; q++) {
        const s0 = 2 * q, s1 = min(2 * q + 1, KH * segs - 1);
        const d0 = segOffset(s0, segs, G, KH, KW, Wq, vb), d1 = segOffset(s1, segs, G, KH, KW, Wq, vb);
        const a = acc + (<usize>(c * KH * segs + s0) << 6);
        // Two call sites keep gather2x4 out of line (see directCorrelate in conv-direct.ts).
        if (s1 > s0) gather2x4(list, count, frame + d0, frame + d1, a, a + 64);
        else gather2x4(list, count, frame + d0, frame + d1, a, a);
      }
    }
  }
  for (let c = 0; c < C; c++)
    for (let kh = 0; kh < KH; kh++)
      for (let j = 0; j < segs; j++)
        for (let k = 0; k < 16; k++) {
          const kw = j * G + G - 1 - (k >> 2) / Vg, o = ((k >> 2) % Vg) * 4 + (k & 3);
          if (kw < KW && o < CO)
            store<f32>(dw + ((<usize>(((o * C + c) * KH + kh) * KW + kw)) << 2), load<f32>(acc + ((<usize>((c * KH + kh) * segs + j) * 16 + <usize>k) << 2)));
        }
}

// Byte offset, from an input's frame position, of segment s = kh * segs + j: tap (kh, jG+G-1).
function segOffset(s: i32, segs: i32, G: i32, KH: i32, KW: i32, Wq: i32, vb: usize): usize {
  const kh = s / segs, j = s % segs;
  return <usize>((KH - 1 - kh) * Wq + KW - G - j * G) * vb;
}

/**
 * a0[0..4) += v * p0[e ..], a1[0..4) += v * p1[e ..] over the list's entries (offset e, value v), 4
 * vectors each (conv-sparse-gemm.ts's 32 channels are p1 = p0 + 64). a1 may be a0 (an odd segment
 * count), then only a0's sums are kept.
 */
export function gather2x4(list: usize, count: usize, p0: usize, p1: usize, a0: usize, a1: usize): void {
  let s0 = v128.load(a0), s1 = v128.load(a0, 16), s2 = v128.load(a0, 32), s3 = v128.load(a0, 48);
  let t0 = v128.load(a1), t1 = v128.load(a1, 16), t2 = v128.load(a1, 32), t3 = v128.load(a1, 48);
  const end = list + (count << 3);
  for (let e = list; e < end; e += 8) {
    const off = <usize>load<u32>(e);
    const v = v128.load32_splat(e, 4);
    const q0 = p0 + off, q1 = p1 + off;
    s0 = madd(v, v128.load(q0), s0);
    s1 = madd(v, v128.load(q0, 16), s1);
    s2 = madd(v, v128.load(q0, 32), s2);
    s3 = madd(v, v128.load(q0, 48), s3);
    t0 = madd(v, v128.load(q1), t0);
    t1 = madd(v, v128.load(q1, 16), t1);
    t2 = madd(v, v128.load(q1, 32), t2);
    t3 = madd(v, v128.load(q1, 48), t3);
  }
  v128.store(a1, t0);
  v128.store(a1, t1, 16);
  v128.store(a1, t2, 32);
  v128.store(a1, t3, 48);
  v128.store(a0, s0);
  v128.store(a0, s1, 16);
  v128.store(a0, s2, 32);
  v128.store(a0, s3, 48);
}
