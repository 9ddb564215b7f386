import { getEngine } from '../engine/engine.js';
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';

export interface MatmulOptions {
  /** Use aᵀ: `a` is stored [K, M]. */
  transA?: boolean;
  /** Use bᵀ: `b` is stored [N, K]. */
  transB?: boolean;
  /** Add the product to `c` instead of overwriting it. */
  accumulate?: boolean;
}

/** Throws unless `t` is an f32 tensor of `rank` positive dimensions. */
export function expectF32(op: string, operand: string, t: Tensor, rank: number): void {
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${operand} must be an f32 tensor, got ${t.dtype}`);
  if (t.shape.length !== rank || t.shape.some((d) => !(d > 0)))
    throw new ShapeError(`${op}: ${operand} has shape ${fmtShape(t.shape)}, expected ${rank} positive dimensions`);
}

/** Throws unless `out` shares no memory with any of `inputs` (a kernel writing its own input reads garbage). */
export function expectDisjoint(op: string, out: [string, Tensor], ...inputs: [string, Tensor | null][]): void {
  const [outName, o] = out;
  for (const [name, t] of inputs)
    if (t && t.ptr < o.ptr + o.bytes && o.ptr < t.ptr + t.bytes)
      throw new Error(`${op}: ${outName} overlaps ${name} in memory; give the output its own tensor`);
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
