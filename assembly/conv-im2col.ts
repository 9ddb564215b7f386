// im2col + GEMM: samples are lowered a chunk at a time to a matrix [C*KH*KW, chunk*OH*OW] so one
// GEMM covers the chunk. Building that matrix costs one write per (tap, position) against 2*CO
// flops each, so it pays only when the correlation has many output channels. Any stride and padding.
import { align64 } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { gemm, gemmScratchBytes, KC } from './gemm';

// The weight gradient sums over every column (sample x output position). It is summed in chunks of
// whole samples, SUM_CHUNK_BYTES of lowered matrix plus dy each, every chunk's sum added into dw in
// turn: the chunks set dw's rounding, and with it every training run's trajectory (the models the
// package ships and the figures in the README were trained with 4 MiB, and reproduce only with it).
// The lowered matrix is built a piece at a time, pieces of whole KC-long blocks of the GEMM's
// reduction counted from the chunk's first column, each added into dw: the GEMM sums those blocks in
// that same order within one call, so dw is the chunk's sum to the bit in an eighth of the scratch
// (with the spike counts of layers/conv2d.ts, TC-ResNet8 SNN's peak 12.7 -> 9.1 MB; 1 MiB pieces ran
// no faster). Forward and the input gradient sum over channels and taps, never across columns, so
// they take chunks of PIECE_BYTES directly.
const SUM_CHUNK_BYTES: usize = 4 << 20;
const PIECE_BYTES: usize = 512 << 10;

// Samples per chunk of at most capBytes of lowered matrix and channel-major output, at least one.
function chunkSamples(N: i32, ckk: i32, CO: i32, OHW: i32, capBytes: usize): i32 {
  const perSample = <usize>(ckk + CO) * <usize>OHW * 4;
  return <i32>max<usize>(1, min<usize>(<usize>N, capBytes / perSample));
}

// Scratch, for pieces of L columns: the lowered columns [ckk, L], then a channel-major [CO, L] (the
// GEMM's output, or dy regrouped), then the GEMM's own scratch.
// @ts-ignore: decorator
@inline function channelMajorAt(scratch: usize, ckk: i32, L: i32): usize {
  return scratch + align64(<usize>ckk * L * 4);
}

// @ts-ignore: decorator
@inline function gemmScratchAt(scratch: usize, ckk: i32, CO: i32, L: i32): usize {
  return channelMajorAt(scratch, ckk, L) + align64(<usize>CO * L * 4);
}

// All the scratch for pieces of L columns (any of the three GEMMs: forward, input and weight gradient).
function piecesBytes(ckk: i32, CO: i32, L: i32): usize {
  return gemmScratchAt(0, ckk, CO, L) + gemmScratchBytes(max(CO, ckk), max(L, ckk), max(max(ckk, CO), L));
}

// Columns per piece of a weight-gradient chunk of Lc columns: the whole chunk when it fits in
// capBytes, else as many KC-blocks as fit (at least one).
function pieceColumns(ckk: i32, CO: i32, Lc: i32, capBytes: usize): i32 {
  if (piecesBytes(ckk, CO, Lc) <= capBytes) return Lc;
  let blocks = max(1, <i32>(capBytes / (<usize>(ckk + CO) * KC * 4)));
  while (blocks > 1 && piecesBytes(ckk, CO, blocks * KC) > capBytes) blocks--;
  return min(Lc, blocks * KC);
}

function weightChunkColumns(geom: ConvGeometry): i32 {
  const OHW = outHeight(geom) * outWidth(geom);
  return chunkSamples(geom.N, geom.C * geom.KH * geom.KW, geom.CO, OHW, SUM_CHUNK_BYTES) * OHW;
}

// A 1x1 convolution at stride 1 without padding (BC-ResNet's pointwise layers) reads x as it lies:
// each sample's [C, H·W] is already the lowered matrix, so its GEMMs run on x, y and dy in place, a
// sample at a time, with no copy in or out. (No shipped model has such a layer: TC-ResNet8's 1x1
// shortcuts are strided, so their rounding, and the weight gradient's chunks, are untouched.)
// @ts-ignore: decorator
@inline export function pointwise(geom: ConvGeometry): bool {
  return geom.KH == 1 && geom.KW == 1 && geom.SH == 1 && geom.SW == 1 && geom.PH == 0 && geom.PW == 0;
}

export function im2colBytes(geom: ConvGeometry): usize {
  const CO = geom.CO, ckk = geom.C * geom.KH * geom.KW;
  const OHW = outHeight(geom) * outWidth(geom);
  const forward = piecesBytes(ckk, CO, chunkSamples(geom.N, ckk, CO, OHW, PIECE_BYTES) * OHW);
  const weight = piecesBytes(ckk, CO, pieceColumns(ckk, CO, weightChunkColumns(geom), PIECE_BYTES));
  const inPlace = pointwise(geom) ? gemmScratchBytes(max(CO, ckk), max(OHW, ckk), max(max(CO, ckk), OHW)) : 0;
  return max(max(forward, weight), inPlace);
}

// Lowers columns [j0, j1) of x, a column being j = (n*OH + oh)*OW + ow:
// cols[(c*KH+kh)*KW+kw, j - j0] = x[n, c, oh*SH+kh-PH, ow*SW+kw-PW], zero outside x.
// With add, the transpose runs instead: dx[...] += cols[...] (col2im), dx already zeroed.
function lower(
  x: usize, cols: usize, j0: i32, j1: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32, add: bool,
): void {
  const L = <usize>(j1 - j0);
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        // Output columns whose input column iw = ow*SW + kw - PW falls inside [0, W).
        const owLo = PW - kw <= 0 ? 0 : min(OW, (PW - kw + SW - 1) / SW);
        const owHi = W - 1 + PW - kw < 0 ? 0 : min(OW, (W - 1 + PW - kw) / SW + 1);
        const row = cols + ((<usize>((c * KH + kh) * KW + kw) * L) << 2);
        // Output rows r = n*OH + oh that the range touches, and the part [a, b) of each it covers.
        for (let r = j0 / OW; r * OW < j1; r++) {
          const n = r / OH, oh = r - n * OH;
          const a = max(0, j0 - r * OW), b = min(OW, j1 - r * OW);
          const at = r * OW - j0; // column of ow in cols is at + ow, for ow in [a, b)
          const ih = oh * SH + kh - PH;
          const lo = min(b, max(a, owLo)), hi = max(lo, min(b, owHi));
          if (ih < 0 || ih >= H || hi <= lo) {
            if (!add) zeroRun(row + (<usize>(at + a) << 2), b - a);
            continue;
          }
          const src = x + ((<usize>(((n * C + c) * H + ih) * W + kw - PW)) << 2);
          const from = src + (<usize>(lo * SW) << 2), to = row + (<usize>(at + lo) << 2);
          if (add) {
            if (SW == 1) addTo(from, to, hi - lo);
            else if (SW == 2) addToStride2(from, to, hi - lo);
            else for (let ow = lo; ow < hi; ow++) {
              const s = src + (<usize>(ow * SW) << 2);
              store<f32>(s, load<f32>(s) + load<f32>(row + (<usize>(at + ow) << 2)));
            }
          } else {
            zeroRun(row + (<usize>(at + a) << 2), lo - a);
            if (SW == 1) copyRun(to, from, hi - lo);
            else if (SW == 2) gatherStride2(to, from, hi - lo);
            else for (let ow = lo; ow < hi; ow++) store<f32>(row + (<usize>(at + ow) << 2), load<f32>(src + (<usize>(ow * SW) << 2)));
            zeroRun(row + (<usize>(at + hi) << 2), b - hi);
          }
        }
      }
    }
  }
}

// The runs lower() and regroup() move are one row of one sample (17-134 values in TC-ResNet8), where
// memory.copy and memory.fill, calls into the host, cost more than the move itself; these loops make
// the same stores.

// dst[i] = src[i], i < n.
// @ts-ignore: decorator
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// dst[i] = 0, i < n.
// @ts-ignore: decorator
@inline function zeroRun(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// dst[i] = src[2i], i < n: the even lanes of two loads. A vector reads src[2i .. 2i+7], so it runs only
// while that stays within the n values' span (2i+7 <= 2n-2): never past the end of the input.
function gatherStride2(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 5 <= n; i += 4) {
    const s = src + (<usize>i << 3);
    v128.store(dst + (<usize>i << 2), v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 3)));
}

// dst[2i] += src[i], i < n, the odd values of dst kept as they were (selected, not added to, so
// every value is the scalar loop's to the bit). Reads and writes dst[2i .. 2i+7] within the span, as above.
function addToStride2(dst: usize, src: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const even = i32x4(-1, 0, -1, 0);
  let i = 0;
  for (; i + 5 <= n; i += 4) {
    const d = dst + (<usize>i << 3);
    const v = v128.load(src + (<usize>i << 2));
    const d0 = v128.load(d), d1 = v128.load(d, 16);
    v128.store(d, v128.bitselect(f32x4.add(d0, v128.shuffle<f32>(v, zero, 0, 4, 1, 4)), d0, even));
    v128.store(d, v128.bitselect(f32x4.add(d1, v128.shuffle<f32>(v, zero, 2, 4, 3, 4)), d1, even), 16);
  }
  for (; i < n; i++) {
    const d = dst + (<usize>i << 3);
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>i << 2)));
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

// Moves columns [j0, j1) (j = n*OHW + position) between sample-major [N, CO, OHW] (at y) and
// channel-major [CO, j1 - j0] (at t). toChannelMajor copies y -> t; otherwise t -> y adding bias[co]
// (when bias != 0).
function regroup(y: usize, t: usize, j0: i32, j1: i32, CO: i32, OHW: i32, toChannelMajor: bool, bias: usize): void {
  const L = j1 - j0;
  for (let n = j0 / OHW; n * OHW < j1; n++) {
    const a = max(0, j0 - n * OHW), b = min(OHW, j1 - n * OHW);
    for (let co = 0; co < CO; co++) {
      const ys = y + ((<usize>((n * CO + co) * OHW + a)) << 2);
      const ts = t + ((<usize>(co * L + n * OHW + a - j0)) << 2);
      if (toChannelMajor) copyRun(ts, ys, b - a);
      else if (bias == 0) copyRun(ys, ts, b - a);
      else addBias(ys, ts, load<f32>(bias + (<usize>co << 2)), b - a);
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
  if (pointwise(geom)) {
    for (let n = 0; n < N; n++) {
      const yn = y + (<usize>n * CO * OHW << 2);
      gemm(0, 0, CO, OHW, C, w, C, x + (<usize>n * C * OHW << 2), OHW, yn, OHW, 0, scratch, scratchBytes);
      if (b != 0) for (let co = 0; co < CO; co++) addBias(yn + (<usize>co * OHW << 2), yn + (<usize>co * OHW << 2), load<f32>(b + (<usize>co << 2)), OHW);
    }
    return;
  }
  const Lmax = chunkSamples(N, ckk, CO, OHW, PIECE_BYTES) * OHW;
  const cols = scratch;
  const out = channelMajorAt(scratch, ckk, Lmax);
  const gs = gemmScratchAt(scratch, ckk, CO, Lmax);
  const gsBytes = scratchBytes - (gs - scratch);
  for (let j0 = 0; j0 < N * OHW; j0 += Lmax) {
    const j1 = min(N * OHW, j0 + Lmax), L = j1 - j0;
    lower(x, cols, j0, j1, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, false);
    gemm(0, 0, CO, L, ckk, w, ckk, cols, L, out, L, 0, gs, gsBytes);
    regroup(y, out, j0, j1, CO, OHW, false, b);
  }
}

/** dx = the gradient of sum(dy * conv(x, w)) with respect to x (overwritten). */
export function im2colBackwardInput(geom: ConvGeometry, w: usize, dy: usize, dx: usize, scratch: usize, scratchBytes: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const ckk = C * KH * KW;
  if (pointwise(geom)) {
    for (let n = 0; n < N; n++)
      gemm(1, 0, C, OHW, CO, w, C, dy + (<usize>n * CO * OHW << 2), OHW, dx + (<usize>n * C * OHW << 2), OHW, 0, scratch, scratchBytes);
    return;
  }
  const Lmax = chunkSamples(N, ckk, CO, OHW, PIECE_BYTES) * OHW;
  const cols = scratch;
  const dyT = channelMajorAt(scratch, ckk, Lmax);
  const gs = gemmScratchAt(scratch, ckk, CO, Lmax);
  const gsBytes = scratchBytes - (gs - scratch);
  memory.fill(dx, 0, (<usize>N * C * H * W) << 2);
  for (let j0 = 0; j0 < N * OHW; j0 += Lmax) {
    const j1 = min(N * OHW, j0 + Lmax), L = j1 - j0;
    regroup(dy, dyT, j0, j1, CO, OHW, true, 0);
    gemm(1, 0, ckk, L, CO, w, ckk, dyT, L, cols, L, 0, gs, gsBytes);
    lower(dx, cols, j0, j1, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, true);
  }
}

/** dw = the gradient of sum(dy * conv(x, w)) with respect to w (overwritten); the caller sums db.
 *  The pieces are as large as scratchBytes allows (at least im2colBytes): dw is the same to the bit
 *  for any size. */
export function im2colBackwardWeight(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize, scratchBytes: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const ckk = C * KH * KW;
  if (pointwise(geom)) {
    for (let n = 0; n < N; n++)
      gemm(0, 1, CO, C, OHW, dy + (<usize>n * CO * OHW << 2), OHW, x + (<usize>n * C * OHW << 2), OHW, dw, C, n > 0 ? 1 : 0, scratch, scratchBytes);
    return;
  }
  const Lc = weightChunkColumns(geom);
  const P = pieceColumns(ckk, CO, Lc, scratchBytes);
  const cols = scratch;
  const dyT = channelMajorAt(scratch, ckk, P);
  const gs = gemmScratchAt(scratch, ckk, CO, P);
  const gsBytes = scratchBytes - (gs - scratch);
  for (let c0 = 0; c0 < N * OHW; c0 += Lc) {
    const c1 = min(N * OHW, c0 + Lc);
    for (let j0 = c0; j0 < c1; j0 += P) {
      const j1 = min(c1, j0 + P), L = j1 - j0;
      lower(x, cols, j0, j1, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, false);
      regroup(dy, dyT, j0, j1, CO, OHW, true, 0);
      gemm(0, 1, CO, ckk, L, dyT, L, cols, L, dw, ckk, j0 > 0 ? 1 : 0, gs, gsBytes);
    }
  }
}
