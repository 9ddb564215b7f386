/**
 * First-fit allocator over a WebAssembly.Memory, kept on the TypeScript side so that kernels only ever
 * see plain offsets. Blocks are 64-byte aligned (a cache line; every SIMD load is aligned). Freed
 * blocks coalesce with their neighbours, so a training loop that frees and re-allocates the same
 * sizes reuses the same space and never grows memory.
 */
import type { WasmMemory } from '../util/host-types.js';

export const ALIGN = 64;
const PAGE = 65536;

const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export class Allocator {
  /** Free blocks sorted by offset, as [offset, size] pairs. */
  private free: Array<[number, number]> = [];
  private used = new Map<number, number>();
  private inUse = 0;
  private peak = 0;

  constructor(
    private readonly memory: WasmMemory,
    heapStart: number,
  ) {
    const start = roundUp(heapStart, ALIGN);
    const end = memory.buffer.byteLength;
    if (end > start) this.free.push([start, end - start]);
  }

  get bytesInUse(): number {
    return this.inUse;
  }

  /** The most bytes in use at once since creation or the last resetPeak(). */
  get peakBytes(): number {
    return this.peak;
  }

  resetPeak(): void {
    this.peak = this.inUse;
  }

  get blocksInUse(): number {
    return this.used.size;
  }

  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`alloc: byte count must be a non-negative integer, got ${bytes}`);
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    let i = this.free.findIndex(([, s]) => s >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex(([, s]) => s >= size);
    }
    const [off, s] = this.free[i];
    if (s === size) this.free.splice(i, 1);
    else this.free[i] = [off + size, s - size];
    this.used.set(off, size);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    return off;
  }

  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not an allocated block (double free?)`);
    this.used.delete(ptr);
    this.inUse -= size;
    let i = this.free.findIndex(([o]) => o > ptr);
    if (i < 0) i = this.free.length;
    this.free.splice(i, 0, [ptr, size]);
    const next = this.free[i + 1];
    if (next && ptr + size === next[0]) {
      this.free[i][1] += next[1];
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev[0] + prev[1] === ptr) {
      prev[1] += this.free[i][1];
      this.free.splice(i, 1);
    }
  }

  /** Grows memory by at least `size` bytes (and at least by half, so repeated growth stays rare). */
  private grow(size: number): void {
    const oldEnd = this.memory.buffer.byteLength;
    const pages = Math.max(Math.ceil(size / PAGE), Math.ceil(oldEnd / PAGE / 2));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(Math.ceil(size / PAGE));
      } catch {
        throw new RangeError(
          `out of WebAssembly memory: ${size} bytes requested with ${this.inUse} in use of ${oldEnd} (4 GiB is the wasm32 limit)`,
        );
      }
    }
    const newEnd = this.memory.buffer.byteLength;
    const last = this.free[this.free.length - 1];
    if (last && last[0] + last[1] === oldEnd) last[1] += newEnd - oldEnd;
    else this.free.push([oldEnd, newEnd - oldEnd]);
  }
}
