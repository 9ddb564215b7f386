// Adaptive average pooling to a fixed output size (PyTorch's bins), 2d on [R, C, H, W] and 1d on
// [R, C, L] (the 2d kernel with H = 1).
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward } from '../kernels/pool.js';
import { type ForwardContext, StatelessLayer, as1d, as2d, freeAll, releaseUnlessKept, reuse } from './layer.js';

export class AdaptiveAvgPool2d extends StatelessLayer {
  emitsSpikes(): boolean {
    return false;
  }

  private xShape: readonly number[] = [];
  private y: Tensor | null = null;
  private dx: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly size: [number, number],
  ) {
    super();
    expectPositive(name, { outputHeight: size[0], outputWidth: size[1] });
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, H, W]`);
    return [input[0], ...this.size];
  }

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.shape.length !== 4) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, H, W]`);
    this.xShape = x.shape;
    this.y = reuse(this.y, [x.shape[0], x.shape[1], ...this.size]);
    adaptiveAvgPool2dForward(x, this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    this.dx = reuse(this.dx, this.xShape);
    adaptiveAvgPool2dBackward(dy, this.dx);
    return this.dx;
  }

  /** Backward needs x's shape alone. */
  keepsInput(): boolean {
    return false;
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
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
  clone(): AdaptiveAvgPool2d {
    return new AdaptiveAvgPool2d(this.name, this.size);
  }

  dispose(): void {
    freeAll(this.y, this.dx);
    this.y = this.dx = null;
  }
}

export class AdaptiveAvgPool1d extends AdaptiveAvgPool2d {
  constructor(
    name: string,
    readonly length: number,
  ) {
    super(name, [1, length]);
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 2) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, L]`);
    return [input[0], this.length];
  }

  forward(x: Tensor, ctx?: ForwardContext): Tensor {
    if (x.shape.length !== 3) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, L]`);
    return as1d(super.forward(as2d(x), ctx));
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const dx = super.backward(as2d(dy), wantInputGrad);
    return dx && as1d(dx);
  }

  clone(): AdaptiveAvgPool1d {
    return new AdaptiveAvgPool1d(this.name, this.length);
  }
}
