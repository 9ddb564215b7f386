import { type Engine, getEngine } from './engine.js';
import { ShapeError, fmtShape } from './errors.js';

export type DType = 'f32' | 'i32' | 'u8';
const BYTES: Record<DType, number> = { f32: 4, i32: 4, u8: 1 };

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function checkShape(shape: readonly number[]): void {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`tensor shape ${fmtShape(shape)} has a dimension that is not a non-negative integer`);
}

/**
 * A typed handle on a block of WASM linear memory: offset, shape, dtype. It holds no JavaScript view,
 * so `data` is always valid even after the memory grew. Row-major; spiking activations are laid out
 * time-major, [steps * batch, ...].
 */
export class Tensor {
  readonly size: number;
  private freed = false;

  private constructor(
    readonly engine: Engine,
    readonly ptr: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** False for a view made by `reshape`: it shares the block and must not free it. */
    readonly owner: boolean,
  ) {
    this.size = sizeOf(shape);
  }

  /** Uninitialised tensor (memory may hold old values). */
  static empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    checkShape(shape);
    const engine = getEngine();
    const t = new Tensor(engine, engine.alloc(sizeOf(shape) * BYTES[dtype]), [...shape], dtype, true);
    return t;
  }

  static zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return Tensor.empty(shape, dtype).fill(0);
  }

  static from(values: ArrayLike<number>, shape: readonly number[] = [values.length], dtype: DType = 'f32'): Tensor {
    if (sizeOf(shape) !== values.length)
      throw new ShapeError(`Tensor.from: ${values.length} values do not fill shape ${fmtShape(shape)}`);
    const t = Tensor.empty(shape, dtype);
    t.data.set(values);
    return t;
  }

  get bytes(): number {
    return this.size * BYTES[this.dtype];
  }

  /** A fresh view on the tensor's memory; do not keep it across calls that may allocate. */
  get data(): Float32Array | Int32Array | Uint8Array {
    this.check();
    if (this.dtype === 'f32') return this.engine.f32(this.ptr, this.size);
    if (this.dtype === 'i32') return this.engine.i32(this.ptr, this.size);
    return this.engine.u8(this.ptr, this.size);
  }

  /** The f32 view; throws for other dtypes. */
  get f32(): Float32Array {
    if (this.dtype !== 'f32') throw new TypeError(`tensor ${fmtShape(this.shape)} is ${this.dtype}, not f32`);
    this.check();
    return this.engine.f32(this.ptr, this.size);
  }

  /** A copy of the values, detached from WASM memory. */
  toArray(): Float32Array {
    return Float32Array.from(this.data);
  }

  fill(value: number): this {
    this.data.fill(value);
    return this;
  }

  /** A view with another shape over the same block (same number of elements). */
  reshape(shape: readonly number[]): Tensor {
    this.check();
    if (sizeOf(shape) !== this.size)
      throw new ShapeError(`reshape: cannot view ${fmtShape(this.shape)} (${this.size} values) as ${fmtShape(shape)}`);
    return new Tensor(this.engine, this.ptr, [...shape], this.dtype, false);
  }

  free(): void {
    if (!this.owner) throw new Error(`free: tensor ${fmtShape(this.shape)} is a view; free the tensor it was made from`);
    if (this.freed) return;
    this.freed = true;
    this.engine.free(this.ptr);
  }

  get isFreed(): boolean {
    return this.freed;
  }

  private check(): void {
    if (this.freed) throw new Error(`tensor ${fmtShape(this.shape)} was freed`);
  }
}
