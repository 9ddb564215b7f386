// Between a plane and its single row: the frequency average and the broadcast of BC-ResNet's broadcast
// residual (Kim et al. 2021), which filters the map averaged over frequency and adds the result back at
// every band. Each layer's backward is the other's forward (kernels/broadcast.ts):
//   MeanRows:      [R, C, H, W] -> [R, C, 1, W],  y[c, 0, w] = (1/H) Σ_h x[c, h, w],  dx[c, h, w] = dy[c, 0, w] / H
//   BroadcastRows: [R, C, 1, W] -> [R, C, H, W],  y[c, h, w] = x[c, 0, w],            dx[c, 0, w] = Σ_h dy[c, h, w]
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { spreadRows, sumRows } from '../kernels/broadcast.js';
import { StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';

abstract class RowsLayer extends StatelessLayer {
  emitsSpikes(): boolean {
    return false;
  }

  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  private xShape: readonly number[] = [];

  protected abstract run(direction: 'forward' | 'backward', x: Tensor, y: Tensor): void;

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, H, W]`);
    this.xShape = x.shape;
    this.y = reuse(this.y, [x.shape[0], ...this.outputShape(x.shape.slice(1))]);
    this.run('forward', x, this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    this.dx = reuse(this.dx, this.xShape);
    this.run('backward', dy, this.dx);
    return this.dx;
  }

  keepsInput(): boolean {
    return false;
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
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

/** The mean over the rows (frequency) of each channel: [C, H, W] -> [C, 1, W]. */
export class MeanRows extends RowsLayer {
  private height = 1;

  constructor(readonly name: string) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, H, W]`);
    return [input[0], 1, input[2]];
  }

  protected run(direction: 'forward' | 'backward', x: Tensor, y: Tensor): void {
    if (direction === 'forward') this.height = x.shape[2];
    (direction === 'forward' ? sumRows : spreadRows)(x, y, 1 / this.height);
  }

  clone(): MeanRows {
    return new MeanRows(this.name);
  }
}

/** One row spread down `height` rows: [C, 1, W] -> [C, height, W]. */
export class BroadcastRows extends RowsLayer {
  constructor(
    readonly name: string,
    readonly height: number,
  ) {
    super();
    expectPositive(name, { height });
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3 || input[1] !== 1) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, 1, W]`);
    return [input[0], this.height, input[2]];
  }

  protected run(direction: 'forward' | 'backward', x: Tensor, y: Tensor): void {
    (direction === 'forward' ? spreadRows : sumRows)(x, y, 1);
  }

  clone(): BroadcastRows {
    return new BroadcastRows(this.name, this.height);
  }
}
