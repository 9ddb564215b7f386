// Sharpness-aware minimization (Foret et al. 2021, "Sharpness-Aware Minimization for Efficiently
// Improving Generalization"): each step takes its gradient at the worst weights within a radius ρ of w
// (to first order) rather than at w itself,
//
//   ε = ρ · g / ‖g‖₂        g = ∇L(w), the batch's gradient over every parameter
//   w ← step(w, ∇L(w + ε))  the optimizer's usual update, from the same batch's gradient at w + ε
//
// so training settles where the loss stays low around the weights, not only at them: minima that
// generalise better from few or unlike training clips. Each step runs forward and backward twice.
// Batch norm's running statistics keep the first pass's update alone (the second pass's describe the
// perturbed weights), as the paper's reference code does by setting their momentum to 0 there.
import type { NamedTensor, Param } from '../layers/layer.js';
import type { Model } from '../models/types.js';

/** The radii taken, (0, RHO_MAX]: the paper tunes ρ within 0.01-0.5, and a step of several units would
 *  leave the neighbourhood a first-order ascent describes. */
export const RHO_MAX = 2;

/** `rho` in (0, RHO_MAX], e.g. the paper's 0.05. */
export function checkRho(rho: number): number {
  if (!(rho > 0 && rho <= RHO_MAX)) throw new RangeError(`train: sam must be a radius above 0 and at most ${RHO_MAX}, got ${rho}`);
  return rho;
}

export class SharpnessAware {
  private readonly params: Param[];
  private readonly buffers: NamedTensor[];
  // w and the statistics while the parameters stand at w + ε: allocated once, as large as the model.
  private readonly weights: Float32Array[];
  private readonly statistics: Float32Array[];

  constructor(
    model: Model,
    readonly rho: number,
  ) {
    checkRho(rho);
    this.params = model.parameters();
    this.buffers = model.buffers();
    this.weights = this.params.map((p) => new Float32Array(p.value.size));
    this.statistics = this.buffers.map((b) => new Float32Array(b.value.size));
  }

  /**
   * After the first backward: moves every parameter to w + ε and keeps w and the running statistics;
   * `restore` must follow the second backward. False (nothing moved) when the gradient is 0.
   */
  ascend(): boolean {
    let squares = 0;
    for (const p of this.params) {
      const g = p.grad.f32;
      for (let i = 0; i < g.length; i++) squares += g[i] * g[i];
    }
    const norm = Math.sqrt(squares);
    if (!(norm > 0)) return false;
    const scale = this.rho / norm;
    this.params.forEach((p, i) => this.weights[i].set(p.value.f32));
    this.buffers.forEach((b, i) => this.statistics[i].set(b.value.f32));
    for (const p of this.params) {
      const w = p.value.f32, g = p.grad.f32;
      for (let i = 0; i < w.length; i++) w[i] += scale * g[i];
    }
    return true;
  }

  /** Puts back w and the running statistics that `ascend` kept, bit for bit. */
  restore(): void {
    this.params.forEach((p, i) => p.value.f32.set(this.weights[i]));
    this.buffers.forEach((b, i) => b.value.f32.set(this.statistics[i]));
  }
}
