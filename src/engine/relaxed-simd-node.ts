// Imported for its effect: lets V8 compile relaxed SIMD (off by default in Node 20), so the engine can
// use the faster fused multiply-add build. The flag is process-wide; it only enables a WebAssembly
// proposal and changes nothing for code that does not use it.
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
