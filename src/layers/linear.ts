// A fully connected layer (PyTorch's Linear): owns weight [Out, In] and bias [Out].
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { linearBackward, linearForward } from '../kernels/linear.js';
import type { Param } from './layer.js';
import { type ForwardContext, reuse } from './layer.js';
import { SynapticLayer, synapses } from './synaptic.js';

export class Linear extends SynapticLayer {
  readonly weight: Param;
  readonly bias: Param;

  /** `init`: a seed for PyTorch's default initialisation, or a layer whose weights to copy. */
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    init: number | Linear,
  ) {
    super();
    expectPositive(name, { inFeatures, outFeatures });
    ({ weight: this.weight, bias: this.bias } = synapses(name, [outFeatures, inFeatures], inFeatures, true, init));
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 1 || input[0] !== this.inFeatures)
      throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [${this.inFeatures}]`);
    return [this.outFeatures];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.outputShape(x.shape.slice(1));
    this.x = x;
    this.y = reuse(this.y, [x.shape[0], this.outFeatures]);
    linearForward(x, this.weight.value, this.bias.value, this.y);
    if (ctx.count) this.counter.add(x, ctx, this.inFeatures * this.outFeatures, () => new Int32Array(this.inFeatures).fill(this.outFeatures));
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!this.x) throw new Error(`${this.name}: backward before forward`);
    if (wantInputGrad) this.dx = reuse(this.dx, this.x.shape);
    linearBackward(this.x, this.weight.value, dy, wantInputGrad ? this.dx : null, this.weight.grad, this.bias.grad);
    return wantInputGrad ? this.dx : null;
  }

  clone(): Linear {
    return new Linear(this.name, this.inFeatures, this.outFeatures, this);
  }

}
