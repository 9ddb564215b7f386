// Between a plane and its single row: the frequency average and the broadcast of BC-ResNet's broadcast
// residual (Kim et al. 2021), which filters the map averaged over frequency and adds the result back at
// every band. Each layer's backward is the other's forward (kernels/broadcast.ts):
//   MeanRows:      [R, C, H, W] -> [R, C, 1, W],  y[c, 0, w] = (1/H) Σ_h x[c, h, w],  dx[c, h, w] = dy[c, 0, w] / H
//   BroadcastRows: [R, C, 1, W] -> [R, C, H, W],  y[c, h, w] = x[c, 0, w],            dx[c, 0, w] = Σ_h dy[c, h, w]
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { spreadRows, sumRows } from '../kernels/broadcast.js';
import { PlaneLayer } from './plane-layer.js';

abstract class RowsLayer extends PlaneLayer {
  emitsSpikes(): boolean {
    return false;
  }

  protected planeShape(x: readonly number[]): number[] {
    return [x[0], ...this.outputShape(x.slice(1))];
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

  protected forwardInto(x: Tensor, y: Tensor): void {
    this.height = x.shape[2];
    sumRows(x, y, 1 / this.height);
  }

  protected backwardInto(dy: Tensor, dx: Tensor): void {
    spreadRows(dy, dx, 1 / this.height);
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

  protected forwardInto(x: Tensor, y: Tensor): void {
    spreadRows(x, y, 1);
  }

  protected backwardInto(dy: Tensor, dx: Tensor): void {
    sumRows(dy, dx, 1);
  }

  clone(): BroadcastRows {
    return new BroadcastRows(this.name, this.height);
  }
}
