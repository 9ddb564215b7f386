// Adaptive average pooling to a fixed output size (PyTorch's bins), 2d on [R, C, H, W] and 1d on
// [R, C, L] (the 2d kernel with H = 1).
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward } from '../kernels/pool.js';
import { PlaneLayer } from './plane-layer.js';

export class AdaptiveAvgPool2d extends PlaneLayer {
  emitsSpikes(): boolean {
    return false;
  }

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

  protected planeShape(x: readonly number[]): number[] {
    return [x[0], x[1], ...this.size];
  }

  protected forwardInto(x: Tensor, y: Tensor): void {
    adaptiveAvgPool2dForward(x, y);
  }

  protected backwardInto(dy: Tensor, dx: Tensor): void {
    adaptiveAvgPool2dBackward(dy, dx);
  }

  clone(): AdaptiveAvgPool2d {
    return new AdaptiveAvgPool2d(this.name, this.size);
  }
}

export class AdaptiveAvgPool1d extends AdaptiveAvgPool2d {
  protected readonly oneD = true;

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

  clone(): AdaptiveAvgPool1d {
    return new AdaptiveAvgPool1d(this.name, this.length);
  }
}
