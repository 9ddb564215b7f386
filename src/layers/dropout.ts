// Inverted dropout: in training, zeroes each value with probability p and scales the rest by 1/(1-p);
// in eval, the identity. Masks are seeded from the layer's seed and a count of training calls; the
// count is a buffer (exact in f32 up to 2^24 calls), so a run resumed from a checkpoint draws the same
// masks as an uninterrupted one.
import { Tensor } from '../engine/tensor.js';
import { dropoutBackward, dropoutForward } from '../kernels/dropout.js';
import type { NamedTensor } from './layer.js';
import { deriveSeed } from '../util/hash.js';
import { type ForwardContext, StatelessLayer, freeAll, releaseUnlessKept, reuse } from './layer.js';

export class Dropout extends StatelessLayer {
  emitsSpikes(spikesIn: boolean): boolean {
    return spikesIn;
  }

  readonly calls = Tensor.zeros([1]);
  private dropped = false;
  private y: Tensor | null = null;
  private mask: Tensor | null = null;
  private dx: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly p: number,
    readonly seed: number,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`${name}: dropout probability must be in [0, 1), got ${p}`);
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.dropped = ctx.training && this.p > 0;
    if (!this.dropped) return x;
    this.y = reuse(this.y, x.shape);
    this.mask = reuse(this.mask, x.shape, 'u8');
    const call = this.calls.f32[0]++;
    dropoutForward(x, this.y, this.mask, this.p, deriveSeed(this.seed, `call${call}`));
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!wantInputGrad) return null;
    if (!this.dropped) return dy;
    this.dx = reuse(this.dx, dy.shape);
    dropoutBackward(dy, this.mask!, this.dx, this.p);
    return this.dx;
  }

  buffers(): NamedTensor[] {
    return [{ name: `${this.name}.calls`, value: this.calls }];
  }

  /** A dropping pass reads its mask in backward; a pass that drops nothing returns x itself. */
  keepsInput(): boolean {
    return !this.dropped;
  }

  releaseOutput(): void {
    if (!this.dropped) return;
    freeAll(this.y);
    this.y = null;
  }

  releaseSaved(): void {
    freeAll(this.mask);
    this.mask = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }
  clone(): Dropout {
    const copy = new Dropout(this.name, this.p, this.seed);
    copy.calls.f32[0] = this.calls.f32[0];
    return copy;
  }

  dispose(): void {
    freeAll(this.calls, this.y, this.mask, this.dx);
    this.y = this.mask = this.dx = null;
  }
}
