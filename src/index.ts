// snn-voice: the public API. Everything here runs unchanged in Node and in browsers.
export { Engine, createEngine, initEngine, useEngine, getEngine, relaxedSimdSupported } from './engine/engine.js';
export type { EngineOptions, SimdFlavor } from './engine/engine.js';
export { Tensor, sizeOf } from './engine/tensor.js';
export type { DType } from './engine/tensor.js';
export { ShapeError } from './engine/errors.js';
