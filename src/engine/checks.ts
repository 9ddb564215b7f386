// Operand checks shared by every kernel wrapper: a bad call throws, naming the operation and operand,
// before any kernel can read or write the wrong memory.
import { getEngine } from './engine.js';
import { ShapeError, fmtShape } from './errors.js';
import { Tensor } from './tensor.js';

/**
 * Throws unless `t` is a live Tensor of the current engine: a plain array, a freed tensor, or one left
 * from an engine that initEngine() or useEngine() has since replaced would make a kernel read memory
 * that is not its own.
 */
export function expectTensor(op: string, operand: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor))
    throw new TypeError(`${op}: ${operand} must be a Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t} (Tensor.from(values, shape) makes one)`);
  if (t.engine !== getEngine())
    throw new Error(`${op}: ${operand} belongs to an engine that is no longer the current one; make tensors and models after choosing the engine`);
}

/** Throws unless `t` is an f32 tensor of `rank` positive dimensions, of the current engine. */
export function expectF32(op: string, operand: string, t: Tensor, rank: number): void {
  expectTensor(op, operand, t);
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${operand} must be an f32 tensor, got ${t.dtype}`);
  if (t.shape.length !== rank || t.shape.some((d) => !(d > 0)))
    throw new ShapeError(`${op}: ${operand} has shape ${fmtShape(t.shape)}, expected ${rank} positive dimensions`);
}

/** Throws unless `out` shares no memory with any of `inputs` (a kernel writing its own input reads garbage). */
export function expectDisjoint(op: string, out: [string, Tensor], ...inputs: [string, Tensor | null][]): void {
  const [outName, o] = out;
  expectTensor(op, outName, o);
  for (const [name, t] of inputs) if (t) expectTensor(op, name, t);
  for (const [name, t] of inputs)
    if (t && t.ptr < o.ptr + o.bytes && o.ptr < t.ptr + t.bytes)
      throw new Error(`${op}: ${outName} overlaps ${name} in memory; give the output its own tensor`);
}
