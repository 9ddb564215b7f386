// The kernel module: every export is a plain function over linear-memory offsets and explicit sizes
// (the convolutions read theirs from a geometry descriptor in memory, see conv-geometry.ts).
// Memory is owned and allocated by the TypeScript engine (src/engine); kernels never allocate.
export * from './activation';
export * from './elementwise';
export * from './spike-bits';
export * from './steps';
export * from './gemm';
export * from './conv';
export * from './conv-depthwise';
export * from './broadcast';
export * from './sparse-policy';
export * from './linear';
export * from './batchnorm';
export * from './pool';
export * from './pool-adaptive';
export * from './dropout';
export * from './lif';
export * from './encode';
export * from './fft';
export * from './loss';
export * from './optim';
export * from './warmup';

/** 1 in the relaxed-SIMD build, 0 in the plain one: the engine names a module given as bytes by it. */
export function relaxedBuild(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export function heapBase(): usize {
  return __heap_base;
}
