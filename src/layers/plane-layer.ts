// The bookkeeping shared by the layers without parameters that map [R, C, H, W] planes to planes and
// whose backward reads nothing of x but its shape (pooling, the frequency mean and broadcast): the
// layer owns its output and its input gradient, lends them, and frees them when the trainer says. A 1d
// layer takes [R, C, L] and runs it as the plane [R, C, 1, L].
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { type ForwardContext, StatelessLayer, as1d, as2d, freeAll, releaseUnlessKept, reuse } from './layer.js';

export abstract class PlaneLayer extends StatelessLayer {
  private xShape: readonly number[] = [];
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  /** True for a 1d layer. */
  protected readonly oneD: boolean = false;

  /** The output's shape for x's [R, C, H, W] (outputShape may take another rank: a 1d subclass's). */
  protected abstract planeShape(x: readonly number[]): number[];
  /** y (planeShape) from x. */
  protected abstract forwardInto(x: Tensor, y: Tensor): void;
  /** dx (x's shape) from dy. */
  protected abstract backwardInto(dy: Tensor, dx: Tensor): void;

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.shape.length !== (this.oneD ? 3 : 4))
      throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected ${this.oneD ? '[R, C, L]' : '[R, C, H, W]'}`);
    const plane = this.oneD ? as2d(x) : x;
    this.xShape = plane.shape;
    this.y = reuse(this.y, this.planeShape(plane.shape));
    this.forwardInto(plane, this.y);
    return this.oneD ? as1d(this.y) : this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    this.dx = reuse(this.dx, this.xShape);
    this.backwardInto(this.oneD ? as2d(dy) : dy, this.dx);
    return this.oneD ? as1d(this.dx) : this.dx;
  }

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

  dispose(): void {
    freeAll(this.y, this.dx);
    this.y = this.dx = null;
  }
}
