import type { Bytes, HostInstance, WasmMemory } from '../util/host-types.js';
import { Allocator } from './allocator.js';
import { ThreadPool, runHere, threadHost, type Share } from './threads.js';
import { relaxedWasmBase64, simdWasmBase64 } from './wasm-binaries.js';

/** Which WASM build runs: `relaxed` uses fused multiply-add (relaxed SIMD), `simd` plain 128-bit SIMD. */
export type SimdFlavor = 'relaxed' | 'simd';

export interface EngineOptions {
  /** `auto` (default) takes relaxed SIMD where the runtime validates it, else plain SIMD. */
  flavor?: SimdFlavor | 'auto';
  /** The module's bytes, when they are not the embedded ones (e.g. fetched by the app itself). */
  bytes?: Bytes;
  /** A URL to fetch the module from (browser); `bytes` wins when both are given. */
  url?: string | HostInstance<'URL'>;
  /**
   * Threads that share each large kernel call (default 1). More than 1 needs the Node entry
   * ('snn-voice/node'), which runs worker_threads over one shared memory; browsers run one thread.
   */
  threads?: number;
}

/** The kernels: every export takes plain numbers (offsets into linear memory, sizes, scalars). */
export type KernelExports = Record<string, (...args: number[]) => number>;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Uint8Array(128).fill(255);
for (let i = 0; i < BASE64.length; i++) SEXTET[BASE64.charCodeAt(i)] = i;

/**
 * Base64 without `atob`: AudioWorkletGlobalScope has neither atob nor TextDecoder, and the engine must
 * load there too. Padding may be present or not; any other character is an error.
 */
export function decodeBase64(b64: string): Uint8Array {
  let n = b64.length;
  while (n > 0 && b64.charCodeAt(n - 1) === 61 /* = */) n--;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < n; i++) {
    const c = b64.charCodeAt(i);
    const v = c < 128 ? SEXTET[c] : 255;
    if (v === 255) throw new Error(`base64: invalid character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

/** An AssemblyScript string (UTF-16, byte length stored just before it) read without TextDecoder. */
function readString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return 'null';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0];
  const units = new Uint16Array(memory.buffer, ptr, bytes >>> 1);
  let s = '';
  for (let i = 0; i < units.length; i += 1024) s += String.fromCharCode(...units.subarray(i, i + 1024));
  return s;
}

/**
 * The module's only import is `env.abort`, which a failed kernel assert calls. It is supplied here
 * rather than by @assemblyscript/loader, whose top level constructs a TextDecoder and so cannot even be
 * imported in an AudioWorklet.
 */
async function instantiate(bytes: BufferSource | WebAssembly.Module, shared?: WebAssembly.Memory): Promise<Record<string, unknown>> {
  let memory = shared;
  const abort = (msg: number, file: number, line: number, column: number): never => {
    const text = memory ? `${readString(memory, msg)} at ${readString(memory, file)}:${line}:${column}` : `at ${line}:${column}`;
    throw new Error(`abort: ${text}`);
  };
  const env: WebAssembly.ModuleImports = shared ? { abort, memory: shared } : { abort };
  const instance = bytes instanceof WebAssembly.Module
    ? await WebAssembly.instantiate(bytes, { env })
    : (await WebAssembly.instantiate(bytes, { env })).instance;
  memory = instance.exports.memory as WebAssembly.Memory;
  return instance.exports as Record<string, unknown>;
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
  readonly memory: WasmMemory;
  private readonly allocator: Allocator;
  /** Per thread: the scratch block's offset and size. */
  private readonly scratchAreas: Array<[number, number]>;

  constructor(
    readonly flavor: SimdFlavor,
    exports: Record<string, unknown>,
    private readonly pool: ThreadPool | null = null,
  ) {
    this.memory = exports.memory as WebAssembly.Memory;
    this.kernels = exports as unknown as KernelExports;
    this.allocator = new Allocator(this.memory, (exports.heapBase as () => number)());
    this.scratchAreas = Array.from({ length: this.threads }, () => [0, 0]);
  }

  /** Threads that share large kernel calls: 1, or the pool's size. */
  get threads(): number {
    return this.pool ? this.pool.size : 1;
  }

  /**
   * Runs shares[i] on thread i (shares[0] on this one) and returns when all are done, with each
   * share's last call's result (0 for a share without calls).
   */
  parallel(shares: readonly Share[]): number[] {
    return this.pool ? this.pool.run(shares) : shares.map((share) => runHere(this.kernels, share));
  }

  /** Lets the worker threads go (a one-thread engine has none); the engine must not be used after. */
  dispose(): void {
    this.pool?.terminate();
  }

  /** Allocates `bytes` (64-byte aligned) and returns the offset. */
  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  free(ptr: number): void {
    this.allocator.release(ptr);
  }

  /**
   * A reusable work area of at least `bytes` (packing buffers, im2col columns), one per thread. It is
   * shared: valid only until the next call that asks for that thread's scratch, so a kernel wrapper
   * takes it once and splits it.
   */
  scratch(bytes: number, thread = 0): number {
    const area = this.scratchAreas[thread];
    if (!area) throw new RangeError(`scratch: thread ${thread} of an engine with ${this.threads}`);
    if (bytes > area[1]) {
      // Exactly what is asked: the sizes are the layers' own, so the area settles within a step and
      // spare room would only raise the peak.
      if (area[0]) this.allocator.release(area[0]);
      area[1] = bytes;
      area[0] = this.allocator.alloc(area[1]);
    }
    return area[0];
  }

  /**
   * Frees every thread's scratch area; the next scratch() allocates afresh. A work area only grows, so a
   * measurement of one model's memory (the bench's) starts here rather than inherit an earlier model's.
   */
  releaseScratch(): void {
    for (const area of this.scratchAreas) {
      if (area[0]) this.allocator.release(area[0]);
      area[0] = area[1] = 0;
    }
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
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
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new RangeError(`engine threads must be an integer from 1 to 64, got ${threads}`);
  if (want !== 'auto' && want !== 'relaxed' && want !== 'simd')
    throw new Error(`engine flavor must be 'auto', 'relaxed' or 'simd', got '${String(want)}'`);
  let bytes: BufferSource;
  let flavor: SimdFlavor;
  if (options.bytes || options.url) {
    // Bytes is BufferSource unnamed (util/host-types.ts); the DOM lib's views are over an ArrayBuffer only.
    bytes = (options.bytes as BufferSource | undefined) ?? new Uint8Array(await (await fetch(options.url!)).arrayBuffer());
    flavor = want === 'auto' ? 'simd' : want; // until the module names its own build, below
  } else {
    flavor = want === 'auto' ? (relaxedSimdSupported() ? 'relaxed' : 'simd') : want;
    bytes = builds[flavor]() as BufferSource;
  }
  if (threads > 1) {
    if (options.bytes || options.url) throw new Error('createEngine: threads > 1 run the embedded builds; bytes and url are for one thread');
    return threadedEngine(flavor, threads);
  }
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      flavor === 'relaxed'
        ? "this runtime cannot compile the relaxed-SIMD build (in Node, import 'snn-voice/node', which enables it; else use flavor 'simd')"
        : 'this runtime cannot compile the WebAssembly SIMD kernels (SIMD needs Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+)',
    );
  }
  const exports = await instantiate(bytes);
  if (options.bytes || options.url) {
    // A module given as bytes or a URL says which build it is, rather than being labelled by a guess.
    const built: SimdFlavor = (exports.relaxedBuild as () => number)() ? 'relaxed' : 'simd';
    if (want !== 'auto' && want !== built) throw new Error(`createEngine: the module given is the ${built} build, not the ${want} one asked for`);
    flavor = built;
  }
  const engine = new Engine(flavor, exports);
  warmUp(engine);
  return engine;
}

// Memory of the threaded builds: 16 pages to start, the wasm32 limit as maximum (only reserved).
const SHARED_MEMORY = { initial: 16, maximum: 65536, shared: true };

/** An engine whose kernel module is shared by `threads` threads over one shared memory. */
async function threadedEngine(flavor: SimdFlavor, threads: number): Promise<Engine> {
  const host = threadHost(threads);
  const reason = host.unavailable?.();
  if (reason) {
    // The single-thread build is the fallback: the same kernels, the same results.
    console.warn(`snn-voice: ${threads} engine threads cannot run here: ${reason}; running one thread`);
    return createEngine({ flavor });
  }
  const module = await WebAssembly.compile(host.bytes(flavor) as BufferSource);
  const memory = new WebAssembly.Memory(SHARED_MEMORY);
  const exports = await instantiate(module, memory);
  const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  // Each worker's instance writes the module's data segments into the shared memory when it starts,
  // so every worker is up before anything else is written there.
  const workers = await host.spawn(threads - 1, module, memory, names);
  const engine = new Engine(flavor, exports, new ThreadPool(workers, names, exports as KernelExports));
  warmUp(engine);
  return engine;
}

/** Runs each kernel's cheapest path once so V8 tiers it up before the first real call. */
function warmUp(engine: Engine): void {
  const warm = engine.kernels.warmUp;
  if (typeof warm === 'function') {
    const scratch = Array.from({ length: engine.threads }, () => engine.alloc(1 << 20));
    engine.parallel(scratch.map((at) => [['warmUp', at, 1 << 20]]));
    scratch.forEach((at) => engine.free(at));
  }
}

let current: Engine | null = null;

/**
 * Creates the engine and makes it the current one, used by every tensor, layer and model. A second call
 * that asks for nothing new returns the running engine, so models made before it stay usable; one that
 * asks for another build, other bytes or another number of threads starts a new engine, and tensors of
 * the old one are refused by the kernels (see engine/checks.ts) rather than read out of bounds.
 */
export async function initEngine(options: EngineOptions = {}): Promise<Engine> {
  const flavor = options.flavor ?? 'auto';
  const sameThreads = (options.threads ?? current?.threads) === current?.threads;
  if (current && !options.bytes && !options.url && sameThreads && (flavor === 'auto' || flavor === current.flavor)) return current;
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
