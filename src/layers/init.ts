// Seeded initial weights, PyTorch's defaults, so a model built from the same seed is the same model.
import type { Tensor } from '../engine/tensor.js';
import { Rng } from '../util/rng.js';

/**
 * PyTorch's default for conv and linear layers: kaiming_uniform(a = sqrt(5)) for the weight, whose bound
 * sqrt(6 / ((1 + a²) fan_in)) is 1/sqrt(fan_in), and uniform(±1/sqrt(fan_in)) for the bias.
 */
export function initSynapses(weight: Tensor, bias: Tensor | null, fanIn: number, seed: number): void {
  const rng = new Rng(seed);
  const bound = 1 / Math.sqrt(fanIn);
  for (const t of bias ? [weight, bias] : [weight]) {
    const v = t.f32;
    for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * bound;
  }
}
