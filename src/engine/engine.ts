import { instantiate } from '@assemblyscript/loader';
import { Allocator } from './allocator.js';
import { relaxedWasmBase64, simdWasmBase64 } from './wasm-binaries.js';

/** Which WASM build runs: `relaxed` uses fused multiply-add (relaxed SIMD), `simd` plain 128-bit SIMD. */
export type SimdFlavor = 'relaxed' | 'simd';

export interface EngineOptions {
  /** `auto` (default) takes relaxed SIMD where the runtime validates it, else plain SIMD. */
  flavor?: SimdFlavor | 'auto';
  /** The module's bytes, when they are not the embedded ones (e.g. fetched by the app itself). */
  bytes?: BufferSource;
  /** A URL to fetch the module from (browser); `bytes` wins when both are given. */
  url?: string | URL;
}

/** The kernels: every export takes plain numbers (offsets into linear memory, sizes, scalars). */
export type KernelExports = Record<string, (...args: number[]) => number>;

function decodeBase64(b64: string): Uint8Array {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  throw new Error('no base64 decoder (atob) in this runtime');
}

const builds: Record<SimdFlavor, () => Uint8Array> = {
  relaxed: () => decodeBase64(relaxedWasmBase64),
  simd: () => decodeBase64(simdWasmBase64),
};

/** True when this runtime can compile the relaxed-SIMD build (Chrome 114+, Firefox 146+, Node with the V8 flag). */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(builds.relaxed() as BufferSource);
}

/**
 * One instance of the kernel module with its linear memory and allocator. Tensors hold offsets into
 * this memory; views are made fresh on every access, so growth of the memory never leaves one stale.
 */
export class Engine {
  readonly kernels: KernelExports;
  readonly memory: WebAssembly.Memory;
  private readonly allocator: Allocator;
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(
    readonly flavor: SimdFlavor,
    exports: Record<string, unknown>,
  ) {
    this.memory = exports.memory as WebAssembly.Memory;
    this.kernels = exports as unknown as KernelExports;
    this.allocator = new Allocator(this.memory, (exports.heapBase as () => number)());
  }

  /** Allocates `bytes` (64-byte aligned) and returns the offset. */
  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  free(ptr: number): void {
    this.allocator.release(ptr);
  }

  /**
   * A reusable work area of at least `bytes` (packing buffers, im2col columns). It is shared: valid only
   * until the next call that asks for scratch, so a kernel wrapper takes it once and splits it.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchPtr) this.allocator.release(this.scratchPtr);
      this.scratchBytes = Math.max(bytes, Math.ceil(this.scratchBytes * 1.5));
      this.scratchPtr = this.allocator.alloc(this.scratchBytes);
    }
    return this.scratchPtr;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /** Bytes held by live allocations (scratch included). */
  get bytesInUse(): number {
    return this.allocator.bytesInUse;
  }

  /** The most bytes held at once since the engine started or since resetPeakBytes(). */
  get peakBytesInUse(): number {
    return this.allocator.peakBytes;
  }

  resetPeakBytes(): void {
    this.allocator.resetPeak();
  }

  /** Size of the linear memory: it only grows. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Compiles and instantiates a new engine; does not make it the current one (see initEngine). */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const want = options.flavor ?? 'auto';
  if (want !== 'auto' && want !== 'relaxed' && want !== 'simd')
    throw new Error(`engine flavor must be 'auto', 'relaxed' or 'simd', got '${String(want)}'`);
  let bytes: BufferSource;
  let flavor: SimdFlavor;
  if (options.bytes || options.url) {
    bytes = options.bytes ?? new Uint8Array(await (await fetch(options.url!)).arrayBuffer());
    flavor = want === 'auto' ? 'simd' : want;
  } else {
    flavor = want === 'auto' ? (relaxedSimdSupported() ? 'relaxed' : 'simd') : want;
    bytes = builds[flavor]() as BufferSource;
  }
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      flavor === 'relaxed'
        ? "this runtime cannot compile the relaxed-SIMD build (in Node, import 'snn-voice/node', which enables it; else use flavor 'simd')"
        : 'this runtime cannot compile the WebAssembly SIMD kernels (SIMD needs Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+)',
    );
  }
  const { exports } = await instantiate(bytes, {});
  const engine = new Engine(flavor, exports as unknown as Record<string, unknown>);
  warmUp(engine);
  return engine;
}

/** Runs each kernel's cheapest path once so V8 tiers it up before the first real call. */
function warmUp(engine: Engine): void {
  const warm = engine.kernels.warmUp;
  if (typeof warm === 'function') {
    const scratch = engine.alloc(1 << 20);
    warm(scratch, 1 << 20);
    engine.free(scratch);
  }
}

let current: Engine | null = null;

/** Creates the engine and makes it the current one, used by every tensor, layer and model. */
export async function initEngine(options: EngineOptions = {}): Promise<Engine> {
  current = await createEngine(options);
  return current;
}

/** Makes an existing engine the current one (tests run both builds side by side this way). */
export function useEngine(engine: Engine): void {
  current = engine;
}

/** The current engine; throws if `initEngine()` was not awaited first. */
export function getEngine(): Engine {
  if (!current) throw new Error('snn-voice engine not initialised: await initEngine() before creating tensors or models');
  return current;
}
