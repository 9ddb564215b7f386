// Max pooling, 2d on [R, C, H, W] and 1d on [R, C, L] (the 2d kernel with H = 1); floor mode as PyTorch.
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { type Pool2dOptions, maxPool2dBackward, maxPool2dForward, maxPool2dOutputShape } from '../kernels/pool.js';
import { freeAll, reuse } from './layer.js';
import { PlaneLayer } from './plane-layer.js';

export class MaxPool2d extends PlaneLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  readonly options: Pool2dOptions;
  private argmax: Tensor | null = null;

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

  protected planeShape(x: readonly number[]): number[] {
    return maxPool2dOutputShape(x, this.options);
  }

  protected forwardInto(x: Tensor, y: Tensor): void {
    this.argmax = reuse(this.argmax, y.shape, 'i32');
    maxPool2dForward(x, y, this.argmax, this.options);
  }

  /** Reads the argmax, not x. */
  protected backwardInto(dy: Tensor, dx: Tensor): void {
    if (!this.argmax) throw new Error(`${this.name}: backward before forward`);
    maxPool2dBackward(dy, this.argmax, dx);
  }

  releaseSaved(): void {
    freeAll(this.argmax);
    this.argmax = null;
  }

  clone(): MaxPool2d {
    return new MaxPool2d(this.name, this.kernel, this.stride);
  }

  dispose(): void {
    super.dispose();
    this.releaseSaved();
  }
}

export class MaxPool1d extends MaxPool2d {
  protected readonly oneD = true;

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

  clone(): MaxPool1d {
    return new MaxPool1d(this.name, this.kernel1d, this.stride1d);
  }
}
