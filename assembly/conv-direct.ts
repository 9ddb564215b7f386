// Direct convolution at stride 1, for few output channels: register-blocked loops over a zero-padded
// copy of each sample, visiting the taps through a table of offsets. The input gradient at stride 1 is
// itself a direct correlation of dy with the flipped, channel-transposed weights, so one kernel
// serves forward and dx; the weight gradient has its own blocking.
import { align64, roundUp } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { hsum, madd } from './simd';

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

function correlateBytes(I: i32, H: i32, W: i32, O: i32, KH: i32, KW: i32, PH: i32, PW: i32): usize {
  const G = blockChannels(O);
  const OW = W + 2 * PW - KW + 1;
  const Wp = roundUp(OW, blockWidth(G)) + KW - 1;
  return align64(packedWeights(O, I, KH, KW) * 4) + align64(<usize>roundUp(O, 4) * 4) + 32 * 4 + align64(<usize>I * (H + 2 * PH + 1) * Wp * 4)
    + align64(<usize>I * (KH + 1) * KW * 4);
}

/** Scratch of directForward. */
export function directForwardBytes(geom: ConvGeometry): usize {
  return correlateBytes(geom.C, geom.H, geom.W, geom.CO, geom.KH, geom.KW, geom.PH, geom.PW);
}

/** Scratch of directBackwardInput: the correlation over dy, padded to the size of x. */
export function directBackwardInputBytes(geom: ConvGeometry): usize {
  const KH = geom.KH, KW = geom.KW;
  return correlateBytes(geom.CO, outHeight(geom), outWidth(geom), geom.C, KH, KW, KH - 1 - geom.PH, KW - 1 - geom.PW);
}

/** y = conv(x, w) + b at stride 1; b may be 0 (no bias). */
export function directForward(geom: ConvGeometry, x: usize, w: usize, b: usize, y: usize, scratch: usize): void {
  directCorrelate(x, w, false, b, y, geom.N, geom.C, geom.H, geom.W, geom.CO, geom.KH, geom.KW, geom.PH, geom.PW, scratch);
}

/** dx = the gradient of sum(dy * conv(x, w)) with respect to x at stride 1 (overwritten). */
export function directBackwardInput(geom: ConvGeometry, w: usize, dy: usize, dx: usize, scratch: usize): void {
  const KH = geom.KH, KW = geom.KW;
  directCorrelate(dy, w, true, 0, dx, geom.N, geom.CO, outHeight(geom), outWidth(geom), geom.C, KH, KW, KH - 1 - geom.PH, KW - 1 - geom.PW, scratch);
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

/** Scratch of directWeightGrad. */
export function directWeightGradBytes(geom: ConvGeometry): usize {
  const C = geom.C, H = geom.H, CO = geom.CO, KH = geom.KH, KW = geom.KW, PH = geom.PH;
  const OW = outWidth(geom);
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
export function directWeightGrad(geom: ConvGeometry, x: usize, dy: usize, dw: usize, db: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom);
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

