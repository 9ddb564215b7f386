// Reshape: [R, ...input] -> [R, ...shape], a view of the same memory both ways. A temporal
// convolution reads the [1, bands, frames] spectrogram as [bands, frames]: bands as channels.
import { ShapeError, fmtShape } from '../engine/errors.js';
import { sizeOf, type Tensor } from '../engine/tensor.js';
import { StatelessLayer } from './layer.js';

export class Reshape extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  private xShape: readonly number[] = [];

  constructor(
    readonly name: string,
    readonly shape: readonly number[],
  ) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    if (sizeOf(input) !== sizeOf(this.shape))
      throw new ShapeError(`${this.name}: cannot reshape ${fmtShape(input)} (${sizeOf(input)} values) to ${fmtShape(this.shape)}`);
    return [...this.shape];
  }

  forward(x: Tensor): Tensor {
    this.xShape = x.shape;
    return x.reshape([x.shape[0], ...this.outputShape(x.shape.slice(1))]);
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    return wantInputGrad ? dy.reshape(this.xShape) : null;
  }

  viewsInput(): boolean {
    return true;
  }

  clone(): Reshape {
    return new Reshape(this.name, this.shape);
  }

  dispose(): void {}
}
