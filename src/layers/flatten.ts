// Flatten: [R, ...shape] -> [R, prod(shape)], a view of the same memory both ways.
import type { Tensor } from '../engine/tensor.js';
import { sizeOf } from '../engine/tensor.js';
import { StatelessLayer } from './layer.js';

export class Flatten extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  private xShape: readonly number[] = [];

  constructor(readonly name: string) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    return [sizeOf(input)];
  }

  forward(x: Tensor): Tensor {
    this.xShape = x.shape;
    return x.reshape([x.shape[0], sizeOf(x.shape.slice(1))]);
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    return wantInputGrad ? dy.reshape(this.xShape) : null;
  }

  viewsInput(): boolean {
    return true;
  }

  clone(): Flatten {
    return new Flatten(this.name);
  }

  dispose(): void {}
}
