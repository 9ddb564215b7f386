import { type Engine, getEngine } from '../engine/engine.js';
import type { KernelCall } from '../engine/threads.js';
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { computeMicros, partsFor, ranges } from '../engine/split.js';

export interface MatmulOptions {
  /** Use aᵀ: `a` is stored [K, M]. */
  transA?: boolean;
  /** Use bᵀ: `b` is stored [N, K]. */
  transB?: boolean;
  /** Add the product to `c` instead of overwriting it. */
  accumulate?: boolean;
}

/** c[M,N] = op(a)[M,K] · op(b)[K,N], plus c when `accumulate`; c must not overlap a or b. */
export function matmul(a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): void {
  const { transA = false, transB = false, accumulate = false } = opts;
  expectF32('matmul', 'a', a, 2);
  expectF32('matmul', 'b', b, 2);
  expectF32('matmul', 'c', c, 2);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  const desc = () => `a ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · b ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (Kb !== K) throw new ShapeError(`matmul: inner sizes differ in ${desc()} (${K} vs ${Kb})`);
  if (c.shape[0] !== M || c.shape[1] !== N)
    throw new ShapeError(`matmul: c has shape ${fmtShape(c.shape)}, expected ${fmtShape([M, N])} for ${desc()}`);
  expectDisjoint('matmul', ['c', c], ['a', a], ['b', b]);
  const engine = getEngine();
  const g: Gemm = { transA: +transA, transB: +transB, M, N, K, a: a.ptr, lda: a.shape[1], b: b.ptr, ldb: b.shape[1], c: c.ptr, ldc: N, accumulate: +accumulate };
  runShares(engine, gemmBands(g, partsFor(engine.threads, computeMicros(2 * M * N * K), Math.max(M, N))).map((p) => [p]));
}

/** One call of the `gemm` export: C[M,N] (+)= op(A)·op(B), offsets and leading dimensions in floats. */
export interface Gemm {
  transA: number; transB: number; M: number; N: number; K: number;
  a: number; lda: number; b: number; ldb: number; c: number; ldc: number; accumulate: number;
}

/** A kernel call that still needs its thread's scratch appended: the call and the scratch bytes. */
export type PendingCall = { call: KernelCall; bytes: number };

/**
 * g as `parts` gemm calls over bands of C's rows (or columns, when C is wider than tall), one per
 * thread. The micro-kernel sums each tile from zero and adds it to C, so every element of C is the
 * same sum in the same order whatever band holds it: the result is bit for bit that of one call.
 */
export function gemmBands(g: Gemm, parts: number): PendingCall[] {
  const k = getEngine().kernels;
  const byRows = g.M >= g.N;
  return ranges(byRows ? g.M : g.N, parts).map(([lo, hi]) => {
    const [m, n] = byRows ? [hi - lo, g.N] : [g.M, hi - lo];
    const a = byRows ? g.a + 4 * lo * (g.transA ? 1 : g.lda) : g.a;
    const b = byRows ? g.b : g.b + 4 * lo * (g.transB ? g.ldb : 1);
    const c = g.c + 4 * lo * (byRows ? g.ldc : 1);
    const call: KernelCall = ['gemm', g.transA, g.transB, m, n, g.K, a, g.lda, b, g.ldb, c, g.ldc, g.accumulate];
    return { call, bytes: k.gemmScratchBytes(m, n, g.K) };
  });
}

/**
 * Runs shares[t] on thread t, each call given its thread's scratch (sized once for the largest call of
 * the share, since taking scratch again could move it) as its last two arguments.
 */
export function runShares(engine: Engine, shares: ReadonlyArray<ReadonlyArray<PendingCall | KernelCall>>): void {
  engine.parallel(
    shares.map((share, t) => {
      const bytes = Math.max(0, ...share.map((p) => ('bytes' in p ? p.bytes : 0)));
      const scratch = bytes > 0 ? engine.scratch(bytes, t) : 0;
      return share.map((p) => ('bytes' in p ? ([...p.call, scratch, p.bytes] as KernelCall) : p));
    }),
  );
}
