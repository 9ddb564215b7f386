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
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { type Pool2dOptions, maxPool2dBackward, maxPool2dForward, maxPool2dOutputShape } from '../kernels/pool.js';
import { cumsumSteps, cumsumStepsBackward, diffSteps, diffStepsBackward } from '../kernels/steps.js';
import { type ForwardContext, StatelessLayer, as1d, as2d, freeAll, reuse } from './layer.js';

export class SpikeMaxPool2d extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  readonly options: Pool2dOptions;
  private steps = 0;
  private counts: Tensor | null = null;
  private y: Tensor | null = null;
  private argmax: Tensor | null = null;
  private dx: Tensor | null = null;
  private dpooled: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly kernel: [number, number],
    readonly stride: [number, number] = kernel,
  ) {
    super();
    this.options = { kernel, stride };
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, H, W]`);
    return maxPool2dOutputShape([1, ...input], this.options).slice(1);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape.length !== 4) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, H, W]`);
    if (x.shape[0] !== ctx.steps * ctx.batch)
      throw new ShapeError(`${this.name}: ${x.shape[0]} rows are not ${ctx.steps} steps of ${ctx.batch}: a spiking max pool needs spike trains`);
    const shape = maxPool2dOutputShape(x.shape, this.options);
    this.steps = ctx.steps;
    this.counts = reuse(this.counts, x.shape);
    this.y = reuse(this.y, shape);
    this.argmax = reuse(this.argmax, shape, 'i32');
    cumsumSteps(x, this.counts, this.steps);
    maxPool2dForward(this.counts, this.y, this.argmax, this.options);
    diffSteps(this.y, this.y, this.steps);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    if (!this.argmax || !this.counts) throw new Error(`${this.name}: backward before forward`);
    this.dpooled = reuse(this.dpooled, dy.shape);
    this.dx = reuse(this.dx, this.counts.shape);
    diffStepsBackward(dy, this.dpooled, this.steps);
    maxPool2dBackward(this.dpooled, this.argmax, this.dx);
    cumsumStepsBackward(this.dx, this.dx, this.steps);
    return this.dx;
  }

  clone(): SpikeMaxPool2d {
    return new SpikeMaxPool2d(this.name, this.kernel, this.stride);
  }

  dispose(): void {
    freeAll(this.counts, this.y, this.argmax, this.dx, this.dpooled);
    this.counts = this.y = this.argmax = this.dx = this.dpooled = null;
  }
}

export class SpikeMaxPool1d extends SpikeMaxPool2d {
  constructor(
    name: string,
    readonly kernel1d: number,
    readonly stride1d: number = kernel1d,
  ) {
    super(name, [1, kernel1d], [1, stride1d]);
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 2) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, L]`);
    const [C, , L] = super.outputShape([input[0], 1, input[1]]);
    return [C, L];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape.length !== 3) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, L]`);
    return as1d(super.forward(as2d(x), ctx));
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const dx = super.backward(as2d(dy), wantInputGrad);
    return dx && as1d(dx);
  }

  clone(): SpikeMaxPool1d {
    return new SpikeMaxPool1d(this.name, this.kernel1d, this.stride1d);
  }
}
