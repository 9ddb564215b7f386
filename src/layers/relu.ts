// ReLU: the CNN's activation, which toSpiking() replaces by a Leaky in the convolutional trunk.
import type { Tensor } from '../engine/tensor.js';
import { reluBackward, reluForward } from '../kernels/activation.js';
import { selectByBits, spikeWords } from '../kernels/spike-bits.js';
import { type ForwardContext, StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';

export class ReLU extends StatelessLayer {
  emitsSpikes(): boolean {
    return false;
  }

  /** Sees every output (the activations that convert() calibrates a converted SNN's scales on). */
  probe: ((output: Tensor) => void) | null = null;
  /** What backward reads: x (outside training), or in training the mask (y > 0) as bits. */
  private x: Tensor | null = null;
  private mask: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;

  constructor(readonly name: string) {
    super();
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  /**
   * y = max(x, 0). In training, y may be written over x (a batch norm's output, which its backward does
   * not read), and backward keeps only the mask y > 0 as bits, 1/32 of x, so x and y go as soon as no
   * other layer reads them. The gradient dL/dx = dL/dy where y > 0, else 0, is the same to the bit.
   */
  forward(x: Tensor, ctx?: ForwardContext): Tensor {
    const adopted = ctx?.adopted ?? null;
    if (adopted && adopted !== this.y) freeAll(this.y);
    this.y = adopted ?? reuse(this.y, x.shape);
    const training = ctx?.training === true && (ctx.backward ?? true);
    if (training) this.mask = reuse(this.mask, [spikeWords(x.size)], 'i32');
    else {
      freeAll(this.mask);
      this.mask = null;
    }
    reluForward(x, this.y, this.mask);
    this.x = training ? null : x;
    this.probe?.(this.y);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean, dyHolder: Tensor | null = null): Tensor | null {
    if (!this.x && !this.mask) throw new Error(`${this.name}: backward before forward`);
    // A handed-over gradient is ours to free (releaseGrad) even when no input gradient is wanted.
    if (dyHolder && dyHolder !== this.dx) freeAll(this.dx);
    if (dyHolder) this.dx = dyHolder;
    if (!wantInputGrad) return null;
    // The holder may be a pool's gradient in its own shape ([R, C, 1, L] for [R, C, L]).
    const dx = dyHolder ? dyHolder.reshape(dy.shape) : (this.dx = reuse(this.dx, dy.shape));
    if (this.mask) selectByBits(this.mask, dy, dx);
    else reluBackward(this.x!, dy, dx);
    return dx;
  }

  /** Backward reads x only outside training (no mask). */
  keepsInput(): boolean {
    return this.x !== null;
  }

  /** In training the output is written over the input when the layer before hands its memory over. */
  adopts(_x: Tensor, ctx: ForwardContext): boolean {
    return ctx.training && (ctx.backward ?? true);
  }

  /** Each dL/dx is written where its dL/dy was read. */
  adoptsGrad(): boolean {
    return true;
  }

  giveGrad(): Tensor | null {
    const dx = this.dx;
    this.dx = null;
    return dx;
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  releaseSaved(): void {
    freeAll(this.mask);
    this.x = this.mask = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): ReLU {
    return new ReLU(this.name);
  }

  dispose(): void {
    freeAll(this.y, this.dx, this.mask);
    this.x = this.y = this.dx = this.mask = null;
  }
}
