// Seeded initial weights, PyTorch's defaults, so a model built from the same seed is the same model.
import type { Tensor } from '../engine/tensor.js';

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed mixed from a base seed and a salt (a layer's name), so layers draw independent numbers. */
export function deriveSeed(seed: number, salt: string): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * PyTorch's default for conv and linear layers: kaiming_uniform(a = sqrt(5)) for the weight, whose bound
 * sqrt(6 / ((1 + a²) fan_in)) is 1/sqrt(fan_in), and uniform(±1/sqrt(fan_in)) for the bias.
 */
export function initSynapses(weight: Tensor, bias: Tensor | null, fanIn: number, seed: number): void {
  const next = rng(seed);
  const bound = 1 / Math.sqrt(fanIn);
  for (const t of bias ? [weight, bias] : [weight]) {
    const v = t.f32;
    for (let i = 0; i < v.length; i++) v[i] = (2 * next() - 1) * bound;
  }
}
