// The spike-encoding step at the input of a spiking model: [B, ...] -> time-major [steps * B, ...].
// repeat: the same input at every step; by default it is kept once ([B, ...]) so the layers before the
// first Leaky run once per batch and the Leaky broadcasts it (exact: they would see the same input at
// every step). rate: Bernoulli spikes with the input as probability; latency: one spike per input,
// earlier for larger values (see src/kernels/encode.ts). Rate spikes are seeded from the layer's seed
// and a count of calls, kept as a buffer so a resumed run draws the same spikes.
import { Tensor } from '../engine/tensor.js';
import { encodeLatency, encodeRate, encodeRepeat } from '../kernels/encode.js';
import type { NamedTensor } from './layer.js';
import { deriveSeed } from '../util/hash.js';
import { type ForwardContext, StatelessLayer, freeAll, reuse } from './layer.js';

/** How an input clip becomes `steps` inputs: repeated as is, Poisson rate spikes, or one latency spike. */
export type EncoderName = 'repeat' | 'rate' | 'latency';

export class Encoder extends StatelessLayer {
  /** False unrolls repeat encoding into [steps * B, ...] (the plain computation; for checks). */
  repeatOnce = true;
  readonly calls = Tensor.zeros([1]);
  private out: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly kind: EncoderName,
    readonly steps: number,
    readonly seed: number,
  ) {
    super();
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${name}: steps must be a positive integer, got ${steps}`);
  }

  emitsSpikes(): boolean {
    return this.kind !== 'repeat';
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (this.kind === 'repeat' && this.repeatOnce) return x;
    const steps = this.steps;
    const flat = x.reshape([x.size]);
    this.out = reuse(this.out, [steps, x.size]);
    if (this.kind === 'repeat') encodeRepeat(flat, this.out, steps);
    else if (this.kind === 'rate') encodeRate(flat, this.out, steps, deriveSeed(this.seed, `call${this.calls.f32[0]++}`));
    else encodeLatency(flat, this.out, steps);
    return this.out.reshape([steps * ctx.batch, ...x.shape.slice(1)]);
  }

  /** The input is data: nothing upstream wants its gradient. */
  backward(): null {
    return null;
  }

  buffers(): NamedTensor[] {
    return this.kind === 'rate' ? [{ name: `${this.name}.calls`, value: this.calls }] : [];
  }

  clone(): Encoder {
    const copy = new Encoder(this.name, this.kind, this.steps, this.seed);
    copy.repeatOnce = this.repeatOnce;
    copy.calls.f32[0] = this.calls.f32[0];
    return copy;
  }

  dispose(): void {
    freeAll(this.calls, this.out);
    this.out = null;
  }
}
