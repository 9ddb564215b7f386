// Batch normalisation over [R, C, ...rest] (1d: [R, C, L]; 2d: [R, C, H, W]): one kernel for both.
// In training, each group of rows (one time step of a spiking activation) is normalised with its own
// batch statistics and updates the running statistics once, as a per-step loop in PyTorch would.
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import { Tensor, sizeOf } from '../engine/tensor.js';
import { type BatchNormState, batchNormBackward, batchNormForward } from '../kernels/batchnorm.js';
import type { AffineOutput, LayerActivity, NamedTensor, Param } from './layer.js';
import { type ForwardContext, type Layer, copyTensor, freeAll, param, releaseUnlessKept, reuse, rowsView } from './layer.js';

export const BN_MOMENTUM = 0.1;
export const BN_EPS = 1e-5;

export class BatchNorm implements Layer {
  emitsSpikes(): boolean {
    return false;
  }

  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Per group: the batch statistics its backward needs. */
  private states: BatchNormState[] = [];
  private x: Tensor | null = null;
  /** In place of x when the layer before can compute it again (ForwardContext.inputRecompute). */
  private recompute: (() => Tensor) | null = null;
  private xShape: readonly number[] = [];
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  private groups = 1;
  /** Whether the last forward used batch statistics (the only ones backward can differentiate). */
  private trained = false;
  /** Per group, the scales and then the shifts that the last training forward applied (affineOutput). */
  private scaleShift: Tensor | null = null;
  /** Per-group gradients of weight and bias, summed into the params' grads. */
  private dweight: Tensor | null = null;
  private dbias: Tensor | null = null;

  /** `rank`: dimensions per row, 2 for BatchNorm1d ([C, L]) and 3 for BatchNorm2d ([C, H, W]). */
  constructor(
    readonly name: string,
    readonly channels: number,
    readonly rank: 2 | 3,
    from?: BatchNorm,
  ) {
    expectPositive(name, { channels });
    this.weight = param(`${name}.weight`, from ? copyTensor(from.weight.value) : Tensor.empty([channels]).fill(1), false);
    this.bias = param(`${name}.bias`, from ? copyTensor(from.bias.value) : Tensor.zeros([channels]), false);
    this.runningMean = from ? copyTensor(from.runningMean) : Tensor.zeros([channels]);
    this.runningVar = from ? copyTensor(from.runningVar) : Tensor.empty([channels]).fill(1);
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== this.rank || input[0] !== this.channels)
      throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected ${this.rank === 2 ? `[${this.channels}, L]` : `[${this.channels}, H, W]`}`);
    return [...input];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.outputShape(x.shape.slice(1));
    const groups = x.shape[0] / ctx.batch;
    if (groups !== 1 && groups !== ctx.steps)
      throw new ShapeError(`${this.name}: ${x.shape[0]} rows are neither one batch of ${ctx.batch} nor ${ctx.steps} steps of it`);
    this.x = x;
    this.xShape = x.shape;
    this.recompute = null;
    this.y = reuse(this.y, x.shape);
    this.trained = ctx.training;
    if (!ctx.training) {
      batchNormForward(x, this.weight.value, this.bias.value, this.y, this.state(0), { training: false, eps: BN_EPS });
      return this.y;
    }
    this.groups = groups;
    // A single group that stands for `steps` identical steps (repeat encoding, computed once) moves the
    // running statistics as far as `steps` updates with the same statistics would.
    const momentum = 1 - (1 - BN_MOMENTUM) ** (ctx.steps / groups);
    const rows = ctx.batch;
    for (let g = 0; g < groups; g++) {
      const xs = groups === 1 ? x : rowsView(x, g * rows, rows);
      const ys = groups === 1 ? this.y : rowsView(this.y, g * rows, rows);
      batchNormForward(xs, this.weight.value, this.bias.value, ys, this.state(g), { training: true, momentum, eps: BN_EPS });
    }
    if (ctx.inputRecompute) {
      this.recompute = ctx.inputRecompute;
      this.x = null;
    }
    return this.y;
  }

  /** Backward reads x, unless the layer before computes it again (then its output may go at once). */
  keepsInput(): boolean {
    return this.recompute === null;
  }

  /** Differentiates the last training-mode forward (its batch statistics). */
  backward(dy: Tensor, wantInputGrad: boolean, dyHolder: Tensor | null = null): Tensor | null {
    if (!this.x && !this.recompute) throw new Error(`${this.name}: backward before forward`);
    if (!this.trained) throw new Error(`${this.name}: backward needs a training-mode forward (call model.train() first)`);
    const fresh = this.x ? null : this.recompute!();
    try {
      return this.backwardFrom(this.x ?? fresh!.reshape(this.xShape), dy, wantInputGrad, dyHolder);
    } finally {
      fresh?.free();
    }
  }

  private backwardFrom(x: Tensor, dy: Tensor, wantInputGrad: boolean, dyHolder: Tensor | null): Tensor | null {
    // A handed-over gradient is ours to free (releaseGrad) even when no input gradient is wanted.
    if (dyHolder && dyHolder !== this.dx) freeAll(this.dx);
    if (dyHolder) this.dx = dyHolder;
    else if (wantInputGrad) this.dx = reuse(this.dx, x.shape);
    const dx = wantInputGrad ? this.dx!.reshape(x.shape) : null;
    const groups = this.groups;
    if (groups === 1) {
      batchNormBackward(x, this.weight.value, dy, this.state(0), dx, this.weight.grad, this.bias.grad);
      return dx;
    }
    const rows = x.shape[0] / groups;
    this.dweight = reuse(this.dweight, [this.channels]);
    this.dbias = reuse(this.dbias, [this.channels]);
    const gw = this.weight.grad.f32.fill(0);
    const gb = this.bias.grad.f32.fill(0);
    for (let g = 0; g < groups; g++) {
      const at = (t: Tensor) => rowsView(t, g * rows, rows);
      batchNormBackward(at(x), this.weight.value, at(dy), this.state(g), dx && at(dx), this.dweight, this.dbias);
      const dw = this.dweight.f32;
      const db = this.dbias.f32;
      for (let c = 0; c < this.channels; c++) {
        gw[c] += dw[c];
        gb[c] += db[c];
      }
    }
    return dx;
  }

  private state(g: number): BatchNormState {
    while (this.states.length <= g)
      this.states.push({ runningMean: this.runningMean, runningVar: this.runningVar, saveMean: Tensor.zeros([this.channels]), saveInvStd: Tensor.zeros([this.channels]) });
    return this.states[g];
  }

  parameters(): Param[] {
    return [this.weight, this.bias];
  }

  buffers(): NamedTensor[] {
    return [
      { name: `${this.name}.running_mean`, value: this.runningMean },
      { name: `${this.name}.running_var`, value: this.runningVar },
    ];
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  /** dL/dx is written where dL/dy was read (see batchNormBackward). */
  adoptsGrad(): boolean {
    return true;
  }

  /** Backward reads x, never y. */
  giveOutput(): Tensor | null {
    const y = this.y;
    this.y = null;
    return y;
  }

  /**
   * The last training forward's y = x·scale + shift, per group and channel, with scale = weight·invStd
   * and shift = bias − mean·scale in f32 as the kernel computes them (Math.fround rounds each product
   * and difference as f32 arithmetic does), so a recomputation gives y to the bit.
   */
  affineOutput(): AffineOutput | null {
    const x = this.x;
    if (!x || !this.trained) return null;
    const C = this.channels;
    this.scaleShift = reuse(this.scaleShift, [this.groups, 2, C]);
    const out = this.scaleShift.f32;
    for (let g = 0; g < this.groups; g++) {
      const { saveMean, saveInvStd } = this.state(g);
      const [mean, invStd, w, b] = [saveMean, saveInvStd, this.weight.value, this.bias.value].map((t) => t.f32);
      for (let c = 0; c < C; c++) {
        const scale = Math.fround(w[c] * invStd[c]);
        out[g * 2 * C + c] = scale;
        out[g * 2 * C + C + c] = Math.fround(b[c] - Math.fround(mean[c] * scale));
      }
    }
    return { x, scaleShift: this.scaleShift, plane: sizeOf(x.shape.slice(2)) };
  }

  releaseSaved(): void {
    this.x = null;
    this.recompute = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): BatchNorm {
    return new BatchNorm(this.name, this.channels, this.rank, this);
  }

  resetActivity(): void {}

  activity(): LayerActivity | null {
    return null;
  }

  dispose(): void {
    freeAll(this.weight.value, this.weight.grad, this.bias.value, this.bias.grad, this.runningMean, this.runningVar, this.y, this.dx, this.dweight, this.dbias, this.scaleShift);
    for (const s of this.states) freeAll(s.saveMean, s.saveInvStd);
    this.states = [];
    this.x = this.y = this.dx = this.dweight = this.dbias = this.scaleShift = null;
    this.recompute = null;
  }
}

export class BatchNorm1d extends BatchNorm {
  constructor(name: string, channels: number, from?: BatchNorm1d) {
    super(name, channels, 2, from);
  }

  clone(): BatchNorm1d {
    return new BatchNorm1d(this.name, this.channels, this);
  }
}

export class BatchNorm2d extends BatchNorm {
  constructor(name: string, channels: number, from?: BatchNorm2d) {
    super(name, channels, 3, from);
  }

  clone(): BatchNorm2d {
    return new BatchNorm2d(this.name, this.channels, this);
  }
}
