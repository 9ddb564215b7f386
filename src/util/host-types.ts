// Types of the host (the DOM's, WebAssembly's) as the public declarations name them. A program compiled
// with lib ES2023 and no DOM lib (a Node app, skipLibCheck off) must be able to read our .d.ts files,
// and there BufferSource, WebAssembly and AudioContext do not exist. So no exported signature names
// them: bytes are ArrayBuffer | ArrayBufferView, a WebAssembly memory is the part of it we use, and a
// browser class is looked up on globalThis: the lib's own type where the program's lib declares the
// class, `never` (nothing can be passed) where it does not.

/** Bytes of a module or a file: the DOM's BufferSource. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** What the engine and the allocator use of a WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

/** The instances of the global class `K` (e.g. 'AudioContext') where the program's lib declares it, else never. */
export type HostInstance<K extends string> = typeof globalThis extends Record<K, { prototype: infer T }> ? T : never;
