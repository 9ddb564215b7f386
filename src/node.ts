// Node entry: everything in the core, plus what needs the file system. Importing it also lets V8
// compile relaxed SIMD (off by default in Node 20), so the faster fused multiply-add build is used.
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export * from './index.js';
