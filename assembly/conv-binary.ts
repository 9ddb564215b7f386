// Binary inputs through lookup tables: the forward pass and the weight gradient of a convolution whose
// every input is 0 or 1 (a spiking layer's output), in any geometry.
//
// With x binary, y[o, p] = b[o] + sum over channels c and taps k of w[o, c, k] * x[c, p + k] is a sum of
// weights selected by bits. Eight channels' bits at one input position make a byte, the code; for each
// group of eight channels g and tap k, a table holds the 256 possible sums of their weights for a block
// of 16 output channels:
//
//   T[g, k, code][o] = sum over j < 8 with bit j of code set of w[o, 8g + j, k]
//
// so y[:, p] = b + sum over g, k of T[g, k, code(g, p + k)]: one table row (four vectors) per eight
// input channels and tap, where the dense kernels do 8 x 16 multiply-adds. It does not depend on how
// many inputs are non-zero. A table is 16 KB, so a block's tables sit in the second-level cache (400 KB
// for Hjh's conv2: 8 channels, 5x5); with four input channels per code they would fit the first level,
// but twice the lookups measured slower (11.2 ms against 8.6 ms there). Building the tables costs 256
// rows per group, tap and block per call, which a batch of 80 rows amortizes. Rounding differs from the
// dense kernels only in the order of the sums.
import { align64 } from './align';
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { transpose } from './conv-sparse';
import { countWord, countWordOk } from './simd';

// Output channels per table: four vectors of accumulators per output position.
const BLOCK = 16;
const ROW_BYTES: usize = BLOCK * 4;
// Channels per code: 8, so a code is one byte and a table 256 rows.
const BITS = 8;
const CODES = 1 << BITS;
const TABLE_BYTES: usize = <usize>CODES * ROW_BYTES;
// The forward pass sweeps tables of this many bytes at most over the outputs at once, a quarter of the
// second-level cache of the machines measured (2 MB per core), so that codes and outputs stay beside
// them; larger sets (M5's 128 and 256 input channels: 768 KB and 1.5 MB) are swept in chunks of groups,
// the sums carried over in the output rows.
const CACHED_TABLE_BYTES: usize = 512 << 10;

// Costs in units of one multiply-add of the dense kernels, fitted to the times of each path forced by
// setSparsePolicy on Hjh's conv2, M5's conv2-conv4 and two TC-ResNet8 convolutions at 80 and at 5 rows
// (27% spikes, one thread, the quiet 2-core machine): per lookup (an output position, a block of 16
// output channels, a group of 8 input channels and a tap: a code load and four vector adds from a
// table; for dw four read-modify-writes of a bin), and per table row built (for dw, folded into the
// weights). Over those twelve layers the model is within 15% of the measured time but for TC-ResNet8's
// at 5 rows (the tables' cost, over-predicted by up to 35%). The per-lookup costs were refitted (the rows'
// kept) when the codes came to be made sixteen positions at a time and dw to fill one tap's bins at a
// time, on the 34 forwards and weight gradients of binary input in the zoo's SNN training steps (Hjh's
// at T = 5 and 15, M5's, TC-ResNet8's, BC-ResNet-3's), each path forced, best of four interleaved
// rounds: the times of the model's choices then add up to the fastest paths' within 1%.
const LOOKUP_COST: f64 = 37;
const ROW_COST: f64 = 45;
const BIN_COST: f64 = 36;
const FOLD_COST: f64 = 110;

// Both kernels' scratch: codes of every sample [N, G, Hp, Wp] (bytes, x padded with zeros), one block's
// tables or bins [G, KH, KW, CODES, BLOCK], and one sample's output or dy block channels-last [OH * OW,
// BLOCK] (or the block's weights as rows, [C, KH, KW, BLOCK], while the tables are built).
export function binaryBytes(geom: ConvGeometry): usize {
  const G = (geom.C + BITS - 1) / BITS;
  const Hp = geom.H + 2 * geom.PH, Wp = geom.W + 2 * geom.PW;
  return (
    align64(<usize>geom.N * G * Hp * Wp) +
    align64(<usize>G * geom.KH * geom.KW * TABLE_BYTES) +
    align64(<usize>(max(outHeight(geom) * outWidth(geom), geom.C * geom.KH * geom.KW) + 2) * ROW_BYTES)
  );
}

/** The count of non-zero x[0..n), or -1 when some entry is neither 0 nor 1 (NaN included). */
export function spikeCount(x: usize, n: i32): i64 {
  let count: i64 = 0;
  let i = 0;
  // Analog inputs (a CNN's) are told apart at their first vectors, not after a whole pass.
  for (; i + 32 <= n; i += 32) {
    const r = countWord(x + (<usize>i << 2), f32x4.splat(1));
    if (!countWordOk) return -1;
    count += <i64>popcnt<u32>(<u32>r);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v == 1) count++;
    else if (v != 0) return -1;
  }
  return count;
}

// Lookups of one pass, and table rows per call: blocks of output channels x groups of 8 input channels
// x taps, times the output positions (lookups) or the codes each group can have (rows).
function lookups(geom: ConvGeometry): f64 {
  return <f64>geom.N * outHeight(geom) * outWidth(geom) * tablesPerBlock(geom) * ((geom.CO + BLOCK - 1) / BLOCK);
}

function tableRows(geom: ConvGeometry): f64 {
  let codes: f64 = 0;
  for (let c = 0; c < geom.C; c += BITS) codes += <f64>(1 << min(BITS, geom.C - c));
  return codes * geom.KH * geom.KW * ((geom.CO + BLOCK - 1) / BLOCK);
}

// @ts-ignore: decorator
@inline function tablesPerBlock(geom: ConvGeometry): i32 {
  return ((geom.C + BITS - 1) / BITS) * geom.KH * geom.KW;
}

/** The predicted cost of binaryForward, in multiply-adds of the dense kernels. */
export function binaryForwardCost(geom: ConvGeometry): f64 {
  return lookups(geom) * LOOKUP_COST + tableRows(geom) * ROW_COST;
}

/** The predicted cost of binaryWeightGrad, in multiply-adds of the dense kernels. */
export function binaryWeightGradCost(geom: ConvGeometry): f64 {
  return lookups(geom) * BIN_COST + tableRows(geom) * FOLD_COST;
}

/** y = conv(x, w) + b (b may be 0) for x of zeros and ones only (see spikeCount), any stride and padding. */
export function binaryForward(geom: ConvGeometry, x: usize, w: usize, bias: usize, y: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW;
  const G = (C + BITS - 1) / BITS, Hp = H + 2 * PH, Wp = W + 2 * PW;
  const plane = <usize>Hp * Wp, sampleCodes = <usize>G * plane;
  const codes = scratch;
  const tables = codes + align64(<usize>N * sampleCodes);
  const yc = tables + align64(<usize>G * KH * KW * TABLE_BYTES);
  const spare = yc + <usize>max(OHW, C * KH * KW) * ROW_BYTES;
  const groupTables = <usize>KH * KW * TABLE_BYTES;
  const chunk = max(1, <i32>(CACHED_TABLE_BYTES / groupTables));
  encode(x, N, C, H, W, PH, PW, codes);
  for (let o0 = 0; o0 < CO; o0 += BLOCK) {
    const width = min(BLOCK, CO - o0);
    buildTables(w, C, KH * KW, o0, width, G, tables, yc);
    const b0 = lanes(bias, o0, width, 0), b1 = lanes(bias, o0, width, 4), b2 = lanes(bias, o0, width, 8), b3 = lanes(bias, o0, width, 12);
    for (let n = 0; n < N; n++) {
      const cn = codes + <usize>n * sampleCodes;
      // The groups in chunks of at most CACHED_TABLE_BYTES of tables, each chunk one sweep over the
      // output positions; the first starts from the bias, the others from the sums so far.
      for (let g0 = 0; g0 < G; g0 += chunk) {
        const gn = min(chunk, G - g0);
        const t = tables + <usize>g0 * groupTables;
        for (let oh = 0; oh < OH; oh++) {
          const crow = cn + <usize>g0 * plane + <usize>(oh * SH) * Wp;
          const out = yc + <usize>oh * OW * ROW_BYTES;
          let ow = 0;
          for (; ow + 2 <= OW; ow += 2) {
            const o = out + <usize>ow * ROW_BYTES;
            lookupPair(crow + <usize>(ow * SW), <usize>SW, o, o + ROW_BYTES, t, gn, KH, KW, plane, <usize>Wp, g0 == 0, b0, b1, b2, b3);
          }
          // An odd last position pairs with itself; the copy's sums go to a spare row past the outputs.
          if (ow < OW) lookupPair(crow + <usize>(ow * SW), 0, out + <usize>ow * ROW_BYTES, spare, t, gn, KH, KW, plane, <usize>Wp, g0 == 0, b0, b1, b2, b3);
        }
      }
      transpose(yc, BLOCK, y + ((<usize>(n * CO + o0) * OHW) << 2), OHW, OHW, width);
    }
  }
}

/**
 * dw = the weight gradient (overwritten) for x of zeros and ones only, any stride and padding; the
 * caller sums db. The forward's tables turned around: dy's vectors are summed into bins by the code
 * each tap meets, B[g, k, code] = sum over positions p with code(g, p + k) = code of dy[:, p], then
 * dw[:, BITS g + j, k] = the sum of the bins whose code has bit j. A tap costs one row of vector adds
 * into a bin instead of BITS rows of multiply-adds. The bins are filled one tap's table at a time over
 * a sample's outputs, so the 16 KB being written stays in the first-level cache while dy streams past;
 * filling every tap's bins at each position wrote all of them at once (Hjh's conv2: 25 tables, 400 KB)
 * and took 1.0-1.5 times as long on the zoo's layers.
 */
export function binaryWeightGrad(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW;
  const SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), OW = outWidth(geom), OHW = OH * OW, taps = KH * KW;
  const G = (C + BITS - 1) / BITS, Hp = H + 2 * PH, Wp = W + 2 * PW;
  const plane = <usize>Hp * Wp, sampleCodes = <usize>G * plane;
  const codes = scratch;
  const bins = codes + align64(<usize>N * sampleCodes);
  const dyc = bins + align64(<usize>G * taps * TABLE_BYTES);
  const groupBins = <usize>taps * TABLE_BYTES;
  encode(x, N, C, H, W, PH, PW, codes);
  for (let o0 = 0; o0 < CO; o0 += BLOCK) {
    const width = min(BLOCK, CO - o0);
    memory.fill(bins, 0, <usize>G * groupBins);
    // Lanes past the block's width stay zero: the transposition below writes only the first width.
    memory.fill(dyc, 0, <usize>OHW * ROW_BYTES);
    for (let n = 0; n < N; n++) {
      transpose(dy + ((<usize>(n * CO + o0) * OHW) << 2), OHW, dyc, BLOCK, width, OHW);
      const cn = codes + <usize>n * sampleCodes;
      for (let g = 0; g < G; g++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const t = bins + <usize>((g * KH + kh) * KW + kw) * TABLE_BYTES;
            for (let oh = 0; oh < OH; oh++)
              binRow(cn + <usize>g * plane + <usize>(oh * SH + kh) * Wp + <usize>kw, <usize>SW, dyc + <usize>oh * OW * ROW_BYTES, OW, t);
          }
    }
    for (let g = 0; g < G; g++) {
      const bits = min(BITS, C - BITS * g);
      for (let k = 0; k < taps; k++) {
        const t = bins + <usize>(g * taps + k) * TABLE_BYTES;
        for (let j = 0; j < bits; j++) {
          let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
          for (let code = 1 << j; code < (1 << bits); code = (code + 1) | (1 << j)) {
            const r = t + (<usize>code << 6);
            a0 = f32x4.add(a0, v128.load(r));
            a1 = f32x4.add(a1, v128.load(r, 16));
            a2 = f32x4.add(a2, v128.load(r, 32));
            a3 = f32x4.add(a3, v128.load(r, 48));
          }
          const out = dyc; // the sums go out lane by lane; dyc is free once the bins are filled
          v128.store(out, a0);
          v128.store(out, a1, 16);
          v128.store(out, a2, 32);
          v128.store(out, a3, 48);
          const c = BITS * g + j;
          for (let l = 0; l < width; l++) store<f32>(dw + ((<usize>(((o0 + l) * C + c) * taps + k)) << 2), load<f32>(out + (<usize>l << 2)));
        }
      }
    }
  }
}

// One tap's bin table over a row of outputs: t[code at c + i·step] += d[i] (16 lanes) for i < n.
function binRow(c: usize, step: usize, d: usize, n: i32, t: usize): void {
  for (let i = 0; i < n; i++, c += step, d += ROW_BYTES) {
    const r = t + (<usize>load<u8>(c) << 6);
    v128.store(r, f32x4.add(v128.load(r), v128.load(d)));
    v128.store(r, f32x4.add(v128.load(r, 16), v128.load(d, 16)), 16);
    v128.store(r, f32x4.add(v128.load(r, 32), v128.load(d, 32)), 32);
    v128.store(r, f32x4.add(v128.load(r, 48), v128.load(d, 48)), 48);
  }
}

// bias[o0 + l .. o0 + l + 4) as a vector, zeros past the block's width (or without a bias).
function lanes(bias: usize, o0: i32, width: i32, l: i32): v128 {
  let v = f32x4.splat(0);
  if (bias == 0) return v;
  if (l < width) v = f32x4.replace_lane(v, 0, load<f32>(bias + (<usize>(o0 + l) << 2)));
  if (l + 1 < width) v = f32x4.replace_lane(v, 1, load<f32>(bias + (<usize>(o0 + l + 1) << 2)));
  if (l + 2 < width) v = f32x4.replace_lane(v, 2, load<f32>(bias + (<usize>(o0 + l + 2) << 2)));
  if (l + 3 < width) v = f32x4.replace_lane(v, 3, load<f32>(bias + (<usize>(o0 + l + 3) << 2)));
  return v;
}

// codes[n, g, ih + PH, iw + PW] = sum over j < BITS of x[n, BITS g + j, ih, iw] << j (missing channels
// and the padding are 0). Sixteen positions at a time: each channel's four vectors compared with zero
// and narrowed to one byte mask, so a group's codes are written once rather than read and rewritten
// per channel (the scalar loop cost as much as the lookups on a 1x1 convolution of few output channels).
// Without horizontal padding a plane's rows are consecutive in both x and the codes: one long row.
function encode(x: usize, N: i32, C: i32, H: i32, W: i32, PH: i32, PW: i32, codes: usize): void {
  const G = (C + BITS - 1) / BITS, Hp = H + 2 * PH, Wp = W + 2 * PW;
  const plane = <usize>H * W;
  if (PH > 0 || PW > 0) memory.fill(codes, 0, <usize>N * G * Hp * Wp);
  const rows = PW == 0 ? 1 : H, len = PW == 0 ? H * W : W;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const channels = min(BITS, C - BITS * g);
      const src = x + ((<usize>(n * C + BITS * g) * plane) << 2);
      const dst = codes + <usize>((n * G + g) * Hp + PH) * Wp + PW;
      for (let r = 0; r < rows; r++) encodeRow(src + ((<usize>r * len) << 2), plane << 2, channels, dst + <usize>r * Wp, len);
    }
}

// One row of `len` codes from `channels` channels, `stride` bytes apart, starting at s.
// @ts-ignore: decorator
@inline function encodeRow(s: usize, stride: usize, channels: i32, d: usize, len: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    let code = i8x16.splat(0);
    let p = s + (<usize>i << 2);
    for (let j = 0; j < channels; j++, p += stride) {
      const lo = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(p), zero), f32x4.ne(v128.load(p, 16), zero));
      const hi = i16x8.narrow_i32x4_s(f32x4.ne(v128.load(p, 32), zero), f32x4.ne(v128.load(p, 48), zero));
      const bit: i32 = 1 << j;
      code = v128.or(code, v128.and(i8x16.narrow_i16x8_s(lo, hi), i8x16.splat(<i8>bit)));
    }
    v128.store(d + <usize>i, code);
  }
  for (; i < len; i++) {
    let code = 0;
    let p = s + (<usize>i << 2);
    for (let j = 0; j < channels; j++, p += stride) code |= <i32>(load<f32>(p) != 0) << j;
    store<u8>(d + <usize>i, code);
  }
}

// tables[g, k, code, l] = sum over bits j of code of w[o0 + l, BITS g + j, k], for l < width (0 beyond).
// The block's weights are first laid out as rows of 16 lanes [C, taps, BLOCK] (in yc, free until the
// sweep), so that each code is one row of vector adds: the code without its lowest bit, plus the row
// of that bit's channel. A last group of fewer than BITS channels fills only the codes it can have.
function buildTables(w: usize, C: i32, taps: i32, o0: i32, width: i32, G: i32, tables: usize, rows: usize): void {
  for (let c = 0; c < C; c++)
    for (let k = 0; k < taps; k++) {
      const row = rows + <usize>(c * taps + k) * ROW_BYTES;
      for (let l = 0; l < BLOCK; l++)
        store<f32>(row + (<usize>l << 2), l < width ? load<f32>(w + ((<usize>(((o0 + l) * C + c) * taps + k)) << 2)) : 0);
    }
  for (let g = 0; g < G; g++) {
    const codes = 1 << min(BITS, C - BITS * g);
    for (let k = 0; k < taps; k++) {
      const t = tables + <usize>(g * taps + k) * TABLE_BYTES;
      memory.fill(t, 0, ROW_BYTES);
      for (let code = 1; code < codes; code++) {
        const r = t + <usize>code * ROW_BYTES, prev = t + <usize>(code & (code - 1)) * ROW_BYTES;
        const add = rows + <usize>((BITS * g + ctz(code)) * taps + k) * ROW_BYTES;
        v128.store(r, f32x4.add(v128.load(prev), v128.load(add)));
        v128.store(r, f32x4.add(v128.load(prev, 16), v128.load(add, 16)), 16);
        v128.store(r, f32x4.add(v128.load(prev, 32), v128.load(add, 32)), 32);
        v128.store(r, f32x4.add(v128.load(prev, 48), v128.load(add, 48)), 48);
      }
    }
  }
}

// Two output positions (codes at c and c + step, sums in out and out2), so that eight independent sums
// hide the latency of the adds; they start from the bias (first) or from out and out2.
function lookupPair(
  c: usize, step: usize, out: usize, out2: usize, tables: usize, G: i32, KH: i32, KW: i32, plane: usize, Wp: usize, first: bool,
  b0: v128, b1: v128, b2: v128, b3: v128,
): void {
  let a0 = b0, a1 = b1, a2 = b2, a3 = b3;
  let e0 = b0, e1 = b1, e2 = b2, e3 = b3;
  if (!first) {
    a0 = v128.load(out);
    a1 = v128.load(out, 16);
    a2 = v128.load(out, 32);
    a3 = v128.load(out, 48);
    e0 = v128.load(out2);
    e1 = v128.load(out2, 16);
    e2 = v128.load(out2, 32);
    e3 = v128.load(out2, 48);
  }
  let t = tables;
  for (let g = 0; g < G; g++) {
    let row = c + <usize>g * plane;
    for (let kh = 0; kh < KH; kh++, row += Wp)
      for (let kw = 0; kw < KW; kw++, t += TABLE_BYTES) {
        const p = t + (<usize>load<u8>(row + kw) << 6);
        const q = t + (<usize>load<u8>(row + step + kw) << 6);
        a0 = f32x4.add(a0, v128.load(p));
        a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32));
        a3 = f32x4.add(a3, v128.load(p, 48));
        e0 = f32x4.add(e0, v128.load(q));
        e1 = f32x4.add(e1, v128.load(q, 16));
        e2 = f32x4.add(e2, v128.load(q, 32));
        e3 = f32x4.add(e3, v128.load(q, 48));
      }
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
  v128.store(out, a2, 32);
  v128.store(out, a3, 48);
  v128.store(out2, e0);
  v128.store(out2, e1, 16);
  v128.store(out2, e2, 32);
  v128.store(out2, e3, 48);
}
