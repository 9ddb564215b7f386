import { getEngine } from '../engine/engine.js';
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';

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
  const k = engine.kernels;
  const bytes = k.gemmScratchBytes(M, N, K);
  const scratch = engine.scratch(bytes);
  k.gemm(+transA, +transB, M, N, K, a.ptr, a.shape[1], b.ptr, b.shape[1], c.ptr, N, +accumulate, scratch, bytes);
}
