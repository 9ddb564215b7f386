// QCFS: the quantisation clip-floor-shift activation (Bu et al. 2022, "Optimal ANN-SNN Conversion for
// High-accuracy and Ultra-low-latency Spiking Neural Networks") in place of a CNN's ReLU,
//
//     y = λ·clip(floor(x·L/λ + 1/2)/L, 0, 1)
//
// L levels of λ/L between 0 and λ, λ learned (one scalar per layer). An IF neuron with threshold λ
// and initial membrane λ/2 fires floor(x·L/λ + 1/2) times (at most L) in L steps of a constant input
// x: the CNN trained with QCFS is the rate of its SNN, which convert() (train/convert.ts) builds.
// The floor passes its gradient straight through (kernels/activation.ts has the equations).
//
// A residual block sums the outputs of its two paths; converted, each path ends in IF neurons whose
// spikes count in units of their threshold, so the two must share one λ for the sum to stay in one
// unit. The shortcut's last QCFS is then `tied` to the main path's: it reads that layer's λ and adds
// its gradient to that layer's (Residual runs the main path's backward first, which overwrites it).
import { Tensor } from '../engine/tensor.js';
import { qcfsBackward, qcfsForward } from '../kernels/activation.js';
import type { LayerActivity, NamedTensor, Param } from './layer.js';
import { type Layer, freeAll, param, releaseUnlessKept, reuse } from './layer.js';

/** λ before training: about two standard deviations of a batch-normalised input. */
export const QCFS_INITIAL_LAMBDA = 2;
/** λ is used as max(λ, this): a step of the optimiser cannot make the clip range empty. */
const MIN_LAMBDA = 1e-3;

export class QCFS implements Layer {
  emitsSpikes(): boolean {
    return false;
  }

  readonly lambda: Param;
  /** The layer whose λ this one uses (a residual join), or null. */
  readonly tiedTo: QCFS | null;
  /** Sees every output (calibration, as ReLU's). */
  probe: ((output: Tensor) => void) | null = null;
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;

  /** `init`: λ's starting value, or a layer to copy (a copy is never tied). `tie`: share that layer's λ. */
  constructor(
    readonly name: string,
    readonly levels: number,
    init: number | QCFS = QCFS_INITIAL_LAMBDA,
    tie: QCFS | null = null,
  ) {
    if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`${name}: levels must be an integer >= 1, got ${levels}`);
    if (tie && tie.levels !== levels) throw new RangeError(`${name}: tied to ${tie.name} of ${tie.levels} levels, not ${levels}`);
    const value = init instanceof QCFS ? Tensor.from([init.scale]) : Tensor.from([init]);
    if (!(value.f32[0] > 0)) throw new RangeError(`${name}: lambda must be positive, got ${value.f32[0]}`);
    this.lambda = param(`${name}.lambda`, value, false);
    this.tiedTo = tie?.tiedTo ?? tie;
  }

  /** The clip range in use: λ (the tied layer's when tied). */
  get scale(): number {
    return this.tiedTo ? this.tiedTo.scale : Math.max(this.lambda.value.f32[0], MIN_LAMBDA);
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  forward(x: Tensor): Tensor {
    this.x = x;
    this.y = reuse(this.y, x.shape);
    qcfsForward(x, this.y, this.scale, this.levels);
    this.probe?.(this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!this.x) throw new Error(`${this.name}: backward before forward`);
    // dλ needs the pass even when the input gradient does not.
    this.dx = reuse(this.dx, this.x.shape);
    const dlambda = qcfsBackward(this.x, dy, this.dx, this.scale, this.levels);
    if (this.tiedTo) this.tiedTo.lambda.grad.f32[0] += dlambda;
    else this.lambda.grad.f32[0] = dlambda;
    return wantInputGrad ? this.dx : null;
  }

  /** A tied layer owns no parameter: its λ is saved (and learned) as the other layer's. */
  parameters(): Param[] {
    return this.tiedTo ? [] : [this.lambda];
  }

  buffers(): NamedTensor[] {
    return [];
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  releaseSaved(): void {
    this.x = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): QCFS {
    return new QCFS(this.name, this.levels, this);
  }

  resetActivity(): void {}

  activity(): LayerActivity | null {
    return null;
  }

  dispose(): void {
    freeAll(this.lambda.value, this.lambda.grad, this.y, this.dx);
    this.x = this.y = this.dx = null;
  }
}
