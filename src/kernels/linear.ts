import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';

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
  getEngine().kernels.linearForward(x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, N, In, Out, ...scratch(N, In, Out));
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
  getEngine().kernels.linearBackward(x.ptr, w.ptr, dy.ptr, dx ? dx.ptr : 0, dw.ptr, db ? db.ptr : 0, N, In, Out, ...scratch(N, In, Out));
}
