// 2-D convolution (cross-correlation, as PyTorch) over [N, C, H, W] with weights [CO, C, KH, KW];
// conv1d is this with H = KH = 1. Three algorithms, chosen per call:
// - im2col + GEMM: samples are lowered a chunk at a time to a matrix [C*KH*KW, chunk*OH*OW] so one
//   GEMM covers the chunk. Building that matrix costs one write per (tap, position) against 2*CO
//   flops each, so it pays only when the correlation has many output channels.
// - direct: for few output channels at stride 1, register-blocked loops over a zero-padded copy of
//   each sample. The input gradient at stride 1 is itself a direct correlation of dy with the
//   flipped, channel-transposed weights, so one kernel serves forward and dx.
// - sparse: in the same geometry, when most inputs are zero (spikes), forward and dw visit only the
//   non-zero inputs (see the end of this file).
import { gemm, gemmScratchBytes } from './gemm';
import { hsum, madd } from './simd';

// Soft cap on the im2col matrix plus the GEMM's output, per chunk of samples.
const CHUNK_BYTES: usize = 4 << 20;
// Correlations with at most this many output channels run direct (when the geometry allows).
const DIRECT_MAX_CHANNELS = 16;

// @ts-ignore: decorator
@inline function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

// The direct kernels handle stride 1 with padding below the kernel size (so dx's padding KH-1-PH >= 0).
function directFits(outChannels: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): bool {
  return outChannels <= DIRECT_MAX_CHANNELS && SH == 1 && SW == 1 && PH < KH && PW < KW;
}

// dx as a direct correlation sweeps the kernel over dy padded to the size of x; when dy is much
// smaller than x (a kernel nearly as large as the input), most of those taps would multiply padding.
function directInputGrad(C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): bool {
  return directFits(C, KH, KW, SH, SW, PH, PW) && 2 * outSize(H, KH, SH, PH) * outSize(W, KW, SW, PW) >= H * W;
}

// @ts-ignore: decorator
@inline function align64(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}

function outSize(size: i32, k: i32, stride: i32, pad: i32): i32 {
  return (size + 2 * pad - k) / stride + 1;
}

function checkGeometry(name: string, N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): void {
  assert(N > 0 && C > 0 && H > 0 && W > 0 && CO > 0 && KH > 0 && KW > 0, name + ': sizes must be positive');
  assert(SH > 0 && SW > 0 && PH >= 0 && PW >= 0, name + ': strides must be positive and paddings non-negative');
  assert(H + 2 * PH >= KH && W + 2 * PW >= KW, name + ': kernel is larger than the padded input');
}

// Samples per chunk: as many as fit CHUNK_BYTES, at least one.
function chunkSamples(N: i32, C: i32, CO: i32, KH: i32, KW: i32, OHW: i32): i32 {
  const perSample = <usize>(C * KH * KW + CO) * <usize>OHW * 4;
  return <i32>max<usize>(1, min<usize>(<usize>N, CHUNK_BYTES / perSample));
}

/** Scratch bytes the conv2d kernels (forward and both backwards) need for this geometry. */
export function conv2dScratchBytes(N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): usize {
  const OH = outSize(H, KH, SH, PH), OW = outSize(W, KW, SW, PW), OHW = OH * OW;
  const directOut = directFits(CO, KH, KW, SH, SW, PH, PW);
  const directIn = directInputGrad(C, H, W, KH, KW, SH, SW, PH, PW);
  let bytes: usize = 0;
  if (directOut) bytes = max(max(directBytes(C, H, W, CO, KH, KW, PH, PW), weightGradBytes(C, H, W, CO, KH, KW, PH, PW, OH, OW)), max(sparseBytes(C, W, CO, KH, KW, OHW), gatherBytes(C, H, W, CO, KH, KW)));
  if (directIn) bytes = max(bytes, directBytes(CO, OH, OW, C, KH, KW, KH - 1 - PH, KW - 1 - PW));
  if (!directOut || !directIn) {
    const ckk = C * KH * KW;
    const L = chunkSamples(N, C, CO, KH, KW, OHW) * OHW;
    const gemmBytes = gemmScratchBytes(max(CO, ckk), max(L, ckk), max(max(ckk, CO), L));
    bytes = max(bytes, align64(<usize>ckk * L * 4) + align64(<usize>CO * L * 4) + gemmBytes);
  }
  return bytes;
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

/** y = conv(x, w) + b; b may be 0 (no bias). Scratch: conv2dScratchBytes of the same geometry. */
export function conv2dForward(
  x: usize, w: usize, b: usize, y: usize,
  N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  scratch: usize, scratchBytes: usize,
): void {
  checkGeometry('conv2dForward', N, C, H, W, CO, KH, KW, SH, SW, PH, PW);
  assert(scratchBytes >= conv2dScratchBytes(N, C, H, W, CO, KH, KW, SH, SW, PH, PW), 'conv2dForward: scratch too small');
  const OH = outSize(H, KH, SH, PH), OW = outSize(W, KW, SW, PW), OHW = OH * OW;
  if (directFits(CO, KH, KW, SH, SW, PH, PW)) {
    const perNonZero = SCATTER_INPUT_COST + SCATTER_UPDATE_COST * <f64>(roundUp(CO, 4) >> 2) * KH * KW;
    if (sparse(x, N * C * H * W, perNonZero, CO, KH * KW)) sparseForward(x, w, b, y, N, C, H, W, CO, KH, KW, PH, PW, OH, OW, scratch);
    else directCorrelate(x, w, false, b, y, N, C, H, W, CO, KH, KW, PH, PW, scratch);
    return;
  }
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const out = cols + align64(<usize>ckk * nbMax * OHW * 4);
  const gs = out + align64(<usize>CO * nbMax * OHW * 4);
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
export function conv2dBackwardInput(
  w: usize, dy: usize, dx: usize,
  N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  scratch: usize, scratchBytes: usize,
): void {
  checkGeometry('conv2dBackwardInput', N, C, H, W, CO, KH, KW, SH, SW, PH, PW);
  assert(scratchBytes >= conv2dScratchBytes(N, C, H, W, CO, KH, KW, SH, SW, PH, PW), 'conv2dBackwardInput: scratch too small');
  const OH = outSize(H, KH, SH, PH), OW = outSize(W, KW, SW, PW), OHW = OH * OW;
  if (directInputGrad(C, H, W, KH, KW, SH, SW, PH, PW)) {
    directCorrelate(dy, w, true, 0, dx, N, CO, OH, OW, C, KH, KW, KH - 1 - PH, KW - 1 - PW, scratch);
    return;
  }
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const dyT = cols + align64(<usize>ckk * nbMax * OHW * 4);
  const gs = dyT + align64(<usize>CO * nbMax * OHW * 4);
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

/** dw (and db unless 0) = the gradients of sum(dy * (conv(x, w) + b)) (overwritten). */
export function conv2dBackwardWeight(
  x: usize, dy: usize, dw: usize, db: usize,
  N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  scratch: usize, scratchBytes: usize,
): void {
  checkGeometry('conv2dBackwardWeight', N, C, H, W, CO, KH, KW, SH, SW, PH, PW);
  assert(scratchBytes >= conv2dScratchBytes(N, C, H, W, CO, KH, KW, SH, SW, PH, PW), 'conv2dBackwardWeight: scratch too small');
  const OH = outSize(H, KH, SH, PH), OW = outSize(W, KW, SW, PW), OHW = OH * OW;
  if (directFits(CO, KH, KW, SH, SW, PH, PW)) {
    const G = 4 / gatherVectors(CO);
    const perNonZero = GATHER_INPUT_COST + GATHER_SEGMENT_COST * <f64>(KH * ((KW + G - 1) / G));
    if (sparse(x, N * C * H * W, perNonZero, CO, KH * KW)) {
      if (db != 0) biasGradient(dy, db, N, CO, OHW);
      sparseWeightGrad(x, dy, dw, N, C, H, W, CO, KH, KW, PH, PW, OH, OW, scratch);
    } else directWeightGrad(x, dy, dw, db, N, C, H, W, CO, KH, KW, PH, PW, OH, OW, scratch);
    return;
  }
  if (db != 0) biasGradient(dy, db, N, CO, OHW);
  const ckk = C * KH * KW;
  const nbMax = chunkSamples(N, C, CO, KH, KW, OHW);
  const cols = scratch;
  const dyT = cols + align64(<usize>ckk * nbMax * OHW * 4);
  const gs = dyT + align64(<usize>CO * nbMax * OHW * 4);
  const gsBytes = scratchBytes - (gs - scratch);
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    const L = nb * OHW;
    lower(x, cols, n0, nb, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, false);
    regroup(dy, dyT, n0, nb, CO, OHW, true, 0);
    gemm(0, 1, CO, ckk, L, dyT, L, cols, L, dw, ckk, n0 > 0 ? 1 : 0, gs, gsBytes);
  }
}

// db[co] = sum over n and positions of dy[n, co, :].
function biasGradient(dy: usize, db: usize, N: i32, CO: i32, len: i32): void {
  for (let co = 0; co < CO; co++) {
    let acc = f32x4.splat(0);
    let tail: f32 = 0;
    for (let n = 0; n < N; n++) {
      const p = dy + ((<usize>(n * CO + co) * len) << 2);
      let i = 0;
      for (; i + 4 <= len; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
      for (; i < len; i++) tail += load<f32>(p + (<usize>i << 2));
    }
    store<f32>(db + (<usize>co << 2), hsum(acc) + tail);
  }
}

// ---- Direct kernels -------------------------------------------------------------------------

// Copies plane-major src [planes, H, W] into dst [planes, Hp, Wp] at row PH, column PW. The rest of
// dst is left alone: callers zero it once, and every sample then writes the same interior.
function padPlanes(src: usize, dst: usize, planes: i32, H: i32, W: i32, Hp: i32, Wp: i32, PH: i32, PW: i32): void {
  for (let p = 0; p < planes; p++)
    for (let h = 0; h < H; h++)
      memory.copy(dst + ((<usize>((p * Hp + h + PH) * Wp + PW)) << 2), src + ((<usize>((p * H + h) * W)) << 2), <usize>W << 2);
}

// Register blocks: 4 output channels x 8 positions when there are at least 4 channels, else one
// channel x 2 output rows x 16 positions. V8 schedules a loop body's loads ahead of its FMAs, so
// accumulators + loaded vectors + broadcasts must fit 15 xmm registers: 8 + 2 + 4, and 8 + 4 + 2.
// (One channel x 32 positions needs 8 + 8 + 1, spills an accumulator and runs at a third of the speed.)
// @ts-ignore: decorator
@inline function blockChannels(O: i32): i32 {
  return O >= 4 ? 4 : 1;
}

// @ts-ignore: decorator
@inline function blockWidth(G: i32): i32 {
  return G == 4 ? 8 : 16;
}

// Packed weight floats: [group][i][kh][kw][4] for 4-channel blocks; [o][i][KH+1 rows][kw][2] for
// one-channel blocks (see direct1x2x16).
function packedWeights(O: i32, I: i32, KH: i32, KW: i32): usize {
  return blockChannels(O) == 4 ? <usize>roundUp(O, 4) * I * KH * KW : <usize>O * I * (KH + 1) * KW * 2;
}

function directBytes(I: i32, H: i32, W: i32, O: i32, KH: i32, KW: i32, PH: i32, PW: i32): usize {
  const G = blockChannels(O);
  const OW = W + 2 * PW - KW + 1;
  const Wp = roundUp(OW, blockWidth(G)) + KW - 1;
  return align64(packedWeights(O, I, KH, KW) * 4) + align64(<usize>roundUp(O, 4) * 4) + 32 * 4 + align64(<usize>I * (H + 2 * PH + 1) * Wp * 4)
    + align64(<usize>I * (KH + 1) * KW * 4);
}

// K[o, i, kh, kw] (see directCorrelate), zero outside the kernel.
function weightAt(w: usize, flip: bool, o: i32, i: i32, kh: i32, kw: i32, O: i32, I: i32, KH: i32, KW: i32): f32 {
  if (o >= O || kh < 0 || kh >= KH) return 0;
  const at = flip ? ((i * O + o) * KH + KH - 1 - kh) * KW + KW - 1 - kw : ((o * I + i) * KH + kh) * KW + kw;
  return load<f32>(w + (<usize>at << 2));
}

/**
 * dst[n, o, oh, ow] = bias[o] + sum over i, kh, kw of src[n, i, oh+kh-PH, ow+kw-PW] * K[o, i, kh, kw], stride 1,
 * where K is w [O, I, KH, KW], or with flip, K[o, i, kh, kw] = w[i, o, KH-1-kh, KW-1-kw] for w [I, O, KH, KW].
 */
function directCorrelate(
  src: usize, w: usize, flip: bool, bias: usize, dst: usize,
  N: i32, I: i32, H: i32, W: i32, O: i32, KH: i32, KW: i32, PH: i32, PW: i32, scratch: usize,
): void {
  const G = blockChannels(O), VW = blockWidth(G);
  const RB = G == 4 ? 1 : 2;
  const groups = (O + G - 1) / G;
  const OH = H + 2 * PH - KH + 1, OW = W + 2 * PW - KW + 1;
  // One spare zero row lets a two-row block run past an odd OH.
  const Hp = H + 2 * PH + 1, Wp = roundUp(OW, VW) + KW - 1;
  const wp = scratch;
  const bp = wp + align64(packedWeights(O, I, KH, KW) * 4);
  const tile = bp + align64(<usize>roundUp(O, 4) * 4);
  const xp = tile + 32 * 4;
  const offs = xp + align64(<usize>I * Hp * Wp * 4);
  for (let o = 0; o < groups * G; o++)
    store<f32>(bp + (<usize>o << 2), o < O && bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0);
  let q = wp;
  for (let g = 0; g < groups; g++)
    for (let i = 0; i < I; i++) {
      if (G == 4) {
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++)
            for (let r = 0; r < 4; r++, q += 4) store<f32>(q, weightAt(w, flip, g * 4 + r, i, kh, kw, O, I, KH, KW));
      } else {
        // Input row j feeds output row oh through tap j and row oh+1 through tap j-1.
        for (let j = 0; j <= KH; j++)
          for (let kw = 0; kw < KW; kw++, q += 8) {
            store<f32>(q, weightAt(w, flip, g, i, j, kw, O, I, KH, KW));
            store<f32>(q, weightAt(w, flip, g, i, j - 1, kw, O, I, KH, KW), 4);
          }
      }
    }
  const wgBytes = (packedWeights(O, I, KH, KW) / groups) << 2;
  // Byte offsets into the padded input of every tap the kernel visits, in packed-weight order: one
  // flat loop replaces three short nested ones.
  const rowsPerTap = G == 4 ? KH : KH + 1;
  const taps = I * rowsPerTap * KW;
  let t = offs;
  for (let i = 0; i < I; i++)
    for (let j = 0; j < rowsPerTap; j++)
      for (let kw = 0; kw < KW; kw++, t += 4) store<u32>(t, <u32>(((i * Hp + j) * Wp + kw) << 2));
  const plane = <usize>OH * OW * 4;
  // A block's rows are output channels (4-channel blocks) or output rows (one-channel blocks).
  const rowStride = G == 4 ? plane : <usize>OW * 4;
  memory.fill(xp, 0, (<usize>I * Hp * Wp) << 2);
  for (let n = 0; n < N; n++) {
    padPlanes(src + ((<usize>n * I * H * W) << 2), xp, I, H, W, Hp, Wp, PH, PW);
    for (let oh = 0; oh < OH; oh += RB) {
      for (let g = 0; g < groups; g++) {
        const wg = wp + <usize>g * wgBytes;
        const bg = bp + ((<usize>(g * G)) << 2);
        const rows = G == 4 ? min(4, O - g * 4) : min(2, OH - oh);
        const yrow = dst + ((<usize>(((n * O + g * G) * OH + oh) * OW)) << 2);
        const xrow = xp + ((<usize>(oh * Wp)) << 2);
        // Each micro-kernel has two call sites (full blocks of a row, ragged edges through the tile):
        // Binaryen then keeps it a function of its own, which V8 register-allocates without spills.
        let ow = 0;
        if (rows == 4 / RB && OW >= VW) {
          const blocks = OW / VW;
          if (G == 4) direct4x8(xrow, offs, taps, wg, bg, yrow, rowStride, blocks);
          else direct1x2x16(xrow, offs, taps, wg, bg, yrow, rowStride, blocks);
          ow = blocks * VW;
        }
        for (; ow < OW; ow += VW) {
          const cols = min(VW, OW - ow);
          const x0 = xrow + (<usize>ow << 2);
          if (G == 4) direct4x8(x0, offs, taps, wg, bg, tile, <usize>VW * 4, 1);
          else direct1x2x16(x0, offs, taps, wg, bg, tile, <usize>VW * 4, 1);
          for (let r = 0; r < rows; r++)
            memory.copy(yrow + <usize>r * rowStride + (<usize>ow << 2), tile + <usize>r * VW * 4, <usize>cols << 2);
        }
      }
    }
  }
}

// 4 output channels x 8 positions: 8 accumulators, 2 input vectors, 4 weight broadcasts. Runs
// `blocks` adjacent blocks along the row: one call per row keeps calls rare when the taps are few.
function direct4x8(x: usize, offs0: usize, taps: i32, wk0: usize, bias: usize, y: usize, ys: usize, blocks: i32): void {
  const end = offs0 + (<usize>taps << 2);
  for (let b = 0; b < blocks; b++, x += 32, y += 32) {
    let offs = offs0, wk = wk0;
    let a00 = v128.load32_splat(bias), a01 = a00;
    let a10 = v128.load32_splat(bias, 4), a11 = a10;
    let a20 = v128.load32_splat(bias, 8), a21 = a20;
    let a30 = v128.load32_splat(bias, 12), a31 = a30;
    for (; offs < end; offs += 4) {
      const xr = x + <usize>load<u32>(offs);
      const x0 = v128.load(xr);
      const x1 = v128.load(xr, 16);
      let c = v128.load32_splat(wk);
      a00 = madd(c, x0, a00);
      a01 = madd(c, x1, a01);
      c = v128.load32_splat(wk, 4);
      a10 = madd(c, x0, a10);
      a11 = madd(c, x1, a11);
      c = v128.load32_splat(wk, 8);
      a20 = madd(c, x0, a20);
      a21 = madd(c, x1, a21);
      c = v128.load32_splat(wk, 12);
      a30 = madd(c, x0, a30);
      a31 = madd(c, x1, a31);
      wk += 16;
    }
    v128.store(y, a00);
    v128.store(y, a01, 16);
    v128.store(y + ys, a10);
    v128.store(y + ys, a11, 16);
    v128.store(y + 2 * ys, a20);
    v128.store(y + 2 * ys, a21, 16);
    v128.store(y + 3 * ys, a30);
    v128.store(y + 3 * ys, a31, 16);
  }
}

// One output channel x 2 output rows x 16 positions. Input row j (of KH+1) is loaded once and feeds
// row 0 through tap j and row 1 through tap j-1; the packed weights hold zeros for the missing taps.
// Runs `blocks` adjacent blocks along the rows, as direct4x8.
function direct1x2x16(x: usize, offs0: usize, taps: i32, wk0: usize, bias: usize, y: usize, ys: usize, blocks: i32): void {
  const end = offs0 + (<usize>taps << 2);
  for (let blk = 0; blk < blocks; blk++, x += 64, y += 64) {
    let offs = offs0, wk = wk0;
    let a0 = v128.load32_splat(bias), a1 = a0, a2 = a0, a3 = a0;
    let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (; offs < end; offs += 4) {
      const xr = x + <usize>load<u32>(offs);
      const x0 = v128.load(xr);
      const x1 = v128.load(xr, 16);
      const x2 = v128.load(xr, 32);
      const x3 = v128.load(xr, 48);
      let c = v128.load32_splat(wk);
      a0 = madd(c, x0, a0);
      a1 = madd(c, x1, a1);
      a2 = madd(c, x2, a2);
      a3 = madd(c, x3, a3);
      c = v128.load32_splat(wk, 4);
      b0 = madd(c, x0, b0);
      b1 = madd(c, x1, b1);
      b2 = madd(c, x2, b2);
      b3 = madd(c, x3, b3);
      wk += 8;
    }
    v128.store(y, a0);
    v128.store(y, a1, 16);
    v128.store(y, a2, 32);
    v128.store(y, a3, 48);
    v128.store(y + ys, b0);
    v128.store(y + ys, b1, 16);
    v128.store(y + ys, b2, 32);
    v128.store(y + ys, b3, 48);
  }
}

// Rows of dy per block of the weight gradient: a block of 4 channels' dy rows and the input rows
// they meet stay in L1 while every tap sweeps them.
const GRAD_ROWS = 8;

// Taps (c, kh, kw) flattened and taken in pairs, so no tap is wasted whatever KW is; an odd count
// computes one extra tap, which is dropped.
// @ts-ignore: decorator
@inline function gradTaps(C: i32, KH: i32, KW: i32): i32 {
  return roundUp(C * KH * KW, 2);
}

function weightGradBytes(C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, PH: i32, PW: i32, OH: i32, OW: i32): usize {
  const groups = (CO + 3) / 4;
  const OWr = roundUp(OW, 4);
  const Wp = OWr + KW - 1;
  const Tp = gradTaps(C, KH, KW);
  return align64(<usize>groups * Tp * 4 * 16) + align64(<usize>GRAD_ROWS * OWr * 16) + align64(<usize>C * (H + 2 * PH) * Wp * 4) + align64(<usize>Tp * 4)
    + <usize>groups * 4 * 16;
}

/**
 * dw[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh+kh-PH, ow+kw-PW], stride 1, and
 * db[o] = sum of dy[n, o, ...] unless db is 0 (overwritten). db is summed while dy is copied, so dy
 * is read from memory once.
 */
function directWeightGrad(
  x: usize, dy: usize, dw: usize, db: usize, N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, PH: i32, PW: i32, OH: i32, OW: i32, scratch: usize,
): void {
  const groups = (CO + 3) / 4;
  const OWr = roundUp(OW, 4);
  const T = C * KH * KW, Tp = gradTaps(C, KH, KW);
  const Hp = H + 2 * PH, Wp = OWr + KW - 1;
  // Vector partial sums [group][tap][4 channels], reduced across lanes once at the end.
  const acc = scratch;
  const accBytes = <usize>groups * Tp * 4 * 16;
  const dyp = acc + align64(accBytes);
  const xp = dyp + align64(<usize>GRAD_ROWS * OWr * 16);
  const offs = xp + align64((<usize>C * Hp * Wp) << 2);
  const sums = offs + align64(<usize>Tp * 4);
  memory.fill(acc, 0, accBytes);
  memory.fill(sums, 0, <usize>groups * 4 * 16);
  memory.fill(xp, 0, (<usize>C * Hp * Wp) << 2);
  // Byte offset of each tap's first input in the padded planes; the dropped extra tap repeats the last.
  for (let t = 0; t < Tp; t++) {
    const u = min(t, T - 1);
    const kw = u % KW, ckh = u / KW;
    store<u32>(offs + (<usize>t << 2), <u32>(((ckh / KH * Hp + ckh % KH) * Wp + kw) << 2));
  }
  for (let n = 0; n < N; n++) {
    padPlanes(x + ((<usize>n * C * H * W) << 2), xp, C, H, W, Hp, Wp, PH, PW);
    const dyn = dy + ((<usize>n * CO * OH * OW) << 2);
    for (let oh0 = 0; oh0 < OH; oh0 += GRAD_ROWS) {
      const rowsN = min(GRAD_ROWS, OH - oh0);
      const full = rowsN == GRAD_ROWS;
      for (let g = 0; g < groups; g++) {
        // The band of dy that every tap pair sweeps, copied into L1 in the layout grad4x2 reads.
        interleave4(dyn, dyp, g, CO, oh0, rowsN, OH, OW, OWr, sums);
        const xb = xp + ((<usize>oh0 * Wp) << 2);
        for (let t = 0; t < Tp; t += 2) {
          const x0 = xb + <usize>load<u32>(offs + (<usize>t << 2));
          const x1 = xb + <usize>load<u32>(offs + (<usize>t << 2), 4);
          const a = acc + ((<usize>(g * Tp + t) * 4) << 4);
          // Two call sites keep grad4x2 out of line (see directCorrelate).
          if (full) grad4x2(dyp, x0, x1, <usize>(Wp - OWr) << 2, GRAD_ROWS, OWr >> 2, a);
          else grad4x2(dyp, x0, x1, <usize>(Wp - OWr) << 2, rowsN, OWr >> 2, a);
        }
      }
    }
  }
  for (let o = 0; o < CO; o++) {
    const g = o >> 2, r = o & 3;
    for (let t = 0; t < T; t++)
      store<f32>(dw + ((<usize>(o * T + t)) << 2), hsum(v128.load(acc + ((<usize>((g * Tp + t) * 4 + r)) << 4))));
  }
  if (db != 0) for (let o = 0; o < CO; o++) store<f32>(db + (<usize>o << 2), hsum(v128.load(sums + (<usize>o << 4))));
}

// dst[oh - oh0][j][r][0..4) = src[g*4 + r, oh, 4j..4j+4) for rows oh0 .. oh0+rows: a group's 4
// channels interleaved by vector, so one pointer and constant offsets reach all four. Zeros past OW
// and past CO. Adds the rows to sums[o] (a vector per channel).
function interleave4(src: usize, dst: usize, g: i32, CO: i32, oh0: i32, rows: i32, OH: i32, OW: i32, OWr: i32, sums: usize): void {
  const full = OW >> 2;
  for (let r = 0; r < 4; r++) {
    const o = g * 4 + r;
    let q = dst + (<usize>r << 4);
    if (o >= CO) {
      for (let k = 0; k < rows * (OWr >> 2); k++, q += 64) v128.store(q, f32x4.splat(0));
      continue;
    }
    let s = src + ((<usize>(o * OH + oh0) * OW) << 2);
    const sum = sums + (<usize>o << 4);
    let acc = v128.load(sum);
    for (let row = 0; row < rows; row++) {
      for (let j = 0; j < full; j++, q += 64, s += 16) {
        const v = v128.load(s);
        v128.store(q, v);
        acc = f32x4.add(acc, v);
      }
      if (full << 2 < OW) {
        v128.store(q, f32x4.splat(0));
        for (let k: usize = 0; k < <usize>(OW & 3); k++, s += 4) store<f32>(q + (k << 2), load<f32>(s));
        acc = f32x4.add(acc, v128.load(q));
        q += 64;
      }
    }
    v128.store(sum, acc);
  }
}

// acc[t][r] += sum over rows and positions of dy[row][p][r] * xt[row][p], r < 4 channels, t < 2 taps;
// dy interleaved as interleave4 leaves it, x rows end skip bytes before the next row.
function grad4x2(d: usize, x0s: usize, x1s: usize, skip: usize, rows: i32, vectors: i32, acc: usize): void {
  let a00 = v128.load(acc), a01 = v128.load(acc, 16), a02 = v128.load(acc, 32), a03 = v128.load(acc, 48);
  let a10 = v128.load(acc, 64), a11 = v128.load(acc, 80), a12 = v128.load(acc, 96), a13 = v128.load(acc, 112);
  for (let row = 0; row < rows; row++) {
    const end = d + (<usize>vectors << 6);
    for (; d < end; d += 64) {
      const x0 = v128.load(x0s);
      const x1 = v128.load(x1s);
      let dv = v128.load(d);
      a00 = madd(dv, x0, a00);
      a10 = madd(dv, x1, a10);
      dv = v128.load(d, 16);
      a01 = madd(dv, x0, a01);
      a11 = madd(dv, x1, a11);
      dv = v128.load(d, 32);
      a02 = madd(dv, x0, a02);
      a12 = madd(dv, x1, a12);
      dv = v128.load(d, 48);
      a03 = madd(dv, x0, a03);
      a13 = madd(dv, x1, a13);
      x0s += 16;
      x1s += 16;
    }
    x0s += skip;
    x1s += skip;
  }
  v128.store(acc, a00);
  v128.store(acc, a01, 16);
  v128.store(acc, a02, 32);
  v128.store(acc, a03, 48);
  v128.store(acc, a10, 64);
  v128.store(acc, a11, 80);
  v128.store(acc, a12, 96);
  v128.store(acc, a13, 112);
}

// ---- Sparse inputs ---------------------------------------------------------------------------
// A spiking layer feeds its convolution inputs that are mostly zeros. The forward pass and the weight
// gradient are then cheaper visiting only the non-zero inputs: x[c, ih, iw] meets each tap (kh, kw)
// once, at output (ih+PH-kh, iw+PW-kw), where it adds x * w[:, c, kh, kw] to y[:, oh, ow] (forward) or
// x * dy[:, oh, ow] to dw[:, c, kh, kw] (weight gradient): updates of vectors over output channels, so
// both run channels-last. The forward pass scatters (each non-zero input adds to the outputs it
// reaches); the weight gradient gathers (the sums stay in registers while the inputs stream past).

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
// The sparse path runs only when it is predicted at least 10% faster.
const SPARSE_MARGIN: f64 = 0.9;

// The forward scatter's channels-last weights, one sample's channels-last y, and the column list of
// one input row.
function sparseBytes(C: i32, W: i32, CO: i32, KH: i32, KW: i32, OHW: i32): usize {
  const COp = <usize>roundUp(CO, 4);
  return align64(<usize>C * KH * KW * COp * 4) + align64(<usize>OHW * COp * 4) + align64(<usize>W * 4);
}

// True when few enough of x[0..n) are non-zero (NaN counts as non-zero) for the sparse path to win,
// given its cost per non-zero input and the dense cost per input, CO * taps multiply-adds.
function sparse(x: usize, n: i32, perNonZero: f64, CO: i32, taps: i32): bool {
  let counts = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) counts = i32x4.sub(counts, f32x4.ne(v128.load(x + (<usize>i << 2)), f32x4.splat(0)));
  let nonZero: i64 = <i64>i32x4.extract_lane(counts, 0) + i32x4.extract_lane(counts, 1) + i32x4.extract_lane(counts, 2) + i32x4.extract_lane(counts, 3);
  for (; i < n; i++) if (load<f32>(x + (<usize>i << 2)) != 0) nonZero++;
  return <f64>nonZero * perNonZero < SPARSE_MARGIN * DENSE_COST * <f64>n * CO * taps;
}

// dst[j * dstStride + i] = src[i * srcStride + j] for i < rows, j < cols (strides in floats).
function transpose(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, cols: i32): void {
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
        // line (see directCorrelate); inlined, it ran a third slower.
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
function sparseForward(
  x: usize, w: usize, bias: usize, y: usize, N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, PH: i32, PW: i32, OH: i32, OW: i32, scratch: usize,
): void {
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
function gatherBytes(C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32): usize {
  const Vg = gatherVectors(CO), G = 4 / Vg;
  return 64 + align64(<usize>(H + KH - 1) * (W + KW - 1) * Vg * 16) + align64(<usize>C * KH * ((KW + G - 1) / G) * 64) + align64(<usize>H * W * 8);
}

// @ts-ignore: decorator
@inline function gatherVectors(CO: i32): i32 {
  return CO <= 4 ? 1 : CO <= 8 ? 2 : 4;
}

/** dw = the weight gradient at stride 1 (overwritten), visiting only the non-zero x. */
function sparseWeightGrad(
  x: usize, dy: usize, dw: usize, N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, PH: i32, PW: i32, OH: i32, OW: i32, scratch: usize,
): void {
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
        // Two call sites keep gather2x4 out of line (see directCorrelate).
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

// a0[0..4) += v * p[e + d0 ..], a1[0..4) += v * p[e + d1 ..] over the list's entries (offset e, value v),
// 4 vectors each. a1 may be a0 (an odd segment count), then only a0's sums are kept.
function gather2x4(list: usize, count: usize, p0: usize, p1: usize, a0: usize, a1: usize): void {
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
