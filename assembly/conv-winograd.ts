// Winograd's minimal filtering F(4, 3) along the width (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks"), for 3-tap kernels at stride 1 in the width: M5's convolutions after
// the first, and any KH x 3 kernel (rows are lowered as im2col does). Four outputs of a 3-tap
// correlation from six inputs d take 6 multiplies instead of 12:
//
//   y = Aᵀ [(G g) ⊙ (Bᵀ d)]
//
// With many channels, the products summed over input channels become 6 GEMMs, one per transformed
// point ξ: M_ξ[co, tile] = Σ_(c,kh) U_ξ[co, (c,kh)] · V_ξ[(c,kh), tile], U = G g, V = Bᵀ d, half the
// multiply-adds of im2col's one GEMM. The two gradients are the same identity read backwards
// (Σᵢ dyᵢ yᵢ = Σ_ξ (A dy)_ξ (G g)_ξ (Bᵀ d)_ξ):
//
//   ∂/∂d = B [(A dy) ⊙ (G g)]        ∂/∂g = Gᵀ [(A dy) ⊙ (Bᵀ d)]
//
// so dx is 6 GEMMs with U transposed and dw 6 GEMMs against V, over the same transforms. In exact
// arithmetic all three equal the direct correlation. In f32 they round differently: the points 0, ±1,
// ±2 keep the transforms' coefficients at most 8, and test/conv-winograd.test.ts holds all three to
// the f64 reference within the tolerance im2col meets.
//
// Non-finite values: in exact arithmetic an infinity reaches only the outputs whose taps cover it, but
// the transforms mix a tile's six inputs with coefficients that cancel, so here it would turn its
// tile's other outputs into NaN (inf - inf). The transforms watch for NaN and infinity as they read,
// and a kernel that meets one returns false having written nothing valid: conv.ts then runs im2col,
// whose NaN and infinities are the direct sum's.
//
// Layout: the columns of a chunk are (sample, output row, tile), TW tiles per row (the tile count
// rounded up to 4, so the transforms run four tiles to a vector; the extra tiles see zeros and are
// never written). Transformed arrays are [6][rows][columns].
import { ConvGeometry, outHeight, outWidth } from './conv-geometry';
import { gemm } from './gemm';
import {
  gemmOffset, inputsOffset, outputsOffset, POINTS, rowOffset, rowsBytes, rowsCost, rowsFit, samplesPerChunk, TILE, tilesPerRow,
} from './conv-winograd-layout';
import { addForward } from './elementwise';
import { nonFinite, nonFiniteScalar, transposeRow } from './simd';

/** Whether the geometry fits F(4, 3) along the width: 3 taps at stride 1, padding below 3, and one
 *  sample's transformed values within conv-winograd-layout.ts's bound. */
export function winogradFits(geom: ConvGeometry): bool {
  return geom.KW == 3 && geom.SW == 1 && geom.PW < 3 && rowsFit(geom.C * geom.KH, geom.CO, outHeight(geom), outWidth(geom));
}

// @ts-ignore: decorator
@inline function chunkSamples(geom: ConvGeometry): i32 {
  return samplesPerChunk(geom.N, geom.C * geom.KH, geom.CO, outHeight(geom), outWidth(geom));
}

// @ts-ignore: decorator
@inline function chunkColumns(geom: ConvGeometry): i32 {
  return chunkSamples(geom) * outHeight(geom) * tilesPerRow(outWidth(geom));
}

// A padded row: every position the tiles read (4 per tile, and 2 more) and the 4 a vector reads past
// the last group. It holds the input row with its padding: OW = W + 2 PW - 2 <= 4 TW.
// @ts-ignore: decorator
@inline function rowFloats(geom: ConvGeometry): i32 {
  return TILE * tilesPerRow(outWidth(geom)) + 4;
}

// Scratch: conv-winograd-layout.ts's order, at this geometry's sizes.
// @ts-ignore: decorator
@inline function inputsAt(geom: ConvGeometry, scratch: usize): usize {
  return scratch + inputsOffset(geom.C * geom.KH, geom.CO);
}

// @ts-ignore: decorator
@inline function outputsAt(geom: ConvGeometry, scratch: usize): usize {
  return scratch + outputsOffset(geom.C * geom.KH, geom.CO, chunkColumns(geom));
}

// @ts-ignore: decorator
@inline function rowAt(geom: ConvGeometry, scratch: usize): usize {
  return scratch + rowOffset(geom.C * geom.KH, geom.CO, chunkColumns(geom));
}

// @ts-ignore: decorator
@inline function gemmAt(geom: ConvGeometry, scratch: usize): usize {
  return scratch + gemmOffset(geom.C * geom.KH, geom.CO, chunkColumns(geom), outWidth(geom));
}

export function winogradBytes(geom: ConvGeometry): usize {
  return rowsBytes(geom.N, geom.C * geom.KH, geom.CO, outHeight(geom), outWidth(geom));
}

/**
 * Its cost in the cost model's units (multiply-adds of the direct correlation): 6 multiply-adds per
 * tile, input row and output channel in the GEMMs, on the tiles rounded up to vectors of four, and
 * the transforms, about 10 operations per transformed value.
 */
export function winogradCost(geom: ConvGeometry): f64 {
  return rowsCost(geom.N, geom.C * geom.KH, geom.CO, outHeight(geom), outWidth(geom));
}

// a + s b
// @ts-ignore: decorator
@inline function axpy(a: v128, s: f32, b: v128): v128 {
  return f32x4.add(a, f32x4.mul(b, f32x4.splat(s)));
}

// U = G g for every (co, c, kh): w [CO, C, KH, 3] -> [6][CO][R] with R = C * KH. G has the rows
// (1/4, 0, 0), (-1/6, -1/6, -1/6), (-1/6, 1/6, -1/6), (1/24, 1/12, 1/6), (1/24, -1/12, 1/6), (0, 0, 1).
// False when a weight is NaN or infinite.
function transformWeights(geom: ConvGeometry, w: usize, u: usize): bool {
  const rows = geom.CO * geom.C * geom.KH;
  const plane = <usize>rows << 2;
  let finite = true;
  for (let i = 0; i < rows; i++) {
    const g = w + (<usize>(i * 3) << 2);
    const g0 = load<f32>(g), g1 = load<f32>(g, 4), g2 = load<f32>(g, 8);
    finite = finite && !nonFiniteScalar(g0) && !nonFiniteScalar(g1) && !nonFiniteScalar(g2);
    const p = u + (<usize>i << 2);
    store<f32>(p, g0 * 0.25);
    store<f32>(p + plane, (g0 + g1 + g2) * (-1.0 / 6.0));
    store<f32>(p + 2 * plane, (g0 - g1 + g2) * (-1.0 / 6.0));
    store<f32>(p + 3 * plane, g0 * (1.0 / 24.0) + g1 * (1.0 / 12.0) + g2 * (1.0 / 6.0));
    store<f32>(p + 4 * plane, g0 * (1.0 / 24.0) - g1 * (1.0 / 12.0) + g2 * (1.0 / 6.0));
    store<f32>(p + 5 * plane, g2);
  }
  return finite;
}

// dw = Gᵀ M for every (co, c, kh): [6][CO][R] -> dw [CO, C, KH, 3].
function foldWeightGrad(geom: ConvGeometry, m: usize, dw: usize): void {
  const rows = geom.CO * geom.C * geom.KH;
  const plane = <usize>rows << 2;
  for (let i = 0; i < rows; i++) {
    const p = m + (<usize>i << 2);
    const m0 = load<f32>(p), m1 = load<f32>(p + plane), m2 = load<f32>(p + 2 * plane);
    const m3 = load<f32>(p + 3 * plane), m4 = load<f32>(p + 4 * plane), m5 = load<f32>(p + 5 * plane);
    const o = dw + (<usize>(i * 3) << 2);
    store<f32>(o, m0 * 0.25 - (m1 + m2) * (1.0 / 6.0) + (m3 + m4) * (1.0 / 24.0));
    store<f32>(o, (m2 - m1) * (1.0 / 6.0) + (m3 - m4) * (1.0 / 12.0), 4);
    store<f32>(o, (m3 + m4 - m1 - m2) * (1.0 / 6.0) + m5, 8);
  }
}

// V = Bᵀ d for the TW tiles of one padded input row, into columns col.. of row r of [6][R][cols].
// Bᵀ has the rows (4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0),
// (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1).
// Returns the lanes that met a NaN or an infinity.
function transformInputRow(row: usize, TW: i32, v: usize, plane: usize, at: usize): v128 {
  let out = v + at;
  let bad = f32x4.splat(0);
  for (let t = 0; t < TW; t += 4) {
    const p = row + (<usize>(t * TILE) << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const d0 = transposeRow(a, b, c, d, 0), d1 = transposeRow(a, b, c, d, 1);
    const d2 = transposeRow(a, b, c, d, 2), d3 = transposeRow(a, b, c, d, 3);
    // A tile's last two inputs are the next one's first two.
    const next = v128.load(p, 64);
    bad = v128.or(bad, v128.or(v128.or(nonFinite(a), nonFinite(b)), v128.or(v128.or(nonFinite(c), nonFinite(d)), nonFinite(next))));
    const d4 = v128.shuffle<f32>(d0, next, 1, 2, 3, 4);
    const d5 = v128.shuffle<f32>(d1, next, 1, 2, 3, 5);
    const e = axpy(d4, -4, d2), f = f32x4.sub(d4, d2), g = f32x4.sub(d3, d1);
    v128.store(out, axpy(axpy(d4, -5, d2), 4, d0));
    v128.store(out + plane, axpy(f32x4.add(e, d3), -4, d1));
    v128.store(out + 2 * plane, axpy(f32x4.sub(e, d3), 4, d1));
    v128.store(out + 3 * plane, axpy(f, 2, g));
    v128.store(out + 4 * plane, axpy(f, -2, g));
    v128.store(out + 5 * plane, axpy(axpy(d5, -5, d3), 4, d1));
    out += 16;
  }
  return bad;
}

// The input rows of samples n0..n0+ns, transformed into [6][R][cols]. A row the kernel reads
// outside the input (vertical padding) transforms to zeros. False when an input is NaN or infinite.
function transformInputs(geom: ConvGeometry, x: usize, n0: i32, ns: i32, v: usize, row: usize): bool {
  const C = geom.C, H = geom.H, W = geom.W, KH = geom.KH, SH = geom.SH, PH = geom.PH, PW = geom.PW;
  const OH = outHeight(geom), TW = tilesPerRow(outWidth(geom)), R = C * KH;
  const cols = ns * OH * TW;
  const plane = (<usize>R * cols) << 2;
  // The padding around the copied row stays zero: every row is copied to the same place.
  memory.fill(row, 0, <usize>rowFloats(geom) << 2);
  let bad = f32x4.splat(0);
  for (let n = 0; n < ns; n++)
    for (let c = 0; c < C; c++)
      for (let kh = 0; kh < KH; kh++) {
        const r = c * KH + kh;
        for (let oh = 0; oh < OH; oh++) {
          const at = (<usize>r * cols + (n * OH + oh) * TW) << 2;
          const ih = oh * SH + kh - PH;
          if (ih < 0 || ih >= H) {
            for (let xi: usize = 0; xi < POINTS; xi++) memory.fill(v + xi * plane + at, 0, <usize>TW << 2);
            continue;
          }
          memory.copy(row + (<usize>PW << 2), x + ((<usize>(((n0 + n) * C + c) * H + ih) * W) << 2), <usize>W << 2);
          bad = v128.or(bad, transformInputRow(row, TW, v, plane, at));
        }
      }
  return !v128.any_true(bad);
}

// D = A dy for dy of samples n0..n0+ns, into [6][CO][cols]; the tiles past the row's end see zeros.
// False when a value of dy is NaN or infinite.
// Aᵀ has the rows (1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1).
function transformOutputGrads(geom: ConvGeometry, dy: usize, n0: i32, ns: i32, dd: usize, row: usize): bool {
  const CO = geom.CO, OH = outHeight(geom), OW = outWidth(geom), TW = tilesPerRow(OW);
  const cols = ns * OH * TW;
  const plane = (<usize>CO * cols) << 2;
  memory.fill(row, 0, <usize>rowFloats(geom) << 2);
  let bad = f32x4.splat(0);
  for (let n = 0; n < ns; n++)
    for (let co = 0; co < CO; co++)
      for (let oh = 0; oh < OH; oh++) {
        memory.copy(row, dy + ((<usize>(((n0 + n) * CO + co) * OH + oh) * OW) << 2), <usize>OW << 2);
        let out = dd + ((<usize>co * cols + (n * OH + oh) * TW) << 2);
        for (let t = 0; t < TW; t += 4) {
          const p = row + (<usize>(t * TILE) << 2);
          const r0 = v128.load(p), r1 = v128.load(p, 16), r2 = v128.load(p, 32), r3 = v128.load(p, 48);
          bad = v128.or(bad, v128.or(v128.or(nonFinite(r0), nonFinite(r1)), v128.or(nonFinite(r2), nonFinite(r3))));
          const g0 = transposeRow(r0, r1, r2, r3, 0), g1 = transposeRow(r0, r1, r2, r3, 1);
          const g2 = transposeRow(r0, r1, r2, r3, 2), g3 = transposeRow(r0, r1, r2, r3, 3);
          const a = f32x4.add(g0, g2), b = f32x4.add(g1, g3);
          const c = axpy(g0, 4, g2), e = axpy(f32x4.add(g1, g1), 8, g3);
          v128.store(out, g0);
          v128.store(out + plane, f32x4.add(a, b));
          v128.store(out + 2 * plane, f32x4.sub(a, b));
          v128.store(out + 3 * plane, f32x4.add(c, e));
          v128.store(out + 4 * plane, f32x4.sub(c, e));
          v128.store(out + 5 * plane, g3);
          out += 16;
        }
      }
  return !v128.any_true(bad);
}

// The six GEMMs of one chunk, one per transformed point.
function forEachPoint(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, a: usize, lda: i32, aPlane: usize, b: usize, ldb: i32, bPlane: usize,
  c: usize, ldc: i32, cPlane: usize, accumulate: i32, gs: usize, gsBytes: usize,
): void {
  for (let xi: usize = 0; xi < POINTS; xi++)
    gemm(transA, transB, M, N, K, a + xi * aPlane, lda, b + xi * bPlane, ldb, c + xi * cPlane, ldc, accumulate, gs, gsBytes);
}

/** y = conv(x, w) + b (b may be 0: no bias), through F(4, 3). Scratch: winogradBytes. False, with y
 *  not valid, when x or w holds a NaN or an infinity. */
export function winogradForward(geom: ConvGeometry, x: usize, w: usize, b: usize, y: usize, scratch: usize, scratchBytes: usize): bool {
  const N = geom.N, CO = geom.CO, R = geom.C * geom.KH;
  const OH = outHeight(geom), OW = outWidth(geom), TW = tilesPerRow(OW);
  const u = scratch, v = inputsAt(geom, scratch), m = outputsAt(geom, scratch), row = rowAt(geom, scratch);
  const gs = gemmAt(geom, scratch), gsBytes = scratchBytes - (gs - scratch);
  if (!transformWeights(geom, w, u)) return false;
  const per = chunkSamples(geom);
  for (let n0 = 0; n0 < N; n0 += per) {
    const ns = min(per, N - n0), cols = ns * OH * TW;
    if (!transformInputs(geom, x, n0, ns, v, row)) return false;
    forEachPoint(0, 0, CO, cols, R, u, R, <usize>CO * R * 4, v, cols, <usize>R * cols * 4, m, cols, <usize>CO * cols * 4, 0, gs, gsBytes);
    // y = Aᵀ M, four tiles at a time, transposed back to positions in the row buffer, then biased.
    const plane = (<usize>CO * cols) << 2;
    for (let n = 0; n < ns; n++)
      for (let co = 0; co < CO; co++) {
        const bias = b != 0 ? f32x4.splat(load<f32>(b + (<usize>co << 2))) : f32x4.splat(0);
        for (let oh = 0; oh < OH; oh++) {
          let p = m + ((<usize>co * cols + (n * OH + oh) * TW) << 2);
          for (let t = 0; t < TW; t += 4) {
            const m0 = v128.load(p), m1 = v128.load(p + plane), m2 = v128.load(p + 2 * plane);
            const m3 = v128.load(p + 3 * plane), m4 = v128.load(p + 4 * plane), m5 = v128.load(p + 5 * plane);
            const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
            const y0 = f32x4.add(f32x4.add(m0, s12), s34), y1 = axpy(d12, 2, d34);
            const y2 = axpy(s12, 4, s34), y3 = f32x4.add(axpy(d12, 8, d34), m5);
            const q = row + (<usize>(t * TILE) << 2);
            v128.store(q, transposeRow(y0, y1, y2, y3, 0));
            v128.store(q, transposeRow(y0, y1, y2, y3, 1), 16);
            v128.store(q, transposeRow(y0, y1, y2, y3, 2), 32);
            v128.store(q, transposeRow(y0, y1, y2, y3, 3), 48);
            p += 16;
          }
          const out = y + ((<usize>(((n0 + n) * CO + co) * OH + oh) * OW) << 2);
          let i = 0;
          for (; i + 4 <= OW; i += 4) v128.store(out + (<usize>i << 2), f32x4.add(v128.load(row + (<usize>i << 2)), bias));
          for (; i < OW; i++) store<f32>(out + (<usize>i << 2), load<f32>(row + (<usize>i << 2)) + f32x4.extract_lane(bias, 0));
        }
      }
  }
  return true;
}

/** dx = the gradient of sum(dy * conv(x, w)) with respect to x (overwritten), through F(4, 3). False,
 *  with dx not valid, when dy or w holds a NaN or an infinity. */
export function winogradBackwardInput(geom: ConvGeometry, w: usize, dy: usize, dx: usize, scratch: usize, scratchBytes: usize): bool {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, SH = geom.SH, PH = geom.PH, PW = geom.PW;
  const R = C * KH, OH = outHeight(geom), TW = tilesPerRow(outWidth(geom));
  const u = scratch, dv = inputsAt(geom, scratch), d = outputsAt(geom, scratch), row = rowAt(geom, scratch);
  const gs = gemmAt(geom, scratch), gsBytes = scratchBytes - (gs - scratch);
  if (!transformWeights(geom, w, u)) return false;
  memory.fill(dx, 0, (<usize>N * C * H * W) << 2);
  const per = chunkSamples(geom);
  const zero = f32x4.splat(0);
  for (let n0 = 0; n0 < N; n0 += per) {
    const ns = min(per, N - n0), cols = ns * OH * TW;
    if (!transformOutputGrads(geom, dy, n0, ns, d, row)) return false;
    forEachPoint(1, 0, R, cols, CO, u, R, <usize>CO * R * 4, d, cols, <usize>CO * cols * 4, dv, cols, <usize>R * cols * 4, 0, gs, gsBytes);
    // dd = B dV per tile, summed where neighbouring tiles overlap, into the padded row, then added
    // into dx's row.
    const plane = (<usize>R * cols) << 2;
    for (let n = 0; n < ns; n++)
      for (let c = 0; c < C; c++)
        for (let kh = 0; kh < KH; kh++)
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH + kh - PH;
            if (ih < 0 || ih >= H) continue;
            memory.fill(row, 0, <usize>rowFloats(geom) << 2);
            let p = dv + ((<usize>(c * KH + kh) * cols + (n * OH + oh) * TW) << 2);
            for (let t = 0; t < TW; t += 4) {
              const v0 = v128.load(p), v1 = v128.load(p + plane), v2 = v128.load(p + 2 * plane);
              const v3 = v128.load(p + 3 * plane), v4 = v128.load(p + 4 * plane), v5 = v128.load(p + 5 * plane);
              const s12 = f32x4.add(v1, v2), d12 = f32x4.sub(v1, v2), s34 = f32x4.add(v3, v4), d34 = f32x4.sub(v3, v4);
              // B: the columns of Bᵀ above.
              const q = row + (<usize>(t * TILE) << 2);
              const e0 = f32x4.mul(v0, f32x4.splat(4));
              const e1 = axpy(f32x4.mul(f32x4.sub(v5, d12), f32x4.splat(4)), -2, d34);
              const e2 = f32x4.sub(axpy(f32x4.mul(s12, f32x4.splat(-4)), -5, v0), s34);
              const e3 = axpy(axpy(d12, 2, d34), -5, v5);
              v128.store(q, f32x4.add(v128.load(q), transposeRow(e0, e1, e2, e3, 0)));
              v128.store(q, f32x4.add(v128.load(q, 16), transposeRow(e0, e1, e2, e3, 1)), 16);
              v128.store(q, f32x4.add(v128.load(q, 32), transposeRow(e0, e1, e2, e3, 2)), 32);
              v128.store(q, f32x4.add(v128.load(q, 48), transposeRow(e0, e1, e2, e3, 3)), 48);
              // A tile's last two positions are the next tile's first two: (e4, e5, 0, 0) per tile.
              const e4 = f32x4.add(f32x4.add(v0, s12), s34);
              v128.store(q, f32x4.add(v128.load(q, 16), transposeRow(e4, v5, zero, zero, 0)), 16);
              v128.store(q, f32x4.add(v128.load(q, 32), transposeRow(e4, v5, zero, zero, 1)), 32);
              v128.store(q, f32x4.add(v128.load(q, 48), transposeRow(e4, v5, zero, zero, 2)), 48);
              v128.store(q, f32x4.add(v128.load(q, 64), transposeRow(e4, v5, zero, zero, 3)), 64);
              p += 16;
            }
            const out = dx + ((<usize>(((n0 + n) * C + c) * H + ih) * W) << 2);
            addForward(out, row + (<usize>PW << 2), out, W);
          }
  }
  return true;
}

/** dw = the gradient of sum(dy * conv(x, w)) with respect to w (overwritten), through F(4, 3); the
 *  caller sums db. False, with dw not valid, when x or dy holds a NaN or an infinity. */
export function winogradBackwardWeight(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize, scratchBytes: usize): bool {
  const N = geom.N, CO = geom.CO, R = geom.C * geom.KH, OH = outHeight(geom), TW = tilesPerRow(outWidth(geom));
  const m = scratch, v = inputsAt(geom, scratch), d = outputsAt(geom, scratch), row = rowAt(geom, scratch);
  const gs = gemmAt(geom, scratch), gsBytes = scratchBytes - (gs - scratch);
  const per = chunkSamples(geom);
  for (let n0 = 0; n0 < N; n0 += per) {
    const ns = min(per, N - n0), cols = ns * OH * TW;
    if (!transformInputs(geom, x, n0, ns, v, row) || !transformOutputGrads(geom, dy, n0, ns, d, row)) return false;
    forEachPoint(0, 1, CO, R, cols, d, cols, <usize>CO * cols * 4, v, cols, <usize>R * cols * 4, m, R, <usize>CO * R * 4, n0 > 0 ? 1 : 0, gs, gsBytes);
  }
  foldWeightGrad(geom, m, dw);
  return true;
}
