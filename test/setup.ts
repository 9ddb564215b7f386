// Every test process may compile the relaxed-SIMD build (off by default in Node 20).
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
