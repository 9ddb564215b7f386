// Sparse inputs in the im2col geometry (many output channels, any stride and padding), and linear
// layers as the 1x1 case. im2col + GEMM computes y[co, q] = sum_r W[co, r] * cols[r, q], with
// r = (c, kh, kw) a weight row and q = (n, oh, ow) an output position; when x is spikes most of cols is
// zero. Both kernels here visit only its non-zero entries, through lists of (offset, value) pairs, and
// keep 32 output channels (8 vectors) of sums in registers while a list streams past (a gather: one
// load and one multiply-add per vector, no store):
//   forward: per position q, the list of its non-zero inputs over (c, kh, kw), each pointing at a
//            row of the transposed weights W^T[r, :];  y[:, q] = b + sum v * W^T[r, :].
//   dw:      per weight row r, the list of the positions where its input is non-zero, each pointing
//            at a row of the transposed gradient dy^T[q, :];  dW^T[r, :] = sum v * dy^T[q, :].
// The input gradient dx = W^T dy has no such shortcut: dy is dense, and so is dx (see docs/bench.md).
import { align64 } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { gather2x4, nonZeros, transpose } from './conv-sparse';

// Output channels per block: 8 accumulators (conv-sparse.ts's gather2x4 over two 16-channel halves), a
// broadcast value and a loaded vector fit the 15 xmm registers V8 allocates (wasm-performance notes).
// Channels past CO are zeros to the next block.
const BLOCK = 32;
const ROW: usize = BLOCK * 4;
// Soft caps on one chunk of samples: the forward lists (at their capacity, every input non-zero), and
// dw's transposed dy; both stay in L2 while the blocks of channels pass over them.
const LIST_BYTES: usize = 1 << 20;
const DY_BYTES: usize = 256 << 10;

// @ts-ignore: decorator
@inline function blocks(CO: i32): i32 {
  return (CO + BLOCK - 1) / BLOCK;
}

// Entries (8 bytes each) a position's forward list holds when every input it reaches is non-zero.
// @ts-ignore: decorator
@inline function rows(geom: ConvGeometry): i32 {
  return geom.C * geom.KH * geom.KW;
}

// Samples per chunk, from N, the output positions per sample and the rows (or output channels).
function forwardChunk(N: i32, OHW: i32, R: i32): i32 {
  return <i32>max<usize>(1, min<usize>(<usize>N, LIST_BYTES / (<usize>OHW * R * 8)));
}

function weightGradChunk(N: i32, OHW: i32, CO: i32): i32 {
  return <i32>max<usize>(1, min<usize>(<usize>N, DY_BYTES / (<usize>OHW * blocks(CO) * ROW)));
}

// Forward scratch: W^T by blocks [blocks, rows, 32], the bias by blocks, one sample's lists of non-zero
// channels per input position [HW, C] and their lengths, the list starts and entries of a chunk's
// output positions, and the chunk's y channels-last.
function forwardBytes(N: i32, C: i32, HW: i32, CO: i32, R: i32, OHW: i32): usize {
  const B = <usize>blocks(CO);
  const Q = <usize>forwardChunk(N, OHW, R) * OHW;
  return align64(B * R * ROW) + align64(B * ROW) + align64(<usize>HW * C * 8) + align64(<usize>HW * 4) + align64((Q + 1) * 4) + align64(Q * R * 8) + align64(Q * B * ROW);
}

// dw scratch: dW^T by blocks [blocks, rows, 32], a chunk's dy^T by blocks [blocks, Q, 32], a chunk's
// non-zero inputs of one channel (24 bytes each, see sparseGemmWeightGrad), one row's list.
function weightGradBytes(N: i32, HW: i32, CO: i32, R: i32, OHW: i32): usize {
  const B = <usize>blocks(CO);
  const nb = <usize>weightGradChunk(N, OHW, CO), Q = nb * OHW, inputs = nb * HW;
  return align64(B * R * ROW) + align64(B * Q * ROW) + align64(inputs * 24) + align64(inputs * 8);
}

export function sparseGemmForwardBytes(geom: ConvGeometry): usize {
  return forwardBytes(geom.N, geom.C, geom.H * geom.W, geom.CO, rows(geom), outHeight(geom) * outWidth(geom));
}

export function sparseGemmWeightGradBytes(geom: ConvGeometry): usize {
  return weightGradBytes(geom.N, geom.H * geom.W, geom.CO, rows(geom), outHeight(geom) * outWidth(geom));
}

/** Scratch bytes of both kernels for a linear layer, the 1x1 convolution of [N, In, 1, 1]. */
export function sparseGemmLinearBytes(N: i32, In: i32, Out: i32): usize {
  return max(forwardBytes(N, In, 1, Out, In, 1), weightGradBytes(N, 1, Out, In, 1));
}

// Non-zero entries of cols (the im2col matrix) when a fraction `density` of x is non-zero.
function entries(geom: ConvGeometry, density: f64): f64 {
  return density * geom.N * outHeight(geom) * outWidth(geom) * rows(geom);
}

/** y = conv(x, w) + b (b may be 0), visiting only the non-zero x. */
export function sparseGemmForward(geom: ConvGeometry, x: usize, w: usize, bias: usize, y: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW, HW = H * W;
  const B = blocks(CO), R = rows(geom), COp = B * BLOCK;
  const nbMax = forwardChunk(N, OHW, R);
  const wt = scratch;
  const bb = wt + align64(<usize>B * R * ROW);
  const inputs = bb + align64(<usize>B * ROW);
  const lengths = inputs + align64(<usize>HW * C * 8);
  const starts = lengths + align64(<usize>HW * 4);
  const lists = starts + align64(<usize>(nbMax * OHW + 1) * 4);
  const yc = lists + align64(<usize>nbMax * OHW * R * 8);
  // W [CO, R] -> W^T [R, 32] per block, zeros past CO; the bias likewise.
  memory.fill(wt, 0, <usize>B * R * ROW);
  memory.fill(bb, 0, <usize>B * ROW);
  for (let b = 0; b < B; b++)
    transpose(w + ((<usize>b * BLOCK * R) << 2), R, wt + <usize>b * R * ROW, BLOCK, min(BLOCK, CO - b * BLOCK), R);
  if (bias != 0) memory.copy(bb, bias, <usize>CO << 2);
  const tapStride = <usize>(KH * KW) * ROW;
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    const Q = nb * OHW;
    let count: usize = 0;
    for (let nn = 0; nn < nb; nn++) {
      // Each input position's non-zero channels c, as entries (row of tap (0, 0), x): one pass over x,
      // listed without a branch per input (they are unpredictable).
      const plane = x + ((<usize>(n0 + nn) * C * HW) << 2);
      memory.fill(lengths, 0, <usize>HW << 2);
      for (let c = 0; c < C; c++) {
        const src = plane + ((<usize>c * HW) << 2);
        const off = <u32>(<usize>c * tapStride);
        for (let p = 0; p < HW; p++) {
          const v = load<f32>(src + (<usize>p << 2));
          const len = lengths + (<usize>p << 2);
          const k = load<u32>(len);
          const e = inputs + ((<usize>p * C + k) << 3);
          store<u32>(e, off);
          store<f32>(e, v, 4);
          store<u32>(len, k + <u32>(v != 0));
        }
      }
      // Position q's list: the lists of the inputs its taps meet, each entry moved to its tap's row.
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          store<u32>(starts + (<usize>(nn * OHW + oh * OW + ow) << 2), <u32>count);
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH + kh - PH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW + kw - PW;
              if (iw < 0 || iw >= W) continue;
              const p = ih * W + iw;
              const k = <usize>load<u32>(lengths + (<usize>p << 2));
              const tap = <u32>(<usize>(kh * KW + kw) * ROW);
              const src = inputs + ((<usize>p * C) << 3);
              const dst = lists + (count << 3);
              for (let i: usize = 0; i < k; i++) {
                store<u32>(dst + (i << 3), load<u32>(src + (i << 3)) + tap);
                store<u32>(dst + (i << 3), load<u32>(src + (i << 3), 4), 4);
              }
              count += k;
            }
          }
        }
    }
    store<u32>(starts + (<usize>Q << 2), <u32>count);
    for (let b = 0; b < B; b++) {
      const base = wt + <usize>b * R * ROW;
      const init = bb + <usize>b * ROW;
      for (let q = 0; q < Q; q++) {
        const s = <usize>load<u32>(starts + (<usize>q << 2)), t = <usize>load<u32>(starts + (<usize>(q + 1) << 2));
        const out = yc + ((<usize>q * COp + b * BLOCK) << 2);
        memory.copy(out, init, ROW);
        gather2x4(lists + (s << 3), t - s, base, base + 64, out, out + 64);
      }
    }
    for (let nn = 0; nn < nb; nn++)
      transpose(yc + ((<usize>nn * OHW * COp) << 2), COp, y + ((<usize>(n0 + nn) * CO * OHW) << 2), OHW, OHW, CO);
  }
}

/** dw = the gradient of sum(dy * conv(x, w)) with respect to w (overwritten), visiting only the non-zero x; the caller sums db. */
export function sparseGemmWeightGrad(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW, HW = H * W;
  const B = blocks(CO), R = rows(geom);
  const nbMax = weightGradChunk(N, OHW, CO);
  const Qmax = nbMax * OHW;
  const dwt = scratch;
  const dyt = dwt + align64(<usize>B * R * ROW);
  const inputs = dyt + align64(<usize>B * Qmax * ROW);
  const list = inputs + align64(<usize>nbMax * HW * 24);
  memory.fill(dwt, 0, <usize>B * R * ROW);
  // Channels past CO stay zero in every chunk.
  memory.fill(dyt, 0, <usize>B * Qmax * ROW);
  for (let n0 = 0; n0 < N; n0 += nbMax) {
    const nb = min(nbMax, N - n0);
    // dy [nb, CO, OHW] -> dy^T [B, Q, 32].
    for (let nn = 0; nn < nb; nn++)
      for (let b = 0; b < B; b++)
        transpose(dy + ((<usize>((n0 + nn) * CO + b * BLOCK) * OHW) << 2), OHW, dyt + (<usize>b * Qmax + nn * OHW) * ROW, BLOCK, min(BLOCK, CO - b * BLOCK), OHW);
    for (let c = 0; c < C; c++) {
      // The chunk's non-zero x[n, c, ih, iw], each as (n * OHW, ih+PH = qh*SH + rh, iw+PW = qw*SW + rw, x):
      // tap (kh, kw) = (kq*SH + kr, ...) takes it to output (qh - kq, qw - lq) when rh == kr and rw == lr.
      let count: usize = 0;
      for (let nn = 0; nn < nb; nn++) {
        const plane = x + ((<usize>((n0 + nn) * C + c) * HW) << 2);
        for (let ih = 0; ih < H; ih++) {
          const qh = (ih + PH) / SH, rh = (ih + PH) % SH;
          // qw, rw counted along the row instead of divided per input.
          let qw = PW / SW, rw = PW % SW;
          for (let iw = 0; iw < W; iw++) {
            const v = load<f32>(plane + ((<usize>(ih * W + iw)) << 2));
            const e = inputs + count * 24;
            store<i32>(e, nn * OHW);
            store<i32>(e, qh, 4);
            store<i32>(e, rh, 8);
            store<i32>(e, qw, 12);
            store<i32>(e, rw, 16);
            store<f32>(e, v, 20);
            count += <usize>(v != 0);
            if (++rw == SW) {
              rw = 0;
              qw++;
            }
          }
        }
      }
      if (count == 0) continue;
      for (let kh = 0; kh < KH; kh++)
        for (let kw = 0; kw < KW; kw++) {
          const kq = kh / SH, kr = kh % SH, lq = kw / SW, lr = kw % SW;
          // Row r's list: entries (output position * ROW, x), listed without a branch per input.
          let k: usize = 0;
          for (let i: usize = 0; i < count; i++) {
            const e = inputs + i * 24;
            const oh = load<i32>(e, 4) - kq, ow = load<i32>(e, 12) - lq;
            const hit = (load<i32>(e, 8) == kr) & (load<i32>(e, 16) == lr) & (<u32>oh < <u32>OH) & (<u32>ow < <u32>OW);
            const d = list + (k << 3);
            store<u32>(d, <u32>(<usize>(load<i32>(e) + oh * OW + ow) * ROW));
            store<u32>(d, load<u32>(e, 20), 4);
            k += <usize>hit;
          }
          if (k == 0) continue;
          const r = (c * KH + kh) * KW + kw;
          for (let b = 0; b < B; b++) {
            const acc = dwt + (<usize>b * R + r) * ROW;
            const rowsB = dyt + <usize>b * Qmax * ROW;
            gather2x4(list, k, rowsB, rowsB + 64, acc, acc + 64);
          }
        }
    }
  }
  // dW^T [B, R, 32] -> dw [CO, R].
  for (let b = 0; b < B; b++)
    transpose(dwt + <usize>b * R * ROW, BLOCK, dw + ((<usize>b * BLOCK * R) << 2), R, R, min(BLOCK, CO - b * BLOCK));
}

// Costs in units of one multiply-add of the dense im2col + GEMM path, fitted to the times of both
// paths measured here on M5's SNN layers at 80 rows ([80,128,250]->128, [80,128,62]->256,
// [80,256,15]->512, k3), [80,64,100]->32 and linear 80x2000->500, at 0-65% non-zero inputs, each path
// forced by setSparsePolicy (min of 15 calls, 2 cores shared with other jobs, load average 3-7): per
// input of x scanned for the lists (both kernels, about 50 at every size, from d = 0), per list entry
// and block of 32 channels (forward 40-60, dw 55-80: its lists are shorter and interleave dy rows).
// Measured break-evens, forward / dw: 128 channels 0.5 / 0.4, 256 above 0.47 / above 0.47, 512 0.52 /
// about 0.5, 32 channels above 0.45 / 0.18, linear 80x2000->500 0.4 / 0.2; the model predicts 0.49 /
// 0.31, 0.53 / 0.33, 0.55 / 0.34, 0.23 / 0.15, 0.50 / 0.31. Under a load of 5-7 the forward broke
// even lower (0.4-0.45 at 128 channels). 80x512->35 (and smaller) stays dense: the lists' overhead
// outweighs the small GEMM there (measured 0.6x at no spikes). The plain-SIMD build measured the same
// ratios (the gather's multiply-adds slow as much as the GEMM's), so one set of costs serves both.
const INPUT_COST: f64 = 50;
const FORWARD_ENTRY_COST: f64 = 50;
const GRAD_ENTRY_COST: f64 = 80;
const CALL_COST: f64 = 30;
// The sparse path runs only when it is predicted at least 10% faster.
const SPARSE_MARGIN: f64 = 0.9;

/** The predicted cost of im2col + GEMM (either pass): its multiply-adds. */
export function im2colCost(geom: ConvGeometry): f64 {
  return <f64>geom.N * outHeight(geom) * outWidth(geom) * rows(geom) * geom.CO;
}

// The sparse cost from the count of x's non-zeros, in multiply-adds of im2col + GEMM.
function cost(geom: ConvGeometry, count: i64, entryCost: f64, calls: f64): f64 {
  const n = geom.N * geom.C * geom.H * geom.W;
  const B = <f64>blocks(geom.CO);
  return <f64>n * INPUT_COST + entries(geom, <f64>count / <f64>n) * B * entryCost + calls * B * CALL_COST;
}

/** The predicted cost of sparseGemmForward over `count` non-zero inputs. */
export function sparseGemmForwardCost(geom: ConvGeometry, count: i64): f64 {
  return cost(geom, count, FORWARD_ENTRY_COST, <f64>geom.N * outHeight(geom) * outWidth(geom));
}

/** True when sparseGemmForward is predicted to beat im2col + GEMM on this x. */
export function sparseGemmForwardPays(geom: ConvGeometry, x: usize): bool {
  return sparseGemmForwardCost(geom, nonZeros(x, geom.N * geom.C * geom.H * geom.W)) < SPARSE_MARGIN * im2colCost(geom);
}

/** The predicted cost of sparseGemmWeightGrad over `count` non-zero inputs. */
export function sparseGemmWeightGradCost(geom: ConvGeometry, count: i64): f64 {
  const nb = weightGradChunk(geom.N, outHeight(geom) * outWidth(geom), geom.CO);
  return cost(geom, count, GRAD_ENTRY_COST, <f64>((geom.N + nb - 1) / nb) * rows(geom));
}

/** True when sparseGemmWeightGrad is predicted to beat im2col + GEMM on this x. */
export function sparseGemmWeightGradPays(geom: ConvGeometry, x: usize): bool {
  return sparseGemmWeightGradCost(geom, nonZeros(x, geom.N * geom.C * geom.H * geom.W)) < SPARSE_MARGIN * im2colCost(geom);
}
