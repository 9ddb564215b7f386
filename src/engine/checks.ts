// Operand checks shared by every kernel wrapper: a bad call throws, naming the operation and operand,
// before any kernel can read or write the wrong memory.
import { ShapeError, fmtShape } from './errors.js';
import type { Tensor } from './tensor.js';

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
