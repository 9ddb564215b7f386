// Max pooling, 2d on [R, C, H, W] and 1d on [R, C, L] (the 2d kernel with H = 1); floor mode as PyTorch.
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { type Pool2dOptions, maxPool2dBackward, maxPool2dForward, maxPool2dOutputShape } from '../kernels/pool.js';
import { type ForwardContext, StatelessLayer, as1d, as2d, freeAll, releaseUnlessKept, reuse } from './layer.js';

export class MaxPool2d extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  readonly options: Pool2dOptions;
  private xShape: readonly number[] = [];
  private y: Tensor | null = null;
  private argmax: Tensor | null = null;
  private dx: Tensor | null = null;

  /** stride defaults to the kernel. */
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

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.shape.length !== 4) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, H, W]`);
    const shape = maxPool2dOutputShape(x.shape, this.options);
    this.xShape = x.shape;
    this.y = reuse(this.y, shape);
    this.argmax = reuse(this.argmax, shape, 'i32');
    maxPool2dForward(x, this.y, this.argmax, this.options);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    if (!this.argmax) throw new Error(`${this.name}: backward before forward`);
    this.dx = reuse(this.dx, this.xShape);
    maxPool2dBackward(dy, this.argmax, this.dx);
    return this.dx;
  }

  /** Backward reads the argmax, not x. */
  keepsInput(): boolean {
    return false;
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  releaseSaved(): void {
    freeAll(this.argmax);
    this.argmax = null;
  }

  giveGrad(): Tensor | null {
    const dx = this.dx;
    this.dx = null;
    return dx;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): MaxPool2d {
    return new MaxPool2d(this.name, this.kernel, this.stride);
  }

  dispose(): void {
    freeAll(this.y, this.argmax, this.dx);
    this.y = this.argmax = this.dx = null;
  }
}

export class MaxPool1d extends MaxPool2d {
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

  forward(x: Tensor, ctx?: ForwardContext): Tensor {
    if (x.shape.length !== 3) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, L]`);
    return as1d(super.forward(as2d(x), ctx));
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const dx = super.backward(as2d(dy), wantInputGrad);
    return dx && as1d(dx);
  }

  clone(): MaxPool1d {
    return new MaxPool1d(this.name, this.kernel1d, this.stride1d);
  }
}
