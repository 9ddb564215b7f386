// Imported first by every bench file: lets V8 compile the relaxed-SIMD build, and gives both engines.
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

import '../src/engine/threads-node.js';
import { createEngine, useEngine, type Engine, type SimdFlavor } from '../src/engine/engine.js';

const engines = new Map<string, Promise<Engine>>();

/** The engine of one build (and number of threads), made current; created once per process. */
export async function engineFor(flavor: SimdFlavor, threads = 1): Promise<Engine> {
  const key = `${flavor} ${threads}`;
  if (!engines.has(key)) engines.set(key, createEngine({ flavor, threads }));
  const engine = await engines.get(key)!;
  useEngine(engine);
  return engine;
}
