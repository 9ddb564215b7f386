// Shared test utilities: a seeded PRNG, both engine builds, closeness checks, finite differences.
import { beforeAll, describe } from 'vitest';
import { Rng } from '../src/util/rng.js';
import { createEngine, useEngine, type Engine, type SimdFlavor } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import type { Model } from '../src/models/types.js';

/** The project's seeded generator as a function, for test data. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** n uniform values in [lo, hi). */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

const engines = new Map<SimdFlavor, Promise<Engine>>();

/** Runs the suite once per WASM build (plain SIMD and relaxed SIMD), each with its own engine. */
export function describeEachBuild(name: string, body: (flavor: SimdFlavor) => void): void {
  for (const flavor of ['simd', 'relaxed'] as const) {
    describe(`${name} [${flavor}]`, () => {
      beforeAll(async () => {
        if (!engines.has(flavor)) engines.set(flavor, createEngine({ flavor }));
        useEngine(await engines.get(flavor)!);
      });
      body(flavor);
    });
  }
}

/** Largest |a-b| / (atol + rtol*|b|); <= 1 means every element is within tolerance. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

/**
 * Central finite differences of a scalar function of `x` (mutated in place and restored), in f64
 * arithmetic of the caller's choosing. Returns d f / d x[i] for the given indices.
 */
export function finiteDiff(x: { [i: number]: number }, indices: number[], f: () => number, h = 1e-2): number[] {
  return indices.map((i) => {
    const x0 = x[i];
    x[i] = x0 + h;
    const fp = f();
    x[i] = x0 - h;
    const fm = f();
    x[i] = x0;
    return (fp - fm) / (2 * h);
  });
}

/** The model's logits, in eval mode, for `batch` inputs laid end to end in x. */
export function logits(model: Model, x: Float32Array, batch = 2): Float32Array {
  model.eval();
  const input = Tensor.from(x, [batch, ...model.inputShape]);
  const out = model.forward(input).toArray();
  input.free();
  return out;
}
