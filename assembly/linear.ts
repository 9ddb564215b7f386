// Fully connected layer, y[N,Out] = x[N,In] · w[Out,In]ᵀ + b[Out], and its backward, as GEMMs; when
// x is mostly zeros (spikes), y and dw visit only its non-zero entries: the layer is then the 1x1
// convolution of x [N, In, 1, 1] by w [Out, In, 1, 1], and runs conv-sparse-gemm.ts's kernels.
import { ConvGeometry, geometryAt } from './conv-geometry';
import {
  sparseGemmForward, sparseGemmForwardPays, sparseGemmLinearBytes, sparseGemmWeightGrad, sparseGemmWeightGradPays,
} from './conv-sparse-gemm';
import { gemm, gemmScratchBytes } from './gemm';
import { takeSparse } from './sparse-policy';

// The sparse kernels keep a transposed copy of w (or dw) in scratch: layers with more weights than
// this (Piczak's 5000x5000) stay dense rather than double their memory.
const SPARSE_MAX_WEIGHTS = 4 << 20;
// The 1x1 geometry sits at the start of the scratch, the sparse kernels' own scratch behind it.
const GEOMETRY_BYTES: usize = 64;

function sparseFits(In: i32, Out: i32): bool {
  return <i64>In * Out <= SPARSE_MAX_WEIGHTS;
}

// Writes the 1x1 geometry of these sizes at `at`.
function geometry1x1(at: usize, N: i32, In: i32, Out: i32): ConvGeometry {
  const g = geometryAt(at);
  g.N = N;
  g.C = In;
  g.H = g.W = g.KH = g.KW = g.SH = g.SW = g.groups = 1;
  g.PH = g.PW = 0;
  g.CO = Out;
  return g;
}

/** Scratch bytes linearForward and linearBackward need for these sizes. */
export function linearScratchBytes(N: i32, In: i32, Out: i32): usize {
  const dense = max(max(gemmScratchBytes(N, Out, In), gemmScratchBytes(N, In, Out)), gemmScratchBytes(Out, In, N));
  return sparseFits(In, Out) ? max(dense, GEOMETRY_BYTES + sparseGemmLinearBytes(N, In, Out)) : dense;
}

function check(name: string, N: i32, In: i32, Out: i32, scratchBytes: usize): void {
  assert(N > 0 && In > 0 && Out > 0, name + ': sizes must be positive');
  assert(scratchBytes >= linearScratchBytes(N, In, Out), name + ': scratch is smaller than linearScratchBytes');
}

/** y = x·wᵀ + b; b may be 0 (no bias). */
export function linearForward(x: usize, w: usize, b: usize, y: usize, N: i32, In: i32, Out: i32, scratch: usize, scratchBytes: usize): void {
  check('linearForward', N, In, Out, scratchBytes);
  if (sparseFits(In, Out)) {
    const g = geometry1x1(scratch, N, In, Out);
    if (takeSparse(sparseGemmForwardPays(g, x))) {
      sparseGemmForward(g, x, w, b, y, scratch + GEOMETRY_BYTES);
      return;
    }
  }
  if (b != 0) biasRows(y, b, N, Out, Out);
  gemm(0, 1, N, Out, In, x, In, w, In, y, Out, b != 0 ? 1 : 0, scratch, scratchBytes);
}

/** dx = dy·w (skipped when dx is 0), dw = dyᵀ·x, db = column sums of dy (skipped when 0); all overwritten. */
export function linearBackward(
  x: usize, w: usize, dy: usize, dx: usize, dw: usize, db: usize,
  N: i32, In: i32, Out: i32, scratch: usize, scratchBytes: usize,
): void {
  check('linearBackward', N, In, Out, scratchBytes);
  if (dx != 0) gemm(0, 0, N, In, Out, dy, Out, w, In, dx, In, 0, scratch, scratchBytes);
  if (sparseFits(In, Out) && takeSparse(sparseGemmWeightGradPays(geometry1x1(scratch, N, In, Out), x)))
    sparseGemmWeightGrad(geometryAt(scratch), x, dy, dw, scratch + GEOMETRY_BYTES);
  else gemm(1, 0, Out, In, N, dy, Out, x, In, dw, In, 0, scratch, scratchBytes);
  if (db != 0) linearBiasGradient(dy, db, N, Out);
}

/** y[n, j] = b[j] for n < N, j < cols, rows ldy floats apart: the bias a forward GEMM then adds to. */
export function biasRows(y: usize, b: usize, N: i32, cols: i32, ldy: i32): void {
  for (let n = 0; n < N; n++) memory.copy(y + ((<usize>n * ldy) << 2), b, <usize>cols << 2);
}

/** db[j] = sum over n of dy[n, j] (dy [N, Out]), overwritten. */
export function linearBiasGradient(dy: usize, db: usize, N: i32, Out: i32): void {
  memory.copy(db, dy, <usize>Out << 2);
  for (let n = 1; n < N; n++) {
    const row = dy + ((<usize>n * Out) << 2);
    let j = 0;
    for (; j + 4 <= Out; j += 4) {
      const o = <usize>j << 2;
      v128.store(db + o, f32x4.add(v128.load(db + o), v128.load(row + o)));
    }
    for (; j < Out; j++) {
      const o = <usize>j << 2;
      store<f32>(db + o, load<f32>(db + o) + load<f32>(row + o));
    }
  }
}
