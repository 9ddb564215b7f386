// im2col + GEMM: samples are lowered a chunk at a time to a matrix [C*KH*KW, chunk*OH*OW] so one
// GEMM covers the chunk. Building that matrix costs one write per (tap, position) against 2*CO
// flops each, so it pays only when the correlation has many output channels. Any stride and padding.
import { align64 } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { gemm, gemmScratchBytes } from './gemm';

// Soft cap on the im2col matrix plus the GEMM's output, per chunk of samples. The weight gradient
// is summed chunk by chunk, so the cap sets its rounding and with it every training run's trajectory:
// 1 MiB ran as fast and took a quarter of the scratch (TC-ResNet8 SNN's peak 12.7 -> 9.7 MB), but
// retrained npm start's SNN to 94.8% where 4 MiB gives 97.8% (rounding, not a fault: the models the
// package ships and the figures in the README were trained with 4 MiB, and reproduce only with it).
const CHUNK_BYTES: usize = 4 << 20;

// Samples per chunk: as many as fit CHUNK_BYTES, at least one.
function chunkSamples(N: i32, C: i32, CO: i32, KH: i32, KW: i32, OHW: i32): i32 {
  const perSample = <usize>(C * KH * KW + CO) * <usize>OHW * 4;
  return <i32>max<usize>(1, min<usize>(<usize>N, CHUNK_BYTES / perSample));
}

// Scratch, for chunks of L = samples * OHW columns: the lowered columns [ckk, L], then a channel-major
// [CO, L] (the GEMM's output, or dy regrouped), then the GEMM's own scratch.
// @ts-ignore: decorator
@inline function channelMajorAt(scratch: usize, ckk: i32, L: i32): usize {
  return scratch + align64(<usize>ckk * L * 4);
}

// @ts-ignore: decorator
@inline function gemmScratchAt(scratch: usize, ckk: i32, CO: i32, L: i32): usize {
  return channelMajorAt(scratch, ckk, L) + align64(<usize>CO * L * 4);
}

export function im2colBytes(geom: ConvGeometry): usize {
  const C = geom.C, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const OHW = outHeight(geom) * outWidth(geom);
  const ckk = C * KH * KW;
  const L = chunkSamples(geom.N, C, CO, KH, KW, OHW) * OHW;
  return gemmScratchAt(0, ckk, CO, L) + gemmScratchBytes(max(CO, ckk), max(L, ckk), max(max(ckk, CO), L));
}

// cols[(c*KH+kh)*KW+kw, nn*OHW + oh*OW + ow] = x[n0+nn, c, oh*SH+kh-PH, ow*SW+kw-PW], zero outside x.
// With add, the transpose runs instead: dx[...] += cols[...] (col2im), dx already zeroed.
function lower(
  x: usize, cols: usize, n0: i32, nb: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32, add: bool,
): void {
  const OHW = OH * OW;
  const L = <usize>(nb * OHW);
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        // Output columns whose input column iw = ow*SW + kw - PW falls inside [0, W).
        const owLo = PW - kw <= 0 ? 0 : min(OW, (PW - kw + SW - 1) / SW);
        const owHi = W - 1 + PW - kw < 0 ? 0 : min(OW, (W - 1 + PW - kw) / SW + 1);
        const row = cols + ((<usize>((c * KH + kh) * KW + kw) * L) << 2);
        for (let nn = 0; nn < nb; nn++) {
          const plane = x + ((<usize>((n0 + nn) * C + c) * H * W) << 2);
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH + kh - PH;
            const dst = row + ((<usize>(nn * OHW + oh * OW)) << 2);
            if (ih < 0 || ih >= H) {
              if (!add) memory.fill(dst, 0, <usize>OW << 2);
              continue;
            }
            const src = plane + ((<usize>(ih * W + kw - PW)) << 2);
            if (owHi <= owLo) {
              if (!add) memory.fill(dst, 0, <usize>OW << 2);
              continue;
            }
            if (add) {
              if (SW == 1) addTo(src + (<usize>owLo << 2), dst + (<usize>owLo << 2), owHi - owLo);
              else for (let ow = owLo; ow < owHi; ow++) {
                const s = src + (<usize>(ow * SW) << 2);
                store<f32>(s, load<f32>(s) + load<f32>(dst + (<usize>ow << 2)));
              }
            } else {
              memory.fill(dst, 0, <usize>owLo << 2);
              if (SW == 1) memory.copy(dst + (<usize>owLo << 2), src + (<usize>owLo << 2), <usize>(owHi - owLo) << 2);
              else for (let ow = owLo; ow < owHi; ow++) store<f32>(dst + (<usize>ow << 2), load<f32>(src + (<usize>(ow * SW) << 2)));
              memory.fill(dst + (<usize>owHi << 2), 0, <usize>(OW - owHi) << 2);
            }
          }
        }
      }
    }
  }
}

// dst[i] += src[i], i < n.
function addTo(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// Moves a chunk between sample-major [nb, CO, OHW] (at y, sample n0) and channel-major [CO, nb*OHW]
// (at t). toChannelMajor copies y -> t; otherwise t -> y adding bias[co] (when bias != 0).
function regroup(y: usize, t: usize, n0: i32, nb: i32, CO: i32, OHW: i32, toChannelMajor: bool, bias: usize): void {
  const run = <usize>OHW << 2;
  for (let nn = 0; nn < nb; nn++) {
    for (let co = 0; co < CO; co++) {
      const ys = y + ((<usize>((n0 + nn) * CO + co) * OHW) << 2);
      const ts = t + ((<usize>(co * nb + nn) * OHW) << 2);
      if (toChannelMajor) memory.copy(ts, ys, run);
      else if (bias == 0) memory.copy(ys, ts, run);
      else addBias(ys, ts, load<f32>(bias + (<usize>co << 2)), OHW);
    }
  }
}

function addBias(dst: usize, src: usize, b: f32, n: i32): void {
  const bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(src + o), bv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) + b);
  }
}

/** y = conv(x, w) + b; b may be 0 (no bias). */
export function im2colForward(geom: ConvGeometry, x: usize, w: usize, b: usize, y: usize, scratch: usize, scratchBytes: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const out = channelMajorAt(scratch, ckk, nbMax * OHW);
  const gs = gemmScratchAt(scratch, ckk, CO, nbMax * OHW);
  const gsBytes = scratchBytes - (gs - scratch);
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    const L = nb * OHW;
    lower(x, cols, n0, nb, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, false);
    gemm(0, 0, CO, L, ckk, w, ckk, cols, L, out, L, 0, gs, gsBytes);
    regroup(y, out, n0, nb, CO, OHW, false, b);
  }
}

/** dx = the gradient of sum(dy * conv(x, w)) with respect to x (overwritten). */
export function im2colBackwardInput(geom: ConvGeometry, w: usize, dy: usize, dx: usize, scratch: usize, scratchBytes: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const dyT = channelMajorAt(scratch, ckk, nbMax * OHW);
  const gs = gemmScratchAt(scratch, ckk, CO, nbMax * OHW);
  const gsBytes = scratchBytes - (gs - scratch);
  memory.fill(dx, 0, (<usize>N * C * H * W) << 2);
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    const L = nb * OHW;
    regroup(dy, dyT, n0, nb, CO, OHW, true, 0);
    gemm(1, 0, ckk, L, CO, w, ckk, dyT, L, cols, L, 0, gs, gsBytes);
    lower(dx, cols, n0, nb, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, true);
  }
}

/** dw = the gradient of sum(dy * conv(x, w)) with respect to w (overwritten); the caller sums db. */
export function im2colBackwardWeight(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize, scratchBytes: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const dyT = channelMajorAt(scratch, ckk, nbMax * OHW);
  const gs = gemmScratchAt(scratch, ckk, CO, nbMax * OHW);
  const gsBytes = scratchBytes - (gs - scratch);
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    const L = nb * OHW;
    lower(x, cols, n0, nb, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, false);
    regroup(dy, dyT, n0, nb, CO, OHW, true, 0);
    gemm(0, 1, CO, ckk, L, dyT, L, cols, L, dw, ckk, n0 > 0 ? 1 : 0, gs, gsBytes);
  }
}
