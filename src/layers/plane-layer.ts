// The bookkeeping shared by the layers without parameters that map [R, C, H, W] planes to planes and
// whose backward reads nothing of x but its shape (pooling, the frequency mean and broadcast): the
// layer owns its output and its input gradient, lends them, and frees them when the trainer says.
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { type ForwardContext, StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';

export abstract class PlaneLayer extends StatelessLayer {
  private xShape: readonly number[] = [];
  private y: Tensor | null = null;
  private dx: Tensor | null = null;

  /** The output's shape for x's [R, C, H, W] (outputShape may take another rank: a 1d subclass's). */
  protected abstract planeShape(x: readonly number[]): number[];
  /** y (planeShape) from x. */
  protected abstract forwardInto(x: Tensor, y: Tensor): void;
  /** dx (x's shape) from dy. */
  protected abstract backwardInto(dy: Tensor, dx: Tensor): void;

  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    if (x.shape.length !== 4) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, H, W]`);
    this.xShape = x.shape;
    this.y = reuse(this.y, this.planeShape(x.shape));
    this.forwardInto(x, this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    this.dx = reuse(this.dx, this.xShape);
    this.backwardInto(dy, this.dx);
    return this.dx;
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
