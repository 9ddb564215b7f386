// Imported first by every bench file: lets V8 compile the relaxed-SIMD build, and gives both engines.
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import { createEngine, useEngine, type Engine, type SimdFlavor } from '../src/engine/engine.js';

const engines = new Map<SimdFlavor, Promise<Engine>>();

/** The engine of one build, made current; created once per process. */
export async function engineFor(flavor: SimdFlavor): Promise<Engine> {
  if (!engines.has(flavor)) engines.set(flavor, createEngine({ flavor }));
  const engine = await engines.get(flavor)!;
  useEngine(engine);
  return engine;
}
