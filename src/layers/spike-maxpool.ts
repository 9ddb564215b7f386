// Max pooling over spike trains, for converted SNNs. Pooling each step's spikes (an OR of the window)
// fires whenever any neuron does and overstates the max rate; gating by the neuron with the most spikes
// so far (Rueckauer et al. 2017) can still emit a spike the leader's count never gets. This pool emits
// a spike exactly when the window's largest running spike count grows:
//
//     C[t] = Σ_{τ<=t} s[τ]        P[t] = maxpool(C[t])        y[t] = P[t] − P[t−1]
//
// so its output count over T steps is the max of the window's counts, the CNN's max pool of rates.
// Each neuron adds at most one spike per step, so P grows by 0 or 1: the output is binary. Backward
// is the adjoint of the three: reversed difference, the max pool's routing (per step, to that step's
// leader), reversed running sum. The input must be time-major spikes ([steps * batch, ...]).
import { ShapeError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { cumsumSteps, cumsumStepsBackward, diffSteps, diffStepsBackward } from '../kernels/steps.js';
import { type ForwardContext, StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';
import { MaxPool1d, MaxPool2d } from './maxpool.js';

export class SpikeMaxPool2d extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  private steps = 0;
  private counts: Tensor | null = null;
  private dpooled: Tensor | null = null;

  /** `pool` pools the running counts: the 2d window of kernel and stride unless given (the 1d form). */
  constructor(
    readonly name: string,
    readonly kernel: [number, number],
    readonly stride: [number, number] = kernel,
    private readonly pool: MaxPool2d = new MaxPool2d(name, kernel, stride),
  ) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    return this.pool.outputShape(input);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape[0] !== ctx.steps * ctx.batch)
      throw new ShapeError(`${this.name}: ${x.shape[0]} rows are not ${ctx.steps} steps of ${ctx.batch}: a spiking max pool needs spike trains`);
    this.steps = ctx.steps;
    this.counts = reuse(this.counts, x.shape);
    cumsumSteps(x, this.counts, this.steps);
    const y = this.pool.forward(this.counts, ctx);
    diffSteps(y, y, this.steps);
    // Backward routes through the pool's argmax, not the counts: a training pass lets them go now
    // rather than hold a copy of the input's size until backward (eval passes keep the buffer).
    if (ctx.training && (ctx.backward ?? true)) {
      freeAll(this.counts);
      this.counts = null;
    }
    return y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    this.dpooled = reuse(this.dpooled, dy.shape);
    diffStepsBackward(dy, this.dpooled, this.steps);
    const dx = this.pool.backward(this.dpooled, true)!;
    cumsumStepsBackward(dx, dx, this.steps);
    return dx;
  }

  keepsInput(): boolean {
    return false;
  }

  releaseOutput(): void {
    this.pool.releaseOutput();
  }

  releaseSaved(): void {
    this.pool.releaseSaved();
    freeAll(this.counts);
    this.counts = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dpooled = releaseUnlessKept(this.dpooled, keep);
    return this.pool.releaseGrad(keep) && this.dpooled === null;
  }

  clone(): SpikeMaxPool2d {
    return new SpikeMaxPool2d(this.name, this.kernel, this.stride);
  }

  dispose(): void {
    this.pool.dispose();
    freeAll(this.counts, this.dpooled);
    this.counts = this.dpooled = null;
  }
}

export class SpikeMaxPool1d extends SpikeMaxPool2d {
  constructor(
    name: string,
    readonly kernel1d: number,
    readonly stride1d: number = kernel1d,
  ) {
    super(name, [1, kernel1d], [1, stride1d], new MaxPool1d(name, kernel1d, stride1d));
  }

  clone(): SpikeMaxPool1d {
    return new SpikeMaxPool1d(this.name, this.kernel1d, this.stride1d);
  }
}
