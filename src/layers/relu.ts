// ReLU: the CNN's activation, which toSpiking() replaces by a Leaky in the convolutional trunk.
import type { Tensor } from '../engine/tensor.js';
import { reluBackward, reluForward } from '../kernels/activation.js';
import { StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';

export class ReLU extends StatelessLayer {
  emitsSpikes(): boolean {
    return false;
  }

  /** Sees every output (the activations that convert() calibrates a converted SNN's scales on). */
  probe: ((output: Tensor) => void) | null = null;
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;

  constructor(readonly name: string) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  forward(x: Tensor): Tensor {
    this.x = x;
    this.y = reuse(this.y, x.shape);
    reluForward(x, this.y);
    this.probe?.(this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    if (!this.x) throw new Error(`${this.name}: backward before forward`);
    this.dx = reuse(this.dx, this.x.shape);
    reluBackward(this.x, dy, this.dx);
    return this.dx;
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  releaseSaved(): void {
    this.x = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): ReLU {
    return new ReLU(this.name);
  }

  dispose(): void {
    freeAll(this.y, this.dx);
    this.x = this.y = this.dx = null;
  }
}
