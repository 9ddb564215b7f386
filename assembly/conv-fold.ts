// A strided or long 1-d correlation folded into Winograd's F(4, 3) (conv-winograd.ts): M5's first
// layer (80 taps at stride 4 over the waveform) and any 1-d kernel past 3 taps or at a stride. With
// xp the input zero-padded by P and the taps split as k = s (3 g + t) + r (phase r < s, group g < m,
// t < 3):
//
//   y[co, o] = Σ_c Σ_k w[co, c, k] xp[c, s o + k]
//            = Σ_(c,r,g) Σ_t w[co, c, s (3 g + t) + r] · x'[(c, r, g), o + t]
//   x'[(c, r, g), v] = xp[c, s (v + 3 g) + r]
//
// a 3-tap correlation at stride 1 over R = C s m rows (taps past the kernel's end weigh 0), which
// F(4, 3) runs with half the multiply-adds of im2col's. The rows x' are gathered from x per chunk of
// samples, the weights w' per call; dw is w''s gradient read back at the same taps, and dx is x''s
// gradient added back where each of its values was read (a value of x sits in up to m rows).
// Non-finite values: the Winograd kernels refuse them (returning false) and conv.ts runs im2col.
import { align64 } from './align';
import { ConvGeometry, outWidth, writeGeometry } from './conv-geometry';
import { rowsBytes, rowsCost, rowsFit } from './conv-winograd-layout';
import { winogradBackwardInput, winogradBackwardWeight, winogradForward } from './conv-winograd';

// Gathered rows of a chunk of samples stay under this.
const CHUNK_BYTES: usize = 2 << 20;
const GEOMETRY_BYTES: usize = 64;

// @ts-ignore: decorator
@inline function groups(geom: ConvGeometry): i32 {
  return ((geom.KW + geom.SW - 1) / geom.SW + 2) / 3;
}

// @ts-ignore: decorator
@inline function foldedRows(geom: ConvGeometry): i32 {
  return geom.C * geom.SW * groups(geom);
}

// @ts-ignore: decorator
@inline function foldedWidth(geom: ConvGeometry): i32 {
  return outWidth(geom) + 2;
}

function chunkSamples(geom: ConvGeometry): i32 {
  const bytes = (<usize>foldedRows(geom) * foldedWidth(geom)) << 2;
  return <i32>max<usize>(1, min<usize>(<usize>geom.N, CHUNK_BYTES / bytes));
}

// The folded correlation of ns samples, written as a descriptor at `at`.
function folded(geom: ConvGeometry, ns: i32, at: usize): ConvGeometry {
  return writeGeometry(at, ns, foldedRows(geom), 1, foldedWidth(geom), geom.CO, 1, 3, 1, 1, 0, 0);
}

/** Whether a correlation folds: 1-d (one row, KH 1), past 3 taps or at a stride in the width, and
 *  the folded rows fit Winograd's kernel. */
export function foldFits(geom: ConvGeometry): bool {
  if (geom.H != 1 || geom.KH != 1 || geom.PH != 0 || geom.SH != 1 || geom.groups != 1) return false;
  if (geom.KW <= 3 && geom.SW == 1) return false;
  return rowsFit(foldedRows(geom), geom.CO, 1, outWidth(geom));
}

// Each folded row of a sample costs the Winograd kernels a fixed price (clearing, copying and
// transforming a short row) that many short rows do not amortise: TC-ResNet8's last layer on MFCC
// ([16, 48, 13] -> 48, 9 taps: 144 rows of 15) ran no faster folded than through im2col (bench/conv),
// where Winograd's cost alone predicted 0.82 of im2col's.
const ROW_COST: f64 = 500;

/** The predicted cost, in the units of winogradCost: Winograd's on the folded rows, about four
 *  operations per gathered value (read, place, and the same again for dx's sum), and each row's price. */
export function foldCost(geom: ConvGeometry): f64 {
  const rows = <f64>geom.N * foldedRows(geom);
  return rowsCost(geom.N, foldedRows(geom), geom.CO, 1, outWidth(geom)) + rows * (4 * <f64>foldedWidth(geom) + ROW_COST);
}

// Scratch, in order: the folded geometry; w' (or its gradient) [CO][R][3]; a second such array (a
// later chunk's gradient); a chunk's rows x' (or their gradient) [ns][R][W']; Winograd's scratch.
// @ts-ignore: decorator
@inline function weightBytes(geom: ConvGeometry): usize {
  return align64(<usize>geom.CO * foldedRows(geom) * 12);
}

// @ts-ignore: decorator
@inline function rowsAt(geom: ConvGeometry, scratch: usize): usize {
  return scratch + GEOMETRY_BYTES + 2 * weightBytes(geom);
}

// @ts-ignore: decorator
@inline function winogradAt(geom: ConvGeometry, scratch: usize): usize {
  return rowsAt(geom, scratch) + align64((<usize>chunkSamples(geom) * foldedRows(geom) * foldedWidth(geom)) << 2);
}

/** Scratch bytes of the fold's three passes. */
export function foldBytes(geom: ConvGeometry): usize {
  return winogradAt(geom, 0) + rowsBytes(chunkSamples(geom), foldedRows(geom), geom.CO, 1, outWidth(geom));
}

// Between w [CO, C, 1, K] and w' [CO][(c, r, g)][t] (tap k = s (3 g + t) + r): w' laid out, zero past
// the kernel, or (`back`) w''s gradient read back into dw at the same taps (the padded taps dropped).
function moveWeights(geom: ConvGeometry, w: usize, wf: usize, back: bool): void {
  const C = geom.C, K = geom.KW, s = geom.SW, m = groups(geom), CO = geom.CO;
  let p = wf;
  for (let co = 0; co < CO; co++)
    for (let c = 0; c < C; c++) {
      const taps = w + ((<usize>(co * C + c) * K) << 2);
      for (let r = 0; r < s; r++)
        for (let g = 0; g < m; g++)
          for (let t = 0; t < 3; t++) {
            const k = s * (3 * g + t) + r, q = taps + (<usize>k << 2);
            if (back) {
              if (k < K) store<f32>(q, load<f32>(p));
            } else store<f32>(p, k < K ? load<f32>(q) : 0);
            p += 4;
          }
    }
}

// Between x and its rows x'[(c, r, g), v] = x[c, s (v + 3 g) + r - P] (zero outside x), for samples
// n0..n0+ns: gathered into `rows`, or (`back`) the rows' gradient added into x's where each value was read.
function moveRows(geom: ConvGeometry, x: usize, n0: i32, ns: i32, rows: usize, back: bool): void {
  const C = geom.C, W = geom.W, s = geom.SW, P = geom.PW, m = groups(geom), WF = foldedWidth(geom);
  let p = rows;
  for (let n = 0; n < ns; n++)
    for (let c = 0; c < C; c++) {
      const plane = x + ((<usize>((n0 + n) * C + c) * W) << 2);
      for (let r = 0; r < s; r++)
        for (let g = 0; g < m; g++) {
          const start = s * 3 * g + r - P;
          for (let v = 0; v < WF; v++) {
            const i = start + s * v;
            const inside = i >= 0 && i < W;
            const q = plane + (<usize>i << 2);
            if (back) {
              if (inside) store<f32>(q, load<f32>(q) + load<f32>(p));
            } else store<f32>(p, inside ? load<f32>(q) : 0);
            p += 4;
          }
        }
    }
}

/** y = conv(x, w) + b (b may be 0), folded. Scratch: foldBytes. False, with y not valid, when x or
 *  w holds a NaN or an infinity. */
export function foldForward(geom: ConvGeometry, x: usize, w: usize, b: usize, y: usize, scratch: usize, scratchBytes: usize): bool {
  const wf = scratch + GEOMETRY_BYTES, rows = rowsAt(geom, scratch), ws = winogradAt(geom, scratch);
  const wsBytes = scratchBytes - (ws - scratch), per = chunkSamples(geom), outBytes = <usize>geom.CO * outWidth(geom) * 4;
  moveWeights(geom, w, wf, false);
  for (let n0 = 0; n0 < geom.N; n0 += per) {
    const ns = min(per, geom.N - n0);
    moveRows(geom, x, n0, ns, rows, false);
    if (!winogradForward(folded(geom, ns, scratch), rows, wf, b, y + <usize>n0 * outBytes, ws, wsBytes)) return false;
  }
  return true;
}

/** dx (overwritten), folded. False, with dx not valid, when dy or w holds a NaN or an infinity. */
export function foldBackwardInput(geom: ConvGeometry, w: usize, dy: usize, dx: usize, scratch: usize, scratchBytes: usize): bool {
  const wf = scratch + GEOMETRY_BYTES, rows = rowsAt(geom, scratch), ws = winogradAt(geom, scratch);
  const wsBytes = scratchBytes - (ws - scratch), per = chunkSamples(geom), outBytes = <usize>geom.CO * outWidth(geom) * 4;
  moveWeights(geom, w, wf, false);
  memory.fill(dx, 0, (<usize>geom.N * geom.C * geom.W) << 2);
  for (let n0 = 0; n0 < geom.N; n0 += per) {
    const ns = min(per, geom.N - n0);
    if (!winogradBackwardInput(folded(geom, ns, scratch), wf, dy + <usize>n0 * outBytes, rows, ws, wsBytes)) return false;
    moveRows(geom, dx, n0, ns, rows, true);
  }
  return true;
}

/** dw (overwritten), folded; the caller sums db. False, with dw not valid, when x or dy holds a NaN
 *  or an infinity. */
export function foldBackwardWeight(geom: ConvGeometry, x: usize, dy: usize, dw: usize, scratch: usize, scratchBytes: usize): bool {
  const sum = scratch + GEOMETRY_BYTES, part = sum + weightBytes(geom), rows = rowsAt(geom, scratch), ws = winogradAt(geom, scratch);
  const wsBytes = scratchBytes - (ws - scratch), per = chunkSamples(geom), outBytes = <usize>geom.CO * outWidth(geom) * 4;
  const n = geom.CO * foldedRows(geom) * 3;
  for (let n0 = 0; n0 < geom.N; n0 += per) {
    const ns = min(per, geom.N - n0);
    moveRows(geom, x, n0, ns, rows, false);
    if (!winogradBackwardWeight(folded(geom, ns, scratch), rows, dy + <usize>n0 * outBytes, n0 == 0 ? sum : part, ws, wsBytes)) return false;
    if (n0 > 0) for (let i = 0; i < n; i++) store<f32>(sum + (<usize>i << 2), load<f32>(sum + (<usize>i << 2)) + load<f32>(part + (<usize>i << 2)));
  }
  moveWeights(geom, dw, sum, true);
  return true;
}
