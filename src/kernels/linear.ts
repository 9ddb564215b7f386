import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { computeMicros, partsFor } from '../engine/split.js';
import type { KernelCall } from '../engine/threads.js';
import { type PendingCall, gemmBands, runShares } from './gemm.js';

function sizes(op: string, x: Tensor, w: Tensor): { N: number; In: number; Out: number } {
  expectF32(op, 'x', x, 2);
  expectF32(op, 'w', w, 2);
  const [N, In] = x.shape;
  const [Out, wIn] = w.shape;
  if (wIn !== In) throw new ShapeError(`${op}: w has shape ${fmtShape(w.shape)}, expected [out, ${In}] for x ${fmtShape(x.shape)}`);
  return { N, In, Out };
}

function scratch(N: number, In: number, Out: number): [number, number] {
  const engine = getEngine();
  const bytes = engine.kernels.linearScratchBytes(N, In, Out);
  return [engine.scratch(bytes), bytes];
}

/** y[N,Out] = x[N,In] · w[Out,In]ᵀ + b[Out] (no bias when b is null). */
export function linearForward(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void {
  const { N, In, Out } = sizes('linearForward', x, w);
  if (b) expectShape('linearForward', 'b', b.shape, [Out]);
  expectShape('linearForward', 'y', y.shape, [N, Out]);
  expectDisjoint('linearForward', ['y', y], ['x', x], ['w', w], ['b', b]);
  const engine = getEngine();
  const parts = partsFor(engine.threads, computeMicros(2 * N * In * Out), Math.max(N, Out));
  if (parts === 1) {
    engine.kernels.linearForward(x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, N, In, Out, ...scratch(N, In, Out));
    return;
  }
  // As linearForward, by bands: each thread writes the bias into its band of y, then adds x·wᵀ to it.
  const bands = gemmBands({ transA: 0, transB: 1, M: N, N: Out, K: In, a: x.ptr, lda: In, b: w.ptr, ldb: In, c: y.ptr, ldc: Out, accumulate: b ? 1 : 0 }, parts);
  runShares(engine, bands.map((band) => (b ? [biasBand(band, y.ptr, b.ptr, Out), band] : [band])));
}

// The biasRows call that fills the block of y [N, Out] a band's gemm call covers: rows m, columns n
// from column j0 (0 for a band of rows).
function biasBand({ call }: PendingCall, y: number, b: number, Out: number): KernelCall {
  const [, , , m, n, , , , , , c] = call;
  const j0 = ((c - y) / 4) % Out;
  return ['biasRows', c, b + 4 * j0, m, n, Out];
}

/** Gradients of sum(dy * y): dx (skipped when null), dw and db (skipped when null); all overwritten. */
export function linearBackward(x: Tensor, w: Tensor, dy: Tensor, dx: Tensor | null, dw: Tensor, db: Tensor | null): void {
  const { N, In, Out } = sizes('linearBackward', x, w);
  expectShape('linearBackward', 'dy', dy.shape, [N, Out]);
  if (dx) expectShape('linearBackward', 'dx', dx.shape, [N, In]);
  expectShape('linearBackward', 'dw', dw.shape, [Out, In]);
  if (db) expectShape('linearBackward', 'db', db.shape, [Out]);
  for (const [name, out] of [['dx', dx], ['dw', dw], ['db', db]] as const)
    if (out) expectDisjoint('linearBackward', [name, out], ['x', x], ['w', w], ['dy', dy]);
  const engine = getEngine();
  const parts = partsFor(engine.threads, computeMicros((dx ? 4 : 2) * N * In * Out), Math.max(N, In, Out));
  if (parts === 1) {
    engine.kernels.linearBackward(x.ptr, w.ptr, dy.ptr, dx ? dx.ptr : 0, dw.ptr, db ? db.ptr : 0, N, In, Out, ...scratch(N, In, Out));
    return;
  }
  // The GEMMs of linearBackward by bands (dx = dy·w, dw = dyᵀ·x); thread 0 also sums db.
  const dxBands = dx ? gemmBands({ transA: 0, transB: 0, M: N, N: In, K: Out, a: dy.ptr, lda: Out, b: w.ptr, ldb: In, c: dx.ptr, ldc: In, accumulate: 0 }, parts) : [];
  const dwBands = gemmBands({ transA: 1, transB: 0, M: Out, N: In, K: N, a: dy.ptr, lda: Out, b: x.ptr, ldb: In, c: dw.ptr, ldc: In, accumulate: 0 }, parts);
  const shares = Array.from({ length: parts }, (_, t): Array<PendingCall | KernelCall> => [dxBands[t], dwBands[t]].filter((p) => p !== undefined));
  if (db) shares[0].push(['linearBiasGradient', dy.ptr, db.ptr, N, Out]);
  runShares(engine, shares);
}
